// Backward formulas of the elementwise ops, written with tensor ops so they run on any device.
// Unary derivatives are one switch over the op list (kernels/defs/unary*.def).
#include "autograd/formulas/elementwise.h"

#include <cmath>

#include "autograd/record.h"
#include "tensor/ops.h"

namespace strata::autograd {
namespace {

using kernels::BinaryOp;
using kernels::UnaryOp;

const char* unary_node_name(UnaryOp op) {
  switch (op) {
#define UNARY(name, F, diff) case UnaryOp::name: return #name "Backward";
#include "kernels/defs/unary.def"
#undef UNARY
#define UNARY_P(name, F, diff) case UnaryOp::name: return #name "Backward";
#include "kernels/defs/unary_param.def"
#undef UNARY_P
  }
  return "UnaryBackward";
}

bool unary_differentiable(UnaryOp op) {
  switch (op) {
#define UNARY(name, F, diff) case UnaryOp::name: return diff;
#include "kernels/defs/unary.def"
#undef UNARY
#define UNARY_P(name, F, diff) case UnaryOp::name: return diff;
#include "kernels/defs/unary_param.def"
#undef UNARY_P
  }
  return false;
}

struct UnaryBackward final : Node {
  UnaryOp op;
  double p0, p1;
  SavedTensor x, y;
  UnaryBackward(UnaryOp o, double a, double b) : op(o), p0(a), p1(b) {}
  std::string name() const override { return unary_node_name(op); }
  void release_saved() override {
    x.reset();
    y.reset();
  }

  // The gradient in one kernel (kernels/defs/unary_backward.def) when the op has one and this
  // backward is not itself recorded (double backward differentiates the composite formula
  // below); undefined otherwise.
  Tensor fused_backward(const Tensor& g) const {
    if (GradMode::is_enabled() || !g.defined() || !kernels::has_unary_backward(op, g.device())) return Tensor();
    const Tensor v = kernels::unary_backward_reads_output(op) ? y.get(this) : x.get(this);
    if (!v.defined() || v.dtype() != g.dtype() || v.shape() != g.shape() || v.device() != g.device())
      return Tensor();
    Tensor out = empty(g.shape(), {.dtype = g.dtype(), .device = g.device()});
    kernels::unary_backward(op, g, v, out, p0, p1);
    return out;
  }

