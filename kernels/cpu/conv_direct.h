#pragma once
// Internal to the CPU convolution: the direct (implicit-GEMM) path on the GEMM's register-blocked
// micro-kernel, without an im2col matrix (forward and backward-weight for any stride,
// backward-data for stride 1). conv.cpp tries it first and falls back to im2col + GEMM when it
// returns false (strided backward-data, thin channel counts, shapes it does not cover). See conv_direct.cpp for the layouts and the measurements behind them.
#include "kernels/conv.h"

namespace strata::kernels::cpu {

// Each returns true when it computed the result, false when the shapes are not its business
// (the caller then runs the im2col path). Same contracts as conv2d_forward / _backward_data /
// _backward_weight in kernels/conv.h.
bool conv2d_direct_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& y,
                           const ConvGeometry& g);
bool conv2d_direct_backward_data(const Tensor& gy, const Tensor& w, const Tensor& bias, const Tensor& gx,
                                 const ConvGeometry& g);
bool conv2d_direct_backward_weight(const Tensor& x, const Tensor& gy, const Tensor& gw, const ConvGeometry& g);

// Switches the direct path off (false) or back on, process-wide: for tests and benchmarks that
// compare it with the im2col path. Not to be called while a convolution runs.
void conv2d_set_direct_enabled(bool enabled);
bool conv2d_direct_enabled();
// Switches the in-place correlation (packing-free forward / stride-1 backward-data of the direct
// path, see plan_in_place) off or back on; off, those shapes use packed panels. Same caveats.
void conv2d_set_in_place_enabled(bool enabled);

}  // namespace strata::kernels::cpu
