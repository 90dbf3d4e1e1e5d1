#pragma once
// Recording of grid_sample and warp_batch on the autograd graph. Each call is a no-op unless
// grad mode is on and an input requires grad; the formulas live in resample.cpp. affine_grid is a
// composite of tensor ops and needs no formula; warp_points is not differentiable.
#include "kernels/resample.h"
#include "tensor/tensor.h"

namespace strata::autograd {

// input / grid: the forward's arguments (graph edges); input_c / grid_c: their contiguous
// versions as the kernel saw them (saved for backward).
void record_grid_sample(const Tensor& input, const Tensor& grid, const Tensor& input_c, const Tensor& grid_c,
                        const kernels::SampleParams& params, const Tensor& out);
// Gradient w.r.t. input only; transforms: the f64 [N, 15] table the forward kernel used.
void record_warp_batch(const Tensor& input, const Tensor& transforms, bool perspective,
                       const kernels::SampleParams& params, const Tensor& out);

}  // namespace strata::autograd