  TensorList apply(TensorList&& grads) override {
    const Tensor& g = grads[0];
    if (Tensor fused = fused_backward(g); fused.defined()) return {fused};
    auto X = [&] { return x.get(this); };
    auto Y = [&] { return y.get(this); };
    switch (op) {
      case UnaryOp::neg: return {-g};
      case UnaryOp::abs: return {g * sign(X())};
      case UnaryOp::exp: return {g * Y()};
      case UnaryOp::log: return {g / X()};
      case UnaryOp::log1p: return {g / (X() + 1.0)};
      case UnaryOp::expm1: return {g * (Y() + 1.0)};
      case UnaryOp::sqrt: return {g * 0.5 / Y()};
      case UnaryOp::rsqrt: { Tensor yv = Y(); return {g * (yv * yv * yv) * -0.5}; }
      case UnaryOp::square: return {g * X() * 2.0};
      case UnaryOp::reciprocal: { Tensor yv = Y(); return {-(g * yv * yv)}; }
      case UnaryOp::erf: { Tensor xv = X(); return {g * exp(-(xv * xv)) * (2.0 / std::sqrt(M_PI))}; }
      case UnaryOp::sin: return {g * cos(X())};
      case UnaryOp::cos: return {-(g * sin(X()))};
      case UnaryOp::tanh: { Tensor yv = Y(); return {g * (1.0 - yv * yv)}; }
      case UnaryOp::sigmoid: { Tensor yv = Y(); return {g * yv * (1.0 - yv)}; }
      case UnaryOp::relu: return {where(Y() > 0.0, g, 0.0)};
      case UnaryOp::gelu: {
        Tensor xv = X();
        Tensor cdf = (erf(xv * M_SQRT1_2) + 1.0) * 0.5;
        Tensor pdf = exp(xv * xv * -0.5) * (1.0 / std::sqrt(2.0 * M_PI));
        return {g * (cdf + xv * pdf)};
      }
      case UnaryOp::silu: {
        Tensor xv = X();
        Tensor s = sigmoid(xv);
        return {g * s * (1.0 + xv * (1.0 - s))};
      }
      case UnaryOp::softplus: return {g * sigmoid(X())};
      case UnaryOp::mish: {
        Tensor xv = X();
        Tensor t = tanh(softplus(xv));
        return {g * (t + xv * sigmoid(xv) * (1.0 - t * t))};
      }
      case UnaryOp::leaky_relu: return {where(X() > 0.0, g, g * p0)};
      case UnaryOp::clamp: {
        Tensor xv = X();
        Tensor keep = ones_like(xv).to(DType::Bool);
        if (p0 == p0) keep = logical_and(keep, xv >= p0);
        if (p1 == p1) keep = logical_and(keep, xv <= p1);
        return {where(keep, g, 0.0)};
      }
      case UnaryOp::pow_scalar:
        if (p0 == 0.0) return {zeros_like(g)};
        return {g * pow(X(), p0 - 1.0) * p0};
      case UnaryOp::rpow_scalar: return {g * Y() * std::log(p0)};
      case UnaryOp::add_scalar: return {g};
      case UnaryOp::mul_scalar: return {g * p0};
      default:
        STRATA_THROW(AutogradError, "{}: op is not differentiable", name());
    }
  }
};

// What each unary formula reads: the input, the output, or both.
bool needs_input(UnaryOp op) {
  switch (op) {
    case UnaryOp::exp: case UnaryOp::expm1: case UnaryOp::sqrt: case UnaryOp::rsqrt:
    case UnaryOp::reciprocal: case UnaryOp::tanh: case UnaryOp::sigmoid: case UnaryOp::relu:
    case UnaryOp::rpow_scalar: case UnaryOp::neg: case UnaryOp::add_scalar: case UnaryOp::mul_scalar:
      return false;
    default:
      return true;
  }
}
bool needs_output(UnaryOp op) {
  switch (op) {
    case UnaryOp::exp: case UnaryOp::expm1: case UnaryOp::sqrt: case UnaryOp::rsqrt:
    case UnaryOp::reciprocal: case UnaryOp::tanh: case UnaryOp::sigmoid: case UnaryOp::relu:
    case UnaryOp::rpow_scalar:
      return true;
    default:
      return false;
  }
}

const char* binary_node_name(BinaryOp op) {
  switch (op) {
#define BINARY(name, F, diff) case BinaryOp::name: return #name "Backward";
#include "kernels/defs/binary.def"
#undef BINARY
    default: return "BinaryBackward";
  }
}

struct BinaryBackward final : Node {
  BinaryOp op;
  Shape a_shape, b_shape;
  DType a_dtype, b_dtype;
  SavedTensor a, b, y;
  explicit BinaryBackward(BinaryOp o) : op(o) {}
  std::string name() const override { return binary_node_name(op); }
  void release_saved() override {
    a.reset();
    b.reset();
    y.reset();
  }

  // Gradient for one input: reduced over its broadcast dims, in its dtype.
  Tensor fit(const Tensor& g, const Shape& shape, DType dtype) const {
    if (!g.defined()) return g;
    Tensor r = sum_to(g, shape);
    return r.dtype() == dtype ? r : r.to(dtype);
  }

