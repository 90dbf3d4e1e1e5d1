// Activation layers: each forward is one elementwise op (all have fused kernels and backward).
#include "nn/activation.h"

#include <fmt/format.h>

#include <cmath>

#include "tensor/error.h"
#include "tensor/ops.h"

namespace strata::nn {

Tensor ReLU::forward(const Tensor& x) { return relu(x); }
Tensor LeakyReLU::forward(const Tensor& x) { return leaky_relu(x, negative_slope); }
std::string LeakyReLU::extra_repr() const { return fmt::format("negative_slope={}", negative_slope); }
Tensor GELU::forward(const Tensor& x) {
  if (!tanh_approximation) return gelu(x);
  const double k = 0.7978845608028654;  // sqrt(2 / pi)
  return x * 0.5 * (1.0 + tanh((x + pow(x, 3.0) * 0.044715) * k));
}
std::string GELU::extra_repr() const { return tanh_approximation ? "approximate='tanh'" : ""; }
Tensor Softplus::forward(const Tensor& x) { return softplus(x); }
Tensor SiLU::forward(const Tensor& x) { return silu(x); }
Tensor Mish::forward(const Tensor& x) { return mish(x); }
Tensor Sigmoid::forward(const Tensor& x) { return sigmoid(x); }
Tensor Tanh::forward(const Tensor& x) { return tanh(x); }

SigmoidRange::SigmoidRange(double low_, double high_) : Module("SigmoidRange"), low(low_), high(high_) {
  STRATA_CHECK(low < high, ValueError, "SigmoidRange: low ({}) must be below high ({})", low, high);
}
Tensor SigmoidRange::forward(const Tensor& x) { return sigmoid_range(x, low, high); }
std::string SigmoidRange::extra_repr() const { return fmt::format("low={}, high={}", low, high); }

Tensor Softmax::forward(const Tensor& x) { return softmax(x, dim); }
std::string Softmax::extra_repr() const { return fmt::format("dim={}", dim); }
Tensor LogSoftmax::forward(const Tensor& x) { return log_softmax(x, dim); }
std::string LogSoftmax::extra_repr() const { return fmt::format("dim={}", dim); }

}  // namespace strata::nn
