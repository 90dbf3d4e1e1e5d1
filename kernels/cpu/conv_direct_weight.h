#pragma once
// Internal to the direct convolution: its backward-weight (kernels/cpu/conv_direct_weight.cpp).
// conv_direct.cpp's conv2d_direct_backward_weight checks the shapes and dtypes (f32, f64) first.
#include "kernels/conv.h"

namespace strata::kernels::cpu {

// gw = the weight gradient of a convolution with input x and output gradient gy.
void direct_backward_weight(const Tensor& x, const Tensor& gy, const Tensor& gw, const ConvGeometry& g);

}  // namespace strata::kernels::cpu
