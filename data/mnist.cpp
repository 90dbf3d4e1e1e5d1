// MNIST-style directories: file naming and the consistency checks between images and labels. The
// format itself is data/idx.cpp.
#include "data/mnist.h"

#include <cstdlib>
#include <optional>

#include "data/idx.h"

namespace strata::data {
namespace {

namespace fs = std::filesystem;

// The .gz file if present, else the plain one, else nothing.
std::optional<fs::path> find_file(const fs::path& dir, const std::string& stem) {
  std::error_code ec;
  for (const fs::path& p : {dir / (stem + ".gz"), dir / stem})
    if (fs::is_regular_file(p, ec)) return p;
  return std::nullopt;
}

std::string images_stem(const std::string& split) { return split + "-images-idx3-ubyte"; }
std::string labels_stem(const std::string& split) { return split + "-labels-idx1-ubyte"; }

fs::path require_file(const fs::path& dir, const std::string& stem) {
  auto p = find_file(dir, stem);
  if (!p) STRATA_THROW(IOError, "load_mnist: neither {0}.gz nor {0} is in {1}", stem, dir.string());
  return *p;
}

}  // namespace

bool has_mnist(const fs::path& dir, const std::string& split) {
  return find_file(dir, images_stem(split)) && find_file(dir, labels_stem(split));
}

MnistSplit load_mnist(const fs::path& dir, const std::string& split) {
  const fs::path images_path = require_file(dir, images_stem(split));
  const fs::path labels_path = require_file(dir, labels_stem(split));
  MnistSplit out{read_idx(images_path), read_idx(labels_path)};
  STRATA_CHECK(out.images.dtype() == DType::U8 && out.images.dim() == 3, IOError,
               "load_mnist: {}: expected u8 images [N, rows, cols], got {} {}", images_path.string(),
               dtype_name(out.images.dtype()), out.images.shape());
  STRATA_CHECK(out.labels.dtype() == DType::U8 && out.labels.dim() == 1, IOError,
               "load_mnist: {}: expected u8 labels [N], got {} {}", labels_path.string(),
               dtype_name(out.labels.dtype()), out.labels.shape());
  STRATA_CHECK(out.images.size(0) == out.labels.size(0), IOError,
               "load_mnist: {} has {} images but {} has {} labels", images_path.string(), out.images.size(0),
               labels_path.string(), out.labels.size(0));
  out.labels = out.labels.to(DType::I64);
  return out;
}

fs::path fashion_mnist_dir() {
  if (const char* env = std::getenv("STRATA_FASHION_MNIST_DIR"); env && *env) return env;
  return "/usr/share/datasets/fashion-mnist";
}

}  // namespace strata::data
