#pragma once
// The scalar formulas of the normalization kernels, shared by the CPU kernels
// (kernels/cpu/norm_batch.cpp, kernels/cpu/norm.cpp) and the CUDA ones (kernels/cuda/norm_*.cu),
// so the CPU tests cover the math the GPU runs. The reductions themselves differ by device
// (vectorized blocks on the CPU, team sums on the GPU); what they feed is here, all in double:
//
//   two-pass moments   mean = m + d/n,  var = max(q - d^2/n, 0) / n   from a first mean m and
//                      d = Σ (x - m), q = Σ (x - m)^2 over n values
//   batch norm dx      dx = g*kg + (x - mean)*kx + c0   with kg = w*invstd and, in training,
//                      kx = -kg*invstd^2*Σg(x-mean)/n, c0 = -kg*Σg/n
//   row norm dx        dx = g*w*rstd + (x - mean)*kx + c   (layer and group norm) with
//                      kx = -rstd^3*Σ gw(x-mean)/n, c = -rstd*Σ gw/n
//   batch norm + ReLU  y = relu((x - mean)*a + b) with a = invstd*w; its backward is batch norm's
//                      with g replaced by the masked gradient (pre-activation > 0 ? g : 0), the
//                      pre-activation recomputed from x by the same expression as the forward,
//                      in the compute type, so the mask is the forward's bit for bit
#include <cmath>

#include "tensor/macros.h"

namespace strata::kernels {

struct NormMoments {
  double mean, var;  // var biased
};

// Mean and biased variance from a first mean m and the centred sums d = Σ (x - m),
// q = Σ (x - m)^2 over n values (n = 0 gives 0 and 0).
STRATA_HD_INLINE NormMoments norm_two_pass_moments(double m, double d, double q, double n) {
  if (n <= 0) return {0.0, 0.0};
  const double m2 = q - d * d / n;
  return {m + d / n, m2 > 0 ? m2 / n : 0.0};
}

// 1 / sqrt(var + eps).
STRATA_HD_INLINE double norm_inv_std(double var, double eps) { return 1.0 / std::sqrt(var + eps); }

// Batch norm's per-channel dx coefficients from Σ g and Σ g (x - mean) over the channel's n values.
struct BatchNormGradCoeffs {
  double kg = 0, kx = 0, c0 = 0;
};
STRATA_HD_INLINE BatchNormGradCoeffs batch_norm_grad_coeffs(double w, double invstd, double sum_g, double sum_gx,
                                                            double n, bool training) {
  BatchNormGradCoeffs k;
  k.kg = w * invstd;
  if (training && n > 0) {
    k.kx = -k.kg * invstd * invstd * sum_gx / n;
    k.c0 = -k.kg * sum_g / n;
  }
  return k;
}

// Layer and group norm's per-row dx coefficients from Σ g w and Σ g w (x - mean) over the row's
// n values.
struct RowNormGradCoeffs {
  double kx = 0, c = 0;
};
STRATA_HD_INLINE RowNormGradCoeffs row_norm_grad_coeffs(double rstd, double sum_gw, double sum_gwx, double n) {
  if (n <= 0) return {};
  return {-rstd * rstd * rstd * sum_gwx / n, -rstd * sum_gw / n};
}

// ---- batch norm + ReLU (batch_norm_relu): per element, in the compute type A ----
// Written so that A may also be a GCC vector of floats or doubles (the CPU kernels' lanes): scalar
// operands broadcast and the comparisons select lane by lane.

// The batch-norm output before the ReLU: (x - mean) * a + b, a = invstd * w, b = bias.
template <class V, class A>
STRATA_HD_INLINE V batch_norm_pre_activation(V x, A mean, A a, A b) {
  return (x - mean) * a + b;
}

// relu of the pre-activation with relu's semantics (kernels/functors.h ReluF): NaN passes,
// everything not > 0 becomes +0.
template <class V, class A>
STRATA_HD_INLINE V batch_norm_relu_value(V x, A mean, A a, A b) {
  const V pre = batch_norm_pre_activation(x, mean, a, b);
  return !(pre <= A(0)) ? pre : V{} + A(0);
}

// The gradient reaching the batch norm through the ReLU: g where the output is > 0, else 0
// (ReluBackwardF's mask, output > 0).
template <class V, class A>
STRATA_HD_INLINE V batch_norm_relu_masked_grad(V g, V x, A mean, A a, A b) {
  return batch_norm_pre_activation(x, mean, a, b) > A(0) ? g : V{} + A(0);
}

}  // namespace strata::kernels
