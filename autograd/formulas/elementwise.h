#pragma once
// Recording of elementwise ops on the autograd graph. Each call is a no-op unless grad mode is on
// and an input requires grad; the formulas live in elementwise.cpp.
#include "kernels/elementwise.h"

namespace strata::autograd {

void record_unary(kernels::UnaryOp op, const Tensor& x, const Tensor& out, double p0, double p1);
void record_binary(kernels::BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out);
void record_where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out);
void record_lerp(const Tensor& a, const Tensor& b, const Tensor& w, const Tensor& out);
void record_to_dtype(const Tensor& x, const Tensor& out);    // gradient converted back
void record_to_device(const Tensor& x, const Tensor& out);   // gradient moved back
void record_identity(const Tensor& x, const Tensor& out, const char* name);  // clone, contiguous

}  // namespace strata::autograd
