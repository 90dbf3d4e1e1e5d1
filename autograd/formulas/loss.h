#pragma once
// Recording of the loss family on the autograd graph. Each call is a no-op unless grad mode is on
// and the input requires grad; the formulas live in loss.cpp.
//
// Backward passes run the fused kernels of kernels/loss.h where the device has them, and a
// composition of tensor ops otherwise, or when the backward itself is being recorded
// (create_graph), so gradients of gradients stay correct.
#include "kernels/loss.h"
#include "tensor/ops/loss.h"
#include "tensor/tensor.h"

namespace strata::autograd {

// out = softmax(x) or log_softmax(x) over dim: SoftmaxBackward / LogSoftmaxBackward (saves out).
void record_softmax(const Tensor& x, const Tensor& out, int64_t dim, bool log);

// What a class-index loss's backward needs besides its input.
struct ClassLossSaved {
  kernels::ClassTargets targets;
  int64_t dim = 1;
  Reduction reduction = Reduction::Mean;
  Tensor lse;           // cross_entropy: per-item log-sum-exp from the forward (compute dtype)
  Tensor total_weight;  // Mean: the summed item weights (0-d, compute dtype)
};

// out = cross_entropy(input, targets): CrossEntropyBackward (saves the logits and per-item lse).
void record_cross_entropy(const Tensor& input, const Tensor& out, ClassLossSaved saved);
// out = nll_loss(input, targets): NllLossBackward.
void record_nll_loss(const Tensor& input, const Tensor& out, ClassLossSaved saved);

// out = the unreduced binary cross-entropy of probabilities p against target t (weight may be
// undefined): BinaryCrossEntropyBackward, with PyTorch's epsilon-guarded gradient in p.
void record_binary_cross_entropy(const Tensor& p, const Tensor& t, const Tensor& weight, const Tensor& out);

}  // namespace strata::autograd
