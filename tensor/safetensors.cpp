// safetensors reading and writing (format and guarantees: tensor/safetensors.h).
//
// Shaped around one rule: the reader proves every number before using it. The file is read
// into memory whole; the header is checked in the order a person would debug it (length, JSON,
// each entry, then how the entries tile the data buffer), and only then are tensors allocated,
// each no larger than a byte range already shown to lie inside the buffer. The writer mirrors
// the reference implementation byte for byte, and streams tensor data so a file of big GPU
// tensors never needs a second full copy in host memory.
#include "tensor/safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <new>
#include <optional>
#include <random>
#include <set>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "autograd/grad_mode.h"

static_assert(std::endian::native == std::endian::little,
              "safetensors I/O copies little-endian data as is; a big-endian host needs byte swaps");

namespace strata {
namespace {

// ---- dtype codes ---------------------------------------------------------------------------------

// `rank` is the dtype's position in the reference implementation's Dtype enum ("increasing
// alignment order"); the writer lays tensors out by descending rank, then by name.
struct DTypeCode {
  DType dtype;
  std::string_view code;
  int rank;
};
constexpr DTypeCode kDTypeCodes[] = {
    {DType::Bool, "BOOL", 0}, {DType::U8, "U8", 1},   {DType::F16, "F16", 2}, {DType::BF16, "BF16", 3},
    {DType::I32, "I32", 4},   {DType::F32, "F32", 5}, {DType::F64, "F64", 6}, {DType::I64, "I64", 7},
};

const DTypeCode& code_of(DType d) {
  for (const auto& c : kDTypeCodes)
    if (c.dtype == d) return c;
  STRATA_THROW(DTypeError, "safetensors: dtype {} has no safetensors code", d);
}

const DTypeCode* code_named(std::string_view code) {
  for (const auto& c : kDTypeCodes)
    if (c.code == code) return &c;
  return nullptr;
}

std::string errno_text() { return std::strerror(errno); }

// ---- writing -------------------------------------------------------------------------------------

struct PlannedTensor {
  std::string name;
  Tensor tensor;  // as given: any device and layout
  uint64_t nbytes;
};

struct WritePlan {
  std::string header;  // JSON padded with spaces to a multiple of 8
  std::vector<PlannedTensor> tensors;  // in data-buffer order
  uint64_t data_bytes = 0;
};

WritePlan plan_write(const char* op, const std::map<std::string, Tensor>& tensors,
                     const std::map<std::string, std::string>& metadata) {
  WritePlan plan;
  for (const auto& [name, t] : tensors) {
    STRATA_CHECK(name != "__metadata__", ValueError, "{}: \"__metadata__\" is reserved and cannot name a tensor", op);
    STRATA_CHECK(t.defined(), ValueError, "{}: tensor '{}' is undefined", op, name);
    plan.tensors.push_back({name, t, static_cast<uint64_t>(t.nbytes())});
  }
  std::stable_sort(plan.tensors.begin(), plan.tensors.end(), [](const PlannedTensor& a, const PlannedTensor& b) {
    return code_of(a.tensor.dtype()).rank > code_of(b.tensor.dtype()).rank;  // names already sorted
  });

  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  for (const auto& p : plan.tensors) {
    const uint64_t begin = plan.data_bytes;
    plan.data_bytes += p.nbytes;
    header[p.name] = {{"dtype", std::string(code_of(p.tensor.dtype()).code)},
                      {"shape", p.tensor.shape().vec()},
                      {"data_offsets", {begin, plan.data_bytes}}};
  }
  try {
    plan.header = header.dump();
  } catch (const nlohmann::json::exception& e) {
    STRATA_THROW(ValueError, "{}: tensor names and metadata must be valid UTF-8 ({})", op, e.what());
  }
  plan.header.append((8 - plan.header.size() % 8) % 8, ' ');
  STRATA_CHECK(plan.header.size() <= kSafeTensorsMaxHeaderBytes, ValueError,
               "{}: the header would be {} bytes, over the {}-byte limit readers accept", op, plan.header.size(),
               kSafeTensorsMaxHeaderBytes);
  return plan;
}

std::string length_prefix(uint64_t n) {
  std::string s(8, '\0');
  std::memcpy(s.data(), &n, 8);  // little-endian host
  return s;
}

// The tensor's bytes in row-major order: a contiguous CPU tensor (no copy when it already is one).
Tensor host_contiguous(const Tensor& t) {
  NoGradGuard no_grad;
  return t.detach().contiguous().cpu();
}

// A file descriptor that closes itself, and a temporary file that removes itself unless kept.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

class TempFile {
 public:
  explicit TempFile(const std::filesystem::path& target) {
    std::random_device rd;
    const std::string tag = fmt::format("{:x}{:x}", rd(), rd());
    path_ = target.parent_path() / fmt::format(".{}.tmp-{}-{}", target.filename().string(), ::getpid(), tag);
    fd_.fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    STRATA_CHECK(fd_.fd >= 0, IOError, "save_safetensors: cannot write '{}': cannot create '{}': {}",
                 target.string(), path_.string(), errno_text());
  }
  ~TempFile() {
    if (!kept_) {
      if (fd_.fd >= 0) ::close(fd_.fd);
      fd_.fd = -1;
      ::unlink(path_.c_str());
    }
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  void write(const void* data, size_t n) {
    const char* p = static_cast<const char*>(data);
    while (n > 0) {
      const ssize_t w = ::write(fd_.fd, p, std::min<size_t>(n, size_t{1} << 30));
      if (w < 0 && errno == EINTR) continue;
      STRATA_CHECK(w > 0, IOError, "save_safetensors: writing '{}' failed: {}", path_.string(), errno_text());
      p += w;
      n -= static_cast<size_t>(w);
    }
  }

  // fsync, close and rename over `target`: afterwards `target` is the complete new file.
  void commit(const std::filesystem::path& target) {
    STRATA_CHECK(::fsync(fd_.fd) == 0, IOError, "save_safetensors: flushing '{}' failed: {}", path_.string(),
                 errno_text());
    const int fd = fd_.fd;
    fd_.fd = -1;
    STRATA_CHECK(::close(fd) == 0, IOError, "save_safetensors: closing '{}' failed: {}", path_.string(),
                 errno_text());
    STRATA_CHECK(::rename(path_.c_str(), target.c_str()) == 0, IOError,
                 "save_safetensors: cannot rename '{}' to '{}': {}", path_.string(), target.string(), errno_text());
    kept_ = true;
    // Make the rename itself durable; failure here loses nothing already promised.
    const std::filesystem::path dir = target.parent_path().empty() ? "." : target.parent_path();
    Fd d{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
    if (d.fd >= 0) ::fsync(d.fd);
  }

 private:
  std::filesystem::path path_;
  Fd fd_;
  bool kept_ = false;
};

// ---- reading -------------------------------------------------------------------------------------

// Everything that is wrong with a file is reported through here, with the file's name.
template <class... A>
[[noreturn]] void corrupt(const std::string& source, fmt::format_string<A...> what, A&&... args) {
  STRATA_THROW(IOError, "safetensors file '{}': {}", source, fmt::format(what, std::forward<A>(args)...));
}

// Parses JSON and records the first key repeated within one object (nlohmann keeps the last).
nlohmann::json parse_header(std::string_view text, const std::string& source) {
  std::vector<std::set<std::string>> open_objects;
  std::string duplicate;
  bool found_duplicate = false;
  auto on_event = [&](int, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using E = nlohmann::json::parse_event_t;
    if (event == E::object_start) {
      open_objects.emplace_back();
    } else if (event == E::object_end) {
      if (!open_objects.empty()) open_objects.pop_back();
    } else if (event == E::key && !open_objects.empty() && parsed.is_string()) {
      const auto& key = parsed.get_ref<const std::string&>();
      if (!open_objects.back().insert(key).second && !found_duplicate) {
        found_duplicate = true;
        duplicate = key;
      }
    }
    return true;
  };
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(text.begin(), text.end(), on_event);
  } catch (const nlohmann::json::exception& e) {
    corrupt(source, "header is not valid JSON: {}", e.what());
  }
  if (found_duplicate) corrupt(source, "header has the key '{}' twice in one object", duplicate);
  return root;
}

const char* json_kind(const nlohmann::json& j) { return j.type_name(); }

// A non-negative JSON integer as u64, or nullopt (negative, fractional, too big, not a number).
std::optional<uint64_t> as_count(const nlohmann::json& j) {
  if (j.is_number_unsigned()) return j.get<uint64_t>();
  if (j.is_number_integer()) {
    const int64_t v = j.get<int64_t>();
    if (v >= 0) return static_cast<uint64_t>(v);
  }
  return std::nullopt;
}

struct Entry {
  std::string name;
  const DTypeCode* dtype = nullptr;
  Shape shape;
  uint64_t begin = 0, end = 0;
};

std::string dtype_list() {
  std::string s;
  for (const auto& c : kDTypeCodes) s += (s.empty() ? "" : ", ") + std::string(c.code);
  return s;
}

Entry parse_entry(const std::string& name, const nlohmann::json& j, uint64_t data_size, const std::string& source) {
  Entry e;
  e.name = name;
  if (!j.is_object()) corrupt(source, "entry of tensor '{}' is a JSON {}, not an object", name, json_kind(j));

  const auto dt = j.find("dtype");
  if (dt == j.end()) corrupt(source, "tensor '{}' has no \"dtype\"", name);
  if (!dt->is_string()) corrupt(source, "\"dtype\" of tensor '{}' is a JSON {}, not a string", name, json_kind(*dt));
  e.dtype = code_named(dt->get_ref<const std::string&>());
  if (!e.dtype)
    corrupt(source, "tensor '{}' has dtype '{}', which Strata does not read (it reads {})", name,
            dt->get_ref<const std::string&>(), dtype_list());

  const auto sh = j.find("shape");
  if (sh == j.end()) corrupt(source, "tensor '{}' has no \"shape\"", name);
  if (!sh->is_array()) corrupt(source, "\"shape\" of tensor '{}' is a JSON {}, not a list", name, json_kind(*sh));
  // The product of the dims (sizes 0 counted as 1, as strides need) must fit in int64.
  uint64_t numel = 1, extent = 1;
  std::vector<int64_t> dims;
  for (const auto& d : *sh) {
    const auto v = as_count(d);
    if (!v) corrupt(source, "\"shape\" of tensor '{}' holds {}, not a non-negative integer", name, d.dump());
    if (__builtin_mul_overflow(extent, std::max<uint64_t>(*v, 1), &extent) || extent > INT64_MAX)
      corrupt(source, "shape {} of tensor '{}' has more elements than fit in 64 bits", sh->dump(), name);
    numel *= *v;
    dims.push_back(static_cast<int64_t>(*v));
  }
  e.shape = Shape(dims);
  uint64_t nbytes = 0;
  if (__builtin_mul_overflow(numel, static_cast<uint64_t>(dtype_size(e.dtype->dtype)), &nbytes))
    corrupt(source, "shape {} of tensor '{}' has more bytes than fit in 64 bits", sh->dump(), name);

  const auto off = j.find("data_offsets");
  if (off == j.end()) corrupt(source, "tensor '{}' has no \"data_offsets\"", name);
  const bool pair = off->is_array() && off->size() == 2;
  const auto begin = pair ? as_count((*off)[0]) : std::nullopt;
  const auto end = pair ? as_count((*off)[1]) : std::nullopt;
  if (!begin || !end)
    corrupt(source, "\"data_offsets\" of tensor '{}' is {}, not two non-negative integers", name, off->dump());
  e.begin = *begin;
  e.end = *end;
  if (e.begin > e.end)
    corrupt(source, "data_offsets [{}, {}] of tensor '{}' begin after they end", e.begin, e.end, name);
  if (e.end > data_size)
    corrupt(source, "data_offsets [{}, {}] of tensor '{}' run past the end of the {}-byte data buffer", e.begin,
            e.end, name, data_size);
  if (e.end - e.begin != nbytes)
    corrupt(source, "tensor '{}' is {} of shape {} ({} bytes) but its data_offsets [{}, {}] span {} bytes", name,
            e.dtype->code, e.shape, nbytes, e.begin, e.end, e.end - e.begin);
  return e;
}

// The entries must tile the data buffer exactly: no overlap, no hole, nothing left over
// (the reference implementation's rule).
void check_tiling(std::vector<Entry>& entries, uint64_t data_size, const std::string& source) {
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return std::tie(a.begin, a.end, a.name) < std::tie(b.begin, b.end, b.name);
  });
  uint64_t covered = 0;
  const Entry* prev = nullptr;
  for (const Entry& e : entries) {
    if (e.begin < covered)
      corrupt(source, "tensors '{}' [{}, {}] and '{}' [{}, {}] overlap in the data buffer", prev->name, prev->begin,
              prev->end, e.name, e.begin, e.end);
    if (e.begin > covered)
      corrupt(source, "bytes [{}, {}) of the data buffer belong to no tensor", covered, e.begin);
    covered = e.end;
    prev = &e;
  }
  if (covered != data_size)
    corrupt(source, "bytes [{}, {}) at the end of the data buffer belong to no tensor", covered, data_size);
}

Tensor copy_out(const Entry& e, const char* data, const std::string& source) {
  const char* src = data + e.begin;
  const size_t n = static_cast<size_t>(e.end - e.begin);
  if (e.dtype->dtype == DType::Bool) {
    for (size_t i = 0; i < n; ++i)
      if (static_cast<unsigned char>(src[i]) > 1)
        corrupt(source, "BOOL tensor '{}' holds the byte {} at element {} (a bool is 0 or 1)", e.name,
                static_cast<unsigned>(static_cast<unsigned char>(src[i])), i);
  }
  Tensor t = empty(e.shape, {.dtype = e.dtype->dtype});
  if (n > 0) std::memcpy(t.raw_data(), src, n);
  return t;
}

}  // namespace

