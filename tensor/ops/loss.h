#pragma once
// Softmax and loss functions, with PyTorch's semantics and defaults (torch.nn.functional).
// Every loss takes a `reduction`: None keeps one loss per item, Sum adds them, Mean averages
// them (for the class-index losses: divided by the summed weights of the items not ignored,
// like PyTorch; nan when every item is ignored). Options are structs for designated
// initializers:
//
//   Tensor p = strata::softmax(logits, -1);
//   Tensor l = strata::cross_entropy(logits, labels);                        // [N, C] and [N]
//   Tensor s = strata::cross_entropy(logits, labels, {.label_smoothing = 0.1});
//   Tensor m = strata::cross_entropy(seg_logits, masks, {.ignore_index = 255}); // [N, C, H, W], [N, H, W]
//   Tensor b = strata::binary_cross_entropy_with_logits(x, y, {.pos_weight = pw});
//
// fastai's *Flat losses (CrossEntropyLossFlat, BCEWithLogitsLossFlat, ...) build on these.
#include <cstdint>

#include "tensor/tensor.h"

namespace strata {

enum class Reduction { None, Mean, Sum };

// softmax(x)_i = exp(x_i) / sum_j exp(x_j) along `dim`, computed stably (max subtracted);
// log_softmax = x - logsumexp(x). Floating dtypes; f16/bf16 compute in f32.
Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);

struct CrossEntropyOptions {
  Tensor weight{};              // [C] class weights (not differentiated), or undefined
  int64_t ignore_index = -100;  // targets equal to it contribute 0 and weigh 0
  Reduction reduction = Reduction::Mean;
  double label_smoothing = 0.0;  // in [0, 1]: the target becomes (1 - e) * onehot + e / C
  int64_t dim = 1;               // the class dim of the input (PyTorch: 1; a 1-d input has it at 0)
};

// Cross-entropy of logits against targets, fused (log_softmax, pick and reduction in one pass).
//   class indices: target i64/i32 with the input's shape minus the class dim ([N, C] -> [N],
//     [N, C, d1, ...] -> [N, d1, ...], [C] -> []); values in [0, C) or ignore_index.
//   class probabilities: a floating target of the input's shape (ignore_index does not apply;
//     mean divides by the number of items).
// Result: per item with Reduction::None, else a 0-d tensor; dtype of the input.
Tensor cross_entropy(const Tensor& input, const Tensor& target, const CrossEntropyOptions& opts = {});

struct NllLossOptions {
  Tensor weight{};  // [C] class weights, or undefined
  int64_t ignore_index = -100;
  Reduction reduction = Reduction::Mean;
  int64_t dim = 1;
};

// Negative log-likelihood of log-probabilities (the output of log_softmax): -w[t] * input[t],
// with class-index targets as for cross_entropy.
Tensor nll_loss(const Tensor& log_probs, const Tensor& target, const NllLossOptions& opts = {});

struct BCEWithLogitsOptions {
  Tensor weight{};      // broadcasts to the input: weight of each element
  Tensor pos_weight{};  // broadcasts to the input (typically [C]): weight of the positive term
  Reduction reduction = Reduction::Mean;
};

// -w * (pw * t * log(sigmoid(x)) + (1 - t) * log(1 - sigmoid(x))), computed stably as
// (1 - t) * x + (1 + (pw - 1) * t) * softplus(-x). target: the input's shape, floating (it may
// require grad).
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        const BCEWithLogitsOptions& opts = {});

struct BCEOptions {
  Tensor weight{};  // broadcasts to the input
  Reduction reduction = Reduction::Mean;
};

// -w * (t * log(p) + (1 - t) * log(1 - p)) for probabilities p in [0, 1]; each log is clamped to
// >= -100 like PyTorch, so p = 0 or 1 gives a finite loss. target: the input's shape. Gradients:
// in p PyTorch's, w * (p - t) / max(p * (1 - p), 1e-12); in t the derivative of the clamped
// forward, w * (log(1 - p) - log(p)) with both logs >= -100 (PyTorch gives +-inf at p = 0 or 1).
Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const BCEOptions& opts = {});

// Regression losses; input and target broadcast against each other.
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);  // (x - t)^2
Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);   // |x - t|
// 0.5 * d^2 / beta where |d| < beta, else |d| - 0.5 * beta (beta >= 0; beta = 0 is l1_loss).
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean,
                      double beta = 1.0);
// 0.5 * d^2 where |d| < delta, else delta * (|d| - 0.5 * delta) (delta > 0).
Tensor huber_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean,
                  double delta = 1.0);

}  // namespace strata
