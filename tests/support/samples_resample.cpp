// Samples for the resample family (kernels/defs/resample.def). Grids and matrices are random, so
// sample positions sit away (with probability 1) from the kinks of bilinear interpolation and
// padding that gradcheck's finite differences must not straddle. Results are multiplied by a ramp
// so the gradient reaching each output element differs. grid_sample covers bilinear with every
// padding and both align_corners (gradient w.r.t. input and grid), nearest (w.r.t. input), and a
// non-contiguous input; warp_batch covers pure affine and perspective transforms, resizing and
// nearest (w.r.t. input only: the matrices carry no gradient).
#include "support/op_samples.h"

namespace strata::testing {
namespace {

using TL = std::vector<Tensor>;

Tensor ramp_weighted(const Tensor& y) {
  Tensor w = arange(0.0, static_cast<double>(y.numel()), 1.0, {.dtype = y.dtype(), .device = y.device()}).reshape(y.shape());
  return y * (w * 0.125 + 1.0);
}

// Near-identity matrices [n, rows, 3]: the identity plus noise of `spread`.
Tensor near_identity(int64_t n, int64_t rows, DType dt, uint64_t seed, double spread) {
  Tensor eye3 = eye(3, 3, {.dtype = dt}).slice(0, 0, rows).unsqueeze(0).expand({n, rows, 3});
  return (eye3 + sample_tensor({n, rows, 3}, dt, seed, -spread, spread, false)).contiguous();
}

const char* padding_name(PaddingMode p) {
  return p == PaddingMode::Zeros ? "zeros" : p == PaddingMode::Border ? "border" : "reflection";
}

}  // namespace

std::vector<OpSample> samples_resample() {
  std::vector<OpSample> s;
  // ---- affine_grid ----
  for (bool align : {false, true})
    s.push_back(OpSample{"affine_grid", align ? "2x3x4_align_corners" : "2x3x4",
                         [](DType dt) { return TL{sample_tensor({2, 2, 3}, dt, 81)}; },
                         [align](const TL& in) { return ramp_weighted(affine_grid(in[0], {2, 1, 3, 4}, align)); }});
  s.push_back(OpSample{"affine_grid", "single_row_and_column",
                       [](DType dt) { return TL{sample_tensor({1, 2, 3}, dt, 82)}; },
                       [](const TL& in) { return ramp_weighted(affine_grid(in[0], {1, 2, 1, 1}, true)); }});
  // ---- grid_sample, bilinear: every padding, both align_corners, grid partly outside ----
  for (PaddingMode pad : {PaddingMode::Zeros, PaddingMode::Border, PaddingMode::Reflection})
    for (bool align : {false, true})
      s.push_back(OpSample{"grid_sample", std::string("bilinear_") + padding_name(pad) + (align ? "_align" : ""),
                           [](DType dt) {
                             return TL{sample_tensor({2, 2, 4, 5}, dt, 83), sample_tensor({2, 3, 4, 2}, dt, 84, -1.3, 1.3)};
                           },
                           [pad, align](const TL& in) {
                             return ramp_weighted(
                                 grid_sample(in[0], in[1], {.padding_mode = pad, .align_corners = align}));
                           }});
  s.push_back(OpSample{"grid_sample", "bilinear_reflection_far_outside_transposed_input",
                       [](DType dt) {
                         return TL{sample_tensor({1, 2, 5, 4}, dt, 85), sample_tensor({1, 3, 3, 2}, dt, 86, -3.5, 3.5)};
                       },
                       [](const TL& in) {
                         return ramp_weighted(grid_sample(in[0].transpose(2, 3), in[1],
                                                          {.padding_mode = PaddingMode::Reflection}));
                       }});
  for (PaddingMode pad : {PaddingMode::Zeros, PaddingMode::Reflection})
    s.push_back(OpSample{"grid_sample", std::string("nearest_wrt_input_") + padding_name(pad),
                         [](DType dt) {
                           return TL{sample_tensor({1, 2, 4, 5}, dt, 87),
                                     sample_tensor({1, 3, 4, 2}, dt, 88, -1.2, 1.2, false)};
                         },
                         [pad](const TL& in) {
                           return ramp_weighted(
                               grid_sample(in[0], in[1], {.mode = SampleMode::Nearest, .padding_mode = pad}));
                         }});
  // ---- warp_batch (gradient w.r.t. the input image) ----
  for (PaddingMode pad : {PaddingMode::Zeros, PaddingMode::Border, PaddingMode::Reflection})
    s.push_back(OpSample{"warp_batch", std::string("affine_") + padding_name(pad),
                         [](DType dt) { return TL{sample_tensor({2, 2, 4, 5}, dt, 89), near_identity(2, 3, dt, 90, 0.3)}; },
                         [pad](const TL& in) { return ramp_weighted(warp_batch(in[0], in[1], {.padding_mode = pad})); }});
  s.push_back(OpSample{"warp_batch", "affine_2x3_resize_no_align",
                       [](DType dt) { return TL{sample_tensor({2, 1, 5, 4}, dt, 91), near_identity(2, 2, dt, 92, 0.4)}; },
                       [](const TL& in) {
                         return ramp_weighted(warp_batch(in[0], in[1], {.size = {3, 6}, .align_corners = false}));
                       }});
  s.push_back(OpSample{"warp_batch", "perspective",
                       [](DType dt) { return TL{sample_tensor({2, 2, 5, 5}, dt, 93), near_identity(2, 3, dt, 94, 0.2)}; },
                       [](const TL& in) {
                         Tensor off = sample_tensor({2, 4, 2}, in[1].dtype(), 95, -0.3, 0.3, false).to(in[1].device());
                         return ramp_weighted(warp_batch(in[0], in[1], {.coord_offsets = off}));
                       }});
  s.push_back(OpSample{"warp_batch", "nearest",
                       [](DType dt) { return TL{sample_tensor({1, 2, 4, 4}, dt, 96), near_identity(1, 3, dt, 97, 0.3)}; },
                       [](const TL& in) { return ramp_weighted(warp_batch(in[0], in[1], {.mode = SampleMode::Nearest})); }});
  // ---- warp_points (forward only) ----
  s.push_back(OpSample{"warp_points", "affine_and_perspective",
                       [](DType dt) {
                         return TL{sample_tensor({2, 5, 2}, dt, 98, -1, 1, false), near_identity(2, 3, dt, 99, 0.3)};
                       },
                       [](const TL& in) {
                         Tensor off = sample_tensor({2, 4, 2}, in[1].dtype(), 100, -0.2, 0.2, false).to(in[1].device());
                         return warp_points(in[0], in[1], {.coord_offsets = off});
                       }});
  return s;
}

}  // namespace strata::testing
