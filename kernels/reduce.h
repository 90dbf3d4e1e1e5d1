#pragma once
// Reduction kernel entry points. Front ends (tensor/ops/reduce.cpp) check arguments, pick the
// result dtype and allocate; these pick the device and run.
//
// Shapes: `out` has x's number of dims, with size 1 in every reduced dim (the keepdim shape), so
// the reduced dims are the ones where out has size 1 and x does not. x may have any strides.
// Result dtypes the kernels expect (the front end allocates them):
//   sum, prod          integer/bool input -> i64, floating -> same dtype
//   amax, amin         same dtype as x
//   any, all           bool
//   everything else    floating input, same dtype
#include <cstdint>

#include "tensor/tensor.h"

namespace strata::kernels {

enum class ReduceOp : uint8_t {
  sum,
  mean,
  prod,
  amax,  // NaN propagates
  amin,
  any,
  all,
  norm0,         // number of non-zeros
  norm1,         // sum |x|
  norm2,         // sqrt(sum x^2)
  norm_inf,      // max |x|
  norm_neg_inf,  // min |x|
  norm_p,        // (sum |x|^p)^(1/p), p = param
  var,           // two-pass; param = correction; divisor max(0, n - correction)
  std,           // sqrt(var)
  logsumexp,     // max pass, then log(sum exp(x - max)) + max
};

const char* reduce_op_name(ReduceOp op);

// The reduction of x over the dims where out has size 1 (see above). The reduced extent must be
// non-empty for amax, amin, norm_inf and norm_neg_inf (the front end checks).
void reduce(ReduceOp op, const Tensor& x, const Tensor& out, double param = 0);

// Max (is_max) or min of x along `dim` with the index of the first occurrence; NaN counts as
// the extreme (the first NaN wins). values (dtype of x, may be undefined) and indices (i64) have
// x's shape with size 1 at dim; x.size(dim) > 0.
void arg_reduce(bool is_max, const Tensor& x, int64_t dim, const Tensor& values, const Tensor& indices);

// Inclusive prefix sum along dim (suffix sum when reverse, for cumsum's gradient). x and out are
// contiguous with x's shape; out is i64 for integer/bool x, else x's dtype.
void cumsum(const Tensor& x, int64_t dim, const Tensor& out, bool reverse = false);

namespace cpu {
void reduce(ReduceOp op, const Tensor& x, const Tensor& out, double param);
void arg_reduce(bool is_max, const Tensor& x, int64_t dim, const Tensor& values, const Tensor& indices);
void cumsum(const Tensor& x, int64_t dim, const Tensor& out, bool reverse);
}  // namespace cpu

}  // namespace strata::kernels
