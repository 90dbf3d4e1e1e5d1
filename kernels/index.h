#pragma once
// Indexing and joining kernel entry points (gather/scatter, index_select/index_add, cat,
// nonzero). Front ends (tensor/ops/index.cpp, join.cpp) check shapes, dtypes and index ranges
// and allocate; these pick the device and run. Index tensors are i64 or i32, any layout, with
// every value already known to be in range.
//
// The scatter family (scatter, scatter_add, index_add) writes into `out` in place and is
// deterministic: each output slice along `dim` is written by one thread, in index order, so
// duplicate indices resolve the same way for any thread count (scatter: the last one wins).
#include <cstdint>
#include <utility>
#include <vector>

#include "tensor/tensor.h"

namespace strata::kernels {

enum class ScatterMode : uint8_t { assign, add };

// Smallest and largest value of a non-empty integer index tensor.
std::pair<int64_t, int64_t> index_min_max(const Tensor& index);

// out[.., j, ..] = x[.., index[j], ..] along dim; index is 1-d, out has x's shape with
// out.size(dim) == index.numel(). out is contiguous.
void index_select(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& out);
// out[.., index[j], ..] += src[.., j, ..] along dim (in place); index is 1-d.
void index_add(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src);
// out[p] = x[p with p[dim] = index[p]]; out has index's shape, x and index the same ndim.
void gather(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& out);
// out[p with p[dim] = index[p]] (=|+=) src[p] for every position p of index (in place).
void scatter(ScatterMode mode, const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src);
// Concatenates `inputs` along dim into the contiguous `out` (inputs of any dtype are converted).
void cat(const std::vector<Tensor>& inputs, int64_t dim, const Tensor& out);
// [n, ndim] i64 coordinates of the non-zero elements of x, in row-major order.
Tensor nonzero(const Tensor& x);

namespace cpu {
std::pair<int64_t, int64_t> index_min_max(const Tensor& index);
void index_select(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& out);
void index_add(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src);
void gather(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& out);
void scatter(ScatterMode mode, const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src);
void cat(const std::vector<Tensor>& inputs, int64_t dim, const Tensor& out);
Tensor nonzero(const Tensor& x);
}  // namespace cpu

}  // namespace strata::kernels
