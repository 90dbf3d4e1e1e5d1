#pragma once
// Convolution layers (torch.nn.Conv1d / Conv2d / ConvTranspose2d) over strata::conv1d / conv2d /
// conv_transpose2d. Square kernels, one stride/padding/dilation for every spatial dim. Weights:
// Conv [out, in / groups, k(, k)], ConvTranspose2d [in, out / groups, k, k]. PyTorch's init:
// weight kaiming_uniform(a = sqrt(5)), bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in from
// the weight (in / groups * k * k for a conv, out / groups * k * k for a transposed conv).
//
//   auto conv = std::make_shared<nn::Conv2d>(3, 64, 7, nn::ConvOptions{.stride = 2, .padding = 3, .bias = false});
#include <cstdint>

#include "nn/module.h"
#include "tensor/ops/conv.h"

namespace strata::nn {

struct ConvOptions {
  int64_t stride = 1;
  int64_t padding = 0;
  int64_t dilation = 1;
  int64_t groups = 1;
  bool bias = true;
  ConvAlgorithm algorithm = ConvAlgorithm::automatic;  // CUDA only (tensor/ops/conv.h)
};

struct ConvTransposeOptions {
  int64_t stride = 1;
  int64_t padding = 0;
  int64_t output_padding = 0;
  int64_t groups = 1;
  bool bias = true;
  int64_t dilation = 1;
  ConvAlgorithm algorithm = ConvAlgorithm::automatic;  // CUDA only (tensor/ops/conv.h)
};

class Conv2d : public Module {
 public:
  Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel_size, ConvOptions opts = {});
  Tensor forward(const Tensor& x) override;  // [N, Cin, H, W] or [Cin, H, W]
  using Module::forward;
  std::string extra_repr() const override;
  void reset_parameters();

  int64_t in_channels, out_channels, kernel_size;
  ConvOptions options;
  Tensor weight, bias;
};

class Conv1d : public Module {
 public:
  Conv1d(int64_t in_channels, int64_t out_channels, int64_t kernel_size, ConvOptions opts = {});
  Tensor forward(const Tensor& x) override;  // [N, Cin, L] or [Cin, L]
  using Module::forward;
  std::string extra_repr() const override;
  void reset_parameters();

  int64_t in_channels, out_channels, kernel_size;
  ConvOptions options;
  Tensor weight, bias;
};

class ConvTranspose2d : public Module {
 public:
  ConvTranspose2d(int64_t in_channels, int64_t out_channels, int64_t kernel_size, ConvTransposeOptions opts = {});
  Tensor forward(const Tensor& x) override;  // [N, Cin, H, W] or [Cin, H, W]
  using Module::forward;
  std::string extra_repr() const override;
  void reset_parameters();

  int64_t in_channels, out_channels, kernel_size;
  ConvTransposeOptions options;
  Tensor weight, bias;
};

}  // namespace strata::nn
