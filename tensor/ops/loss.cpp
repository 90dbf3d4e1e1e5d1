// Front ends of softmax, log_softmax and the class-index losses (cross_entropy, nll_loss).
// Checks at the door (shapes, dtypes, devices, target values), makes the input contiguous, runs
// the fused kernels of kernels/loss.h and reduces the per-item results; autograd records one node
// per op (autograd/formulas/loss.cpp). Probability targets for cross_entropy are a composition of
// log_softmax and elementwise ops instead: they are rare and need no fused kernel.
//
// The class dim may be anywhere (CrossEntropyOptions::dim): the kernels read the contiguous input
// as [outer, C, inner], so [N, T, C] language-model logits with dim = -1 take the fast
// contiguous-row path without a transpose.
#include "tensor/ops/loss.h"

#include "autograd/formulas/loss.h"
#include "autograd/grad_mode.h"
#include "kernels/loss.h"
#include "tensor/ops/check.h"
#include "tensor/ops/elementwise.h"
#include "tensor/ops/reduce.h"
#include "tensor/semantic.h"

namespace strata {
namespace {

Tensor softmax_op(const char* op, const Tensor& x, int64_t dim, bool log) {
  check_defined(op, x);
  STRATA_CHECK(x.is_floating_point(), DTypeError, "{}: expected a floating tensor, got dtype {} (shape {})", op,
               x.dtype(), x.shape());
  const int64_t d = wrap_dim(op, dim, x.dim());
  Tensor out = empty(x.shape(), {.dtype = x.dtype(), .device = x.device()});
  {
    NoGradGuard no_grad;
    kernels::softmax(x.contiguous(), d, log, out);
  }
  autograd::record_softmax(x, out, d, log);
  return propagate_semantics(out, {&x});
}

Shape without_dim(const Shape& s, int64_t dim) {
  Shape r = s;
  r.erase(static_cast<size_t>(dim));
  return r;
}

// The class dim of `input` for a loss with option `dim` (a 1-d input is one item of C classes).
int64_t class_dim(const char* op, const Tensor& input, int64_t dim) {
  STRATA_CHECK(input.dim() >= 1, ShapeError, "{}: input needs a class dim, got a 0-d tensor", op);
  return input.dim() == 1 ? 0 : wrap_dim(op, dim, input.dim());
}

void check_class_weight(const char* op, const Tensor& weight, const Tensor& input, int64_t classes) {
  if (!weight.defined()) return;
  check_same_device(op, input, weight);
  STRATA_CHECK(weight.is_floating_point(), DTypeError, "{}: weight must be floating, got {} (shape {})", op,
               weight.dtype(), weight.shape());
  STRATA_CHECK(weight.dim() == 1 && weight.size(0) == classes, ShapeError,
               "{}: weight has shape {} but input has {} classes (input {})", op, weight.shape(), classes, input.shape());
}

// Checks a class-index target against the input and packages it for the kernels.
kernels::ClassTargets class_targets(const char* op, const Tensor& input, const Tensor& target, int64_t dim,
                                    const Tensor& weight, int64_t ignore_index, double label_smoothing) {
  check_same_device(op, input, target);
  STRATA_CHECK(target.dtype() == DType::I64 || target.dtype() == DType::I32, DTypeError,
               "{}: target must hold class indices (i64 or i32) or class probabilities (floating), got {} (shape {})",
               op, target.dtype(), target.shape());
  const Shape expected = without_dim(input.shape(), dim);
  if (target.shape() != expected) {
    STRATA_CHECK(!(dim == 1 && (target.dim() == 0 || target.size(0) != input.size(0))), ShapeError,
                 "{}: target has shape {} but input has batch {} (input {})", op, target.shape(), input.size(0),
                 input.shape());
    STRATA_THROW(ShapeError, "{}: target has shape {} but input {} with classes along dim {} needs target shape {}", op,
                 target.shape(), input.shape(), dim, expected);
  }
  const int64_t classes = input.size(dim);
  check_class_weight(op, weight, input, classes);
  NoGradGuard no_grad;
  kernels::ClassTargets t;
  t.target = target.contiguous();
  if (weight.defined()) t.weight = weight.to(kernels::loss_compute_dtype(input.dtype())).contiguous();
  t.ignore_index = ignore_index;
  t.label_smoothing = label_smoothing;
  const int64_t bad = kernels::find_invalid_class_target(t.target, classes, ignore_index);
  if (bad >= 0) {
    const int64_t value = t.target.reshape({-1}).select(0, bad).item<int64_t>();
    STRATA_THROW(IndexError, "{}: target {} is out of bounds for {} classes (valid: 0 to {}, or ignore_index {})", op,
                 value, classes, classes - 1, ignore_index);
  }
  return t;
}

// Reduces per-item losses (compute dtype) to the result in `dtype`; for Mean also returns the
// summed item weights the backward divides by.
Tensor reduce_items(const Tensor& loss, const Tensor& item_weight, Reduction reduction, DType dtype,
                    Tensor* total_weight) {
  switch (reduction) {
    case Reduction::None: return loss.to(dtype);
    case Reduction::Sum: return sum(loss).to(dtype);
    case Reduction::Mean: *total_weight = sum(item_weight); return (sum(loss) / *total_weight).to(dtype);
  }
  return loss;
}

// cross_entropy with a floating target of the input's shape: -sum_c w_c t_c log_softmax(x)_c.
Tensor cross_entropy_probabilities(const Tensor& input, const Tensor& target, int64_t dim,
                                   const CrossEntropyOptions& opts) {
  const char* op = "cross_entropy";
  check_same_device(op, input, target);
  STRATA_CHECK(target.shape() == input.shape(), ShapeError,
               "{}: a probability target must have the input's shape, got {} for input {}", op, target.shape(),
               input.shape());
  const int64_t classes = input.size(dim);
  check_class_weight(op, opts.weight, input, classes);
  Tensor t = target.to(input.dtype());
  if (opts.label_smoothing > 0) t = t * (1.0 - opts.label_smoothing) + opts.label_smoothing / static_cast<double>(classes);
  Tensor terms = log_softmax(input, dim) * t;
  if (opts.weight.defined()) {
    Shape ws(input.dim(), 1);
    ws[dim] = classes;
    terms = terms * opts.weight.to(input.dtype()).view(ws);
  }
  Tensor items = -sum(terms, {dim});
  switch (opts.reduction) {
    case Reduction::None: return items;
    case Reduction::Sum: return sum(items);
    case Reduction::Mean: return sum(items) / static_cast<double>(items.numel());
  }
  return items;
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) { return softmax_op("softmax", x, dim, false); }
Tensor log_softmax(const Tensor& x, int64_t dim) { return softmax_op("log_softmax", x, dim, true); }

Tensor cross_entropy(const Tensor& input, const Tensor& target, const CrossEntropyOptions& opts) {
  const char* op = "cross_entropy";
  check_defined(op, input);
  check_defined(op, target, "target");
  check_floating(op, input);
  STRATA_CHECK(opts.label_smoothing >= 0.0 && opts.label_smoothing <= 1.0, ValueError,
               "{}: label_smoothing must be in [0, 1], got {}", op, opts.label_smoothing);
  const int64_t dim = class_dim(op, input, opts.dim);
  if (target.is_floating_point()) {
    return propagate_semantics(cross_entropy_probabilities(input, target, dim, opts), {&input});
  }
  kernels::ClassTargets t = class_targets(op, input, target, dim, opts.weight, opts.ignore_index, opts.label_smoothing);
  const Shape items = without_dim(input.shape(), dim);
  const DType ct = kernels::loss_compute_dtype(input.dtype());
  const TensorOptions item_opts{.dtype = ct, .device = input.device()};
  Tensor loss = empty(items, item_opts), item_weight = empty(items, item_opts), lse = empty(items, item_opts);
  Tensor out, total_weight;
  {
    NoGradGuard no_grad;
    kernels::cross_entropy_forward(input.contiguous(), dim, t, loss, item_weight, lse);
    out = reduce_items(loss, item_weight, opts.reduction, input.dtype(), &total_weight);
  }
  autograd::record_cross_entropy(input, out, {std::move(t), dim, opts.reduction, lse, total_weight});
  return propagate_semantics(out, {&input});
}

Tensor nll_loss(const Tensor& log_probs, const Tensor& target, const NllLossOptions& opts) {
  const char* op = "nll_loss";
  check_defined(op, log_probs);
  check_defined(op, target, "target");
  check_floating(op, log_probs);
  const int64_t dim = class_dim(op, log_probs, opts.dim);
  kernels::ClassTargets t = class_targets(op, log_probs, target, dim, opts.weight, opts.ignore_index, 0.0);
  const Shape items = without_dim(log_probs.shape(), dim);
  const TensorOptions item_opts{.dtype = kernels::loss_compute_dtype(log_probs.dtype()), .device = log_probs.device()};
  Tensor loss = empty(items, item_opts), item_weight = empty(items, item_opts);
  Tensor out, total_weight;
  {
    NoGradGuard no_grad;
    kernels::nll_loss_forward(log_probs.contiguous(), dim, t, loss, item_weight);
    out = reduce_items(loss, item_weight, opts.reduction, log_probs.dtype(), &total_weight);
  }
  autograd::record_nll_loss(log_probs, out, {std::move(t), dim, opts.reduction, Tensor(), total_weight});
  return propagate_semantics(out, {&log_probs});
}

}  // namespace strata
