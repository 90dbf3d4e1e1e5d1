#pragma once
// Loss-family kernel entry points: softmax / log_softmax rows and the fused class-index losses,
// behind the device switch (CPU: kernels/cpu/loss.cpp; CUDA: the table's "loss" block). Front
// ends (tensor/ops/loss.cpp) check shapes, dtypes and target values, make inputs contiguous and
// allocate; these run.
//
// Layout: a contiguous tensor with its class (softmax) dim `dim` is read as [outer, C, inner]:
// inner == 1 is a batch of contiguous rows (the fast path: [N, C] logits), inner > 1 a strided
// softmax ([N, C, H, W] segmentation logits), handled lanes-at-a-time without transposing.
// Floating data of any dtype; f16/bf16 compute in f32, f32 in f32, f64 in f64 ("compute dtype").
#include <cstdint>

#include "tensor/tensor.h"

namespace strata::kernels {

// What cross_entropy and nll_loss know about their class-index targets.
struct ClassTargets {
  Tensor target;                 // input's shape without the class dim; contiguous i64 or i32, validated
  Tensor weight;                 // [C] contiguous, compute dtype; undefined: every class weighs 1
  int64_t ignore_index = -100;   // items with this target contribute 0 and weigh 0
  double label_smoothing = 0.0;  // cross_entropy only
};

// The compute dtype of floating data of dtype `dt`.
inline DType loss_compute_dtype(DType dt) { return dt == DType::F64 ? DType::F64 : DType::F32; }

// out = softmax(x) or log_softmax(x) over `dim`; x and out contiguous, same shape and dtype.
void softmax(const Tensor& x, int64_t dim, bool log, const Tensor& out);
// grad_in = y * (grad - sum(grad * y)) for softmax, grad - exp(y) * sum(grad) for log_softmax,
// sums over `dim`; y is the forward's output. All contiguous, same shape and dtype.
void softmax_backward(const Tensor& grad, const Tensor& y, int64_t dim, bool log, const Tensor& grad_in);

// The flat index of the first target that is neither in [0, num_classes) nor ignore_index; -1
// when every target is valid. `target` contiguous, i64 or i32.
int64_t find_invalid_class_target(const Tensor& target, int64_t num_classes, int64_t ignore_index);

// Fused log_softmax + pick + label smoothing, one pass over each row of the logits x. Writes,
// per item (tensors of the target's numel, compute dtype):
//   loss  = (1 - e) * w[t] * (lse - x[t]) + (e / C) * sum_c w[c] * (lse - x[c])   (0 if ignored)
//   item_weight = w[t] (0 if ignored): the mean reduction divides by its sum
//   lse   = log(sum_c exp(x[c])), which the backward reuses.
void cross_entropy_forward(const Tensor& x, int64_t dim, const ClassTargets& t, const Tensor& loss,
                           const Tensor& item_weight, const Tensor& lse);
// grad_x = g * d(loss)/dx = g * ((1 - e) * w[t] * (p - onehot(t)) + (e / C) * (W * p - w)), with
// p = exp(x - lse), W = sum(w), and 0 for ignored items. grad_item (compute dtype, contiguous) has
// one value per item, or a single value that scales every item (sum and mean reductions).
// grad_x: contiguous, x's shape and dtype.
void cross_entropy_backward(const Tensor& grad_item, const Tensor& x, int64_t dim, const ClassTargets& t,
                            const Tensor& lse, const Tensor& grad_x);

// loss = -w[t] * x[t], item_weight = w[t] (both 0 if ignored); x: contiguous log-probabilities.
void nll_loss_forward(const Tensor& x, int64_t dim, const ClassTargets& t, const Tensor& loss,
                      const Tensor& item_weight);
// grad_x = 0 except grad_x[t] = -w[t] * g for every item that is not ignored.
void nll_loss_backward(const Tensor& grad_item, int64_t dim, const ClassTargets& t, const Tensor& grad_x);

// Whether the fused backward kernels above run on `device` (CPU: always; CUDA: once registered).
// Backward formulas fall back to tensor-op compositions where they do not.
bool has_fused_loss_kernels(Device device);

namespace cpu {
void softmax(const Tensor& x, int64_t dim, bool log, const Tensor& out);
void softmax_backward(const Tensor& grad, const Tensor& y, int64_t dim, bool log, const Tensor& grad_in);
int64_t find_invalid_class_target(const Tensor& target, int64_t num_classes, int64_t ignore_index);
void cross_entropy_forward(const Tensor& x, int64_t dim, const ClassTargets& t, const Tensor& loss,
                           const Tensor& item_weight, const Tensor& lse);
void cross_entropy_backward(const Tensor& grad_item, const Tensor& x, int64_t dim, const ClassTargets& t,
                            const Tensor& lse, const Tensor& grad_x);
void nll_loss_forward(const Tensor& x, int64_t dim, const ClassTargets& t, const Tensor& loss,
                      const Tensor& item_weight);
void nll_loss_backward(const Tensor& grad_item, int64_t dim, const ClassTargets& t, const Tensor& grad_x);

// The vector instruction set the f32 softmax rows use: "avx512", "avx2" or "generic".
const char* softmax_isa();
// Switches it ("avx512", "avx2", "generic"; nullptr or "auto": the best this CPU runs). Throws
// ValueError for an unknown or unsupported name. For tests and benchmarks.
void softmax_force_isa(const char* isa);
}  // namespace cpu

}  // namespace strata::kernels
