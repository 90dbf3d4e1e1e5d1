#pragma once
// Checks shared by op front ends; each names the op and the offending tensors.
#include "tensor/tensor.h"

namespace strata {

void check_defined(const char* op, const Tensor& t, const char* arg = "input");
void check_same_device(const char* op, const Tensor& a, const Tensor& b);
void check_floating(const char* op, const Tensor& t);

// A view of t converted to `dtype` and expanded to `shape`, for handing to a kernel. Never
// recorded by autograd (the op records itself); copies only when the dtype differs.
Tensor kernel_input(const Tensor& t, DType dtype, const Shape& shape);

}  // namespace strata
