#pragma once
// Recording of the matmul family on the autograd graph. Each call is a no-op unless grad mode is
// on and an input requires grad; the formulas live in matmul.cpp.
//
// matmul, mm, bmm and dot all end in one batched product (a: [..., m, k] @ b: [..., k, n], batch
// dims broadcasting); their 1-d cases are views around it, whose gradients the view nodes handle.
#include "tensor/tensor.h"

namespace strata::autograd {

// out = a @ b with a, b of >= 2 dims; the node is MmBackward (both 2-d) or BmmBackward.
void record_matmul(const Tensor& a, const Tensor& b, const Tensor& out);
// out = beta * c + alpha * a @ b (a, b 2-d; c broadcasts to out): AddmmBackward.
void record_addmm(const Tensor& c, const Tensor& a, const Tensor& b, double beta, double alpha, const Tensor& out);
// out = x @ weight^T + bias (x of any leading dims; bias may be undefined): LinearBackward.
void record_linear(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& out);

}  // namespace strata::autograd
