#pragma once
// fastai's ConvLayer and the pieces it is made of: norm types, norm-layer factories with fastai's
// initial values, activation factories ("act_cls") and the weight init chosen by the activation.
//
//   auto c = std::make_shared<nn::ConvLayer>(3, 32, nn::ConvLayerOptions{.stride = 2});  // conv, BN, ReLU
//   nn::ConvLayer d(64, 64, {.norm_type = nn::NormType::BatchZero, .act_cls = nullptr});
//   nn::ConvLayer e(16, 16, {.ks = 1, .norm_type = std::nullopt, .act_cls = nn::act::mish()});
//
// fastai passes an activation *class* and the layer makes its own instance; here that is a
// factory, `std::function<ModulePtr()>`, so each layer gets a fresh module (an empty factory means
// no activation). A ConvLayer is a Sequential named "ConvLayer", children "0" (the conv), then the
// norm and the activation in fastai's order (norm first when bn_1st), then xtra: state dict keys
// are "0.weight", "1.running_mean", ... exactly as in fastai.
//
// Rules copied from fastai (layers.py):
// - padding defaults to (ks - 1) / 2, or 0 for a transposed conv;
// - bias defaults to off when a batch or instance norm follows;
// - the conv weight is initialised from the activation ("auto"): ReLU, LeakyReLU, SiLU and Mish
//   take kaiming_uniform_, Sigmoid and Tanh xavier_uniform_, anything else keeps the conv's own
//   init; a bias is drawn from N(0, bias_std) (zeroed when bias_std is 0);
// - norm layers start with bias 1e-3 and weight 1, or weight 0 for BatchZero / InstanceZero (the
//   zero-gamma trick that makes a residual branch start as nothing).
// - Weight and Spectral wrap the conv in weight_norm / spectral_norm (nn/reparam.h) after its init:
//   keys "0.weight_g", "0.weight_v" or "0.weight_orig", "0.weight_u", "0.weight_v", as in PyTorch.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "nn/module.h"
#include "nn/sequential.h"

namespace strata::nn {

enum class NormType { Batch, BatchZero, Weight, Spectral, Instance, InstanceZero };
std::string to_string(NormType t);

// fastai's act_cls: a factory making a fresh activation module.
using ActFactory = std::function<ModulePtr()>;

namespace act {
ActFactory relu();  // fastai's defaults.activation
ActFactory leaky_relu(double negative_slope = 0.01);
ActFactory gelu();
ActFactory silu();  // Swish
ActFactory mish();
ActFactory sigmoid();
ActFactory tanh();
// By name, for configs: "relu", "leaky_relu", "gelu", "silu" / "swish", "mish", "sigmoid",
// "tanh", "none" (no activation: an empty factory). Unknown names throw ValueError listing these.
ActFactory by_name(const std::string& name);
}  // namespace act

// fastai's BatchNorm(nf, ndim, norm_type): BatchNorm1d/2d/3d with bias 1e-3 and weight 1 (0 for
// BatchZero). ndim 1, 2 or 3.
ModulePtr batch_norm_layer(int64_t nf, int64_t ndim = 2, NormType norm_type = NormType::Batch);
// fastai's InstanceNorm(nf, ndim, norm_type): an affine InstanceNorm1d/2d/3d with the same initial
// values (weight 0 for InstanceZero). ndim 1, 2 or 3.
ModulePtr instance_norm_layer(int64_t nf, int64_t ndim = 2, NormType norm_type = NormType::Instance);

// A weight initialiser, applied in place (no autograd recording).
using WeightInit = std::function<void(Tensor& weight)>;
// The init fastai's "auto" picks for an activation module (by its type name), or an empty
// function when the activation has no preferred init (the layer keeps its own).
WeightInit default_init_for(const Module* activation);
// An init that leaves the weight as the layer made it (fastai's init=None).
WeightInit keep_init();

struct ConvLayerOptions {
  int64_t ks = 3;
  int64_t stride = 1;
  std::optional<int64_t> padding{};                     // default: (ks - 1) / 2, 0 when transpose
  std::optional<bool> bias{};                           // default: off when a batch or instance norm follows
  int64_t ndim = 2;                                     // 1 (Conv1d) or 2 (Conv2d / ConvTranspose2d)
  std::optional<NormType> norm_type = NormType::Batch;  // nullopt: no norm layer
  bool bn_1st = true;                                   // norm before the activation
  ActFactory act_cls = act::relu();                     // nullptr: no activation
  bool transpose = false;
  WeightInit init{};                      // empty: fastai's "auto" (by the activation); keep_init(): none
  ModulePtr xtra{};                       // appended last when set
  std::optional<double> bias_std = 0.01;  // nullopt leaves the bias as the conv made it
  int64_t groups = 1;
  int64_t dilation = 1;
};

class ConvLayer : public Sequential {
 public:
  ConvLayer(int64_t ni, int64_t nf, const ConvLayerOptions& options = {});
  // The conv module (child "0"; a WeightNorm / SpectralNorm wrapper with those norm types) and its
  // trainable weight ("weight", or "weight_v" / "weight_orig" when wrapped), for inits like ICNR.
  ModulePtr conv() const { return (*this)[0]; }
  Tensor conv_weight() const;
};

// Kaiming-normal weights for every Conv1d/Conv2d/Linear and zero for every bias (norm layers'
// included), recursively: fastai's init_cnn, which XResNet applies to itself.
void init_cnn(Module& model);

}  // namespace strata::nn
