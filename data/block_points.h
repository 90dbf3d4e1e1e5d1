#pragma once
// Points and bounding boxes (fastai's vision/core.py: TensorPoint.create, TensorBBox.create,
// PointScaler, bb_pad, and the PointBlock / BBoxBlock / BBoxLblBlock blocks).
//
// Coordinates enter as pixels (x, y) of the image they belong to and are scaled by PointScaler to
// [-1, 1] (fastai's convention: x' = 2x / w - 1, y' = 2y / h - 1) using the size of the image in
// the same sample, so augmentation can move them with the image; decoding scales back. A box is
// (x0, y0, x1, y1), stored as two points. bb_pad (BBoxBlock's before_batch) clips boxes to the
// image, drops empty ones with their labels, and pads every sample to the batch's largest count
// (boxes with zeros, labels with 0 = '#na#').
//
//   DataBlock coco({.blocks = {ImageBlock(), BBoxBlock(), BBoxLblBlock()}, .n_inp = 1,
//                   .getters = {get_img, get_boxes, get_labels}, ...});
#include <vector>

#include "data/block.h"
#include "data/transform.h"

namespace strata::data {

// A List of numbers (or of Lists of numbers), or a tensor -> f32 TensorPoint [n, 2].
class PointCreate : public Transform {
 public:
  PointCreate();
};
// The same for boxes -> f32 TensorBBox [n, 4].
class BBoxCreate : public Transform {
 public:
  BBoxCreate();
};

// fastai's PointScaler (order 1): an ItemTransform that scales every TensorPoint / TensorBBox of
// a sample by the size of the sample's image (a host Image or a TensorImageBase; without one,
// the points' PointMeta img_size), and records that size as PointMeta / BBoxMeta.
class PointScaler : public ItemTransform {
 public:
  explicit PointScaler(bool do_scale = true, bool y_first = false);
  bool do_scale;
  bool y_first;  // coordinates given as (y, x)
};

// fastai's bb_pad for a list of (image, TensorBBox [n, 4], labels [n]) samples.
std::vector<Item> bb_pad(std::vector<Item> samples, int64_t pad_idx = 0);

}  // namespace strata::data
