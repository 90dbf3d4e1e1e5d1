// Backward formulas of the loss family.
//   softmax:      dx = y * (g - sum(g * y))          log_softmax: dx = g - exp(y) * sum(g)
//   cross_entropy (class indices, per item, weight w, smoothing e, p = softmax(x)):
//                 dx = g * ((1 - e) * w[t] * (p - onehot(t)) + (e / C) * (sum(w) * p - w))
//   nll_loss:     dx = -g * w[t] * onehot(t)
// (0 for ignored items; g is the incoming gradient per item, divided by the summed item weights
// for Mean). Each runs as one fused kernel (kernels/loss.h) when the device has it and the
// backward is not itself recorded; otherwise as the same formula in tensor ops, which any device
// runs and autograd can differentiate again (create_graph). The one-hot masks are built with a
// comparison against arange, so no gather/scatter is needed.
#include "autograd/formulas/loss.h"

#include "autograd/record.h"
#include "tensor/ops.h"

namespace strata::autograd {
namespace {

bool use_fused(Device device) { return !GradMode::is_enabled() && kernels::has_fused_loss_kernels(device); }

// A shape of `ndim` ones with `size` at `dim`: a [C] vector viewed along the class dim.
Shape along(int64_t ndim, int64_t dim, int64_t size) {
  Shape s(static_cast<size_t>(ndim), 1);
  s[static_cast<size_t>(dim)] = size;
  return s;
}

Tensor softmax_grad(const Tensor& g, const Tensor& y, int64_t dim, bool log) {
  if (use_fused(y.device())) {
    Tensor out = empty(y.shape(), {.dtype = y.dtype(), .device = y.device()});
    kernels::softmax_backward(g.to(y.dtype()).contiguous(), y.contiguous(), dim, log, out);
    return out;
  }
  if (y.dim() == 0) return g * 0.0;  // a softmax over one value is constant
  if (log) return g - exp(y) * sum(g, {dim}, true);
  return y * (g - sum(g * y, {dim}, true));
}

struct SoftmaxBackward final : Node {
  SavedTensor y;
  int64_t dim = 0;
  bool log = false;
  std::string name() const override { return log ? "LogSoftmaxBackward" : "SoftmaxBackward"; }
  void release_saved() override { y.reset(); }
  TensorList apply(TensorList&& grads) override {
    Tensor yv = y.get(this);
    if (GradMode::is_enabled()) {
      // Recording the backward (create_graph): the formula depends on x through y, so y must
      // carry its history again, as this node's output (the saved copy was stored without it).
      yv = yv.alias();
      set_history(yv, shared_from_this(), 0);
    }
    return {softmax_grad(grads[0], yv, dim, log)};
  }
};

struct ClassLossBackward final : Node {
  bool is_cross_entropy = true;
  SavedTensor x, target;
  ClassLossSaved s;  // s.targets.target lives in `target` (version-checked)
  std::string name() const override { return is_cross_entropy ? "CrossEntropyBackward" : "NllLossBackward"; }
  void release_saved() override {
    x.reset();
    target.reset();
    s.lse = Tensor();
    s.total_weight = Tensor();
    s.targets.weight = Tensor();
  }

  TensorList apply(TensorList&& grads) override {
    Tensor xv = x.get(this);
    kernels::ClassTargets t = s.targets;
    t.target = target.get(this);
    const DType ct = kernels::loss_compute_dtype(xv.dtype());
    // The gradient of each item's loss: one per item (None) or one for all (Sum, Mean).
    Tensor gi = grads[0].to(ct);
    if (s.reduction == Reduction::Mean) gi = gi / s.total_weight;
    if (s.reduction != Reduction::None) gi = gi.reshape({1});
    if (use_fused(xv.device())) {
      Tensor gx = empty(xv.shape(), {.dtype = xv.dtype(), .device = xv.device()});
      if (is_cross_entropy) kernels::cross_entropy_backward(gi.contiguous(), xv.contiguous(), s.dim, t, s.lse, gx);
      else kernels::nll_loss_backward(gi.contiguous(), s.dim, t, gx);
      return {gx};
    }
    return {composed(gi, xv, t, ct)};
  }

