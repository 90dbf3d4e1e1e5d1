#pragma once
// The transforms behind ImageBlock and MaskBlock (fastai's PILImage.create / PILMask.create,
// ToTensor, IntToFloatTensor, AddMaskCodes), over the host images of data/image.h.
//
//   Pipeline p({std::make_shared<ImageCreate>(ImageMode::RGB), std::make_shared<ToTensor>()});
//   Tensor x = p(Item(path)).tensor();        // TensorImage u8 [3, H, W]
#include <string>
#include <vector>

#include "data/image.h"
#include "data/transform.h"

namespace strata::data {

// Path or str -> host Image (load_image with `mode`); IOError naming the file on failure.
class ImageCreate : public Transform {
 public:
  explicit ImageCreate(ImageMode mode = ImageMode::RGB);
  ImageMode mode;
};

// Path or str -> mask Image (load_mask), an Item::mask.
class MaskCreate : public Transform {
 public:
  MaskCreate();
};

// fastai's ToTensor (order 5): Image -> TensorImage [C, H, W] (1 channel: TensorImageBW),
// mask -> TensorMask [H, W], u8 with ImageMeta; decodes back to host images.
class ToTensor : public Transform {
 public:
  ToTensor();
};

// fastai's IntToFloatTensor (order 10): images -> f32 / div; masks -> i64 (codes). Decodes images
// back to u8 (x * div, rounded, clamped).
class IntToFloatTensor : public Transform {
 public:
  explicit IntToFloatTensor(double div = 255.0);
  double div;
};

// fastai's AddMaskCodes: remembers the class names of a mask; decoding a TensorMask attaches
// them as CategoryMeta.
class AddMaskCodes : public Transform {
 public:
  explicit AddMaskCodes(std::vector<std::string> codes);
  std::vector<std::string> codes;
};

}  // namespace strata::data
