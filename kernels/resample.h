#pragma once
// Resampling kernel entry points: grid_sample, the fused warp_batch and warp_points. Front ends
// (tensor/ops/resample.cpp) check arguments, make every tensor contiguous, give grids the
// input's dtype, build warp_batch's per-sample transforms (kernels/resample_functors.h) and
// allocate; these pick the device and run.
//
// Images are [N, C, H, W]. Forward kernels split work over (n, output row): each output row is
// written by one thread. Backward kernels scatter into the input gradient, so they split over
// samples n and walk each sample's output pixels in row-major order: every sum is formed in the
// same order for any thread count.
#include <cstdint>

#include "kernels/resample_functors.h"
#include "tensor/tensor.h"

namespace strata::kernels {

// out[n, c, i, j] = input[n, c] sampled at grid[n, i, j] = (x, y) normalized. grid has the input's
// dtype (floating). Nearest mode accepts any input dtype.
void grid_sample(const Tensor& input, const Tensor& grid, const SampleParams& params, const Tensor& out);
// grad_input (zero-filled, input's shape) and/or grad_grid (grid's shape, overwritten); either may
// be undefined when not wanted. Nearest mode gives grad_grid = 0.
void grid_sample_backward(const Tensor& grad_out, const Tensor& input, const Tensor& grid, const SampleParams& params,
                          const Tensor& grad_input, const Tensor& grad_grid);

// out [N, C, Ho, Wo] = input [N, C, H, W] sampled at warp_forward(transforms[n], base coords of the
// output pixel) with one interpolation. transforms: f64 [N, 15] (WarpTransform per sample, on the
// output's device); `perspective`: whether the homographies apply.
void warp_batch(const Tensor& input, const Tensor& transforms, bool perspective, const SampleParams& params,
                const Tensor& out);
// grad_input: zero-filled, input's shape.
void warp_batch_backward(const Tensor& grad_out, const Tensor& transforms, bool perspective,
                         const SampleParams& params, const Tensor& grad_input);

// out[n, p] = warp_backward_point(inverse_transforms[n], points[n, p]); points [N, P, 2] floating,
// out the same shape and dtype.
void warp_points(const Tensor& points, const Tensor& inverse_transforms, bool perspective, const Tensor& out);

namespace cpu {
void grid_sample(const Tensor& input, const Tensor& grid, const SampleParams& params, const Tensor& out);
void grid_sample_backward(const Tensor& grad_out, const Tensor& input, const Tensor& grid, const SampleParams& params,
                          const Tensor& grad_input, const Tensor& grad_grid);
void warp_batch(const Tensor& input, const Tensor& transforms, bool perspective, const SampleParams& params,
                const Tensor& out);
void warp_batch_backward(const Tensor& grad_out, const Tensor& transforms, bool perspective,
                         const SampleParams& params, const Tensor& grad_input);
void warp_points(const Tensor& points, const Tensor& inverse_transforms, bool perspective, const Tensor& out);
}  // namespace cpu

}  // namespace strata::kernels
