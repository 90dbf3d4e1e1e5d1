#pragma once
// Blocks (fastai's TransformBlock and its factories): the transforms that turn a raw item into
// one element of a sample, by kind of data. A DataBlock puts one pipeline per block together
// (getter + type_tfms) and collects item_tfms / batch_tfms for the loaders.
//
//   DataBlock db({.blocks = {ImageBlock(), CategoryBlock()}, ...});
//
// A block holds transform objects, not factories: a DataBlock used on two sources shares them
// (as in fastai, a vocab learned once is kept).
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "data/image.h"
#include "data/transform.h"

namespace strata::data {

struct TransformBlock {
  std::string name = "TransformBlock";
  std::vector<TfmPtr> type_tfms{};   // in the sample's pipeline, after the getter
  std::vector<TfmPtr> item_tfms{};   // after_item of the loaders
  std::vector<TfmPtr> batch_tfms{};  // after_batch of the loaders
  // The loaders' before_batch (fastai's dls_kwargs): BBoxBlock pads boxes with bb_pad.
  std::function<std::vector<Item>(std::vector<Item>)> before_batch{};
};

// Single-label classification: Categorize (vocab from the training labels unless given).
TransformBlock CategoryBlock(std::optional<std::vector<Item>> vocab = std::nullopt, bool sort = true,
                             bool add_na = false);
// Multi-label classification: MultiCategorize + OneHotEncode.
TransformBlock MultiCategoryBlock(std::optional<std::vector<Item>> vocab = std::nullopt, bool add_na = false);
// Regression targets: RegressionSetup(n_out).
TransformBlock RegressionBlock(std::optional<int64_t> n_out = std::nullopt);

// Images (fastai's ImageBlock(cls=PILImage / PILImageBW)): type_tfms load the file (Path or str)
// into a host Image (ImageMode::RGB or ImageMode::BW, data/image.h); item_tfms ToTensor makes
// it a u8 TensorImage [3, H, W] / TensorImageBW [1, H, W]; batch_tfms IntToFloatTensor scales to
// f32 in [0, 1]. Item transforms that work on host Images (Resize, ...) go before ToTensor.
TransformBlock ImageBlock(ImageMode mode = ImageMode::RGB);
// Segmentation masks (fastai's MaskBlock): load_mask (palette PNG indices or gray) -> PILMask
// item -> ToTensor gives a u8 TensorMask [H, W] -> IntToFloatTensor makes it i64 class codes.
// `codes` (the class names) are attached as CategoryMeta when a mask is decoded.
TransformBlock MaskBlock(std::vector<std::string> codes = {});
// Points / boxes (data/block_points.h): pixel coordinates -> TensorPoint [n, 2] /
// TensorBBox [n, 4] scaled to [-1, 1] by the sample's image (PointScaler); BBoxBlock pads a
// batch's boxes with bb_pad. BBoxLblBlock: the boxes' labels, MultiCategorize with '#na#' first.
TransformBlock PointBlock();
TransformBlock BBoxBlock();
TransformBlock BBoxLblBlock(std::optional<std::vector<Item>> vocab = std::nullopt, bool add_na = true);

}  // namespace strata::data
