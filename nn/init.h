#pragma once
// Parameter initialisers with PyTorch's formulas (torch.nn.init), the ones fastai's layers call.
// Each fills a tensor in place under no-grad (so it works on parameters that require grad), draws
// from the global generator (tensor/ops/random.h: manual_seed makes it reproducible) unless a
// generator is passed, and returns the tensor.
//
//   nn::kaiming_normal_(conv->weight);                          // fastai's default conv init
//   nn::kaiming_uniform_(lin->weight, std::sqrt(5.0));          // PyTorch's default Linear init
//   nn::zeros_(lin->bias);
//
// Fans follow PyTorch: for a weight [out, in, *kernel], fan_in = in * prod(kernel) and
// fan_out = out * prod(kernel); the tensor needs at least 2 dims.
//
// nn::normal_ / nn::uniform_ share their names with strata::normal_ / strata::uniform_ (which do
// not turn off grad recording); call them qualified (nn::normal_) inside namespace strata::nn.
#include <cstdint>
#include <utility>

#include "tensor/ops/random.h"
#include "tensor/tensor.h"

namespace strata::nn {

enum class FanMode { FanIn, FanOut };
enum class Nonlinearity { Linear, Conv1d, Conv2d, ConvTranspose2d, Sigmoid, Tanh, ReLU, LeakyReLU, SELU };

// The recommended gain for a nonlinearity: 1 for linear/conv/sigmoid, 5/3 for tanh, sqrt(2) for
// ReLU, sqrt(2 / (1 + slope^2)) for LeakyReLU (param = negative slope), 3/4 for SELU.
double calculate_gain(Nonlinearity nl, double param = 0.01);

// (fan_in, fan_out) of a weight of at least 2 dims.
std::pair<int64_t, int64_t> fan_in_and_fan_out(const Tensor& w);

// N(0, std) with std = gain / sqrt(fan), gain = calculate_gain(nl, a). PyTorch's default
// nonlinearity is leaky_relu with a = 0, the same gain as ReLU (sqrt(2)).
Tensor kaiming_normal_(Tensor w, double a = 0, FanMode mode = FanMode::FanIn,
                       Nonlinearity nl = Nonlinearity::LeakyReLU, Generator* gen = nullptr);
// U(-b, b) with b = gain * sqrt(3 / fan).
Tensor kaiming_uniform_(Tensor w, double a = 0, FanMode mode = FanMode::FanIn,
                        Nonlinearity nl = Nonlinearity::LeakyReLU, Generator* gen = nullptr);
// N(0, std) with std = gain * sqrt(2 / (fan_in + fan_out)).
Tensor xavier_normal_(Tensor w, double gain = 1.0, Generator* gen = nullptr);
// U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out)).
Tensor xavier_uniform_(Tensor w, double gain = 1.0, Generator* gen = nullptr);

Tensor normal_(Tensor w, double mean = 0.0, double std = 1.0, Generator* gen = nullptr);
Tensor uniform_(Tensor w, double low = 0.0, double high = 1.0, Generator* gen = nullptr);
// N(mean, std) redrawn until inside [low, high] (PyTorch's trunc_normal_, default bounds +-2).
Tensor trunc_normal_(Tensor w, double mean = 0.0, double std = 1.0, double low = -2.0, double high = 2.0,
                     Generator* gen = nullptr);
Tensor constant_(Tensor w, double value);
Tensor zeros_(Tensor w);
Tensor ones_(Tensor w);

}  // namespace strata::nn
