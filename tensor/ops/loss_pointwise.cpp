// Front ends of the elementwise losses: binary cross-entropy (with logits or probabilities) and the
// regression losses. Each is a short composition of elementwise ops, which already broadcast, run
// on every device and differentiate (in input and target), followed by the reduction. Only
// binary_cross_entropy records its own node: PyTorch guards its gradient's denominator, which the
// composition would not.
//
// Why compositions: these losses are memory-bound maps over tensors that are small next to the
// model (a [N, C] prediction), so a fused kernel would buy little; the shapes of smooth_l1/huber
// are where() of two branches, whose gradients the elementwise formulas get exactly right.
#include "autograd/formulas/loss.h"
#include "autograd/grad_mode.h"
#include "tensor/ops/check.h"
#include "tensor/ops/elementwise.h"
#include "tensor/ops/loss.h"
#include "tensor/ops/reduce.h"
#include "tensor/semantic.h"

namespace strata {
namespace {

Tensor reduce(const Tensor& loss, Reduction reduction) {
  switch (reduction) {
    case Reduction::None: return loss;
    case Reduction::Sum: return sum(loss);
    case Reduction::Mean: return sum(loss) / static_cast<double>(loss.numel());  // 0 items: nan, like PyTorch
  }
  return loss;
}

void check_pair(const char* op, const Tensor& input, const Tensor& target) {
  check_defined(op, input);
  check_defined(op, target, "target");
  check_same_device(op, input, target);
  check_floating(op, input);
}

// BCE-style losses want a floating target of exactly the input's shape; returns it in the input's dtype.
Tensor binary_target(const char* op, const Tensor& input, const Tensor& target) {
  check_pair(op, input, target);
  STRATA_CHECK(target.shape() == input.shape(), ShapeError, "{}: target has shape {} but input has shape {}", op,
               target.shape(), input.shape());
  STRATA_CHECK(target.is_floating_point(), DTypeError,
               "{}: target must be floating (probabilities in [0, 1]), got {} (shape {}); convert with to()", op,
               target.dtype(), target.shape());
  return target.to(input.dtype());
}

// An optional weight that broadcasts to the input without changing its shape.
void check_elementwise_weight(const char* op, const char* what, const Tensor& w, const Tensor& input) {
  if (!w.defined()) return;
  check_same_device(op, input, w);
  STRATA_CHECK(w.is_floating_point(), DTypeError, "{}: {} must be floating, got {} (shape {})", op, what, w.dtype(),
               w.shape());
  STRATA_CHECK(broadcast_shapes(op, w.shape(), input.shape()) == input.shape(), ShapeError,
               "{}: {} of shape {} does not broadcast to the input's shape {}", op, what, w.shape(), input.shape());
}

Tensor regression(const char* op, const Tensor& input, const Tensor& target, Reduction reduction,
                  Tensor (*per_element)(const Tensor& diff, double param), double param) {
  check_pair(op, input, target);
  Tensor loss = per_element(input - target, param);
  return propagate_semantics(reduce(loss, reduction), {&input});
}

}  // namespace

Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target, const BCEWithLogitsOptions& opts) {
  const char* op = "binary_cross_entropy_with_logits";
  Tensor t = binary_target(op, input, target);
  check_elementwise_weight(op, "weight", opts.weight, input);
  check_elementwise_weight(op, "pos_weight", opts.pos_weight, input);
  // softplus(x) - t*x == max(x, 0) - t*x + log1p(exp(-|x|)), smooth at x = 0 (gradient sigmoid(x) - t).
  Tensor loss;
  if (opts.pos_weight.defined()) {
    Tensor log_weight = (opts.pos_weight.to(input.dtype()) - 1.0) * t + 1.0;
    loss = (1.0 - t) * input + log_weight * softplus(-input);
  } else {
    loss = softplus(input) - t * input;
  }
  if (opts.weight.defined()) loss = loss * opts.weight.to(input.dtype());
  return propagate_semantics(reduce(loss, opts.reduction), {&input});
}

Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const BCEOptions& opts) {
  const char* op = "binary_cross_entropy";
  Tensor t = binary_target(op, input, target);
  check_elementwise_weight(op, "weight", opts.weight, input);
  Tensor w = opts.weight.defined() ? opts.weight.to(input.dtype()) : Tensor();
  Tensor loss;
  {
    NoGradGuard no_grad;
    const int64_t outside = sum(logical_not(logical_and(input >= 0.0, input <= 1.0)).to(DType::I64)).item<int64_t>();
    STRATA_CHECK(outside == 0, ValueError,
                 "{}: input must hold probabilities in [0, 1], but {} of its {} values are outside (shape {})", op,
                 outside, input.numel(), input.shape());
    // PyTorch clamps each log at -100 so that p = 0 or 1 gives a finite loss.
    loss = -(t * clamp_min(log(input), -100.0) + (1.0 - t) * clamp_min(log1p(-input), -100.0));
    if (w.defined()) loss = loss * w;
  }
  autograd::record_binary_cross_entropy(input, t, w, loss);
  return propagate_semantics(reduce(loss, opts.reduction), {&input});
}

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  return regression("mse_loss", input, target, reduction, [](const Tensor& d, double) { return square(d); }, 0.0);
}

Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  return regression("l1_loss", input, target, reduction, [](const Tensor& d, double) { return abs(d); }, 0.0);
}

Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, Reduction reduction, double beta) {
  STRATA_CHECK(beta >= 0.0, ValueError, "smooth_l1_loss: beta must be >= 0, got {}", beta);
  if (beta == 0.0) return regression("smooth_l1_loss", input, target, reduction, [](const Tensor& d, double) { return abs(d); }, 0.0);
  return regression("smooth_l1_loss", input, target, reduction,
                    [](const Tensor& d, double b) {
                      Tensor ad = abs(d);
                      return where(ad < b, square(d) * (0.5 / b), ad - 0.5 * b);
                    },
                    beta);
}

Tensor huber_loss(const Tensor& input, const Tensor& target, Reduction reduction, double delta) {
  STRATA_CHECK(delta > 0.0, ValueError, "huber_loss: delta must be > 0, got {}", delta);
  return regression("huber_loss", input, target, reduction,
                    [](const Tensor& d, double k) {
                      Tensor ad = abs(d);
                      return where(ad < k, square(d) * 0.5, (ad - 0.5 * k) * k);
                    },
                    delta);
}

}  // namespace strata
