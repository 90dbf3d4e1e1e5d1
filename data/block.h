#pragma once
// Blocks (fastai's TransformBlock and its factories): the transforms that turn a raw item into
// one element of a sample, by kind of data. A DataBlock puts one pipeline per block together
// (getter + type_tfms) and collects item_tfms / batch_tfms for the loaders.
//
//   DataBlock db({.blocks = {ImageBlock(), CategoryBlock()}, ...});
//
// A block holds transform objects, not factories: a DataBlock used on two sources shares them
// (as in fastai, a vocab learned once is kept).
#include <optional>
#include <string>
#include <vector>

#include "data/transform.h"

namespace strata::data {

struct TransformBlock {
  std::string name = "TransformBlock";
  std::vector<TfmPtr> type_tfms;   // in the sample's pipeline, after the getter
  std::vector<TfmPtr> item_tfms;   // after_item of the loaders
  std::vector<TfmPtr> batch_tfms;  // after_batch of the loaders
};

// Single-label classification: Categorize (vocab from the training labels unless given).
TransformBlock CategoryBlock(std::optional<std::vector<Item>> vocab = std::nullopt, bool sort = true,
                             bool add_na = false);
// Multi-label classification: MultiCategorize + OneHotEncode.
TransformBlock MultiCategoryBlock(std::optional<std::vector<Item>> vocab = std::nullopt, bool add_na = false);
// Regression targets: RegressionSetup(n_out).
TransformBlock RegressionBlock(std::optional<int64_t> n_out = std::nullopt);

enum class ImageMode { RGB, BW };
// Vision blocks: wired to the image loader of data/image.h (imageio branch). Until that is
// merged they throw NotImplementedError saying so.
TransformBlock ImageBlock(ImageMode mode = ImageMode::RGB);
TransformBlock MaskBlock(std::vector<std::string> codes = {});
TransformBlock PointBlock();
TransformBlock BBoxBlock();
TransformBlock BBoxLblBlock(std::optional<std::vector<Item>> vocab = std::nullopt, bool add_na = true);

}  // namespace strata::data
