#pragma once
// fastai's self-attention layers over the spatial positions of a feature map.
//
//   auto sa = std::make_shared<nn::SelfAttention>(64);   // [N, 64, H, W] -> same shape
//
// SelfAttention (SAGAN, https://arxiv.org/abs/1805.08318): the map is flattened to [N, C, L]
// (L = H * W); query f and key g are 1x1 convs to C / 8 channels, value h a 1x1 conv to C;
// beta = softmax(f^T g) over dim 1 (fastai's choice), out = gamma * (h beta) + x. gamma is a
// parameter [1] starting at 0, so the layer is the identity until training moves it.
// query/key/value are ConvLayers (ks 1, ndim 1, spectral norm, no activation, no bias): keys
// "query.0.weight_orig", "query.0.weight_u", "query.0.weight_v" as in fastai.
//
// SimpleSelfAttention (fastai's, used by XResNet's `sa` option): out = gamma * (x x^T) conv(x) + x
// with one spectrally normalised conv of C -> C channels and kernel ks (kaiming-normal init; keys
// "conv.weight_orig", ...). With sym the normalised weight is symmetrised, (w + w^T) / 2, before
// use. (fastai assigns the symmetric weight to the conv, but spectral norm's forward hook then
// recomputes the weight, so there sym has no effect; here it does what it says.)
#include <cstdint>
#include <memory>

#include "nn/module.h"

namespace strata::nn {

class SelfAttention : public Module {
 public:
  explicit SelfAttention(int64_t n_channels);
  Tensor forward(const Tensor& x) override;  // [N, C, *spatial]
  using Module::forward;
  int64_t n_channels;
  ModulePtr query, key, value;
  Tensor gamma;
};

class SpectralNorm;

class SimpleSelfAttention : public Module {
 public:
  SimpleSelfAttention(int64_t n_in, int64_t ks = 1, bool sym = false);
  Tensor forward(const Tensor& x) override;  // [N, C, *spatial]
  using Module::forward;
  std::string extra_repr() const override;
  int64_t n_in, ks;
  bool sym;
  std::shared_ptr<SpectralNorm> conv;  // around a Conv1d
  Tensor gamma;
};

}  // namespace strata::nn
