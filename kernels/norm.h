#pragma once
// Normalization kernel entry points (batch, layer and group norm), behind the device switch
// (CPU: kernels/cpu/norm_*.cpp; CUDA: the table's norm block). Front ends (tensor/ops/norm.cpp)
// check shapes and dtypes, make inputs contiguous and allocate; these run.
//
// Conventions shared by every entry point:
//   - x, grad, out and dx are contiguous, of the 2-d or 3-d shape named below (the front end
//     views [N, C, *spatial] as [N, C, S]), and share x's dtype (f32, f64, f16 or bf16);
//   - every per-channel / per-row tensor (weight, bias, mean, invstd/rstd, var, dweight, dbias)
//     is contiguous in the compute dtype: f64 for f64 data, f32 otherwise;
//   - an undefined weight means 1, an undefined bias 0; an undefined output is not computed;
//   - statistics are biased (divide by the count) and reduced in a fixed order that depends on
//     the shape only, so results are identical for any thread count.
#include <cstdint>

#include "tensor/tensor.h"

namespace strata::kernels {

// ---- batch norm: x is [N, C, S] (S = product of the spatial dims, 1 for an [N, C] input) ----
// compute_stats (training): writes mean[C], invstd[C] = 1/sqrt(var + eps) and var[C] (biased)
// from x, then normalizes. Otherwise mean and invstd are inputs (from the running statistics)
// and var is unused. out = (x - mean) * invstd * weight + bias.
void batch_norm_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, bool compute_stats, double eps,
                        const Tensor& mean, const Tensor& invstd, const Tensor& var, const Tensor& out);
// Gradients of batch_norm_forward, given the mean and invstd it used. training: mean and invstd
// were the batch statistics (they depend on x); otherwise they were constants. grad is [N, C, S]
// like x, or [N, C, 1] for a gradient that is constant over the spatial positions (a broadcast,
// such as the gradient of a sum): then only x is read in full.
void batch_norm_backward(const Tensor& grad, const Tensor& x, const Tensor& weight, const Tensor& mean,
                         const Tensor& invstd, bool training, const Tensor& dx, const Tensor& dweight,
                         const Tensor& dbias);

// ---- batch norm + ReLU (batch_norm_relu): as above with out = relu(batch norm output) ----
// The forward writes relu((x - mean) * invstd * weight + bias) in its single output pass. The
// backward takes the batch norm's bias too: it recomputes the ReLU mask (pre-activation > 0) from
// x, mean, invstd, weight and bias, and runs batch_norm_backward's sums and dx pass on the masked
// gradient without storing it. grad is always [N, C, S] (never per run).
void batch_norm_relu_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, bool compute_stats,
                             double eps, const Tensor& mean, const Tensor& invstd, const Tensor& var,
                             const Tensor& out);
void batch_norm_relu_backward(const Tensor& grad, const Tensor& x, const Tensor& weight, const Tensor& bias,
                              const Tensor& mean, const Tensor& invstd, bool training, const Tensor& dx,
                              const Tensor& dweight, const Tensor& dbias);

// ---- layer norm: x is [R, D]; statistics per row, weight and bias of D elements ----
void layer_norm_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps, const Tensor& out,
                        const Tensor& mean, const Tensor& rstd);
void layer_norm_backward(const Tensor& grad, const Tensor& x, const Tensor& weight, const Tensor& mean,
                         const Tensor& rstd, const Tensor& dx, const Tensor& dweight, const Tensor& dbias);

// ---- group norm: x is [N, C, S]; statistics per (sample, group) of C / groups channels,
// weight and bias per channel. mean and rstd are [N * groups]. ----
void group_norm_forward(const Tensor& x, int64_t groups, const Tensor& weight, const Tensor& bias, double eps,
                        const Tensor& out, const Tensor& mean, const Tensor& rstd);
void group_norm_backward(const Tensor& grad, const Tensor& x, int64_t groups, const Tensor& weight,
                         const Tensor& mean, const Tensor& rstd, const Tensor& dx, const Tensor& dweight,
                         const Tensor& dbias);

namespace cpu {
void batch_norm_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, bool compute_stats, double eps,
                        const Tensor& mean, const Tensor& invstd, const Tensor& var, const Tensor& out);
void batch_norm_backward(const Tensor& grad, const Tensor& x, const Tensor& weight, const Tensor& mean,
                         const Tensor& invstd, bool training, const Tensor& dx, const Tensor& dweight,
                         const Tensor& dbias);
void batch_norm_relu_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, bool compute_stats,
                             double eps, const Tensor& mean, const Tensor& invstd, const Tensor& var,
                             const Tensor& out);
void batch_norm_relu_backward(const Tensor& grad, const Tensor& x, const Tensor& weight, const Tensor& bias,
                              const Tensor& mean, const Tensor& invstd, bool training, const Tensor& dx,
                              const Tensor& dweight, const Tensor& dbias);
void layer_norm_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps, const Tensor& out,
                        const Tensor& mean, const Tensor& rstd);
void layer_norm_backward(const Tensor& grad, const Tensor& x, const Tensor& weight, const Tensor& mean,
                         const Tensor& rstd, const Tensor& dx, const Tensor& dweight, const Tensor& dbias);
void group_norm_forward(const Tensor& x, int64_t groups, const Tensor& weight, const Tensor& bias, double eps,
                        const Tensor& out, const Tensor& mean, const Tensor& rstd);
void group_norm_backward(const Tensor& grad, const Tensor& x, int64_t groups, const Tensor& weight,
                         const Tensor& mean, const Tensor& rstd, const Tensor& dx, const Tensor& dweight,
                         const Tensor& dbias);
}  // namespace cpu

}  // namespace strata::kernels
