#pragma once
// The two CUDA implementations of the conv family, behind the dispatcher in conv_select.cu (which
// resolves ConvGeometry::algorithm and registers the CudaTable entries). Same contracts as
// kernels/conv.h: contiguous 4-d NCHW tensors of one dtype (f32 or f64), checked by the front end;
// the outputs are overwritten. The dispatcher sends empty problems (a zero dim anywhere) to the
// implicit GEMM, which handles them, so the cuDNN functions see non-empty tensors only.
#include "kernels/conv.h"

namespace strata::cuda {

// Strata's own kernels (conv_implicit_gemm.cu).
void conv2d_forward_implicit_gemm(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& y,
                                  const kernels::ConvGeometry& g);
void conv2d_backward_data_implicit_gemm(const Tensor& gy, const Tensor& w, const Tensor& bias, const Tensor& gx,
                                        const kernels::ConvGeometry& g);
void conv2d_backward_weight_implicit_gemm(const Tensor& x, const Tensor& gy, const Tensor& gw,
                                          const kernels::ConvGeometry& g);

// Depthwise convolutions under implicit_gemm (conv_depthwise.cu): direct kernels, since the GEMM
// tiles would be 1/64 full. conv2d_is_depthwise: one input and one output channel per group (x
// is the forward input, or backward_data's gx; w the weight or gw).
bool conv2d_is_depthwise(const Tensor& x, const Tensor& w, const kernels::ConvGeometry& g);
void conv2d_forward_depthwise(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& y,
                              const kernels::ConvGeometry& g);
void conv2d_backward_data_depthwise(const Tensor& gy, const Tensor& w, const Tensor& bias, const Tensor& gx,
                                    const kernels::ConvGeometry& g);
void conv2d_backward_weight_depthwise(const Tensor& x, const Tensor& gy, const Tensor& gw,
                                      const kernels::ConvGeometry& g);

#if STRATA_WITH_CUDNN
// cuDNN (conv_cudnn.cu).
void conv2d_forward_cudnn(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& y,
                          const kernels::ConvGeometry& g);
void conv2d_backward_data_cudnn(const Tensor& gy, const Tensor& w, const Tensor& bias, const Tensor& gx,
                                const kernels::ConvGeometry& g);
void conv2d_backward_weight_cudnn(const Tensor& x, const Tensor& gy, const Tensor& gw, const kernels::ConvGeometry& g);
#endif

}  // namespace strata::cuda