// ---- public API ------------------------------------------------------------------------------------

const Tensor& SafeTensorsFile::at(const std::string& name) const {
  const auto it = tensors.find(name);
  if (it == tensors.end()) {
    std::string names;
    for (const auto& [n, t] : tensors) names += (names.empty() ? "'" : ", '") + n + "'";
    STRATA_THROW(IndexError, "safetensors file '{}': no tensor named '{}' (it has {}: {})", source, name,
                 tensors.size(), names.empty() ? "none" : names);
  }
  return it->second;
}

std::string to_safetensors_bytes(const std::map<std::string, Tensor>& tensors,
                                 const std::map<std::string, std::string>& metadata) {
  const WritePlan plan = plan_write("to_safetensors_bytes", tensors, metadata);
  std::string out = length_prefix(plan.header.size()) + plan.header;
  out.reserve(out.size() + plan.data_bytes);
  for (const auto& p : plan.tensors) {
    if (p.nbytes == 0) continue;
    const Tensor c = host_contiguous(p.tensor);
    out.append(static_cast<const char*>(c.raw_data()), p.nbytes);
  }
  return out;
}

void save_safetensors(const std::filesystem::path& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  const WritePlan plan = plan_write("save_safetensors", tensors, metadata);
  TempFile tmp(path);
  const std::string prefix = length_prefix(plan.header.size());
  tmp.write(prefix.data(), prefix.size());
  tmp.write(plan.header.data(), plan.header.size());
  for (const auto& p : plan.tensors) {
    if (p.nbytes == 0) continue;
    const Tensor c = host_contiguous(p.tensor);  // one tensor in host memory at a time
    tmp.write(c.raw_data(), p.nbytes);
  }
  tmp.commit(path);
}

