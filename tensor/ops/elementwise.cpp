// Elementwise front ends: check at the door, choose the result dtype, allocate, run the kernel,
// record for autograd, propagate the semantic type.
#include "tensor/ops/elementwise.h"

#include <cmath>
#include <limits>

#include "autograd/formulas/elementwise.h"
#include "autograd/record.h"
#include "kernels/elementwise.h"
#include "tensor/ops/check.h"
#include "tensor/semantic.h"

namespace strata {
namespace {

using kernels::BinaryOp;
using kernels::UnaryOp;

// Unary ops that map integers to integers; the others compute in f32 for integer inputs.
bool keeps_integer(UnaryOp op) {
  switch (op) {
    case UnaryOp::neg: case UnaryOp::abs: case UnaryOp::square: case UnaryOp::sign:
    case UnaryOp::relu: case UnaryOp::clamp: case UnaryOp::floor: case UnaryOp::ceil:
    case UnaryOp::round:
      return true;
    default:
      return false;
  }
}

Tensor unary_op(UnaryOp op, const char* name, const Tensor& x, double p0 = 0, double p1 = 0,
                bool integer_ok = false) {
  check_defined(name, x);
  STRATA_CHECK(x.dtype() != DType::Bool, DTypeError, "{}: not defined for bool tensors (shape {})", name, x.shape());
  DType dt = x.dtype();
  if (!is_floating(dt) && !(integer_ok || keeps_integer(op))) dt = DType::F32;
  Tensor in = kernel_input(x, dt, x.shape());
  Tensor out = empty(x.shape(), {.dtype = dt, .device = x.device()});
  kernels::unary(op, in, out, p0, p1);
  autograd::record_unary(op, x, out, p0, p1);
  return propagate_semantics(out, {&x});
}

DType binary_dtype(BinaryOp op, DType a, DType b) {
  DType dt = promote_types(a, b);
  if (op == BinaryOp::div && !is_floating(dt)) dt = DType::F32;  // true division
  if (op == BinaryOp::pow && dt == DType::Bool) dt = DType::I64;
  return dt;
}

Tensor binary_op(BinaryOp op, const char* name, const Tensor& a, const Tensor& b) {
  check_defined(name, a, "first input");
  check_defined(name, b, "second input");
  check_same_device(name, a, b);
  const Shape shape = broadcast_shapes(name, a.shape(), b.shape());
  const bool compare = kernels::is_compare(op);
  const DType ct = binary_dtype(op, a.dtype(), b.dtype());
  STRATA_CHECK(compare || ct != DType::Bool, DTypeError,
               "{}: arithmetic on bool tensors is not supported (shapes {} and {}); convert with to()", name,
               a.shape(), b.shape());
  Tensor ac = kernel_input(a, ct, shape);
  Tensor bc = kernel_input(b, ct, shape);
  Tensor out = empty(shape, {.dtype = compare ? DType::Bool : ct, .device = a.device()});
  kernels::binary(op, ac, bc, out);
  if (!compare) autograd::record_binary(op, a, b, out);
  return propagate_semantics(out, {&a, &b});
}

// A tensor op with a Python-style scalar: an integer tensor with a fractional scalar becomes f32.
DType scalar_result_dtype(const Tensor& x, double s) {
  if (is_floating(x.dtype())) return x.dtype();
  if (std::floor(s) != s || !std::isfinite(s)) return DType::F32;
  return x.dtype() == DType::Bool ? DType::I64 : x.dtype();
}

Tensor scalar_op(UnaryOp op, const char* name, const Tensor& x, double s) {
  check_defined(name, x);
  const DType dt = scalar_result_dtype(x, s);
  Tensor xc = x.dtype() == dt ? x : kernel_input(x, dt, x.shape());
  Tensor out = empty(x.shape(), {.dtype = dt, .device = x.device()});
  kernels::unary(op, xc, out, s, 0);
  autograd::record_unary(op, x, out, s, 0);
  return propagate_semantics(out, {&x});
}

Tensor scalar_like(const Tensor& x, double v) {
  return full({}, v, {.dtype = scalar_result_dtype(x, v), .device = x.device()});
}

}  // namespace

#define UNARY(name, F, diff) \
  Tensor name(const Tensor& x) { return unary_op(UnaryOp::name, #name, x); }
#include "kernels/defs/unary.def"
#undef UNARY

Tensor leaky_relu(const Tensor& x, double slope) { return unary_op(UnaryOp::leaky_relu, "leaky_relu", x, slope); }

Tensor clamp(const Tensor& x, std::optional<double> lo, std::optional<double> hi) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (lo && hi) {
    STRATA_CHECK(*lo <= *hi, ValueError, "clamp: min {} is greater than max {}", *lo, *hi);
  }
  return unary_op(UnaryOp::clamp, "clamp", x, lo.value_or(nan), hi.value_or(nan));
}
Tensor clamp_min(const Tensor& x, double lo) { return clamp(x, lo, std::nullopt); }
Tensor clamp_max(const Tensor& x, double hi) { return clamp(x, std::nullopt, hi); }

Tensor pow(const Tensor& x, double e) {
  if (e == 1.0) return unary_op(UnaryOp::mul_scalar, "pow", x, 1.0, 0, true);
  if (e == 2.0) return unary_op(UnaryOp::square, "pow", x);
  return unary_op(UnaryOp::pow_scalar, "pow", x, e);
}
Tensor pow(double base, const Tensor& x) { return unary_op(UnaryOp::rpow_scalar, "pow", x, base); }

Tensor sigmoid_range(const Tensor& x, double low, double high) { return sigmoid(x) * (high - low) + low; }

Tensor logical_not(const Tensor& x) {
  check_defined("logical_not", x);
  Tensor out = empty(x.shape(), {.dtype = DType::Bool, .device = x.device()});
  Tensor zero = zeros({}, {.dtype = x.dtype(), .device = x.device()});
  kernels::binary(BinaryOp::eq, x, kernel_input(zero, x.dtype(), x.shape()), out);
  return propagate_semantics(out, {&x});
}

#define BINARY(name, F, diff) \
  Tensor name(const Tensor& a, const Tensor& b) { return binary_op(BinaryOp::name, #name, a, b); }
#include "kernels/defs/binary.def"
#undef BINARY

#define COMPARE(name, F)                                                                        \
  Tensor name(const Tensor& a, const Tensor& b) { return binary_op(BinaryOp::name, #name, a, b); } \
  Tensor name(const Tensor& a, double b) { return binary_op(BinaryOp::name, #name, a, scalar_like(a, b)); }
#include "kernels/defs/compare.def"
#undef COMPARE

Tensor add(const Tensor& a, const Tensor& b, double alpha) { return alpha == 1.0 ? add(a, b) : add(a, mul(b, alpha)); }
Tensor add(const Tensor& a, double b) { return scalar_op(UnaryOp::add_scalar, "add", a, b); }
Tensor sub(const Tensor& a, double b) { return scalar_op(UnaryOp::add_scalar, "sub", a, -b); }
Tensor mul(const Tensor& a, double b) { return scalar_op(UnaryOp::mul_scalar, "mul", a, b); }
Tensor div(const Tensor& a, double b) {
  check_defined("div", a);
  // f32/f64 divide by the scalar (x * (1 / b) is not the correctly rounded x / b, e.g. 3 / 10);
  // f16/bf16 compute in float and round once to 16 bits, where the product form is as good.
  if (a.dtype() == DType::F16 || a.dtype() == DType::BF16) return scalar_op(UnaryOp::mul_scalar, "div", a, 1.0 / b);
  return div(a, scalar_like(a, b));
}
Tensor div(double a, const Tensor& b) {
  check_defined("div", b);
  if (b.dtype() == DType::F16 || b.dtype() == DType::BF16) return mul(reciprocal(b), a);
  return div(scalar_like(b, a), b);
}

// ---- ternary ----
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  check_defined("where", cond, "condition");
  check_defined("where", a, "first input");
  check_defined("where", b, "second input");
  check_same_device("where", cond, a);
  check_same_device("where", a, b);
  const Shape shape = broadcast_shapes("where", broadcast_shapes("where", cond.shape(), a.shape()), b.shape());
  const DType dt = promote_types(a.dtype(), b.dtype());
  Tensor out = empty(shape, {.dtype = dt, .device = a.device()});
  kernels::where(kernel_input(cond, DType::Bool, shape), kernel_input(a, dt, shape), kernel_input(b, dt, shape), out);
  autograd::record_where(cond, a, b, out);
  return propagate_semantics(out, {&a, &b});
}
Tensor where(const Tensor& cond, const Tensor& a, double b) { return where(cond, a, scalar_like(a, b)); }
Tensor where(const Tensor& cond, double a, const Tensor& b) { return where(cond, scalar_like(b, a), b); }

Tensor lerp(const Tensor& a, const Tensor& b, const Tensor& w) {
  for (const Tensor* t : {&a, &b, &w}) check_defined("lerp", *t);
  check_same_device("lerp", a, b);
  check_same_device("lerp", a, w);
  const Shape shape = broadcast_shapes("lerp", broadcast_shapes("lerp", a.shape(), b.shape()), w.shape());
  DType dt = promote_types(promote_types(a.dtype(), b.dtype()), w.dtype());
  STRATA_CHECK(is_floating(dt), DTypeError, "lerp: expected floating tensors, got {}, {} and {}", a.dtype(),
               b.dtype(), w.dtype());
  Tensor out = empty(shape, {.dtype = dt, .device = a.device()});
  kernels::lerp(kernel_input(a, dt, shape), kernel_input(b, dt, shape), kernel_input(w, dt, shape), out);
  autograd::record_lerp(a, b, w, out);
  return propagate_semantics(out, {&a, &b});
}
Tensor lerp(const Tensor& a, const Tensor& b, double w) {
  return lerp(a, b, full({}, w, {.dtype = a.dtype(), .device = a.device()}));
}

// ---- in place ----
// Every in-place op checks at the door (autograd, an overlapping destination, broadcasting into
// the destination's shape, the result dtype), then either runs the kernel straight into the
// destination or, when the source shares memory with it or the dtypes differ, computes out of
// place and copies back.
namespace {

void check_inplace_target(const char* op, const Tensor& a) {
  check_defined(op, a);
  autograd::check_inplace(op, a);
  check_writable(op, a);
}

void check_fits(const char* op, const Tensor& a, const Tensor& b) {
  check_defined(op, b, "source");
  check_same_device(op, a, b);
  const Shape s = broadcast_shapes(op, a.shape(), b.shape());
  STRATA_CHECK(s == a.shape(), ShapeError,
               "{}: the result of shape {} (broadcasting {} and {}) does not fit the destination of shape {}", op, s,
               a.shape(), b.shape(), a.shape());
}

// Writes `result` (computed out of place, same shape as a) back into a's storage.
Tensor& assign_inplace(const char* op, Tensor& a, const Tensor& result) {
  STRATA_CHECK(result.shape() == a.shape(), ShapeError,
               "{}: in-place result of shape {} does not fit the tensor of shape {}", op, result.shape(), a.shape());
  check_can_cast(op, result.dtype(), a);
  kernels::copy(result, a);
  a.bump_version();
  return a;
}

template <class OutOfPlace>
Tensor& inplace_binary(const char* op, BinaryOp kind, Tensor& a, const Tensor& b, bool direct_ok,
                       OutOfPlace&& out_of_place) {
  check_inplace_target(op, a);
  check_fits(op, a, b);
  const DType rt = binary_dtype(kind, a.dtype(), b.dtype());
  STRATA_CHECK(rt != DType::Bool, DTypeError, "{}: arithmetic on bool tensors is not supported (shape {})", op,
               a.shape());
  check_can_cast(op, rt, a);
  NoGradGuard no_grad;
  if (direct_ok && rt == a.dtype() && !overlaps_differently(a, b)) {
    // The kernel reads and writes a element by element: safe when b is not another view of a.
    kernels::binary(kind, a, kernel_input(b, a.dtype(), a.shape()), a);
    a.bump_version();
    return a;
  }
  return assign_inplace(op, a, out_of_place());
}

Tensor& inplace_scalar(const char* op, UnaryOp kind, Tensor& a, double s) {
  check_inplace_target(op, a);
  STRATA_CHECK(a.dtype() != DType::Bool, DTypeError, "{}: arithmetic on bool tensors is not supported (shape {})",
               op, a.shape());
  check_can_cast(op, scalar_result_dtype(a, s), a);
  kernels::unary(kind, a, a, s, 0);
  a.bump_version();
  return a;
}

}  // namespace

Tensor& add_(Tensor& a, const Tensor& b, double alpha) {
  return inplace_binary("add_", BinaryOp::add, a, b, alpha == 1.0, [&] { return add(a, b, alpha); });
}
Tensor& sub_(Tensor& a, const Tensor& b) {
  return inplace_binary("sub_", BinaryOp::sub, a, b, true, [&] { return sub(a, b); });
}
Tensor& mul_(Tensor& a, const Tensor& b) {
  return inplace_binary("mul_", BinaryOp::mul, a, b, true, [&] { return mul(a, b); });
}
Tensor& div_(Tensor& a, const Tensor& b) {
  return inplace_binary("div_", BinaryOp::div, a, b, true, [&] { return div(a, b); });
}
Tensor& add_(Tensor& a, double b) { return inplace_scalar("add_", UnaryOp::add_scalar, a, b); }
Tensor& mul_(Tensor& a, double b) { return inplace_scalar("mul_", UnaryOp::mul_scalar, a, b); }
Tensor& clamp_(Tensor& a, std::optional<double> lo, std::optional<double> hi) {
  check_inplace_target("clamp_", a);
  STRATA_CHECK(a.dtype() != DType::Bool, DTypeError, "clamp_: not defined for bool tensors (shape {})", a.shape());
  if (lo && hi) {
    STRATA_CHECK(*lo <= *hi, ValueError, "clamp_: min {} is greater than max {}", *lo, *hi);
  }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  kernels::unary(UnaryOp::clamp, a, a, lo.value_or(nan), hi.value_or(nan));
  a.bump_version();
  return a;
}
Tensor& lerp_(Tensor& a, const Tensor& b, double w) {
  check_inplace_target("lerp_", a);
  check_fits("lerp_", a, b);
  NoGradGuard g;
  return assign_inplace("lerp_", a, lerp(a, b, w));
}
Tensor& masked_fill_(Tensor& a, const Tensor& mask, double value) {
  check_inplace_target("masked_fill_", a);
  check_fits("masked_fill_", a, mask);
  NoGradGuard g;
  return assign_inplace("masked_fill_", a, where(mask, scalar_like(a, value).to(a.dtype()), a));
}

}  // namespace strata
