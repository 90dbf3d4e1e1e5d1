#pragma once
// Geometric operations on host Images — the work of fastai's item transforms (Resize, CropPad,
// RandomCrop, RandomResizedCrop), which run per item on the CPU before batching.
//
// Each fastai transform is split into a *draw* (random parameters, made once per item from an
// explicit generator, as fastai's before_call) and an *apply* (deterministic, so that an image and
// its mask receive the same crop):
//
//   std::mt19937_64 rng(seed);
//   ResizeDraw d = draw_resize(ResizeMethod::Crop, /*train=*/true, rng);
//   Image x = apply_resize(img, {224, 224}, ResizeMethod::Crop, d, PadMode::Reflection);
//   Image y = apply_resize(mask, {224, 224}, ResizeMethod::Crop, d, PadMode::Reflection, Interp::Nearest);
//
// Sizes are {h, w} (fastai's `size` argument order); crop boxes are in pixels of the source image
// and may extend past it, the outside being filled by the PadMode. Random draws use fixed formulas
// over the generator's 64-bit outputs (not <random>'s distributions), so a seed gives the same
// crops with every standard library.
#include <cstdint>
#include <random>

#include "data/image.h"

namespace strata::data {

struct HW {
  int h = 0;
  int w = 0;
  bool operator==(const HW&) const = default;
};

// fastai's PadMode: Zeros (constant 0), Border (edge pixels repeated), Reflection (mirrored
// without repeating the edge, like torch/numpy "reflect"; repeated mirroring past twice the size).
enum class PadMode { Zeros, Border, Reflection };
// fastai's ResizeMethod: Crop (fill the target, cutting the excess), Pad (fit inside, padding the
// rest), Squish (stretch the whole image).
enum class ResizeMethod { Crop, Pad, Squish };
// Resampling: Bilinear like PIL's BILINEAR (a triangle filter widened by the scale factor when
// shrinking, so downscaling averages rather than aliases) for images, Nearest for masks.
enum class Interp { Bilinear, Nearest };

// A rectangle of the source: rows [top, top + h), columns [left, left + w); may be partly or wholly
// outside the image.
struct CropBox {
  int top = 0;
  int left = 0;
  int h = 0;
  int w = 0;
  bool operator==(const CropBox&) const = default;
};

// ---- primitives ----
// Resizes to `size` (h, w >= 1).
Image resize(const Image& img, HW size, Interp interp = Interp::Bilinear);
// The pixels of `box`, those outside the image filled per `pad_mode` (box.h, box.w >= 1).
Image crop_pad(const Image& img, const CropBox& box, PadMode pad_mode = PadMode::Zeros);
// Crop (the box must lie inside the image; IndexError otherwise).
Image crop(const Image& img, const CropBox& box);
// Adds top / bottom / left / right borders (each >= 0).
Image pad(const Image& img, int top, int bottom, int left, int right, PadMode pad_mode = PadMode::Zeros);
// Centre crop or pad to `size` (fastai's CropPad): top-left at floor((orig - size) / 2).
Image center_crop_pad(const Image& img, HW size, PadMode pad_mode = PadMode::Zeros);
// crop_pad then resize to `resize_to` (fastai's crop_pad(..., resize_to=)).
Image crop_pad_resize(const Image& img, const CropBox& box, HW resize_to, PadMode pad_mode = PadMode::Zeros,
                      Interp interp = Interp::Bilinear);

// ---- random helpers (portable: the same numbers for a seed everywhere) ----
double uniform01(std::mt19937_64& rng);                  // [0, 1), 53 bits
double uniform(std::mt19937_64& rng, double lo, double hi);
int randint(std::mt19937_64& rng, int lo, int hi);       // inclusive, like Python's random.randint

// ---- Resize (fastai vision/augment.py) ----
// Where the crop (or pad) window sits along x and y, as fractions of the slack: 0.5 centres it.
struct ResizeDraw {
  double pct_x = 0.5;
  double pct_y = 0.5;
};
// Training draws both fractions uniformly; validation (train == false) and Squish centre them.
ResizeDraw draw_resize(ResizeMethod method, bool train, std::mt19937_64& rng);
// The source box that Resize scales to `size`: for Crop the largest box of the target's aspect that
// fits inside the image, for Pad the smallest that contains it, for Squish the whole image.
CropBox resize_box(HW orig, HW size, ResizeMethod method, const ResizeDraw& draw);
Image apply_resize(const Image& img, HW size, ResizeMethod method, const ResizeDraw& draw,
                   PadMode pad_mode = PadMode::Reflection, Interp interp = Interp::Bilinear);
// Draw and apply in one call (random window on train, centred on valid).
Image resize_method(const Image& img, HW size, ResizeMethod method, PadMode pad_mode, bool train,
                    std::mt19937_64& rng, Interp interp = Interp::Bilinear);

// ---- RandomCrop ----
// A size-sized box at a random position on train (top-left uniform over the slack, randint), centred
// (floor((orig - size) / 2)) on valid. Bigger than the image: the box overhangs (zero padding).
CropBox draw_random_crop(HW orig, HW size, bool train, std::mt19937_64& rng);

// ---- RandomResizedCrop ----
struct RandomResizedCropOptions {
  double min_scale = 0.08;                  // of the area
  double ratio_lo = 3.0 / 4.0, ratio_hi = 4.0 / 3.0;  // w / h, drawn log-uniformly
  double val_xtra = 0.14;                   // validation: resize to size + xtra, then centre crop
};
struct RandomResizedCropDraw {
  CropBox box;          // source box
  HW resize_to;         // what the box is resized to
  bool final_center_crop = false;  // validation: centre-crop resize_to down to the target size
};
// Training: up to 10 tries of area ~ U(min_scale, 1) * w * h and ratio ~ exp(U(log lo, log hi)),
// nw = round(sqrt(area * ratio)), nh = round(sqrt(area / ratio)), accepted when it fits, top-left
// uniform; else the whole image clipped to the ratio range, centred. Validation: the whole image
// squished to size + xtra per side (xtra = ceil(max(h, w) * val_xtra / 8) * 8), then centre
// cropped to size.
RandomResizedCropDraw draw_random_resized_crop(HW orig, HW size, bool train, std::mt19937_64& rng,
                                               const RandomResizedCropOptions& opts = {});
Image apply_random_resized_crop(const Image& img, HW size, const RandomResizedCropDraw& draw,
                                Interp interp = Interp::Bilinear);

}  // namespace strata::data
