#pragma once
// Pooling, upsampling and pixel shuffle over images laid out NCHW (PyTorch semantics). Pools
// also take an unbatched CHW image; upsampling needs NCHW (as in PyTorch, a 3-d input to
// interpolate means 1-d data). Sizes take one number for both dims or {h, w}:
//
//   Tensor y = strata::max_pool2d(x, {.kernel_size = 3, .stride = 2, .padding = 1});
//   Tensor a = strata::avg_pool2d(x, {.kernel_size = {2, 3}, .count_include_pad = false});
//   Tensor g = strata::adaptive_avg_pool2d(x, 1);                       // global average pool
//   Tensor u = strata::upsample_bilinear2d(x, {.scale_factor = 2.0, .align_corners = true});
//   Tensor s = strata::pixel_shuffle(x, 2);                             // [N, 4C, H, W] -> [N, C, 2H, 2W]
//
// Pools and bilinear upsampling take floating inputs (f32, f64, f16, bf16); nearest upsampling
// and pixel (un)shuffle take any dtype. All are differentiable (first order; pixel (un)shuffle to
// any order, being views).
#include <utility>

#include "tensor/tensor.h"

namespace strata {

// A (height, width) pair of sizes; one number means both.
struct Int2 {
  int64_t h = 0, w = 0;
  Int2() = default;
  Int2(int64_t both) : h(both), w(both) {}  // NOLINT: `.kernel_size = 3`
  Int2(int64_t h_, int64_t w_) : h(h_), w(w_) {}
  bool operator==(const Int2&) const = default;
};

// A (height, width) pair of scale factors; one number means both.
struct Scale2 {
  double h = 0, w = 0;
  Scale2() = default;
  Scale2(double both) : h(both), w(both) {}  // NOLINT: `.scale_factor = 2.0`
  Scale2(double h_, double w_) : h(h_), w(w_) {}
};

struct MaxPool2dOptions {
  Int2 kernel_size = {};
  Int2 stride = {};            // default (0): kernel_size
  Int2 padding = 0;            // implicit -inf padding, at most half the kernel size
  Int2 dilation = 1;
  bool ceil_mode = false;      // round the output size up (a last window may start in the padding)
};

struct AvgPool2dOptions {
  Int2 kernel_size = {};
  Int2 stride = {};            // default (0): kernel_size
  Int2 padding = 0;            // implicit zero padding, at most half the kernel size
  bool ceil_mode = false;
  bool count_include_pad = true;  // divide by the window including padding (not past it)
};

// Exactly one of size and scale_factor (0 = not given). With a scale factor the output size is
// floor(in * scale_factor) and the factor itself sets the sampling positions (PyTorch's
// interpolate with recompute_scale_factor unset).
struct UpsampleNearestOptions {
  Int2 size = {};
  Scale2 scale_factor = {};
};

struct UpsampleBilinearOptions {
  Int2 size = {};
  Scale2 scale_factor = {};
  bool align_corners = false;  // true: corner pixels' centres align (scale factor then ignored)
};

Tensor max_pool2d(const Tensor& x, const MaxPool2dOptions& options);
// Values and i64 indices: each the flat position h * W + w of the maximum in its input plane
// (the first maximum in window order on ties).
std::pair<Tensor, Tensor> max_pool2d_with_indices(const Tensor& x, const MaxPool2dOptions& options);
Tensor avg_pool2d(const Tensor& x, const AvgPool2dOptions& options);

// Output cell i covers input rows [floor(i * H / OH), ceil((i + 1) * H / OH)), likewise columns.
// Output size 1 is global pooling.
Tensor adaptive_avg_pool2d(const Tensor& x, Int2 output_size);
Tensor adaptive_max_pool2d(const Tensor& x, Int2 output_size);
std::pair<Tensor, Tensor> adaptive_max_pool2d_with_indices(const Tensor& x, Int2 output_size);

Tensor upsample_nearest2d(const Tensor& x, const UpsampleNearestOptions& options);
Tensor upsample_bilinear2d(const Tensor& x, const UpsampleBilinearOptions& options);

// [*, C * r * r, H, W] -> [*, C, H * r, W * r], and back. Views plus one copy.
Tensor pixel_shuffle(const Tensor& x, int64_t upscale_factor);
Tensor pixel_unshuffle(const Tensor& x, int64_t downscale_factor);

}  // namespace strata