SafeTensorsFile from_safetensors_bytes(std::string_view bytes, const std::string& source) {
  if (bytes.size() < 8)
    corrupt(source, "file is {} bytes long, shorter than the 8-byte header length field", bytes.size());
  uint64_t header_len = 0;
  std::memcpy(&header_len, bytes.data(), 8);
  const uint64_t after_prefix = bytes.size() - 8;
  if (header_len > kSafeTensorsMaxHeaderBytes)
    corrupt(source, "header length {} is over the {}-byte limit", header_len, kSafeTensorsMaxHeaderBytes);
  if (header_len > after_prefix)
    corrupt(source, "header length {} runs past the end of the file ({} bytes follow the length field)",
            header_len, after_prefix);
  const std::string_view text = bytes.substr(8, header_len);
  if (text.empty() || text.front() != '{') corrupt(source, "header does not start with '{{'");
  // JSON text never holds a raw NUL, and nlohmann would stop at one, ignoring what follows.
  if (const size_t nul = text.find('\0'); nul != std::string_view::npos)
    corrupt(source, "header holds a NUL byte at header offset {}", nul);
  const uint64_t data_size = after_prefix - header_len;
  const char* data = bytes.data() + 8 + header_len;

  const nlohmann::json root = parse_header(text, source);
  if (!root.is_object()) corrupt(source, "header is a JSON {}, not an object", json_kind(root));

  SafeTensorsFile file;
  file.source = source;
  std::vector<Entry> entries;
  for (const auto& [key, value] : root.items()) {
    if (key == "__metadata__") {
      if (!value.is_object()) corrupt(source, "\"__metadata__\" is a JSON {}, not an object", json_kind(value));
      for (const auto& [mk, mv] : value.items()) {
        if (!mv.is_string())
          corrupt(source, "\"__metadata__\" value of '{}' is a JSON {}, not a string", mk, json_kind(mv));
        file.metadata.emplace(mk, mv.get<std::string>());
      }
    } else {
      entries.push_back(parse_entry(key, value, data_size, source));
    }
  }
  check_tiling(entries, data_size, source);
  for (const Entry& e : entries) file.tensors.emplace(e.name, copy_out(e, data, source));
  return file;
}

