#pragma once
// Elementwise kernel entry points, one per op shape (unary, binary, ternary, copy, fill).
// Front ends (tensor/ops/elementwise.cpp) check and allocate; these pick the device and run.
// Inputs are already converted to the compute dtype and broadcast (expanded) to out's shape.
#include <cstdint>

#include "tensor/tensor.h"

namespace strata::kernels {

enum class UnaryOp : uint8_t {
#define UNARY(name, F, diff) name,
#include "kernels/defs/unary.def"
#undef UNARY
#define UNARY_P(name, F, diff) name,
#include "kernels/defs/unary_param.def"
#undef UNARY_P
};

enum class BinaryOp : uint8_t {
#define BINARY(name, F, diff) name,
#include "kernels/defs/binary.def"
#undef BINARY
#define COMPARE(name, F) name,
#include "kernels/defs/compare.def"
#undef COMPARE
};

bool is_compare(BinaryOp op);

void unary(UnaryOp op, const Tensor& x, const Tensor& out, double p0 = 0, double p1 = 0);
void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out);
void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out);  // cond: bool
void lerp(const Tensor& a, const Tensor& b, const Tensor& w, const Tensor& out);
// dst = src, converting dtype; src has dst's shape (possibly an expanded view).
void copy(const Tensor& src, const Tensor& dst);
void fill(const Tensor& dst, double value);

namespace cpu {
void unary(UnaryOp op, const Tensor& x, const Tensor& out, double p0, double p1);
void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out);
void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out);
void lerp(const Tensor& a, const Tensor& b, const Tensor& w, const Tensor& out);
void copy(const Tensor& src, const Tensor& dst);
void fill(const Tensor& dst, double value);
}  // namespace cpu

}  // namespace strata::kernels
