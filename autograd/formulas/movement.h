#pragma once
// Recording of view ops (tensor/tensor.cpp) on the autograd graph.
#include <vector>

#include "tensor/tensor.h"

namespace strata::autograd {

void record_view_reshape(const Tensor& src, const Tensor& out);  // view, reshape, squeeze, alias...
void record_view_permute(const Tensor& src, const Tensor& out, const std::vector<int64_t>& perm);
void record_view_slice(const Tensor& src, const Tensor& out, int64_t dim, int64_t start, int64_t step);
void record_view_select(const Tensor& src, const Tensor& out, int64_t dim, int64_t index);
void record_view_expand(const Tensor& src, const Tensor& out);

}  // namespace strata::autograd
