#pragma once
// fastai's vision item transforms (vision/augment.py, vision/core.py, data/transforms.py) as
// Transforms (data/transform.h) over host images (ImagePtr items) and point / box tensors:
//
//   order 0  CropPad(size)                centre crop or pad
//   order 1  Resize(size, method)         random window on train, centred on valid
//   order 1  RandomCrop(size)             random position on train, centred on valid
//   order 1  RandomResizedCrop(size)      fastai's defaults, incl. the validation behaviour
//
// (ToTensor and IntToFloatTensor, the other two item-level vision transforms, live with the blocks
// in data/block_vision.h.)
//
//   auto tfms = {std::make_shared<Resize>(HW{224, 224}), std::make_shared<ToTensor>()};
//
// The random ones draw once per item in before_call from data::rng() (the loader seeds it per
// batch), so an (image, mask, boxes) tuple is cropped as one: a mask (an Item::mask, key PILMask,
// or an Image of kind Mask) is resampled nearest and stays a mask; an image bilinear. They run on every split (split_idx unset); the caller's split_idx 1 (validation)
// selects the deterministic behaviour, as `if split_idx:` does in fastai.
//
// Points and boxes (TensorPoint / TensorBBox, [..., 2] or [..., 4] floats) are expected in fastai's
// normalized coordinates (-1 .. 1 across the image, as PointScaler leaves them) and are moved with
// the crop: x' = (x + 1) * orig_w / box_w - 2 left / box_w - 1 (y likewise). The original size is
// the first image of the item's tuple, else the point tensor's PointMeta img_size; the result
// carries PointMeta / BBoxMeta with the new size.
#include <memory>

#include "data/image.h"
#include "data/image_ops.h"
#include "data/transform.h"

namespace strata::data {

// CropPad: centre crop or pad to size (fastai order 0; not random).
class CropPad : public Transform {
 public:
  explicit CropPad(HW size, PadMode pad_mode = PadMode::Zeros);
  HW size;
  PadMode pad_mode;
};

// Resize (fastai defaults: method Crop, pad_mode Reflection; images bilinear, masks nearest).
class Resize : public RandTransform {
 public:
  explicit Resize(HW size, ResizeMethod method = ResizeMethod::Crop, PadMode pad_mode = PadMode::Reflection);
  HW size;
  ResizeMethod method;
  PadMode pad_mode;
  void before_call(const Item& x, std::optional<int> split_idx) const override;
};

// RandomCrop (zero padding when the image is smaller than size).
class RandomCrop : public RandTransform {
 public:
  explicit RandomCrop(HW size);
  HW size;
  void before_call(const Item& x, std::optional<int> split_idx) const override;
};

// RandomResizedCrop(size, min_scale 0.08, ratio 3/4..4/3, val_xtra 0.14).
class RandomResizedCrop : public RandTransform {
 public:
  explicit RandomResizedCrop(HW size, RandomResizedCropOptions opts = {});
  HW size;
  RandomResizedCropOptions opts;
  void before_call(const Item& x, std::optional<int> split_idx) const override;
};

// Moves normalized points ([..., 2] x, y in -1 .. 1) of an image of size `orig` by a crop `box`
// (fastai's TensorPoint._do_crop_pad). Any float dtype, any device; the result is f32 or the
// input's float dtype, tagged like the input with PointMeta{new_size} (BBoxMeta for boxes).
Tensor crop_points(const Tensor& pts, HW orig, const CropBox& box, HW new_size);

}  // namespace strata::data
