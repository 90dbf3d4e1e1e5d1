#pragma once
// Architectures by name, for configs, the command line and export:
//
//   auto model = nn::create_model("xresnet34", {.n_out = 10, .extras = {{"act", "mish"}, {"p", "0.2"}}});
//   for (const auto& name : nn::list_models()) ...;   // "resnet18", ..., "xse_resnext50"
//
// Every factory takes the same small config: n_out (classes), c_in (input channels) and string
// extras the architecture understands. XResNet family extras: "p" (dropout), "widen", "sa"
// (true/false), "sym", "act" (relu, leaky_relu, gelu, silu/swish, mish, sigmoid, tanh, none),
// "ks", "stride", "stem_szs" ("32,32,64"), "groups", "reduction", "dw", "g2", "pool_first", "ndim".
// torchvision ResNets take no extras (c_in changes conv1's input channels). An unknown model name
// or extra key throws ValueError listing the known ones; a malformed value names the key.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "nn/module.h"

namespace strata::nn {

struct ModelConfig {
  int64_t n_out = 1000;
  int64_t c_in = 3;
  std::map<std::string, std::string> extras{};
};

using ModelFactory = std::function<ModulePtr(const ModelConfig&)>;

// Name -> factory, pre-filled with the built-in architectures; add entries to register more.
std::map<std::string, ModelFactory>& model_registry();
ModulePtr create_model(const std::string& name, const ModelConfig& config = {});
std::vector<std::string> list_models();  // sorted

}  // namespace strata::nn
