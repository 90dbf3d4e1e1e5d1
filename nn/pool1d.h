#pragma once
// 1-d pooling layers (torch.nn.AvgPool1d, MaxPool1d, AdaptiveAvgPool1d) over [N, C, L] or
// [C, L], for fastai's ndim=1 models (XResNet over sequences). Each runs the 2-d op on a unit
// height, so it shares the 2-d kernels and their gradients.
//
//   auto pool = std::make_shared<nn::AvgPool1d>(2, 0, 0, /*ceil_mode=*/true);   // L -> ceil(L / 2)
#include <cstdint>

#include "nn/module.h"

namespace strata::nn {

class AvgPool1d : public Module {
 public:
  // stride 0 means kernel_size.
  explicit AvgPool1d(int64_t kernel_size, int64_t stride = 0, int64_t padding = 0, bool ceil_mode = false);
  Tensor forward(const Tensor& x) override;
  using Module::forward;
  std::string extra_repr() const override;
  int64_t kernel_size, stride, padding;
  bool ceil_mode;
};

class MaxPool1d : public Module {
 public:
  explicit MaxPool1d(int64_t kernel_size, int64_t stride = 0, int64_t padding = 0, bool ceil_mode = false);
  Tensor forward(const Tensor& x) override;
  using Module::forward;
  std::string extra_repr() const override;
  int64_t kernel_size, stride, padding;
  bool ceil_mode;
};

class AdaptiveAvgPool1d : public Module {
 public:
  explicit AdaptiveAvgPool1d(int64_t output_size) : Module("AdaptiveAvgPool1d"), output_size(output_size) {}
  Tensor forward(const Tensor& x) override;
  using Module::forward;
  std::string extra_repr() const override;
  int64_t output_size;
};

}  // namespace strata::nn
