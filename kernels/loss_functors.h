#pragma once
// Per-item math of the loss family (kernels/loss.h), shared by the CPU kernels (kernels/cpu/loss.cpp)
// and the CUDA kernels (kernels/cuda/softmax.cu, loss.cu), so the CPU tests cover the formulas the
// GPU runs. The CPU walks rows with vector primitives (softmax_rows.h) and the GPU with threads,
// but both finish each item through these functions.
//
//   online_softmax_add / _merge   the running (max m, sum s of exp(x - m)) of a softmax row, one
//                                 value at a time or two partial results at once (the GPU's
//                                 threads each keep one and combine them with warp shuffles)
//   cross_entropy_item_loss       an item's loss from its lse, target logit and weighted logit sum
//   cross_entropy_grad_coef       the three coefficients of an item's gradient row
#include <cmath>
#include <cstdint>

#include "tensor/macros.h"

namespace strata::kernels {

// The constants of one cross_entropy call, in the compute type CT (label smoothing e, C classes,
// W = the sum of the class weights, or C without weights).
template <class CT>
struct CrossEntropyCoeffs {
  CT on_target;     // 1 - e
  CT per_class;     // e / C
  CT total_weight;  // W
  bool smoothing;   // e != 0: the per-class term exists

  STRATA_HD_INLINE static CrossEntropyCoeffs make(double e, int64_t classes, CT total_weight) {
    return {static_cast<CT>(1.0 - e), classes > 0 ? static_cast<CT>(e / static_cast<double>(classes)) : CT(0),
            total_weight, e != 0.0};
  }
};

// loss = (1 - e) * w[t] * (lse - x[t]) + (e / C) * (W * lse - sum_c w[c] x[c]) for an item that is
// not ignored; wt = w[t], weighted_sum = sum_c w[c] x[c] (only read with smoothing).
template <class CT>
STRATA_HD_INLINE CT cross_entropy_item_loss(const CrossEntropyCoeffs<CT>& k, CT wt, CT lse, CT x_target,
                                            CT weighted_sum) {
  CT l = k.on_target * wt * (lse - x_target);
  if (k.smoothing) l += k.per_class * (k.total_weight * lse - weighted_sum);
  return l;
}

// An item's gradient row is grad[c] = a * exp(x[c] - lse) - b * w[c], minus d at the target
// class; g is the incoming gradient of the item's loss.
template <class CT>
struct CrossEntropyGradCoef {
  CT a, b, d;
};
template <class CT>
STRATA_HD_INLINE CrossEntropyGradCoef<CT> cross_entropy_grad_coef(const CrossEntropyCoeffs<CT>& k, CT g, CT wt) {
  return {g * (k.on_target * wt + k.per_class * k.total_weight), g * k.per_class, g * k.on_target * wt};
}

// Adds x to a running softmax row (m starts at -inf, s at 0). m never becomes NaN; a NaN x makes
// s NaN, so the row's results are NaN. -inf values contribute 0 once a finite value is seen.
template <class CT>
STRATA_HD_INLINE void online_softmax_add(CT& m, CT& s, CT x) {
  using std::exp;
  if (x > m) {
    s = s * exp(m - x) + CT(1);
    m = x;
  } else if (x == m) {
    s += CT(1);
  } else {
    s += exp(x - m);
  }
}

// Combines two running rows (m, s) and (m2, s2) into (m, s). Symmetric: merging a into b gives
// bit-for-bit what merging b into a gives (the GPU's butterfly shuffles rely on that).
template <class CT>
STRATA_HD_INLINE void online_softmax_merge(CT& m, CT& s, CT m2, CT s2) {
  using std::exp;
  const CT mn = m > m2 ? m : m2;
  const CT t1 = m == mn ? s : s * exp(m - mn);
  const CT t2 = m2 == mn ? s2 : s2 * exp(m2 - mn);
  s = t1 + t2;
  m = mn;
}

}  // namespace strata::kernels
