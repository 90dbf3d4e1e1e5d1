#pragma once
// Recording of the indexing and joining ops on the autograd graph. Each call is a no-op unless
// grad mode is on and a floating input requires grad; the formulas live in index.cpp.
// `dim` is already wrapped (non-negative); index tensors are saved, never differentiated.
// split, chunk and unbind return views (narrow, select) and need no formula of their own.
#include <vector>

#include "tensor/tensor.h"

namespace strata::autograd {

void record_index_select(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& out);
void record_gather(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& out);
// `add`: scatter_add, else scatter (overwriting).
void record_scatter(bool add, const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src,
                    const Tensor& out);
void record_index_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src, const Tensor& out);
void record_masked_fill(const Tensor& x, const Tensor& mask, const Tensor& out);  // mask: bool
// out = x broadcast to `shape`, flattened, at the flat `positions` (1-d i64).
void record_masked_select(const Tensor& x, const Shape& shape, const Tensor& positions, const Tensor& out);
void record_cat(const std::vector<Tensor>& inputs, int64_t dim, const Tensor& out);
void record_stack(const std::vector<Tensor>& inputs, int64_t dim, const Tensor& out);

}  // namespace strata::autograd
