// Backward formulas of the normalization ops. Two ways to the same gradients:
//   - fused (the usual case): the op's backward kernel (tensor/ops/norm.h, *_backward), one
//     reduction pass and one elementwise pass over x and the incoming gradient;
//   - composite (when the backward itself is recorded, create_graph): the textbook formula in
//     differentiable tensor ops, recomputing the statistics from x so their dependence on x is
//     part of the graph. With xhat = (x - mean) * invstd, M values per statistic, gw = g * w:
//       dx = invstd * (gw - mean(gw) - xhat * mean(gw * xhat))   (statistics from the batch)
//       dx = invstd * gw                                         (batch norm in eval mode)
//       dweight = sum(g * xhat), dbias = sum(g)                  (over everything but the params' dims)
// batch_norm_relu's backward is batch norm's on the gradient masked by the ReLU: the fused
// kernel recomputes the mask from x; the composite multiplies g by the mask (computed without
// grad: it is piecewise constant, so double backward through it is batch norm's).
#include "autograd/formulas/norm.h"

#include <string>

#include "autograd/record.h"
#include "tensor/ops.h"

namespace strata::autograd {
namespace {

struct ParamMeta {
  bool defined = false;
  Shape shape;
  DType dtype = DType::F32;
  void set(const Tensor& p) {
    defined = p.defined();
    if (defined) {
      shape = p.shape();
      dtype = p.dtype();
    }
  }
  // A gradient computed as [numel] in the compute dtype, in the parameter's shape and dtype.
  Tensor as_param(const Tensor& g) const { return g.defined() ? g.to(dtype).reshape(shape) : g; }
};

// What all three nodes share: saved x and weight, the eps, the parameters' metadata.
struct NormNode : Node {
  SavedTensor x, weight, mean, invstd;
  ParamMeta weight_meta, bias_meta;
  double eps = 1e-5;

  void release_saved() override {
    x.reset();
    weight.reset();
    mean.reset();
    invstd.reset();
  }
  NormNeeds needs() const {
    return {needs_input_grad(0), needs_input_grad(1) && weight_meta.defined, needs_input_grad(2) && bias_meta.defined};
  }
  TensorList apply(TensorList&& grads) override {
    const NormNeeds n = needs();
    NormGrads r = GradMode::is_enabled() ? composite(grads[0], n) : fused(grads[0], n);
    if (r.input.defined() && r.input.dtype() != x_dtype) r.input = r.input.to(x_dtype);
    return {r.input, weight_meta.as_param(r.weight), bias_meta.as_param(r.bias)};
  }
  virtual NormGrads fused(const Tensor& g, NormNeeds needs) = 0;
  virtual NormGrads composite(const Tensor& g, NormNeeds needs) = 0;

