#pragma once
// Files for tests: the shared sample data sets (../shared/data, never copied into the project)
// and a scratch directory that cleans up after itself.
//
//   const fs::path root = strata::testing::shared_data("mnist_tiny");
//   if (root.empty()) GTEST_SKIP() << "../shared/data/mnist_tiny not present";
//   strata::testing::TempDir dir;  dir.write("train/3/a.txt", "...");
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

namespace strata::testing {

// ../shared/data/<name> next to the source tree (or one level further up, for worktrees);
// empty when absent, so a test can skip cleanly.
inline std::filesystem::path shared_data(const std::string& name) {
  for (const char* rel : {"/../shared/data/", "/../../shared/data/"}) {
    std::filesystem::path p(STRATA_SOURCE_DIR + std::string(rel) + name);
    if (std::filesystem::exists(p)) return p;
  }
  return {};
}

// A fresh temporary directory, unique per process and object, removed with everything in it.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() /
           ("strata_test_" + std::to_string(::getpid()) + "_" + std::to_string(reinterpret_cast<uintptr_t>(this)));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  // Writes `text` to path/rel, creating the folders on the way.
  void write(const std::filesystem::path& rel, const std::string& text) const {
    std::filesystem::create_directories((path / rel).parent_path());
    std::ofstream(path / rel) << text;
  }
};

}  // namespace strata::testing
