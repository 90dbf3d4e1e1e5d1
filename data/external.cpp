// untar_data's resolution order and caching (see external.h). Downloading lives in
// external_download.cpp (libcurl), archive handling in external_archive.cpp (libarchive); this
// file only decides which of them to run, where the results go, and makes the final rename atomic
// so that an interrupted extraction never looks like a cache hit.
#include "data/external.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "tensor/error.h"

namespace fs = std::filesystem;

namespace strata::data {

namespace {

std::string trim(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t\r\n");
  if (a == std::string::npos) return "";
  const size_t b = s.find_last_not_of(" \t\r\n");
  return s.substr(a, b - a + 1);
}

std::vector<fs::path> split_paths(const std::string& s) {
  std::vector<fs::path> out;
  std::stringstream ss(s);
  std::string part;
  while (std::getline(ss, part, ':'))
    if (!trim(part).empty()) out.emplace_back(trim(part));
  return out;
}

constexpr const char* kDefaultConfig =
    "# Strata data configuration, read by untar_data (data/external.h).\n"
    "# Relative paths are relative to this folder.\n"
    "data = data\n"
    "archive = archive\n"
    "# Offline mirror folders (':'-separated), searched before downloading:\n"
    "# mirror = /path/to/mirror\n";

// An flock held for a scope; serializes untar_data for one URL across threads and processes.
class FileLock {
 public:
  explicit FileLock(const fs::path& path) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) STRATA_THROW(IOError, "untar_data: cannot create lock file {}", path.string());
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno != EINTR) {
        ::close(fd_);
        STRATA_THROW(IOError, "untar_data: cannot lock {}", path.string());
      }
    }
  }
  ~FileLock() {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

// "file:///a/b" or "file://localhost/a/b" -> "/a/b" (percent-escapes %XX decoded).
fs::path file_url_path(const std::string& url) {
  std::string rest = url.substr(7);
  if (starts_with(rest, "localhost/")) rest = rest.substr(9);
  STRATA_CHECK(starts_with(rest, "/"), IOError, "untar_data: {} is not an absolute file:// URL", url);
  std::string out;
  for (size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == '%' && i + 2 < rest.size() && std::isxdigit(static_cast<unsigned char>(rest[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(rest[i + 2]))) {
      out += char(std::stoi(rest.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += rest[i];
    }
  }
  return out;
}

void remove_quietly(const fs::path& p) {
  std::error_code ec;
  fs::remove_all(p, ec);
}

// Extracts `archive` to `target` (which must not exist): into a temporary sibling first, then a
// rename, so a crash mid-way leaves no half-filled cache entry.
void extract_into_place(const fs::path& archive, const fs::path& target) {
  const fs::path parent = target.parent_path();
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) STRATA_THROW(IOError, "untar_data: cannot create {}: {}", parent.string(), ec.message());
  const fs::path tmp = parent / ("." + target.filename().string() + ".extract-" + std::to_string(::getpid()));
  remove_quietly(tmp);
  fs::create_directories(tmp, ec);
  if (ec) STRATA_THROW(IOError, "untar_data: cannot create {}: {}", tmp.string(), ec.message());
  try {
    extract_archive(archive, tmp);
    std::vector<fs::path> top;
    for (const auto& e : fs::directory_iterator(tmp)) top.push_back(e.path());
    // fastcore's untar_dir: a lone top-level folder becomes the target itself.
    const fs::path source = top.size() == 1 && fs::is_directory(fs::symlink_status(top[0])) ? top[0] : tmp;
    remove_quietly(target);
    fs::rename(source, target, ec);
    if (ec) STRATA_THROW(IOError, "untar_data: cannot move extracted data to {}: {}", target.string(), ec.message());
  } catch (...) {
    remove_quietly(tmp);
    throw;
  }
  remove_quietly(tmp);
}

}  // namespace

DataConfig data_config() {
  DataConfig cfg;
  if (const char* env = std::getenv("STRATA_HOME"); env && *env) {
    cfg.home = env;
  } else {
    const char* home = std::getenv("HOME");
    STRATA_CHECK(home && *home, IOError, "data_config: neither STRATA_HOME nor HOME is set");
    cfg.home = fs::path(home) / ".strata";
  }
  std::error_code ec;
  fs::create_directories(cfg.home, ec);
  if (ec) STRATA_THROW(IOError, "data_config: cannot create {}: {}", cfg.home.string(), ec.message());
  const fs::path file = cfg.home / "config.ini";
  if (!fs::exists(file)) {
    const fs::path tmp = cfg.home / ("config.ini.tmp-" + std::to_string(::getpid()));
    {
      std::ofstream out(tmp);
      out << kDefaultConfig;
      if (!out) STRATA_THROW(IOError, "data_config: cannot write {}", file.string());
    }
    fs::rename(tmp, file, ec);
    if (ec) STRATA_THROW(IOError, "data_config: cannot write {}: {}", file.string(), ec.message());
  }
  std::ifstream in(file);
  if (!in) STRATA_THROW(IOError, "data_config: cannot read {}", file.string());
  cfg.data = cfg.home / "data";
  cfg.archive = cfg.home / "archive";
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    const std::string t = trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';' || t[0] == '[') continue;
    const size_t eq = t.find('=');
    STRATA_CHECK(eq != std::string::npos, IOError, "data_config: {}:{}: expected `key = value`, got \"{}\"",
                 file.string(), lineno, t);
    const std::string key = trim(t.substr(0, eq)), value = trim(t.substr(eq + 1));
    auto resolve = [&](const std::string& v) { return fs::path(v).is_absolute() ? fs::path(v) : cfg.home / v; };
    if (key == "data" || key == "data_path") cfg.data = resolve(value);
    else if (key == "archive" || key == "archive_path") cfg.archive = resolve(value);
    else if (key == "mirror") cfg.mirrors = split_paths(value);
    // other keys (fastai's model / storage paths) are ignored
  }
  return cfg;
}