  // The same gradient in tensor ops.
  Tensor composed(Tensor gi, const Tensor& xv, const kernels::ClassTargets& t, DType ct) const {
    const int64_t nd = xv.dim(), C = xv.size(s.dim);
    if (s.reduction == Reduction::None) gi = gi.unsqueeze(s.dim);
    Tensor classes = arange(C, {.dtype = DType::I64, .device = xv.device()}).view(along(nd, s.dim, C));
    Tensor tgt = t.target.to(DType::I64).unsqueeze(s.dim);
    Tensor onehot = (tgt == classes).to(ct);
    Tensor item_scale = gi * (tgt != static_cast<double>(t.ignore_index)).to(ct);  // 0 for ignored items
    Tensor w = t.weight.defined() ? t.weight.view(along(nd, s.dim, C)) : Tensor();
    Tensor target_scale = w.defined() ? item_scale * sum(onehot * w, {s.dim}, true) : item_scale;  // g * w[t]
    if (!is_cross_entropy) return (-(target_scale * onehot)).to(xv.dtype());
    const double e = t.label_smoothing;
    Tensor p = softmax(xv.to(ct), s.dim);
    Tensor grad = target_scale * (p - onehot) * (1.0 - e);
    if (e > 0) {
      Tensor smooth = w.defined() ? p * sum(t.weight) - w : p * static_cast<double>(C) - 1.0;
      grad = grad + item_scale * smooth * (e / static_cast<double>(C));
    }
    return grad.to(xv.dtype());
  }
};

struct BinaryCrossEntropyBackward final : Node {
  SavedTensor p, t, w;
  std::string name() const override { return "BinaryCrossEntropyBackward"; }
  void release_saved() override {
    p.reset();
    t.reset();
    w.reset();
  }
  TensorList apply(TensorList&& grads) override {
    Tensor pv = p.get(this), tv = t.get(this);
    Tensor g = w.defined() ? grads[0] * w.get(this) : grads[0];
    Tensor dp, dt;
    // PyTorch's guard: the denominator p(1 - p) never goes below 1e-12.
    if (needs_input_grad(0)) dp = g * (pv - tv) / clamp_min((1.0 - pv) * pv, 1e-12);
    if (needs_input_grad(1)) dt = g * (clamp_min(log1p(-pv), -100.0) - clamp_min(log(pv), -100.0));
    return {dp, dt};
  }
};

}  // namespace

void record_softmax(const Tensor& x, const Tensor& out, int64_t dim, bool log) {
  if (!needs_grad({&x})) return;
  auto node = make_node<SoftmaxBackward>({&x});
  node->y.save(out, /*is_output=*/true);
  node->dim = dim;
  node->log = log;
  set_history(out, node);
}

namespace {
void record_class_loss(bool is_cross_entropy, const Tensor& input, const Tensor& out, ClassLossSaved saved) {
  if (!needs_grad({&input})) return;
  auto node = make_node<ClassLossBackward>({&input});
  node->is_cross_entropy = is_cross_entropy;
  node->x.save(input);
  node->target.save(saved.targets.target);
  saved.targets.target = Tensor();
  node->s = std::move(saved);
  set_history(out, node);
}
}  // namespace

void record_cross_entropy(const Tensor& input, const Tensor& out, ClassLossSaved saved) {
  record_class_loss(true, input, out, std::move(saved));
}

void record_nll_loss(const Tensor& input, const Tensor& out, ClassLossSaved saved) {
  record_class_loss(false, input, out, std::move(saved));
}

void record_binary_cross_entropy(const Tensor& p, const Tensor& t, const Tensor& weight, const Tensor& out) {
  if (!needs_grad({&p, &t})) return;
  auto node = make_node<BinaryCrossEntropyBackward>({&p, &t});
  node->p.save(p);
  node->t.save(t);
  if (weight.defined()) node->w.save(weight);
  set_history(out, node);
}

}  // namespace strata::autograd
