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

// Fused unary backward (kernels/defs/unary_backward.def): out = g * d op/dx, from the saved
// input or output v. g, v and out are floating, of one dtype, shape and device.
bool has_unary_backward(UnaryOp op, Device device);  // a fused kernel exists for op on device
bool unary_backward_reads_output(UnaryOp op);        // v is the op's output (else its input)
void unary_backward(UnaryOp op, const Tensor& g, const Tensor& v, const Tensor& out, double p0, double p1);

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
void unary_backward(UnaryOp op, const Tensor& g, const Tensor& v, const Tensor& out, double p0, double p1);
}  // namespace cpu

}  // namespace strata::kernels
