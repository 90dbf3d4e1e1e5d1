#pragma once
// Recording of the pooling and upsampling ops on the autograd graph. Each call is a no-op unless
// grad mode is on and x requires grad; the formulas live in pool.cpp. pixel_shuffle and
// pixel_unshuffle are views plus a copy and need no formula of their own.
#include "kernels/pool.h"
#include "tensor/tensor.h"

namespace strata::autograd {

// max_pool2d and adaptive_max_pool2d: the gradient goes to the saved argmax `indices`.
// `name` is the node's name ("MaxPool2DWithIndicesBackward", "AdaptiveMaxPool2DBackward").
void record_max_pool2d(const char* name, const Tensor& x, const Tensor& indices, const Tensor& out);
void record_avg_pool2d(const Tensor& x, const kernels::Pool2dParams& params, const Tensor& out);
void record_adaptive_avg_pool2d(const Tensor& x, const Tensor& out);
// scale_h / scale_w: the scale factors handed to the forward kernel (0 = from the sizes).
void record_upsample_nearest2d(const Tensor& x, double scale_h, double scale_w, const Tensor& out);
void record_upsample_bilinear2d(const Tensor& x, bool align_corners, double scale_h, double scale_w,
                                const Tensor& out);

}  // namespace strata::autograd