  DType x_dtype = DType::F32;
  void save_common(const Tensor& x_, const Tensor& w, const Tensor& b, double eps_, const Tensor& m,
                   const Tensor& s) {
    x.save(x_);
    weight.save(w);
    mean.save(m);
    invstd.save(s);
    weight_meta.set(w);
    bias_meta.set(b);
    eps = eps_;
    x_dtype = x_.dtype();
  }
};

// Dims of x other than 1 (the channel dim), and the [1, C, 1, ...] shape per-channel tensors take.
Dims all_but_channels(const Tensor& x) {
  Dims d;
  for (int64_t i = 0; i < x.dim(); ++i)
    if (i != 1) d.push_back(i);
  return d;
}
Shape channel_shape(const Tensor& x) {
  Shape s(x.dim(), 1);
  s[1] = x.size(1);
  return s;
}

// invstd * (gw - mean(gw) - xhat * mean(gw * xhat)), the means over `dims` (M values each).
Tensor normalized_input_grad(const Tensor& gw, const Tensor& xhat, const Tensor& invstd, const Dims& dims, double m) {
  return (gw - sum(gw, dims, true) / m - xhat * (sum(gw * xhat, dims, true) / m)) * invstd;
}

// Batch norm's composite backward for gradient g of the normalized output; mean and invstd are
// the forward's statistics (used as constants in eval mode).
NormGrads batch_norm_composite(const Tensor& g, const Tensor& xv, const Tensor& w, const Tensor& saved_mean,
                               const Tensor& saved_invstd, bool training, double eps, NormNeeds n) {
  const Dims dims = all_but_channels(xv);
  const Shape cs = channel_shape(xv);
  const double m = static_cast<double>(xv.numel()) / static_cast<double>(std::max<int64_t>(xv.size(1), 1));
  Tensor xhat, is;
  if (training) {
    const Tensor xc = xv - sum(xv, dims, true) / m;
    is = rsqrt(sum(xc * xc, dims, true) / m + eps);
    xhat = xc * is;
  } else {
    is = saved_invstd.reshape(cs);
    xhat = (xv - saved_mean.reshape(cs)) * is;
  }
  const Tensor gw = w.defined() ? g * w.reshape(cs) : g;
  NormGrads r;
  if (n[0]) r.input = training ? normalized_input_grad(gw, xhat, is, dims, m) : gw * is;
  if (n[1]) r.weight = sum(g * xhat, dims);
  if (n[2]) r.bias = sum(g, dims);
  return r;
}

struct BatchNormBackward final : NormNode {
  bool training = true;
  std::string name() const override { return "BatchNormBackward"; }
  NormGrads fused(const Tensor& g, NormNeeds n) override {
    return batch_norm_backward(g, x.get(this), weight.get(this), mean.get(this), invstd.get(this), training, n);
  }
  NormGrads composite(const Tensor& g, NormNeeds n) override {
    return batch_norm_composite(g, x.get(this), weight.get(this), mean.get(this), invstd.get(this), training, eps, n);
  }
};

// batch_norm_relu: also saves the bias, which the ReLU mask needs.
struct BatchNormReluBackward final : NormNode {
  bool training = true;
  SavedTensor bias;
  std::string name() const override { return "BatchNormReluBackward"; }
  void release_saved() override {
    NormNode::release_saved();
    bias.reset();
  }
  NormGrads fused(const Tensor& g, NormNeeds n) override {
    return batch_norm_relu_backward(g, x.get(this), weight.get(this), bias.get(this), mean.get(this),
                                    invstd.get(this), training, n);
  }
  NormGrads composite(const Tensor& g, NormNeeds n) override {
    const Tensor xv = x.get(this), w = weight.get(this), b = bias.get(this);
    const Tensor m = mean.get(this), is = invstd.get(this);
    Tensor mask;
    {
      NoGradGuard no_grad;
      const Shape cs = channel_shape(xv);
      Tensor pre = (xv.to(m.dtype()) - m.reshape(cs)) * is.reshape(cs);
      if (w.defined()) pre = pre * w.to(m.dtype()).reshape(cs);
      if (b.defined()) pre = pre + b.to(m.dtype()).reshape(cs);
      mask = (pre > 0.0).to(g.dtype());
    }
    return batch_norm_composite(g * mask, xv, w, m, is, training, eps, n);
  }
};

struct LayerNormBackward final : NormNode {
  Shape normalized_shape;
  std::string name() const override { return "LayerNormBackward"; }
  NormGrads fused(const Tensor& g, NormNeeds n) override {
    return layer_norm_backward(g, x.get(this), normalized_shape, weight.get(this), mean.get(this), invstd.get(this), n);
  }
  NormGrads composite(const Tensor& g, NormNeeds n) override {
    const Tensor xv = x.get(this), w = weight.get(this);
    const int64_t k = normalized_shape.ndim();
    Dims inner, outer;
    for (int64_t i = 0; i < xv.dim(); ++i) (i < xv.dim() - k ? outer : inner).push_back(i);
    double m = 1;
    for (int64_t i = 0; i < k; ++i) m *= static_cast<double>(normalized_shape[i]);
    const Tensor xc = xv - sum(xv, inner, true) / m;
    const Tensor rs = rsqrt(sum(xc * xc, inner, true) / m + eps);
    const Tensor xhat = xc * rs;
    const Tensor gw = w.defined() ? g * w : g;
    auto over_rows = [&](const Tensor& t) { return outer.empty() ? t : sum(t, outer); };
    NormGrads r;
    if (n[0]) r.input = normalized_input_grad(gw, xhat, rs, inner, m);
    if (n[1]) r.weight = over_rows(g * xhat);
    if (n[2]) r.bias = over_rows(g);
    return r;
  }
};

struct GroupNormBackward final : NormNode {
  int64_t groups = 1;
  bool instance = false;
  std::string name() const override { return instance ? "InstanceNormBackward" : "GroupNormBackward"; }
  NormGrads fused(const Tensor& g, NormNeeds n) override {
    return group_norm_backward(g, x.get(this), groups, weight.get(this), mean.get(this), invstd.get(this), n);
  }
  NormGrads composite(const Tensor& g, NormNeeds n) override {
    const Tensor xv = x.get(this), w = weight.get(this);
    const int64_t batch = xv.size(0), per_group = xv.numel() / std::max<int64_t>(batch * groups, 1);
    const Shape grouped{batch, groups, per_group};
    const double m = static_cast<double>(per_group);
    const Tensor x3 = xv.reshape(grouped);
    const Tensor xc = x3 - sum(x3, {2}, true) / m;
    const Tensor rs = rsqrt(sum(xc * xc, {2}, true) / m + eps);
    const Tensor xhat3 = xc * rs;
    const Tensor xhat = xhat3.reshape(xv.shape());
    const Tensor gw = w.defined() ? g * w.reshape(channel_shape(xv)) : g;
    const Dims dims = all_but_channels(xv);
    NormGrads r;
    if (n[0]) r.input = normalized_input_grad(gw.reshape(grouped), xhat3, rs, {2}, m).reshape(xv.shape());
    if (n[1]) r.weight = sum(g * xhat, dims);
    if (n[2]) r.bias = sum(g, dims);
    return r;
  }
};

}  // namespace

void record_batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, bool training, double eps,
                       const Tensor& out, const Tensor& save_mean, const Tensor& save_invstd) {
  if (!needs_grad({&x, &weight, &bias})) return;
  auto node = make_node<BatchNormBackward>({&x, &weight, &bias});
  node->training = training;
  node->save_common(x, weight, bias, eps, save_mean, save_invstd);
  set_history(out, node);
}

