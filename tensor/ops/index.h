#pragma once
// Indexing, joining and splitting. Index tensors are i64 (i32 accepted); out-of-range indices
// throw IndexError naming the op, the offending index and the size.
//
//   Tensor rows = strata::index_select(x, 0, idx);
//   Tensor y = strata::cat({a, b}, 1);
#include <vector>

#include "tensor/tensor.h"

namespace strata {

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);
// Out of place: a copy of x with src scattered (replacing / adding) at index along dim.
Tensor scatter(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src);
Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src);
Tensor index_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src);
// In place, not recorded by autograd (for accumulating into a fresh buffer, e.g. an embedding
// gradient): x must not require grad in grad mode, and src must not need a gradient.
Tensor& index_add_(Tensor& x, int64_t dim, const Tensor& index, const Tensor& src);
Tensor& scatter_add_(Tensor& x, int64_t dim, const Tensor& index, const Tensor& src);
Tensor masked_fill(const Tensor& x, const Tensor& mask, double value);  // mask broadcasts to x
Tensor masked_select(const Tensor& x, const Tensor& mask);  // 1-d result, elements where mask is true
Tensor nonzero(const Tensor& x);                            // [n, ndim] i64 coordinates
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim = 0);
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim = 0);
std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t dim = 0);
std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim = 0);
std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim = 0);
std::vector<Tensor> unbind(const Tensor& x, int64_t dim = 0);
Tensor one_hot(const Tensor& labels, int64_t num_classes);  // i64 in, i64 out

}  // namespace strata
