#pragma once
// Per-element math of the fused optimizer steps (kernels/optim.h), shared by the CPU loops
// (kernels/cpu/optim.cpp) and the CUDA kernels. Each functor updates one element in place in
// fastai's order: L2 into the gradient, decoupled weight decay on p, the stats, then the step.
// `decay`, `l2`, `step_size` and `debias2` are per tensor (see OptimSlot); the rest is per group.
#include <cmath>

#include "tensor/macros.h"

namespace strata::kernels {

// fastai's l2_reg, weight_decay and sgd_step.
template <bool kL2>
struct SgdFunctor {
  STRATA_HD_INLINE void operator()(float& p, float& g, float decay, float l2, float lr) const {
    float grad = g;
    if constexpr (kL2) {
      grad = grad + l2 * p;
      g = grad;
    }
    p = p * decay - lr * grad;
  }
};

// average_grad (no dampening) then momentum_step.
template <bool kL2>
struct MomentumFunctor {
  float mom;
  STRATA_HD_INLINE void operator()(float& p, float& g, float& m, float decay, float l2, float lr) const {
    float grad = g;
    if constexpr (kL2) {
      grad = grad + l2 * p;
      g = grad;
    }
    m = mom * m + grad;
    p = p * decay - lr * m;
  }
};

// average_grad (dampened), average_sqr_grad, adam_step: fastai puts eps outside the square root
// of the debiased second moment.
template <bool kL2>
struct AdamFunctor {
  float mom, one_minus_mom, sqr_mom, one_minus_sqr_mom, eps;
  STRATA_HD_INLINE void operator()(float& p, float& g, float& m, float& v, float decay, float l2,
                                   float step_size, float debias2) const {
    float grad = g;
    if constexpr (kL2) {
      grad = grad + l2 * p;
      g = grad;
    }
    const float mn = mom * m + one_minus_mom * grad;
    const float vn = sqr_mom * v + one_minus_sqr_mom * (grad * grad);
    m = mn;
    v = vn;
    p = p * decay - step_size * (mn / (std::sqrt(vn / debias2) + eps));
  }
};

}  // namespace strata::kernels
