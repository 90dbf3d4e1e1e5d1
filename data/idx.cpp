// IDX reader. zlib's gz* functions read gzip and plain files alike (a file without the gzip magic
// passes through unchanged), so there is one code path for both; zlib checks the CRC-32 and length
// in the gzip trailer when the stream is read to its end, which the trailing-bytes check below
// always does.
#include "data/idx.h"

#include <zlib.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>

#include "tensor/ops.h"

namespace strata::data {
namespace {

namespace fs = std::filesystem;

// Closes the gzFile on every path out, including throws.
struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};
using GzHandle = std::unique_ptr<gzFile_s, GzCloser>;

struct IdxType {
  uint8_t code;
  const char* name;
  int64_t bytes;  // size of one element in the file
  DType dtype;    // what it becomes in a tensor
};

constexpr std::array<IdxType, 6> kIdxTypes = {{
    {0x08, "u8", 1, DType::U8},
    {0x09, "i8", 1, DType::I32},
    {0x0B, "i16", 2, DType::I32},
    {0x0C, "i32", 4, DType::I32},
    {0x0D, "f32", 4, DType::F32},
    {0x0E, "f64", 8, DType::F64},
}};

constexpr int kMaxDims = 16;                     // far more than any real IDX file has
constexpr size_t kFirstChunk = size_t{1} << 20;  // the data buffer starts here and doubles

[[noreturn]] void fail(const fs::path& path, const std::string& what) {
  STRATA_THROW(IOError, "read_idx: {}: {}", path.string(), what);
}

// zlib's description of the stream's error state, or "" when there is none.
std::string gz_error_text(gzFile f) {
  int errnum = Z_OK;
  const char* msg = gzerror(f, &errnum);
  if (errnum == Z_OK) return "";
  if (errnum == Z_ERRNO) return std::strerror(errno);
  return msg ? msg : "unknown zlib error";
}

// Reads up to n bytes; returns how many arrived (fewer only at the end of the data). Throws on a
// zlib error (corrupt deflate data, CRC mismatch, I/O error).
size_t read_bytes(gzFile f, void* dst, size_t n, const fs::path& path) {
  size_t got = 0;
  auto* out = static_cast<unsigned char*>(dst);
  while (got < n) {
    const unsigned chunk = static_cast<unsigned>(std::min<size_t>(n - got, size_t{1} << 30));
    const int r = gzread(f, out + got, chunk);
    if (r < 0) fail(path, "corrupt or unreadable data (" + gz_error_text(f) + ")");
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  return got;
}

uint32_t big_endian_u32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

// Reverses the bytes of each `width`-byte element in place (IDX is big-endian; we are not).
void swap_bytes(unsigned char* p, size_t count, int64_t width) {
  if (width == 1) return;
  for (size_t i = 0; i < count; ++i, p += width)
    for (int64_t a = 0, b = width - 1; a < b; ++a, --b) std::swap(p[a], p[b]);
}

const char* truncated_hint(gzFile f) {
  // zlib sets Z_BUF_ERROR ("unexpected end of file") when a gzip stream stops mid-way.
  int errnum = Z_OK;
  gzerror(f, &errnum);
  return errnum == Z_BUF_ERROR ? " (the gzip stream ends early)" : "";
}

}  // namespace

Tensor read_idx(const fs::path& path, std::optional<DType> dtype) {
  std::error_code ec;
  if (!fs::exists(path, ec)) fail(path, "no such file");
  if (fs::is_directory(path, ec)) fail(path, "is a directory, not an IDX file");
  GzHandle file(gzopen(path.c_str(), "rb"));
  if (!file) fail(path, std::string("cannot open (") + std::strerror(errno) + ")");
  gzFile f = file.get();

  // ---- magic: 0x00 0x00 <type> <ndims> ----
  unsigned char magic[4];
  if (read_bytes(f, magic, 4, path) != 4) fail(path, "too short for an IDX header (fewer than 4 bytes)");
  if (magic[0] != 0 || magic[1] != 0)
    fail(path, fmt::format("bad magic number 0x{:02x}{:02x}{:02x}{:02x} (an IDX file starts with two zero bytes)",
                           magic[0], magic[1], magic[2], magic[3]));
  const IdxType* type = nullptr;
  for (const IdxType& t : kIdxTypes)
    if (t.code == magic[2]) type = &t;
  if (!type) fail(path, fmt::format("unknown IDX type code 0x{:02x} (expected 08, 09, 0b, 0c, 0d or 0e)", magic[2]));
  const int ndims = magic[3];
  if (ndims > kMaxDims) fail(path, fmt::format("header declares {} dims (at most {} supported)", ndims, kMaxDims));

  // ---- dims ----
  unsigned char dim_bytes[4 * kMaxDims];
  const size_t dim_len = 4 * static_cast<size_t>(ndims);
  if (read_bytes(f, dim_bytes, dim_len, path) != dim_len)
    fail(path, fmt::format("truncated header: {} dims declared, file ends before they do", ndims));
  Shape shape;
  int64_t numel = 1;
  const int64_t max_numel = std::numeric_limits<int64_t>::max() / 8;
  for (int d = 0; d < ndims; ++d) {
    const int64_t n = big_endian_u32(dim_bytes + 4 * d);
    shape.push_back(n);
    if (n != 0 && numel > max_numel / n) fail(path, fmt::format("dims {} are too large (element count overflows)", shape));
    numel *= n;
  }
  const size_t nbytes = static_cast<size_t>(numel * type->bytes);

  // ---- data: a buffer that grows with what actually arrives ----
  std::unique_ptr<unsigned char, decltype(&std::free)> buf(nullptr, &std::free);
  size_t have = 0;
  while (have < nbytes) {
    const size_t want = std::min(nbytes, std::max(kFirstChunk, have * 2));
    void* grown = std::realloc(buf.get(), want);
    if (!grown) fail(path, fmt::format("out of memory reading {} bytes of data", nbytes));
    (void)buf.release();
    buf.reset(static_cast<unsigned char*>(grown));
    const size_t got = read_bytes(f, buf.get() + have, want - have, path);
    have += got;
    if (have < want)
      fail(path, fmt::format("truncated: dims {} of {} need {} bytes of data, the file has {}{}", shape, type->name,
                             nbytes, have, truncated_hint(f)));
  }
  // Reading one byte past the data both finds trailing garbage and makes zlib check the gzip
  // trailer (CRC-32 and length) of a compressed file.
  unsigned char extra[256];
  const size_t trailing = read_bytes(f, extra, sizeof(extra), path);
  if (trailing > 0)
    fail(path, fmt::format("{}{} bytes after the {} bytes of data that dims {} of {} declare", trailing,
                           trailing == sizeof(extra) ? " or more" : "", nbytes, shape, type->name));

  // ---- to a tensor ----
  Tensor out;
  unsigned char* data = buf.get();
  swap_bytes(data, static_cast<size_t>(numel), type->bytes);
  if (type->code == 0x09 || type->code == 0x0B) {
    // i8 / i16 widen to i32 (Strata has no narrower signed type).
    out = empty(shape, {.dtype = DType::I32});
    int32_t* o = out.data<int32_t>();
    for (int64_t i = 0; i < numel; ++i) {
      if (type->bytes == 1) {
        o[i] = static_cast<int8_t>(data[i]);
      } else {
        int16_t v;
        std::memcpy(&v, data + 2 * i, 2);
        o[i] = v;
      }
    }
  } else if (numel == 0) {
    out = empty(shape, {.dtype = type->dtype});
  } else {
    // Hand the buffer to the tensor without copying; its storage frees it.
    unsigned char* owned = buf.release();
    out = from_blob(owned, shape, type->dtype, [](void* p) { std::free(p); });
  }
  if (dtype && *dtype != out.dtype()) out = out.to(*dtype);
  return out;
}

}  // namespace strata::data
