#pragma once
// Fused optimizer steps: one pass over all parameters of a group, each element read and written
// once (p, g, and the state it needs), instead of one op dispatch per tensor per formula term.
// train/optimizer.cpp recognises the compositions these implement (fastai's SGD, SGD with
// momentum, Adam/AdamW) and calls them; the per-element math is in kernels/optim_functors.h so
// the CUDA kernels will share it.
#include <cstdint>
#include <span>

#include "tensor/tensor.h"

namespace strata::kernels {

enum class OptimKind : int {
  kNone = 0,
  kSgd = 1,       // p = p*decay - lr*g
  kMomentum = 2,  // m = mom*m + g;  p = p*decay - lr*m
  kAdam = 3,      // m = mom*m + (1-mom)g;  v = sqr_mom*v + (1-sqr_mom)g^2;
                  // p = p*decay - step_size * m / (sqrt(v/debias2) + eps)
};

// One parameter tensor of a fused step. All tensors contiguous f32 of the same shape on one
// device; grad_avg (kMomentum, kAdam) and sqr_avg (kAdam) defined when the kind needs them.
// Per-tensor scalars, because weight decay may be off for some tensors and the step count (so
// the debiasing) is per tensor:
//   decay     p's multiplier before the update (1 - lr*wd for decoupled weight decay, else 1)
//   l2        with l2 != 0 the gradient becomes g + l2*p first and is written back (fastai's
//             l2_reg changes p.grad)
//   step_size lr (kSgd, kMomentum) or lr / debias1 (kAdam)
//   debias2   kAdam's second-moment debiasing (1 elsewhere)
struct OptimSlot {
  Tensor param, grad, grad_avg, sqr_avg;
  double decay = 1.0;
  double l2 = 0.0;
  double step_size = 0.0;
  double debias2 = 1.0;
};

// Group-wide coefficients.
struct OptimCoeffs {
  double mom = 0.0;
  double sqr_mom = 0.0;
  double eps = 0.0;
  bool use_l2 = false;  // some slot has l2 != 0 (selects the loop that writes the gradient back)
};

void optim_step(OptimKind kind, std::span<const OptimSlot> slots, const OptimCoeffs& coeffs);

namespace cpu {
void optim_step(OptimKind kind, std::span<const OptimSlot> slots, const OptimCoeffs& coeffs);
}

}  // namespace strata::kernels
