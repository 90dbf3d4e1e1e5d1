#pragma once
// Checks shared by op front ends; each names the op and the offending tensors.
#include "tensor/tensor.h"

namespace strata {

void check_defined(const char* op, const Tensor& t, const char* arg = "input");
void check_same_device(const char* op, const Tensor& a, const Tensor& b);
void check_floating(const char* op, const Tensor& t);

// In-place ops: the destination must not be a view whose elements share memory (an expanded
// tensor, stride 0 over a dim of size > 1): every write would land on the same element.
void check_writable(const char* op, const Tensor& dst);

// Whether an in-place op may write a result of dtype `from` into a tensor of dtype `to`
// (PyTorch's can_cast: never floating into integral, never a non-bool into bool).
bool can_cast(DType from, DType to);
void check_can_cast(const char* op, DType result, const Tensor& dst);

// True when a and b share memory without being the very same view (same offset, shape and
// strides): an elementwise kernel writing one while reading the other would read values it
// has already overwritten.
bool overlaps_differently(const Tensor& a, const Tensor& b);

// A view of t converted to `dtype` and expanded to `shape`, for handing to a kernel. Never
// recorded by autograd (the op records itself); copies only when the dtype differs.
Tensor kernel_input(const Tensor& t, DType dtype, const Shape& shape);

}  // namespace strata
