#pragma once
// Normalization ops with PyTorch's semantics and defaults (torch.nn.functional.batch_norm,
// layer_norm, group_norm, instance_norm). Inputs are [N, C, *spatial] (batch, group, instance
// norm) or [*, normalized_shape] (layer norm); f16 and bf16 compute in f32. weight and bias are
// optional (undefined tensors): without them the result is the plain normalized input.
//
//   Tensor rm = zeros({64}), rv = ones({64});
//   Tensor y = batch_norm(x, rm, rv, gamma, beta, {.training = true});  // updates rm, rv
//   Tensor z = layer_norm(h, {512}, w, b);                              // over the last dim
//
// Parameters (weight, bias, running statistics) have the input's dtype, or f32 for an f16/bf16
// input (mixed precision). All are differentiable through fused kernels; with create_graph the
// backward is recorded from differentiable tensor ops instead, so double backward works.
#include <array>

#include "tensor/tensor.h"

namespace strata {

struct BatchNormOptions {
  bool training = false;   // batch statistics (and a running-statistics update) vs running statistics
  double momentum = 0.1;   // running = (1 - momentum) * running + momentum * batch
  double eps = 1e-5;
};

// Batch norm over dim 1 of x [N, C] or [N, C, *spatial].
// training: normalizes with the batch mean and biased variance, and when running_mean /
// running_var are defined updates them in place (not recorded by autograd; their version is
// bumped) with the batch mean and the unbiased batch variance. Needs more than one value per
// channel (ValueError otherwise, like PyTorch).
// eval: normalizes with running_mean / running_var, which must be defined.
Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight = Tensor(), const Tensor& bias = Tensor(), BatchNormOptions opts = {});

// batch_norm plus the statistics it normalized with: save_mean [C] and save_invstd [C]
// (1 / sqrt(var + eps)), in the compute dtype (f64 for f64 input, f32 otherwise); in eval mode
// they come from the running statistics. PyTorch's native_batch_norm.
struct BatchNormResult {
  Tensor out, save_mean, save_invstd;
};
BatchNormResult batch_norm_with_stats(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                                      const Tensor& weight = Tensor(), const Tensor& bias = Tensor(),
                                      BatchNormOptions opts = {});

// relu(batch_norm(x, ...)) in one op (fastai's ConvLayer tail: BatchNorm then ReLU), with
// batch_norm's semantics in both modes (statistics, running-statistics update, dtypes, checks;
// errors name batch_norm_relu). The forward writes the ReLU's output directly; the backward keeps
// x and the statistics (not the output) and recomputes the ReLU mask from them, so no
// intermediate tensor is stored or re-read. nn::Sequential calls it for a BatchNorm module
// followed by a ReLU module (nn/sequential.h).
//
//   Tensor y = batch_norm_relu(x, rm, rv, gamma, beta, {.training = true});  // == relu(batch_norm(...))
Tensor batch_norm_relu(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                       const Tensor& weight = Tensor(), const Tensor& bias = Tensor(), BatchNormOptions opts = {});

// Layer norm over the last normalized_shape.size() dims of x, which must equal normalized_shape;
// weight and bias have normalized_shape.
Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight = Tensor(),
                  const Tensor& bias = Tensor(), double eps = 1e-5);

// Group norm: the C channels of x [N, C, *spatial] split into num_groups groups (num_groups
// divides C); statistics per sample and group; weight and bias per channel [C].
Tensor group_norm(const Tensor& x, int64_t num_groups, const Tensor& weight = Tensor(),
                  const Tensor& bias = Tensor(), double eps = 1e-5);

// Instance norm: statistics per sample and channel (group norm with one group per channel);
// always from the input, no running statistics. Needs more than one spatial element.
Tensor instance_norm(const Tensor& x, const Tensor& weight = Tensor(), const Tensor& bias = Tensor(),
                     double eps = 1e-5);

// ---- fused backward ops (what the autograd nodes call; not themselves differentiable) ----
// Gradients for (input, weight, bias); `needs` selects which are computed (others undefined).
struct NormGrads {
  Tensor input, weight, bias;
};
using NormNeeds = std::array<bool, 3>;
// save_mean / save_invstd as returned by batch_norm_with_stats.
NormGrads batch_norm_backward(const Tensor& grad, const Tensor& x, const Tensor& weight, const Tensor& save_mean,
                              const Tensor& save_invstd, bool training, NormNeeds needs = {true, true, true});
// batch_norm_relu's gradients: batch_norm_backward's on the gradient masked by the ReLU (output
// > 0), the mask recomputed from x, weight, bias and the statistics. grad has x's shape.
NormGrads batch_norm_relu_backward(const Tensor& grad, const Tensor& x, const Tensor& weight, const Tensor& bias,
                                   const Tensor& save_mean, const Tensor& save_invstd, bool training,
                                   NormNeeds needs = {true, true, true});
// mean / rstd: [rows] statistics of layer_norm's forward (rows = x.numel() / normalized numel).
NormGrads layer_norm_backward(const Tensor& grad, const Tensor& x, const Shape& normalized_shape,
                              const Tensor& weight, const Tensor& mean, const Tensor& rstd,
                              NormNeeds needs = {true, true, true});
// mean / rstd: [N * num_groups] statistics of group_norm's forward.
NormGrads group_norm_backward(const Tensor& grad, const Tensor& x, int64_t num_groups, const Tensor& weight,
                              const Tensor& mean, const Tensor& rstd, NormNeeds needs = {true, true, true});

}  // namespace strata
