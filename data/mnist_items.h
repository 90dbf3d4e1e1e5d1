#pragma once
// MNIST-style splits (data/mnist.h) as a DataBlock source, so the IDX files go through the same
// ImageBlock / CategoryBlock pipeline as a folder of PNGs would:
//
//   MnistItems fashion(load_mnist(dir, "train"), load_mnist(dir, "t10k"), fashion_mnist_classes());
//   DataBlock block({.blocks = {ImageBlock(ImageMode::BW), CategoryBlock(fashion.vocab(), false)},
//                    .get_x = fashion.image_getter(), .get_y = fashion.label_getter(),
//                    .splitter = fashion.test_splitter()});
//   DataLoaders dls = block.dataloaders(Item::list(fashion.items()), {.bs = 128});
//
// Items are row numbers: the training rows 0..n_train-1, then the test rows. The getters read the
// pixels out of the split tensors on demand (one 28x28 host image per call), so nothing is decoded
// or copied up front and the data set's memory is the two u8 tensors. The getters share the data
// with the MnistItems (reference-counted): they stay valid after it is gone.
#include <memory>
#include <string>
#include <vector>

#include "data/datablock.h"
#include "data/mnist.h"

namespace strata::data {

// Fashion-MNIST's class names in label order (0 "T-shirt/top" ... 9 "Ankle boot").
const std::vector<std::string>& fashion_mnist_classes();

class MnistItems {
 public:
  // `classes[label]` names each label; labels outside it are a ValueError (checked here, once).
  MnistItems(MnistSplit train, MnistSplit test, std::vector<std::string> classes);

  int64_t n_train() const;
  int64_t n_test() const;
  std::vector<Item> items() const;            // 0 .. n_train + n_test - 1
  std::vector<Item> vocab() const;            // the class names as items, in label order
  Getter image_getter() const;                // row -> a BW host image (ImageKind::BW)
  Getter label_getter() const;                // row -> its class name
  Splitter test_splitter() const;             // the test rows are the validation set

  // The same as the getters, for one row; IndexError for a row out of range.
  Item image(int64_t row) const;
  Item label(int64_t row) const;

  struct Data;  // the splits and class names, shared with the getters

 private:
  std::shared_ptr<const Data> data_;
};

}  // namespace strata::data
