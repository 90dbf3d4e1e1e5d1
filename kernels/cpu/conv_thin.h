#pragma once
// Internal to the CPU convolution: direct kernels for "thin" convolutions, those with few input
// channels (groups == 1, Cin < 8: the first layer of a CNN, 1 or 3 channels). Their im2col matrix
// has only Cin * kh * kw rows, far too short a GEMM dimension, and the GEMM path of
// backward-weight spends most of its time copying and packing. conv.cpp tries these after the
// direct path (kernels/cpu/conv_direct.h, which leaves thin shapes alone) and falls back to
// im2col + GEMM when they return false. See conv_thin.cpp for the layout and the measurements.
#include "kernels/conv.h"

namespace strata::kernels::cpu {

// True when it computed y (forward, + bias when defined), false when the shapes are not its
// business (as below). Same contract as conv2d_forward in kernels/conv.h.
bool conv2d_thin_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& y,
                         const ConvGeometry& g);

// True when it computed gw (overwriting it), false when the shapes are not its business (groups
// > 1, Cin >= 8, dtype other than f32 / f64, or the thin path switched off). Same contract as
// conv2d_backward_weight in kernels/conv.h. Any kernel size, stride, padding and dilation.
bool conv2d_thin_backward_weight(const Tensor& x, const Tensor& gy, const Tensor& gw, const ConvGeometry& g);

// Switches the thin path off (false) or back on, process-wide: for tests and benchmarks that
// compare it with the im2col path. Not to be called while a convolution runs.
void conv2d_set_thin_enabled(bool enabled);
bool conv2d_thin_enabled();

}  // namespace strata::kernels::cpu
