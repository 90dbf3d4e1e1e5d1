// get_files / get_image_files over std::filesystem.
#include "data/files.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "tensor/error.h"

namespace strata::data {

namespace fs = std::filesystem;

namespace {
std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
bool hidden(const fs::path& p) {
  const std::string n = p.filename().string();
  return !n.empty() && n[0] == '.';
}
void collect(const fs::path& dir, const std::set<std::string>& exts, bool recurse, std::vector<fs::path>& out) {
  for (const auto& e : fs::directory_iterator(dir, fs::directory_options::follow_directory_symlink)) {
    if (hidden(e.path())) continue;
    if (e.is_directory()) {
      if (recurse) collect(e.path(), exts, recurse, out);
    } else if (e.is_regular_file()) {
      if (exts.empty() || exts.count(lower(e.path().extension().string()))) out.push_back(e.path());
    }
  }
}
}  // namespace

std::vector<fs::path> get_files(const fs::path& path, const GetFilesOptions& opts) {
  STRATA_CHECK(fs::is_directory(path), IOError, "get_files: '{}' is not a directory", path.string());
  std::set<std::string> exts;
  for (const auto& e : opts.extensions) exts.insert(lower(e.empty() || e[0] == '.' ? e : "." + e));
  std::vector<fs::path> out;
  if (opts.folders.empty()) {
    collect(path, exts, opts.recurse, out);
  } else {
    for (const auto& e : fs::directory_iterator(path)) {
      if (e.is_regular_file() && std::find(opts.folders.begin(), opts.folders.end(), ".") != opts.folders.end()) {
        if (!hidden(e.path()) && (exts.empty() || exts.count(lower(e.path().extension().string()))))
          out.push_back(e.path());
      }
    }
    for (const auto& f : opts.folders) {
      if (f == ".") continue;
      const fs::path sub = path / f;
      if (fs::is_directory(sub)) collect(sub, exts, opts.recurse, out);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

const std::vector<std::string>& image_extensions() {
  static const std::vector<std::string> exts = {".bmp", ".gif", ".jpeg", ".jpg", ".jpe", ".png", ".tif",
                                                ".tiff", ".webp", ".ico", ".pbm", ".pgm", ".ppm", ".pnm"};
  return exts;
}

std::vector<fs::path> get_image_files(const fs::path& path, bool recurse, std::vector<std::string> folders) {
  return get_files(path, {.extensions = image_extensions(), .recurse = recurse, .folders = std::move(folders)});
}

}  // namespace strata::data
