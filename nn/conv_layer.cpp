// ConvLayer: builds the chain once in the constructor (fastai's order and initial values); the
// forward is Sequential's. Initialisers run under no-grad through nn/init.h.
#include "nn/conv_layer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "autograd/grad_mode.h"
#include "nn/activation.h"
#include "nn/conv.h"
#include "nn/init.h"
#include "nn/linear.h"
#include "nn/norm.h"
#include "nn/reparam.h"
#include "tensor/error.h"
#include "tensor/ops.h"

namespace strata::nn {

std::string to_string(NormType t) {
  switch (t) {
    case NormType::Batch:
      return "Batch";
    case NormType::BatchZero:
      return "BatchZero";
    case NormType::Weight:
      return "Weight";
    case NormType::Spectral:
      return "Spectral";
    case NormType::Instance:
      return "Instance";
    case NormType::InstanceZero:
      return "InstanceZero";
  }
  return "?";
}

// ---- activation factories ----
namespace act {
ActFactory relu() {
  return [] { return std::make_shared<ReLU>(); };
}
ActFactory leaky_relu(double negative_slope) {
  return [negative_slope] { return std::make_shared<LeakyReLU>(negative_slope); };
}
ActFactory gelu() {
  return [] { return std::make_shared<GELU>(); };
}
ActFactory silu() {
  return [] { return std::make_shared<SiLU>(); };
}
ActFactory mish() {
  return [] { return std::make_shared<Mish>(); };
}
ActFactory sigmoid() {
  return [] { return std::make_shared<Sigmoid>(); };
}
ActFactory tanh() {
  return [] { return std::make_shared<Tanh>(); };
}
ActFactory by_name(const std::string& name) {
  static const std::map<std::string, std::function<ActFactory()>> table = {
      {"relu", [] { return relu(); }},       {"leaky_relu", [] { return leaky_relu(); }},
      {"gelu", [] { return gelu(); }},       {"silu", [] { return silu(); }},
      {"swish", [] { return silu(); }},      {"mish", [] { return mish(); }},
      {"sigmoid", [] { return sigmoid(); }}, {"tanh", [] { return tanh(); }},
      {"none", [] { return ActFactory(); }},
  };
  auto it = table.find(name);
  if (it == table.end()) {
    std::string known;
    for (const auto& [k, v] : table) known += (known.empty() ? "" : ", ") + k;
    STRATA_THROW(ValueError, "activation: unknown name '{}' (known: {})", name, known);
  }
  return it->second();
}
}  // namespace act

// ---- norm layers ----
namespace {

void fill_affine(const Tensor& weight, const Tensor& bias, bool zero) {
  if (!weight.defined()) return;
  constant_(weight, zero ? 0.0 : 1.0);
  constant_(bias, 1e-3);
}

}  // namespace

ModulePtr batch_norm_layer(int64_t nf, int64_t ndim, NormType norm_type) {
  STRATA_CHECK(ndim >= 1 && ndim <= 3, ValueError, "BatchNorm: ndim must be 1, 2 or 3, got {}", ndim);
  std::shared_ptr<BatchNormBase> bn;
  if (ndim == 1) bn = std::make_shared<BatchNorm1d>(nf);
  if (ndim == 2) bn = std::make_shared<BatchNorm2d>(nf);
  if (ndim == 3) bn = std::make_shared<BatchNorm3d>(nf);
  fill_affine(bn->weight, bn->bias, norm_type == NormType::BatchZero);
  return bn;
}

ModulePtr instance_norm_layer(int64_t nf, int64_t ndim, NormType norm_type) {
  STRATA_CHECK(ndim >= 1 && ndim <= 3, ValueError, "InstanceNorm: ndim must be 1, 2 or 3, got {}", ndim);
  std::shared_ptr<InstanceNormBase> in;
  if (ndim == 1) in = std::make_shared<InstanceNorm1d>(nf, 1e-5, /*affine=*/true);
  if (ndim == 2) in = std::make_shared<InstanceNorm2d>(nf, 1e-5, /*affine=*/true);
  if (ndim == 3) in = std::make_shared<InstanceNorm3d>(nf, 1e-5, /*affine=*/true);
  fill_affine(in->weight, in->bias, norm_type == NormType::InstanceZero);
  return in;
}

// ---- init ----
WeightInit default_init_for(const Module* activation) {
  if (!activation) return {};
  const std::string& t = activation->type_name();
  if (t == "ReLU" || t == "ReLU6" || t == "LeakyReLU" || t == "SiLU" || t == "Swish" || t == "Mish")
    return [](Tensor& w) { kaiming_uniform_(w); };
  if (t == "Sigmoid" || t == "Tanh") return [](Tensor& w) { xavier_uniform_(w); };
  return {};
}

WeightInit keep_init() {
  return [](Tensor&) {};
}

// ---- ConvLayer ----
namespace {

struct MadeConv {
  ModulePtr module;
  Tensor weight, bias;
};

MadeConv make_conv(int64_t ni, int64_t nf, const ConvLayerOptions& o, int64_t padding, bool bias) {
  if (o.transpose) {
    STRATA_CHECK(o.ndim == 2, NotImplementedError,
                 "ConvLayer: transpose with ndim {}: the op list has only conv_transpose2d", o.ndim);
    auto c = std::make_shared<ConvTranspose2d>(
        ni, nf, o.ks,
        ConvTransposeOptions{
            .stride = o.stride, .padding = padding, .groups = o.groups, .bias = bias, .dilation = o.dilation});
    return {c, c->weight, c->bias};
  }
  const ConvOptions co{
      .stride = o.stride, .padding = padding, .dilation = o.dilation, .groups = o.groups, .bias = bias};
  if (o.ndim == 1) {
    auto c = std::make_shared<Conv1d>(ni, nf, o.ks, co);
    return {c, c->weight, c->bias};
  }
  STRATA_CHECK(o.ndim == 2, NotImplementedError,
               "ConvLayer: ndim {}: the op list has conv1d and conv2d but no 3-d convolution", o.ndim);
  auto c = std::make_shared<Conv2d>(ni, nf, o.ks, co);
  return {c, c->weight, c->bias};
}

}  // namespace

ConvLayer::ConvLayer(int64_t ni, int64_t nf, const ConvLayerOptions& o) : Sequential("ConvLayer") {
  STRATA_CHECK(o.ks > 0 && o.stride > 0, ValueError, "ConvLayer: ks and stride must be positive, got {} and {}", o.ks,
               o.stride);
  const int64_t padding = o.padding.value_or(o.transpose ? 0 : (o.ks - 1) / 2);
  const bool bn = o.norm_type == NormType::Batch || o.norm_type == NormType::BatchZero;
  const bool inn = o.norm_type == NormType::Instance || o.norm_type == NormType::InstanceZero;
  const bool bias = o.bias.value_or(!(bn || inn));

  MadeConv conv = make_conv(ni, nf, o, padding, bias);
  ModulePtr act = o.act_cls ? o.act_cls() : nullptr;
  // fastai's init_linear: bias from N(0, bias_std), then the weight init (auto: by the activation).
  if (conv.bias.defined() && o.bias_std) {
    if (*o.bias_std != 0)
      nn::normal_(conv.bias, 0.0, *o.bias_std);
    else
      zeros_(conv.bias);
  }
  WeightInit init = o.init ? o.init : default_init_for(act.get());
  if (init) {
    NoGradGuard no_grad;
    init(conv.weight);
  }

  if (o.norm_type == NormType::Weight)
    push_back(weight_norm(conv.module));
  else if (o.norm_type == NormType::Spectral)
    push_back(spectral_norm(conv.module));
  else
    push_back(conv.module);
  std::vector<ModulePtr> act_bn;
  if (act) act_bn.push_back(act);
  if (bn) act_bn.push_back(batch_norm_layer(nf, o.ndim, *o.norm_type));
  if (inn) act_bn.push_back(instance_norm_layer(nf, o.ndim, *o.norm_type));
  if (o.bn_1st) std::reverse(act_bn.begin(), act_bn.end());
  for (auto& m : act_bn) push_back(m);
  if (o.xtra) push_back(o.xtra);
}

Tensor ConvLayer::conv_weight() const {
  ModulePtr c = conv();
  if (c->has_parameter("weight_v")) return c->parameter("weight_v");
  if (c->has_parameter("weight_orig")) return c->parameter("weight_orig");
  return c->parameter("weight");
}

// ---- init_cnn ----
void init_cnn(Module& model) {
  model.apply([](Module& m) {
    if (m.has_parameter("bias")) {
      Tensor b = m.parameter("bias");
      if (b.defined()) zeros_(b);
    }
    // Weight- or spectral-normalised layers have no "weight" parameter: fastai's init_cnn then
    // initialises a derived tensor that the next forward recomputes, i.e. nothing; so do we.
    const std::string& t = m.type_name();
    if ((t == "Conv1d" || t == "Conv2d" || t == "Linear") && m.has_parameter("weight"))
      kaiming_normal_(m.parameter("weight"));
  });
}

}  // namespace strata::nn