  TensorList apply(TensorList&& grads) override {
    const Tensor& g = grads[0];
    const bool ga = needs_input_grad(0), gb = needs_input_grad(1);
    Tensor da, db;
    switch (op) {
      case BinaryOp::add:
        da = g;
        db = g;
        break;
      case BinaryOp::sub:
        da = g;
        if (gb) db = -g;
        break;
      case BinaryOp::mul:
        if (ga) da = g * b.get(this);
        if (gb) db = g * a.get(this);
        break;
      case BinaryOp::div: {
        Tensor bv = b.get(this);
        if (ga) da = g / bv;
        if (gb) db = -(g * y.get(this) / bv);
        break;
      }
      case BinaryOp::pow: {
        Tensor av = a.get(this), bv = b.get(this);
        if (ga) da = g * bv * pow(av, bv - 1.0);
        // d/db a^b = a^b ln a; defined as 0 where a == 0 (the limit for b > 0).
        if (gb) db = where(av == 0.0, 0.0, g * y.get(this) * log(where(av == 0.0, 1.0, av)));
        break;
      }
      case BinaryOp::maximum:
      case BinaryOp::minimum: {
        Tensor av = a.get(this), bv = b.get(this);
        // Ties split the gradient equally, like PyTorch.
        Tensor wa = (op == BinaryOp::maximum ? (av > bv) : (av < bv)).to(g.dtype()) + (av == bv).to(g.dtype()) * 0.5;
        if (ga) da = g * wa;
        if (gb) db = g * (1.0 - wa);
        break;
      }
      default:
        STRATA_THROW(AutogradError, "{}: op is not differentiable", name());
    }
    return {ga ? fit(da, a_shape, a_dtype) : Tensor(), gb ? fit(db, b_shape, b_dtype) : Tensor()};
  }
};

struct WhereBackward final : Node {
  SavedTensor cond;
  Shape a_shape, b_shape;
  std::string name() const override { return "WhereBackward"; }
  void release_saved() override { cond.reset(); }
  TensorList apply(TensorList&& grads) override {
    const Tensor& g = grads[0];
    Tensor c = cond.get(this);
    Tensor da = needs_input_grad(1) ? sum_to(where(c, g, 0.0), a_shape) : Tensor();
    Tensor db = needs_input_grad(2) ? sum_to(where(c, 0.0, g), b_shape) : Tensor();
    return {Tensor(), da, db};
  }
};

struct LerpBackward final : Node {
  SavedTensor a, b, w;
  std::string name() const override { return "LerpBackward"; }
  void release_saved() override {
    a.reset();
    b.reset();
    w.reset();
  }
  TensorList apply(TensorList&& grads) override {
    const Tensor& g = grads[0];
    Tensor av = a.get(this), bv = b.get(this), wv = w.get(this);
    TensorList out(3);
    if (needs_input_grad(0)) out[0] = sum_to(g * (1.0 - wv), av.shape());
    if (needs_input_grad(1)) out[1] = sum_to(g * wv, bv.shape());
    if (needs_input_grad(2)) out[2] = sum_to(g * (bv - av), wv.shape());
    return out;
  }
};

struct ToDTypeBackward final : Node {
  DType src;
  explicit ToDTypeBackward(DType s) : src(s) {}
  std::string name() const override { return "ToDTypeBackward"; }
  TensorList apply(TensorList&& grads) override { return {grads[0].to(src)}; }
};

struct ToDeviceBackward final : Node {
  Device src;
  explicit ToDeviceBackward(Device s) : src(s) {}
  std::string name() const override { return "ToDeviceBackward"; }
  TensorList apply(TensorList&& grads) override { return {grads[0].to(src)}; }
};

struct IdentityBackward final : Node {
  const char* label;
  explicit IdentityBackward(const char* l) : label(l) {}
  std::string name() const override { return label; }
  TensorList apply(TensorList&& grads) override { return {grads[0]}; }
};

}  // namespace

void record_unary(UnaryOp op, const Tensor& x, const Tensor& out, double p0, double p1) {
  if (!unary_differentiable(op) || !is_floating(out.dtype()) || !needs_grad({&x})) return;
  auto node = make_node<UnaryBackward>({&x}, op, p0, p1);
  if (needs_input(op)) node->x.save(x);
  if (needs_output(op)) node->y.save(out, /*is_output=*/true);
  set_history(out, node);
}

void record_binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  if (!is_floating(out.dtype()) || !needs_grad({&a, &b})) return;
  auto node = make_node<BinaryBackward>({&a, &b}, op);
  node->a_shape = a.shape();
  node->b_shape = b.shape();
  node->a_dtype = a.dtype();
  node->b_dtype = b.dtype();
  switch (op) {
    case BinaryOp::mul:
      if (node->needs_input_grad(0)) node->b.save(b);
      if (node->needs_input_grad(1)) node->a.save(a);
      break;
    case BinaryOp::div:
      node->b.save(b);
      if (node->needs_input_grad(1)) node->y.save(out, true);
      break;
    case BinaryOp::pow:
      node->a.save(a);
      node->b.save(b);
      if (node->needs_input_grad(1)) node->y.save(out, true);
      break;
    case BinaryOp::maximum:
    case BinaryOp::minimum:
      node->a.save(a);
      node->b.save(b);
      break;
    default:
      break;
  }
  set_history(out, node);
}

void record_where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) {
  if (!is_floating(out.dtype()) || !needs_grad({&a, &b})) return;
  auto node = make_node<WhereBackward>({&cond, &a, &b});
  node->cond.save(cond.dtype() == DType::Bool ? cond : cond.to(DType::Bool));
  node->a_shape = a.shape();
  node->b_shape = b.shape();
  set_history(out, node);
}

void record_lerp(const Tensor& a, const Tensor& b, const Tensor& w, const Tensor& out) {
  if (!needs_grad({&a, &b, &w})) return;
  auto node = make_node<LerpBackward>({&a, &b, &w});
  node->a.save(a);
  node->b.save(b);
  node->w.save(w);
  set_history(out, node);
}

void record_to_dtype(const Tensor& x, const Tensor& out) {
  if (!is_floating(x.dtype()) || !needs_grad({&x})) return;
  set_history(out, make_node<ToDTypeBackward>({&x}, x.dtype()));
}

void record_to_device(const Tensor& x, const Tensor& out) {
  if (!needs_grad({&x})) return;
  set_history(out, make_node<ToDeviceBackward>({&x}, x.device()));
}

void record_identity(const Tensor& x, const Tensor& out, const char* name) {
  if (!needs_grad({&x})) return;
  set_history(out, make_node<IdentityBackward>({&x}, name));
}

}  // namespace strata::autograd
