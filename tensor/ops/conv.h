#pragma once
// Convolutions with PyTorch semantics (torch.nn.functional.conv1d / conv2d / conv_transpose2d).
//
//   Tensor y = strata::conv2d(x, w, b, {.stride = {2, 2}, .padding = {1, 1}});
//   Tensor z = strata::conv_transpose2d(y, w2, {}, {.stride = {2, 2}, .output_padding = {1, 1}});
//
// Layouts are NCHW. x is [N, Cin, H, W] or unbatched [Cin, H, W] (the result is then unbatched
// too); conv2d's weight is [Cout, Cin / groups, kh, kw], conv_transpose2d's is
// [Cin, Cout / groups, kh, kw] (the same tensor that conv2d uses in the other direction); bias is
// [Cout] or undefined. Inputs share one floating dtype: f32 and f64 run directly, f16 and bf16 are
// computed in f32 and rounded back. Non-contiguous inputs are copied.
//
// Output size per spatial dim:
//   conv:            (in + 2 * padding - dilation * (k - 1) - 1) / stride + 1
//   conv_transpose:  (in - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1
// All three are differentiable in x, weight and bias; each backward pass is its own kernel
// (backward-data is a transposed convolution, backward-weight an im2col^T GEMM).
//
// Algorithm choice (CUDA only; the CPU has one implementation and ignores the field):
//   automatic      cuDNN in builds with it (STRATA_WITH_CUDNN), else implicit_gemm
//   cudnn          cuDNN; a DeviceError naming the op in a build without cuDNN
//   implicit_gemm  Strata's own implicit-GEMM kernels (kernels/cuda/conv_implicit_gemm.cu)
// The autograd nodes keep the choice, so the backward pass of a conv runs the same algorithm.
//
//   Tensor y = strata::conv2d(x, w, b, {.padding = {1, 1}, .algorithm = strata::ConvAlgorithm::implicit_gemm});
#include <array>
#include <cstdint>

#include "tensor/tensor.h"

namespace strata {

enum class ConvAlgorithm { automatic, cudnn, implicit_gemm };

struct Conv2dOptions {
  std::array<int64_t, 2> stride{1, 1};
  std::array<int64_t, 2> padding{0, 0};
  std::array<int64_t, 2> dilation{1, 1};
  int64_t groups = 1;
  ConvAlgorithm algorithm = ConvAlgorithm::automatic;  // CUDA only, see above
};

struct ConvTranspose2dOptions {
  std::array<int64_t, 2> stride{1, 1};
  std::array<int64_t, 2> padding{0, 0};
  std::array<int64_t, 2> output_padding{0, 0};  // < stride or < dilation, per dim
  std::array<int64_t, 2> dilation{1, 1};
  int64_t groups = 1;
  ConvAlgorithm algorithm = ConvAlgorithm::automatic;  // CUDA only, see above
};

struct Conv1dOptions {
  int64_t stride = 1;
  int64_t padding = 0;
  int64_t dilation = 1;
  int64_t groups = 1;
  ConvAlgorithm algorithm = ConvAlgorithm::automatic;  // CUDA only, see above
};

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(), const Conv2dOptions& opts = {});
// x [N, Cin, L] or [Cin, L], weight [Cout, Cin / groups, k]: conv2d over a unit height.
Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(), const Conv1dOptions& opts = {});
Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(),
                        const ConvTranspose2dOptions& opts = {});

// The weight gradient of y = conv2d(x, w, {}, opts) given grad_y, as a tensor of weight_shape:
// the backward-weight kernel on its own (used by the autograd formulas; not itself recorded).
// x is 4-d [N, Cin, H, W], grad_y 4-d [N, Cout, Ho, Wo].
Tensor conv2d_weight_grad(const Tensor& x, const Tensor& grad_y, const Shape& weight_shape, const Conv2dOptions& opts);

}  // namespace strata