std::string url_file_name(const std::string& url) {
  std::string u = url.substr(0, url.find_first_of("?#"));
  while (!u.empty() && u.back() == '/') u.pop_back();
  size_t path_start = 0;
  if (const size_t scheme = u.find("://"); scheme != std::string::npos) {
    path_start = u.find('/', scheme + 3);  // after the host
    STRATA_CHECK(path_start != std::string::npos, IOError, "untar_data: URL {} has no file name", url);
  }
  const size_t slash = u.find_last_of('/');
  const std::string name = slash == std::string::npos ? u : u.substr(slash + 1);
  STRATA_CHECK(!name.empty() && (slash == std::string::npos || slash >= path_start), IOError,
               "untar_data: URL {} has no file name", url);
  return name;
}

std::string archive_stem(const std::string& name) {
  for (const char* suffix : {".tar.gz", ".tar.bz2", ".tar.xz", ".tgz", ".tar", ".zip", ".gz"}) {
    const size_t n = std::char_traits<char>::length(suffix);
    if (name.size() > n && name.compare(name.size() - n, n, suffix) == 0) return name.substr(0, name.size() - n);
  }
  return name;
}

fs::path untar_data(const std::string& url, const UntarOptions& opts) {
  STRATA_CHECK(!url.empty(), IOError, "untar_data: empty URL");
  const bool is_file = starts_with(url, "file://");
  // 1. A local directory is used as it is.
  if (is_file) {
    const fs::path p = file_url_path(url);
    if (fs::is_directory(p)) return p;
    STRATA_CHECK(fs::exists(p), IOError, "untar_data: {} does not exist ({})", p.string(), url);
  }
  const std::string name = url_file_name(url);
  const std::string stem = archive_stem(name);
  STRATA_CHECK(!stem.empty() && stem != "." && stem != "..", IOError, "untar_data: URL {} has no usable name", url);

  // 2. Mirrors.
  std::vector<fs::path> mirrors;
  if (opts.mirror) {
    mirrors = split_paths(*opts.mirror);
  } else if (const char* env = std::getenv("STRATA_DATA_MIRROR"); env && *env) {
    mirrors = split_paths(env);
  }
  const bool need_config = opts.dest.empty() || opts.archive_dir.empty() || (!opts.mirror && !std::getenv("STRATA_DATA_MIRROR"));
  DataConfig cfg;
  if (need_config) {
    cfg = data_config();
    if (!opts.mirror && mirrors.empty()) mirrors = cfg.mirrors;
  }
  std::optional<fs::path> local_archive;
  if (is_file) local_archive = file_url_path(url);
  for (const fs::path& m : mirrors) {
    if (fs::is_directory(m / stem)) return m / stem;
    if (!local_archive && fs::is_regular_file(m / name)) local_archive = m / name;
  }

  // 3. Cache, 4. download + extract, under a lock per archive.
  const fs::path data_dir = opts.dest.empty() ? cfg.data : opts.dest;
  const fs::path archive_dir = opts.archive_dir.empty() ? cfg.archive : opts.archive_dir;
  const fs::path target = data_dir / stem;
  std::error_code ec;
  fs::create_directories(archive_dir, ec);
  if (ec) STRATA_THROW(IOError, "untar_data: cannot create {}: {}", archive_dir.string(), ec.message());
  FileLock lock(archive_dir / (name + ".lock"));
  if (!opts.force_download && fs::is_directory(target)) return target;

  fs::path archive;
  bool fresh = true;  // the archive was just downloaded (or is local)
  if (local_archive) {
    archive = *local_archive;
  } else {
    archive = archive_dir / name;
    fresh = opts.force_download || !fs::exists(archive) || !verify_file(archive, opts.download.expected).empty();
    if (fresh) download_url(url, archive, opts.download);
  }
  try {
    extract_into_place(archive, target);
  } catch (const IOError&) {
    // An archive cached by an earlier run that no longer extracts may be damaged: fetch it again.
    if (fresh) throw;
    remove_quietly(archive);
    download_url(url, archive, opts.download);
    extract_into_place(archive, target);
  }
  return target;
}

}  // namespace strata::data
