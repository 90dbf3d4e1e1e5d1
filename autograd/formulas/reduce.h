#pragma once
// Recording of the reductions (tensor/ops/reduce.cpp) on the autograd graph. Each call is a no-op
// unless grad mode is on and x requires grad; the formulas live in reduce.cpp.
#include <vector>

#include "tensor/tensor.h"

namespace strata::autograd {

// What the backward of a reduction over a set of dims needs to broadcast a gradient back.
struct ReduceInfo {
  std::vector<int64_t> dims;  // reduced dims of the input, wrapped, ascending (empty for 0-d input)
  Shape keep_shape;           // the input's shape with 1 at every reduced dim
  int64_t count = 1;          // input elements per output
};

void record_sum(const Tensor& x, const Tensor& out, const ReduceInfo& r);
void record_mean(const Tensor& x, const Tensor& out, const ReduceInfo& r);
void record_prod(const Tensor& x, const Tensor& out, const ReduceInfo& r);
// amax/amin and max()/min() over everything: ties share the gradient equally.
void record_amax(const char* name, const Tensor& x, const Tensor& out, const ReduceInfo& r);
// max/min along `dim` (wrapped): the gradient goes to the returned index.
void record_max_dim(const char* name, const Tensor& x, const Tensor& values, const Tensor& indices, int64_t dim);
void record_var(const Tensor& x, const Tensor& out, const ReduceInfo& r, double correction, bool is_std);
void record_logsumexp(const Tensor& x, const Tensor& out, const ReduceInfo& r);
void record_norm(const Tensor& x, const Tensor& out, double p, const ReduceInfo& r);
void record_cumsum(const Tensor& x, const Tensor& out, int64_t dim);

// Suffix sums along dim (the gradient of cumsum), itself differentiable.
Tensor reverse_cumsum(const Tensor& g, int64_t dim);

}  // namespace strata::autograd
