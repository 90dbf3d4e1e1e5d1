// Matrix-product front ends. Everything funnels into one differentiable primitive, `product`:
// a [..., m, k] @ b [..., k, n] with broadcasting batch dims, run as one batched GEMM. matmul's
// 1-d cases, dot and mm are views around it, so their gradients come from the view nodes plus
// MmBackward/BmmBackward. addmm and linear fuse the bias into the GEMM (beta = 1 over a copy of
// the bias) and record their own nodes.
//
// Operands reach the GEMM without copies when their last two dims are row-major (ld, 1) or
// column-major (1, ld); other layouts are copied first. f16/bf16 stay half on CUDA (cuBLAS
// accumulates in f32); on the CPU they are converted to f32 and the result rounded back.
#include "tensor/ops/matmul.h"

#include <algorithm>

#include "autograd/formulas/matmul.h"
#include "autograd/grad_mode.h"
#include "kernels/elementwise.h"
#include "kernels/matmul.h"
#include "tensor/ops/check.h"
#include "tensor/ops/elementwise.h"
#include "tensor/semantic.h"

namespace strata {
namespace {

// The dtype the GEMM runs in: the operands' own, except f16/bf16 on the CPU (computed in f32).
DType compute_dtype(DType dt, Device device) {
  if (dt == DType::F64 || device.is_cuda()) return dt;
  return DType::F32;
}

void check_operands(const char* op, const Tensor& a, const Tensor& b) {
  check_defined(op, a, "first input");
  check_defined(op, b, "second input");
  check_same_device(op, a, b);
  STRATA_CHECK(a.dtype() == b.dtype(), DTypeError, "{}: expected operands of the same dtype, got {} and {} (shapes {} and {})",
               op, a.dtype(), b.dtype(), a.shape(), b.shape());
  STRATA_CHECK(is_floating(a.dtype()), DTypeError,
               "{}: {} operands are not supported (shapes {} and {}); convert to a floating dtype first", op,
               a.dtype(), a.shape(), b.shape());
}

void check_inner(const char* op, const Tensor& a, const Tensor& b, int64_t ka, int64_t kb) {
  STRATA_CHECK(ka == kb, ShapeError, "{}: shapes {} and {} cannot be multiplied ({} vs {})", op, a.shape(), b.shape(),
               ka, kb);
}

Shape batch_of(const Tensor& t) {
  Shape s = t.shape();
  s.resize(s.size() - 2);
  return s;
}

Shape with_matrix(Shape batch, int64_t rows, int64_t cols) {
  batch.push_back(rows);
  batch.push_back(cols);
  return batch;
}

// numpy broadcasting of the batch dims (all but the last two) of a and b.
Shape broadcast_batch(const char* op, const Tensor& a, const Tensor& b) {
  const Shape ba = batch_of(a), bb = batch_of(b);
  const size_t nd = std::max(ba.size(), bb.size());
  Shape out(nd, 1);
  for (size_t i = 0; i < nd; ++i) {
    const int64_t x = i < nd - ba.size() ? 1 : ba[i - (nd - ba.size())];
    const int64_t y = i < nd - bb.size() ? 1 : bb[i - (nd - bb.size())];
    STRATA_CHECK(x == y || x == 1 || y == 1, ShapeError, "{}: batch dims of shapes {} and {} do not broadcast ({} vs {})",
                 op, a.shape(), b.shape(), x, y);
    out[i] = x == 1 ? y : x;
  }
  return out;
}

// t in dtype `dt` with its last two dims in a layout the GEMM takes, expanded to `shape`.
// Called under NoGradGuard: the op records itself.
Tensor gemm_operand(const Tensor& t, DType dt, const Shape& shape) {
  Tensor r = t.to(dt);
  if (!kernels::matrix_layout(r).gemm_ready) r = r.contiguous();
  return r.shape() == shape ? r : r.expand(shape);
}

// a [..., m, k] @ b [..., k, n] (both >= 2-d, checked), batch dims broadcasting.
Tensor product(const char* op, const Tensor& a, const Tensor& b) {
  const Shape batch = broadcast_batch(op, a, b);
  const int64_t m = a.size(-2), k = a.size(-1), n = b.size(-1);
  const DType ct = compute_dtype(a.dtype(), a.device());
  Tensor out = empty(with_matrix(batch, m, n), {.dtype = ct, .device = a.device()});
  {
    NoGradGuard no_grad;
    kernels::gemm(gemm_operand(a, ct, with_matrix(batch, m, k)), gemm_operand(b, ct, with_matrix(batch, k, n)), out,
                  1.0, 0.0);
    if (ct != a.dtype()) out = out.to(a.dtype());
  }
  autograd::record_matmul(a, b, out);
  return out;
}

// Whether a [..., m, k]'s batch and row dims flatten into one row dim without a copy, with
// unit column stride: then a @ b for a 2-d b is one [rows, k] @ [k, n] product.
bool rows_fold(const Tensor& a) {
  if (a.size(-1) > 1 && a.stride(-1) != 1) return false;
  int64_t expected = -1;  // stride the next (outer) non-trivial dim must have
  for (int64_t d = a.dim() - 2; d >= 0; --d) {
    if (a.size(d) == 1) continue;
    if (expected >= 0 && a.stride(d) != expected) return false;
    if (expected < 0 && a.stride(d) < a.size(-1)) return false;
    expected = a.stride(d) * a.size(d);
  }
  return true;
}

// The number of rows t has when its leading dims are flattened (1 for a 1-d t).
int64_t leading_numel(const Tensor& t) {
  int64_t rows = 1;
  for (int64_t d = 0; d + 1 < t.dim(); ++d) rows *= t.size(d);
  return rows;
}

// matmul of two operands of >= 2 dims.
Tensor matmul_nd(const Tensor& a, const Tensor& b) {
  if (a.dim() >= 3 && b.dim() == 2 && rows_fold(a)) {
    Shape out_shape = a.shape();
    out_shape[out_shape.size() - 1] = b.size(1);
    return product("matmul", a.reshape({leading_numel(a), a.size(-1)}), b).view(out_shape);
  }
  return product("matmul", a, b);
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_operands("matmul", a, b);
  STRATA_CHECK(a.dim() >= 1 && b.dim() >= 1, ShapeError,
               "matmul: both operands need at least 1 dim, got shapes {} and {}", a.shape(), b.shape());
  check_inner("matmul", a, b, a.size(-1), b.dim() == 1 ? b.size(0) : b.size(-2));
  Tensor r;
  if (a.dim() == 1 && b.dim() == 1) {
    r = product("matmul", a.unsqueeze(0), b.unsqueeze(1)).view({});
  } else if (b.dim() == 1) {
    r = matmul_nd(a, b.unsqueeze(1)).squeeze(-1);
  } else if (a.dim() == 1) {
    r = matmul_nd(a.unsqueeze(0), b).squeeze(-2);
  } else {
    r = matmul_nd(a, b);
  }
  return propagate_semantics(r, {&a, &b});
}

Tensor mm(const Tensor& a, const Tensor& b) {
  check_operands("mm", a, b);
  STRATA_CHECK(a.dim() == 2 && b.dim() == 2, ShapeError, "mm: expected 2-d tensors, got shapes {} and {}", a.shape(),
               b.shape());
  check_inner("mm", a, b, a.size(1), b.size(0));
  return propagate_semantics(product("mm", a, b), {&a, &b});
}

Tensor bmm(const Tensor& a, const Tensor& b) {
  check_operands("bmm", a, b);
  STRATA_CHECK(a.dim() == 3 && b.dim() == 3, ShapeError, "bmm: expected 3-d tensors, got shapes {} and {}",
               a.shape(), b.shape());
  STRATA_CHECK(a.size(0) == b.size(0), ShapeError, "bmm: batch sizes differ, shapes {} and {} ({} vs {})", a.shape(),
               b.shape(), a.size(0), b.size(0));
  check_inner("bmm", a, b, a.size(2), b.size(1));
  return propagate_semantics(product("bmm", a, b), {&a, &b});
}

Tensor addmm(const Tensor& c, const Tensor& a, const Tensor& b, double beta, double alpha) {
  check_defined("addmm", c, "input");
  check_operands("addmm", a, b);
  check_same_device("addmm", c, a);
  STRATA_CHECK(c.dtype() == a.dtype(), DTypeError, "addmm: input has dtype {} but the operands have {} (shapes {}, {}, {})",
               c.dtype(), a.dtype(), c.shape(), a.shape(), b.shape());
  STRATA_CHECK(a.dim() == 2 && b.dim() == 2, ShapeError, "addmm: expected 2-d operands, got shapes {} and {}",
               a.shape(), b.shape());
  check_inner("addmm", a, b, a.size(1), b.size(0));
  const Shape shape{a.size(0), b.size(1)};
  STRATA_CHECK(c.dim() <= 2 && broadcast_shapes("addmm", c.shape(), shape) == shape, ShapeError,
               "addmm: input of shape {} does not broadcast to the product's shape {}", c.shape(), shape);
  const DType ct = compute_dtype(a.dtype(), a.device());
  Tensor out = empty(shape, {.dtype = ct, .device = a.device()});
  {
    NoGradGuard no_grad;
    if (beta != 0.0) kernels::copy(c.expand(shape), out);
    kernels::gemm(gemm_operand(a, ct, a.shape()), gemm_operand(b, ct, b.shape()), out, alpha, beta);
    if (ct != a.dtype()) out = out.to(a.dtype());
  }
  autograd::record_addmm(c, a, b, beta, alpha, out);
  return propagate_semantics(out, {&c, &a, &b});
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  check_operands("linear", x, weight);
  STRATA_CHECK(weight.dim() == 2, ShapeError, "linear: weight must be 2-d [out_features, in_features], got shape {}",
               weight.shape());
  STRATA_CHECK(x.dim() >= 1, ShapeError, "linear: input must have at least 1 dim, got shape {}", x.shape());
  const int64_t in_features = weight.size(1), out_features = weight.size(0);
  STRATA_CHECK(x.size(-1) == in_features, ShapeError,
               "linear: input of shape {} does not match weight of shape {} ({} vs {} in_features)", x.shape(),
               weight.shape(), x.size(-1), in_features);
  if (bias.defined()) {
    check_same_device("linear", x, bias);
    STRATA_CHECK(bias.dtype() == x.dtype(), DTypeError, "linear: bias has dtype {} but input and weight have {}",
                 bias.dtype(), x.dtype());
    STRATA_CHECK(bias.dim() == 1 && bias.size(0) == out_features, ShapeError,
                 "linear: bias of shape {} does not match weight of shape {} (expected [{}])", bias.shape(),
                 weight.shape(), out_features);
  }
  const int64_t rows = leading_numel(x);
  Shape out_shape = x.shape();
  out_shape[out_shape.size() - 1] = out_features;
  const DType ct = compute_dtype(x.dtype(), x.device());
  Tensor out = empty(out_shape, {.dtype = ct, .device = x.device()});
  {
    NoGradGuard no_grad;
    Tensor out2 = out.view({rows, out_features});
    if (bias.defined()) kernels::copy(bias.expand(out2.shape()), out2);
    // x's leading dims flatten as a view when x is contiguous; weight.t() reaches the GEMM as a
    // trans flag.
    Tensor x2 = gemm_operand(x.reshape({rows, in_features}), ct, {rows, in_features});
    kernels::gemm(x2, gemm_operand(weight.t(), ct, {in_features, out_features}), out2, 1.0, bias.defined() ? 1.0 : 0.0);
    if (ct != x.dtype()) out = out.to(x.dtype());
  }
  autograd::record_linear(x, weight, bias, out);
  return propagate_semantics(out, {&x});
}

Tensor dot(const Tensor& a, const Tensor& b) {
  check_operands("dot", a, b);
  STRATA_CHECK(a.dim() == 1 && b.dim() == 1 && a.size(0) == b.size(0), ShapeError,
               "dot: expected 1-d tensors of the same size, got shapes {} and {}", a.shape(), b.shape());
  return propagate_semantics(product("dot", a.unsqueeze(0), b.unsqueeze(1)).view({}), {&a, &b});
}

Tensor outer(const Tensor& a, const Tensor& b) {
  check_defined("outer", a, "first input");
  check_defined("outer", b, "second input");
  STRATA_CHECK(a.dim() == 1 && b.dim() == 1, ShapeError, "outer: expected 1-d tensors, got shapes {} and {}",
               a.shape(), b.shape());
  // A k = 1 product is pure elementwise work: a column times a row, broadcasting (and promoting
  // dtypes, like PyTorch's outer).
  return mul(a.unsqueeze(1), b.unsqueeze(0));
}

}  // namespace strata
