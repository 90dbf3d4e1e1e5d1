// Reduction front ends: resolve the dims (negative, duplicates, empty list = all dims, 0-d
// inputs), check the dtype and the empty cases, pick the result dtype, allocate the keepdim-shaped
// result, run the kernel (kernels/reduce.h), record autograd and propagate the semantic type.
#include "tensor/ops/reduce.h"

#include <cmath>
#include <limits>

#include "autograd/formulas/reduce.h"
#include "autograd/grad_mode.h"
#include "kernels/reduce.h"
#include "tensor/ops/check.h"
#include "tensor/semantic.h"

namespace strata {
namespace {

using autograd::ReduceInfo;
using kernels::ReduceOp;

struct Reduction {
  ReduceInfo info;   // reduced dims (ascending), keepdim shape, elements per output
  Shape out_shape;  // the result's shape (keep_shape, or without the reduced dims)
};

Reduction resolve(const char* op, const Tensor& x, const Dims& dims, bool keepdim) {
  check_defined(op, x);
  const int64_t nd = x.dim();
  std::vector<bool> reduced(nd, dims.empty());
  std::vector<bool> seen(std::max<int64_t>(nd, 1), false);
  for (int64_t d : dims) {
    const int64_t w = wrap_dim(op, d, nd);
    STRATA_CHECK(!seen[w], IndexError, "{}: dim {} appears more than once in the list of dims (shape {})", op, d,
                 x.shape());
    seen[w] = true;
    if (nd > 0) reduced[w] = true;
  }
  Reduction r;
  r.info.count = 1;
  for (int64_t d = 0; d < nd; ++d) {
    if (reduced[d]) {
      r.info.dims.push_back(d);
      r.info.keep_shape.push_back(1);
      r.info.count *= x.size(d);
      if (keepdim) r.out_shape.push_back(1);
    } else {
      r.info.keep_shape.push_back(x.size(d));
      r.out_shape.push_back(x.size(d));
    }
  }
  return r;
}

// amax and friends have no value over nothing.
void check_nonempty(const char* op, const Tensor& x, const Reduction& r) {
  for (int64_t d : r.info.dims) {
    STRATA_CHECK(x.size(d) != 0, IndexError,
                 "{}: cannot reduce over dim {} of size 0 (shape {}): the result has no identity value", op, d,
                 x.shape());
  }
}

void check_floating_input(const char* op, const Tensor& x) {
  STRATA_CHECK(x.is_floating_point(), DTypeError,
               "{}: expected a floating input, got dtype {} (shape {}); convert it with to()", op, x.dtype(),
               x.shape());
}

DType sum_dtype(const Tensor& x) { return x.is_floating_point() ? x.dtype() : DType::I64; }

// Runs the kernel into a fresh keepdim-shaped tensor and returns it in the result's shape.
Tensor run_reduce(ReduceOp op, const Tensor& x, const Reduction& r, DType dtype, double param = 0) {
  Tensor out = empty(r.info.keep_shape, {.dtype = dtype, .device = x.device()});
  kernels::reduce(op, x, out, param);
  return out.view(r.out_shape);
}

Tensor amax_amin(const char* op, bool is_max, const Tensor& x, const Dims& dims, bool keepdim) {
  const Reduction r = resolve(op, x, dims, keepdim);
  check_nonempty(op, x, r);
  Tensor out = run_reduce(is_max ? ReduceOp::amax : ReduceOp::amin, x, r, x.dtype());
  autograd::record_amax(is_max ? "AmaxBackward" : "AminBackward", x, out, r.info);
  return propagate_semantics(out, {&x});
}

// Values and indices along one dim; values undefined when only the indices are wanted.
std::pair<Tensor, Tensor> arg_reduce(const char* op, bool is_max, const Tensor& x, int64_t dim, bool keepdim,
                                     bool with_values) {
  check_defined(op, x);
  const int64_t d = wrap_dim(op, dim, x.dim());
  const Reduction r = resolve(op, x, {dim}, keepdim);
  if (x.dim() > 0) {
    STRATA_CHECK(x.size(d) != 0, IndexError,
                 "{}: cannot reduce over dim {} of size 0 (shape {}): there is no element to pick", op, dim,
                 x.shape());
  }
  Tensor values = with_values ? empty(r.info.keep_shape, {.dtype = x.dtype(), .device = x.device()}) : Tensor();
  Tensor indices = empty(r.info.keep_shape, {.dtype = DType::I64, .device = x.device()});
  if (indices.numel() > 0) kernels::arg_reduce(is_max, x, d, values, indices);
  indices = indices.view(r.out_shape);
  if (with_values) values = values.view(r.out_shape);
  if (with_values) autograd::record_max_dim(is_max ? "MaxBackward" : "MinBackward", x, values, indices, d);
  if (with_values) propagate_semantics(values, {&x});
  return {values, indices};
}

Tensor extreme_all(const char* op, bool is_max, const Tensor& x) {
  check_defined(op, x);
  STRATA_CHECK(x.numel() > 0, IndexError,
               "{}: the tensor is empty (shape {}), so it has no {}; pass a dim to reduce over instead", op,
               x.shape(), is_max ? "maximum" : "minimum");
  return amax_amin(op, is_max, x, {}, false);
}

}  // namespace

Tensor sum(const Tensor& x, const Dims& dims, bool keepdim) {
  const Reduction r = resolve("sum", x, dims, keepdim);
  Tensor out = run_reduce(ReduceOp::sum, x, r, sum_dtype(x));
  autograd::record_sum(x, out, r.info);
  return propagate_semantics(out, {&x});
}

Tensor mean(const Tensor& x, const Dims& dims, bool keepdim) {
  const Reduction r = resolve("mean", x, dims, keepdim);
  check_floating_input("mean", x);
  Tensor out = run_reduce(ReduceOp::mean, x, r, x.dtype());
  autograd::record_mean(x, out, r.info);
  return propagate_semantics(out, {&x});
}

Tensor prod(const Tensor& x, const Dims& dims, bool keepdim) {
  const Reduction r = resolve("prod", x, dims, keepdim);
  Tensor out = run_reduce(ReduceOp::prod, x, r, sum_dtype(x));
  autograd::record_prod(x, out, r.info);
  return propagate_semantics(out, {&x});
}

Tensor amax(const Tensor& x, const Dims& dims, bool keepdim) { return amax_amin("amax", true, x, dims, keepdim); }
Tensor amin(const Tensor& x, const Dims& dims, bool keepdim) { return amax_amin("amin", false, x, dims, keepdim); }

std::pair<Tensor, Tensor> max(const Tensor& x, int64_t dim, bool keepdim) {
  return arg_reduce("max", true, x, dim, keepdim, true);
}
std::pair<Tensor, Tensor> min(const Tensor& x, int64_t dim, bool keepdim) {
  return arg_reduce("min", false, x, dim, keepdim, true);
}
Tensor max(const Tensor& x) { return extreme_all("max", true, x); }
Tensor min(const Tensor& x) { return extreme_all("min", false, x); }

Tensor argmax(const Tensor& x, int64_t dim, bool keepdim) {
  return arg_reduce("argmax", true, x, dim, keepdim, false).second;
}
Tensor argmin(const Tensor& x, int64_t dim, bool keepdim) {
  return arg_reduce("argmin", false, x, dim, keepdim, false).second;
}
Tensor argmax(const Tensor& x) {
  check_defined("argmax", x);
  STRATA_CHECK(x.numel() > 0, IndexError,
               "argmax: the tensor is empty (shape {}), so it has no maximum; pass a dim to reduce over instead",
               x.shape());
  NoGradGuard no_grad;
  return arg_reduce("argmax", true, x.reshape({-1}), 0, false, false).second;
}

Tensor var(const Tensor& x, const Dims& dims, int64_t correction, bool keepdim) {
  const Reduction r = resolve("var", x, dims, keepdim);
  check_floating_input("var", x);
  Tensor out = run_reduce(ReduceOp::var, x, r, x.dtype(), static_cast<double>(correction));
  autograd::record_var(x, out, r.info, static_cast<double>(correction), false);
  return propagate_semantics(out, {&x});
}

Tensor std(const Tensor& x, const Dims& dims, int64_t correction, bool keepdim) {
  const Reduction r = resolve("std", x, dims, keepdim);
  check_floating_input("std", x);
  Tensor out = run_reduce(ReduceOp::std, x, r, x.dtype(), static_cast<double>(correction));
  autograd::record_var(x, out, r.info, static_cast<double>(correction), true);
  return propagate_semantics(out, {&x});
}

Tensor logsumexp(const Tensor& x, const Dims& dims, bool keepdim) {
  const Reduction r = resolve("logsumexp", x, dims, keepdim);
  check_floating_input("logsumexp", x);
  Tensor out = run_reduce(ReduceOp::logsumexp, x, r, x.dtype());
  autograd::record_logsumexp(x, out, r.info);
  return propagate_semantics(out, {&x});
}

Tensor norm(const Tensor& x, double p, const Dims& dims, bool keepdim) {
  const Reduction r = resolve("norm", x, dims, keepdim);
  check_floating_input("norm", x);
  STRATA_CHECK(!std::isnan(p), ValueError, "norm: p must be a number, got nan");
  ReduceOp op = ReduceOp::norm_p;
  if (p == 0) op = ReduceOp::norm0;
  if (p == 1) op = ReduceOp::norm1;
  if (p == 2) op = ReduceOp::norm2;
  if (std::isinf(p)) {
    op = p > 0 ? ReduceOp::norm_inf : ReduceOp::norm_neg_inf;
    check_nonempty("norm", x, r);
  }
  Tensor out = run_reduce(op, x, r, x.dtype(), p);
  autograd::record_norm(x, out, p, r.info);
  return propagate_semantics(out, {&x});
}

Tensor any(const Tensor& x, const Dims& dims, bool keepdim) {
  const Reduction r = resolve("any", x, dims, keepdim);
  return propagate_semantics(run_reduce(ReduceOp::any, x, r, DType::Bool), {&x});
}

Tensor all(const Tensor& x, const Dims& dims, bool keepdim) {
  const Reduction r = resolve("all", x, dims, keepdim);
  return propagate_semantics(run_reduce(ReduceOp::all, x, r, DType::Bool), {&x});
}

Tensor cumsum(const Tensor& x, int64_t dim) {
  check_defined("cumsum", x);
  const int64_t d = wrap_dim("cumsum", dim, x.dim());
  Tensor out = empty(x.shape(), {.dtype = sum_dtype(x), .device = x.device()});
  {
    NoGradGuard no_grad;
    kernels::cumsum(x.contiguous(), d, out);
  }
  autograd::record_cumsum(x, out, d);
  return propagate_semantics(out, {&x});
}

}  // namespace strata
