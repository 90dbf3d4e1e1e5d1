#pragma once
// Convolution kernels behind the device switch (CPU: kernels/cpu/conv.cpp; CUDA: the table's
// conv_* entries). Front ends (tensor/ops/conv.cpp) check shapes, convert dtypes and allocate;
// these run. All tensors are contiguous, 4-d NCHW, of one dtype (f32 or f64).
//
// The three kernels are the three products of one convolution y = conv(x, w):
//   forward:          y  = conv(x, w) + bias            (bias may be undefined)
//   backward_data:    gx = conv^T(gy, w)                (= conv_transpose2d's forward)
//   backward_weight:  gw = correlation of gy with x     (overwrites gw)
// with x [N, Cin, H, W], w [Cout, Cin / groups, kh, kw], y / gy [N, Cout, Ho, Wo].
#include <cstdint>

#include "tensor/ops/conv.h"
#include "tensor/tensor.h"

namespace strata::kernels {

struct ConvGeometry {
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_h = 0, pad_w = 0;
  int64_t dil_h = 1, dil_w = 1;
  int64_t groups = 1;
  // Which implementation a CUDA kernel runs (tensor/ops/conv.h); the CPU kernels ignore it.
  ConvAlgorithm algorithm = ConvAlgorithm::automatic;
};

// The geometry of a conv2d / conv_transpose2d call (conv_transpose2d's output_padding is not part
// of it: it lives in the output's size).
ConvGeometry conv_geometry(const Conv2dOptions& o);
ConvGeometry conv_geometry(const ConvTranspose2dOptions& o);

// The algorithm a CUDA conv kernel runs for `requested`: automatic becomes cudnn when the build
// has cuDNN (`cudnn_built`), else implicit_gemm; cudnn without cuDNN is a DeviceError naming `op`.
ConvAlgorithm resolve_conv_algorithm(ConvAlgorithm requested, bool cudnn_built, const char* op);
const char* conv_algorithm_name(ConvAlgorithm a);

// The algorithm that the CUDA conv kernels last ran, per product (what tests read to see that a
// choice reaches the kernels and that a backward pass keeps its forward's choice); automatic until
// a CUDA conv has run. Set by the CUDA dispatcher (kernels/cuda/conv_select.cu).
enum class ConvProduct { forward, backward_data, backward_weight };
ConvAlgorithm last_cuda_conv_algorithm(ConvProduct product);
void note_cuda_conv_algorithm(ConvProduct product, ConvAlgorithm algorithm);

void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& y, const ConvGeometry& g);
// gx's spatial size is given by the tensor (conv_transpose2d's output_padding lives there).
void conv2d_backward_data(const Tensor& gy, const Tensor& w, const Tensor& bias, const Tensor& gx,
                          const ConvGeometry& g);
void conv2d_backward_weight(const Tensor& x, const Tensor& gy, const Tensor& gw, const ConvGeometry& g);

namespace cpu {
void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& y, const ConvGeometry& g);
void conv2d_backward_data(const Tensor& gy, const Tensor& w, const Tensor& bias, const Tensor& gx,
                          const ConvGeometry& g);
void conv2d_backward_weight(const Tensor& x, const Tensor& gy, const Tensor& gw, const ConvGeometry& g);
}  // namespace cpu

}  // namespace strata::kernels
