#pragma once
// Internal to the CPU convolution: backward-data (gx = conv^T(gy, w), conv_transpose2d's forward)
// of strided convolutions on the GEMM's micro-kernel, without the im2col path's column matrix
// and col2im scatter. conv.cpp tries it after the direct path (which takes stride 1) and falls
// back to im2col + GEMM when it returns false. See conv_strided_data.cpp for the method and the
// measurements behind it.
#include "kernels/conv.h"

namespace strata::kernels::cpu {

// Computes gx (and adds bias per gx channel when defined) and returns true, or returns false
// when the shapes are not its business: stride 1 in both dims, fewer than 8 channels per group
// on either side, depthwise, dtypes other than f32 / f64, an empty gy, or the path switched off
// (conv2d_set_strided_data_enabled(false), or the direct path off: conv2d_set_direct_enabled).
// Same contract as conv2d_backward_data in kernels/conv.h (gx's size may include
// conv_transpose2d's output_padding).
bool conv2d_strided_backward_data(const Tensor& gy, const Tensor& w, const Tensor& bias, const Tensor& gx,
                                  const ConvGeometry& g);

// Switches this path off (false) or back on, process-wide: for tests and benchmarks that compare
// it with the im2col path. Not to be called while a convolution runs.
void conv2d_set_strided_data_enabled(bool enabled);
bool conv2d_strided_data_enabled();

}  // namespace strata::kernels::cpu
