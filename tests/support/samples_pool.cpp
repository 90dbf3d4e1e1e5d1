// Samples for the pool family (kernels/defs/pool.def). Results are multiplied by a ramp so the
// gradient reaching each output element differs. Inputs are random (distinct with probability 1),
// so max pools have no ties for gradcheck's finite differences to straddle. Configurations cover
// stride, padding, dilation, ceil_mode, non-square kernels and images, unbatched (C, H, W) input,
// non-contiguous input, and both align_corners settings.
#include "support/op_samples.h"

namespace strata::testing {
namespace {

using TL = std::vector<Tensor>;

Tensor ramp_weighted(const Tensor& y) {
  Tensor w = arange(0.0, static_cast<double>(y.numel()), 1.0, {.dtype = y.dtype(), .device = y.device()}).reshape(y.shape());
  return y * (w * 0.125 + 1.0);
}

OpSample sample(const std::string& op, const std::string& case_name, const Shape& shape,
                std::function<Tensor(const Tensor&)> fn) {
  return OpSample{op, case_name, [=](DType dt) { return TL{sample_tensor(shape, dt, 71)}; },
                  [fn](const TL& in) { return ramp_weighted(fn(in[0])); }};
}

// H and W swapped: a non-contiguous view.
Tensor hw_transposed(const Tensor& x) { return x.transpose(-1, -2); }

}  // namespace

std::vector<OpSample> samples_pool() {
  std::vector<OpSample> s;
  // ---- max_pool2d ----
  s.push_back(sample("max_pool2d", "k3_s2_p1", {2, 3, 7, 7},
                     [](const Tensor& x) { return max_pool2d(x, {.kernel_size = 3, .stride = 2, .padding = 1}); }));
  s.push_back(sample("max_pool2d", "k2_default_stride_nonsquare_image", {1, 2, 6, 5},
                     [](const Tensor& x) { return max_pool2d(x, {.kernel_size = 2}); }));
  s.push_back(sample("max_pool2d", "nonsquare_dilation_ceil", {1, 2, 7, 8}, [](const Tensor& x) {
    return max_pool2d(x, {.kernel_size = {3, 2}, .stride = {2, 1}, .padding = {1, 0}, .dilation = {1, 2},
                          .ceil_mode = true});
  }));
  s.push_back(sample("max_pool2d", "unbatched_transposed", {2, 5, 6},
                     [](const Tensor& x) { return max_pool2d(hw_transposed(x), {.kernel_size = 2, .stride = 1}); }));
  s.push_back(sample("max_pool2d_with_indices", "k3_s2_ceil", {1, 3, 6, 6}, [](const Tensor& x) {
    return max_pool2d_with_indices(x, {.kernel_size = 3, .stride = 2, .ceil_mode = true}).first;
  }));
  s.push_back(sample("max_pool2d_with_indices", "dilation2_pad1", {2, 1, 7, 6}, [](const Tensor& x) {
    return max_pool2d_with_indices(x, {.kernel_size = 3, .stride = 1, .padding = 1, .dilation = 2}).first;
  }));
  // ---- avg_pool2d ----
  s.push_back(sample("avg_pool2d", "k3_s2_p1_include_pad", {2, 2, 7, 7},
                     [](const Tensor& x) { return avg_pool2d(x, {.kernel_size = 3, .stride = 2, .padding = 1}); }));
  s.push_back(sample("avg_pool2d", "k3_s2_p1_exclude_pad", {1, 2, 6, 7}, [](const Tensor& x) {
    return avg_pool2d(x, {.kernel_size = 3, .stride = 2, .padding = 1, .count_include_pad = false});
  }));
  s.push_back(sample("avg_pool2d", "ceil_mode_past_padding", {1, 2, 6, 6}, [](const Tensor& x) {
    return avg_pool2d(x, {.kernel_size = 3, .stride = 2, .padding = 1, .ceil_mode = true});
  }));
  s.push_back(sample("avg_pool2d", "nonsquare_unbatched_transposed", {3, 5, 6}, [](const Tensor& x) {
    return avg_pool2d(hw_transposed(x), {.kernel_size = {2, 3}, .stride = {1, 2}, .padding = {1, 0}});
  }));
  // ---- adaptive pools ----
  s.push_back(sample("adaptive_avg_pool2d", "7x5_to_3x2", {2, 3, 7, 5},
                     [](const Tensor& x) { return adaptive_avg_pool2d(x, {3, 2}); }));
  s.push_back(sample("adaptive_avg_pool2d", "global", {2, 3, 4, 5},
                     [](const Tensor& x) { return adaptive_avg_pool2d(x, 1); }));
  s.push_back(sample("adaptive_avg_pool2d", "upsizing_unbatched", {2, 3, 3},
                     [](const Tensor& x) { return adaptive_avg_pool2d(x, {5, 4}); }));
  s.push_back(sample("adaptive_max_pool2d", "7x5_to_3x2", {2, 3, 7, 5},
                     [](const Tensor& x) { return adaptive_max_pool2d(x, {3, 2}); }));
  s.push_back(sample("adaptive_max_pool2d", "global_transposed", {2, 3, 4, 5},
                     [](const Tensor& x) { return adaptive_max_pool2d(hw_transposed(x), 1); }));
  s.push_back(sample("adaptive_max_pool2d", "upsizing_unbatched", {2, 3, 3},
                     [](const Tensor& x) { return adaptive_max_pool2d(x, {4, 5}); }));
  // ---- upsampling ----
  s.push_back(sample("upsample_nearest2d", "size_5x7", {1, 2, 3, 4},
                     [](const Tensor& x) { return upsample_nearest2d(x, {.size = {5, 7}}); }));
  s.push_back(sample("upsample_nearest2d", "scale_2", {2, 1, 3, 2},
                     [](const Tensor& x) { return upsample_nearest2d(x, {.scale_factor = 2.0}); }));
  s.push_back(sample("upsample_nearest2d", "scale_1.5x0.5_transposed", {1, 2, 4, 6}, [](const Tensor& x) {
    return upsample_nearest2d(hw_transposed(x), {.scale_factor = {1.5, 0.5}});
  }));
  s.push_back(sample("upsample_bilinear2d", "size_5x7", {1, 2, 3, 4},
                     [](const Tensor& x) { return upsample_bilinear2d(x, {.size = {5, 7}}); }));
  s.push_back(sample("upsample_bilinear2d", "size_5x7_align_corners", {1, 2, 3, 4}, [](const Tensor& x) {
    return upsample_bilinear2d(x, {.size = {5, 7}, .align_corners = true});
  }));
  s.push_back(sample("upsample_bilinear2d", "scale_2", {2, 1, 3, 3},
                     [](const Tensor& x) { return upsample_bilinear2d(x, {.scale_factor = 2.0}); }));
  s.push_back(sample("upsample_bilinear2d", "downsize_align_corners_1row", {1, 2, 5, 6}, [](const Tensor& x) {
    return upsample_bilinear2d(x, {.size = {1, 4}, .align_corners = true});
  }));
  s.push_back(sample("upsample_bilinear2d", "downsize_transposed", {1, 2, 6, 5}, [](const Tensor& x) {
    return upsample_bilinear2d(hw_transposed(x), {.size = {3, 4}});
  }));
  // ---- pixel shuffle ----
  s.push_back(sample("pixel_shuffle", "r2", {2, 8, 3, 2}, [](const Tensor& x) { return pixel_shuffle(x, 2); }));
  s.push_back(sample("pixel_shuffle", "r3_5d", {2, 1, 9, 2, 2}, [](const Tensor& x) { return pixel_shuffle(x, 3); }));
  s.push_back(sample("pixel_shuffle", "unbatched_transposed", {4, 3, 2},
                     [](const Tensor& x) { return pixel_shuffle(hw_transposed(x), 2); }));
  s.push_back(sample("pixel_unshuffle", "r2", {1, 2, 4, 6}, [](const Tensor& x) { return pixel_unshuffle(x, 2); }));
  s.push_back(sample("pixel_unshuffle", "r3_unbatched", {2, 3, 6},
                     [](const Tensor& x) { return pixel_unshuffle(x, 3); }));
  return s;
}

}  // namespace strata::testing
