#pragma once
// Recording of the conv family on the autograd graph (formulas in conv.cpp). No-ops unless grad
// mode is on and an input requires grad. x and out are 4-d; bias may be undefined.
#include "tensor/ops/conv.h"

namespace strata::autograd {

void record_conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dOptions& opts,
                   const Tensor& out);
void record_conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
                             const ConvTranspose2dOptions& opts, const Tensor& out);

}  // namespace strata::autograd
