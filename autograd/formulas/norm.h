#pragma once
// Recording of the normalization ops on the autograd graph. Each call is a no-op unless grad mode
// is on and an input requires grad; the formulas live in norm.cpp.
//
// Inputs are (x, weight, bias); weight and bias may be undefined. The statistics the forward
// normalized with (mean and 1/sqrt(var + eps), in the compute dtype) are saved for the fused
// backward kernels.
#include "tensor/tensor.h"

namespace strata::autograd {

// BatchNormBackward. training: mean/invstd are batch statistics of x; otherwise constants.
void record_batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, bool training, double eps,
                       const Tensor& out, const Tensor& save_mean, const Tensor& save_invstd);
// BatchNormReluBackward (batch_norm_relu): saves x, weight, bias and the statistics, not the output.
void record_batch_norm_relu(const Tensor& x, const Tensor& weight, const Tensor& bias, bool training, double eps,
                            const Tensor& out, const Tensor& save_mean, const Tensor& save_invstd);
// LayerNormBackward; mean and rstd are per row ([x.numel() / normalized numel]).
void record_layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight, const Tensor& bias,
                       double eps, const Tensor& out, const Tensor& mean, const Tensor& rstd);
// GroupNormBackward (op "group_norm") or InstanceNormBackward (op "instance_norm"); mean and rstd
// are [N * groups].
void record_group_norm(const char* op, const Tensor& x, int64_t groups, const Tensor& weight, const Tensor& bias,
                       double eps, const Tensor& out, const Tensor& mean, const Tensor& rstd);

}  // namespace strata::autograd
