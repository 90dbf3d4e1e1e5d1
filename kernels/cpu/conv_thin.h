#pragma once
// Internal to the CPU convolution: direct kernels for "thin" convolutions, those with few input
// channels (groups == 1, Cin < 8: the first layer of a CNN, 1 or 3 channels). Their im2col matrix
// has only Cin * kh * kw rows, far too short a GEMM dimension, and the GEMM path of
// backward-weight spends most of its time copying and packing. conv.cpp tries these after the
// direct path (kernels/cpu/conv_direct.h, which leaves thin shapes alone) and falls back to
// im2col + GEMM when they return false. Backward-data stays on im2col + GEMM. See conv_thin.cpp
// for the layout and the measurements.
#include "kernels/conv.h"

namespace strata::kernels::cpu {

// Both return true when they computed the result, false when the shapes are not their business
// (the caller then runs im2col + GEMM): groups > 1, Cin >= 8, a dtype other than f32 / f64, the
// thin path switched off, and the shapes where the GEMM measured faster (see conv_thin.cpp).

// y = conv(x, w) + bias (bias may be undefined), as conv2d_forward in kernels/conv.h. Only
// vertical stride 1 (any kernel size, horizontal stride, padding, dilation) and images whose
// kw shifted copies hold at most 2^18 elements.
bool conv2d_thin_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& y,
                         const ConvGeometry& g);

// gw (overwritten), as conv2d_backward_weight in kernels/conv.h. Any kernel size, stride,
// padding and dilation, except vertically strided convolutions with Cin * kh * kw > 32 (or
// stride 1 with images too big for the shifted copies and Cin * kh * kw > 32). Bitwise the same
// for any thread count.
bool conv2d_thin_backward_weight(const Tensor& x, const Tensor& gy, const Tensor& gw, const ConvGeometry& g);

// Switches the thin path off (false) or back on, process-wide: for tests and benchmarks that
// compare it with the im2col path. Not to be called while a convolution runs.
void conv2d_set_thin_enabled(bool enabled);
bool conv2d_thin_enabled();

}  // namespace strata::kernels::cpu
