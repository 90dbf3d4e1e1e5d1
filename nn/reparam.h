#pragma once
// Weight normalisation and spectral normalisation of a conv or linear layer, as
// torch.nn.utils.weight_norm / spectral_norm do it (the forms fastai's NormType.Weight and
// NormType.Spectral use), with PyTorch's state dict names:
//
//   auto conv = nn::weight_norm(std::make_shared<nn::Conv2d>(16, 32, 3));   // bias, weight_g, weight_v
//   auto sn = nn::spectral_norm(std::make_shared<nn::Conv1d>(64, 8, 1));    // bias, weight_orig, weight_u, weight_v
//
// Each wraps the layer and takes its place (same type name, so the model prints the same): its
// own parameters replace the layer's "weight", and every forward computes the weight, hands it to
// the layer (through the layer's public `weight` handle) and runs the layer's forward. The
// layer's bias stays shared.
//
// WeightNorm: weight = g * v / ||v||, the norm over every dim but 0 (PyTorch's default dim, which
// it uses for a transposed conv too). At wrap time v is the layer's weight and g its norm, so the layer computes
// the same function as before.
// SpectralNorm: weight = weight_orig / sigma, sigma = u^T W v with W the weight as a matrix
// [size(dim), rest] (dim 0, or 1 for a transposed conv). In training mode each forward first runs
// n_power_iterations of v = normalize(W^T u), u = normalize(W v) (not recorded by autograd, u and v
// updated in place); in eval mode u and v are used as they are. u and v start as normalised
// N(0, 1) draws.
#include <cstdint>
#include <functional>

#include "nn/module.h"

namespace strata::nn {

class WeightNorm : public Module {
 public:
  explicit WeightNorm(ModulePtr layer);
  Tensor forward(const Tensor& x) override;
  using Module::forward;
  std::string extra_repr() const override { return layer->extra_repr(); }
  Tensor compute_weight() const;  // g * v / ||v||
  ModulePtr layer;
  Tensor weight_g, weight_v;
};

class SpectralNorm : public Module {
 public:
  explicit SpectralNorm(ModulePtr layer, int64_t n_power_iterations = 1, double eps = 1e-12);
  Tensor forward(const Tensor& x) override;
  using Module::forward;
  std::string extra_repr() const override { return layer->extra_repr(); }
  // weight_orig / sigma; in training mode after the power iterations (which update u and v).
  Tensor compute_weight();
  ModulePtr layer;
  Tensor weight_orig, weight_u, weight_v;
  int64_t dim, n_power_iterations;
  double eps;
};

std::shared_ptr<WeightNorm> weight_norm(ModulePtr layer);
std::shared_ptr<SpectralNorm> spectral_norm(ModulePtr layer, int64_t n_power_iterations = 1, double eps = 1e-12);

}  // namespace strata::nn
