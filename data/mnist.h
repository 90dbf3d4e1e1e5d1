#pragma once
// MNIST-style data sets on disk (MNIST, Fashion-MNIST, KMNIST): four IDX files per directory,
//
//   train-images-idx3-ubyte[.gz]  train-labels-idx1-ubyte[.gz]
//   t10k-images-idx3-ubyte[.gz]   t10k-labels-idx1-ubyte[.gz]
//
// Debian's `dataset-fashion-mnist` package installs Fashion-MNIST in /usr/share/datasets/fashion-mnist.
//
//   auto test = strata::data::load_mnist(strata::data::fashion_mnist_dir(), "t10k");
//   // test.images: u8 [10000, 28, 28], test.labels: i64 [10000], values 0..9
#include <filesystem>
#include <string>

#include "tensor/tensor.h"

namespace strata::data {

struct MnistSplit {
  Tensor images;  // u8 [N, rows, cols]
  Tensor labels;  // i64 [N]
};

// Loads split "train" or "t10k" from `dir`, preferring the .gz file when both exist. Throws
// IOError when a file is missing or malformed (read_idx), or when images and labels disagree
// (not 3-d / 1-d u8, or different counts).
MnistSplit load_mnist(const std::filesystem::path& dir, const std::string& split);

// True when `dir` holds both files of `split` (either form).
bool has_mnist(const std::filesystem::path& dir, const std::string& split);

// Where Fashion-MNIST is: $STRATA_FASHION_MNIST_DIR when set, else the Debian package's directory.
std::filesystem::path fashion_mnist_dir();

}  // namespace strata::data
