#pragma once
// Activation layers: parameter-free modules over the elementwise ops, for models written as
// layer lists (fastai's ConvLayer takes an activation class). Names and defaults follow PyTorch
// (torch.nn.ReLU, LeakyReLU(0.01), GELU (exact, erf form), SiLU, Mish, Sigmoid, Tanh, Softmax)
// and fastai (SigmoidRange(low, high): sigmoid(x) * (high - low) + low). Swish is SiLU.
//
//   auto act = std::make_shared<nn::LeakyReLU>(0.1);
#include <cstdint>

#include "nn/module.h"

namespace strata::nn {

class ReLU : public Module {
 public:
  ReLU() : Module("ReLU") {}
  Tensor forward(const Tensor& x) override;
  using Module::forward;
};

class LeakyReLU : public Module {
 public:
  explicit LeakyReLU(double negative_slope = 0.01) : Module("LeakyReLU"), negative_slope(negative_slope) {}
  Tensor forward(const Tensor& x) override;
  using Module::forward;
  std::string extra_repr() const override;
  double negative_slope;
};

// Exact (erf) GELU by default; tanh_approximation: 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))
// (PyTorch's approximate='tanh'), composed from differentiable ops.
class GELU : public Module {
 public:
  explicit GELU(bool tanh_approximation = false) : Module("GELU"), tanh_approximation(tanh_approximation) {}
  Tensor forward(const Tensor& x) override;
  using Module::forward;
  std::string extra_repr() const override;
  bool tanh_approximation;
};

// log(1 + exp(x)).
class Softplus : public Module {
 public:
  Softplus() : Module("Softplus") {}
  Tensor forward(const Tensor& x) override;
  using Module::forward;
};

class SiLU : public Module {
 public:
  SiLU() : Module("SiLU") {}
  Tensor forward(const Tensor& x) override;
  using Module::forward;
};
using Swish = SiLU;

class Mish : public Module {
 public:
  Mish() : Module("Mish") {}
  Tensor forward(const Tensor& x) override;
  using Module::forward;
};

class Sigmoid : public Module {
 public:
  Sigmoid() : Module("Sigmoid") {}
  Tensor forward(const Tensor& x) override;
  using Module::forward;
};

class Tanh : public Module {
 public:
  Tanh() : Module("Tanh") {}
  Tensor forward(const Tensor& x) override;
  using Module::forward;
};

class SigmoidRange : public Module {
 public:
  SigmoidRange(double low, double high);
  Tensor forward(const Tensor& x) override;
  using Module::forward;
  std::string extra_repr() const override;
  double low, high;
};

class Softmax : public Module {
 public:
  explicit Softmax(int64_t dim = -1) : Module("Softmax"), dim(dim) {}
  Tensor forward(const Tensor& x) override;
  using Module::forward;
  std::string extra_repr() const override;
  int64_t dim;
};

class LogSoftmax : public Module {
 public:
  explicit LogSoftmax(int64_t dim = -1) : Module("LogSoftmax"), dim(dim) {}
  Tensor forward(const Tensor& x) override;
  using Module::forward;
  std::string extra_repr() const override;
  int64_t dim;
};

}  // namespace strata::nn
