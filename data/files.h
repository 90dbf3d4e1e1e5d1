#pragma once
// Finding files (fastai's get_files / get_image_files). Hidden files and directories (a leading
// '.') are skipped, extensions match case-insensitively, and the result is sorted so that item
// order (and therefore every split) is the same on every machine.
//
//   auto files = get_image_files(root);                                // all images, recursively
//   auto txt = get_files(root, {.extensions = {".txt"}, .folders = {"train"}});
#include <filesystem>
#include <string>
#include <vector>

namespace strata::data {

struct GetFilesOptions {
  std::vector<std::string> extensions{};  // ".png" (with or without the dot); empty: any
  bool recurse = true;
  std::vector<std::string> folders{};     // only these top-level subfolders (empty: all)
};

// IOError naming the path when it is not a directory.
std::vector<std::filesystem::path> get_files(const std::filesystem::path& path, const GetFilesOptions& opts = {});
// fastai's image_extensions (.png .jpg .jpeg .bmp .gif .tif .tiff .webp ...).
const std::vector<std::string>& image_extensions();
std::vector<std::filesystem::path> get_image_files(const std::filesystem::path& path, bool recurse = true,
                                                   std::vector<std::string> folders = {});

}  // namespace strata::data