void record_batch_norm_relu(const Tensor& x, const Tensor& weight, const Tensor& bias, bool training, double eps,
                            const Tensor& out, const Tensor& save_mean, const Tensor& save_invstd) {
  if (!needs_grad({&x, &weight, &bias})) return;
  auto node = make_node<BatchNormReluBackward>({&x, &weight, &bias});
  node->training = training;
  node->save_common(x, weight, bias, eps, save_mean, save_invstd);
  node->bias.save(bias);
  set_history(out, node);
}

void record_layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight, const Tensor& bias,
                       double eps, const Tensor& out, const Tensor& mean, const Tensor& rstd) {
  if (!needs_grad({&x, &weight, &bias})) return;
  auto node = make_node<LayerNormBackward>({&x, &weight, &bias});
  node->normalized_shape = normalized_shape;
  node->save_common(x, weight, bias, eps, mean, rstd);
  set_history(out, node);
}

void record_group_norm(const char* op, const Tensor& x, int64_t groups, const Tensor& weight, const Tensor& bias,
                       double eps, const Tensor& out, const Tensor& mean, const Tensor& rstd) {
  if (!needs_grad({&x, &weight, &bias})) return;
  auto node = make_node<GroupNormBackward>({&x, &weight, &bias});
  node->groups = groups;
  node->instance = std::string(op) == "instance_norm";
  node->save_common(x, weight, bias, eps, mean, rstd);
  set_history(out, node);
}

}  // namespace strata::autograd