SafeTensorsFile load_safetensors(const std::filesystem::path& path) {
  Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  STRATA_CHECK(f.fd >= 0, IOError, "load_safetensors: cannot open '{}': {}", path.string(), errno_text());
  struct stat st {};
  STRATA_CHECK(::fstat(f.fd, &st) == 0, IOError, "load_safetensors: cannot stat '{}': {}", path.string(),
               errno_text());
  STRATA_CHECK(S_ISREG(st.st_mode), IOError, "load_safetensors: '{}' is not a regular file", path.string());
  std::string bytes;
  try {
    bytes.resize(static_cast<size_t>(st.st_size));
  } catch (const std::bad_alloc&) {
    STRATA_THROW(IOError, "load_safetensors: '{}' ({} bytes) does not fit in memory", path.string(), st.st_size);
  }
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t r = ::read(f.fd, bytes.data() + done, bytes.size() - done);
    if (r < 0 && errno == EINTR) continue;
    STRATA_CHECK(r >= 0, IOError, "load_safetensors: reading '{}' failed: {}", path.string(), errno_text());
    STRATA_CHECK(r > 0, IOError, "load_safetensors: '{}' shrank while being read ({} of {} bytes)", path.string(),
                 done, bytes.size());
    done += static_cast<size_t>(r);
  }
  return from_safetensors_bytes(bytes, path.string());
}

}  // namespace strata
