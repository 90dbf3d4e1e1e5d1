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

}  // namespace strata::kernels
