#pragma once
// A model summary in the layout of fastai's learn.summary(): one row per leaf module (a module
// without children) in call order with its type, output shape, parameter count, trainable flag
// and FLOPs, then the totals.
//
//   std::cout << nn::summary(*model, {1, 3, 64, 64});
//
// It runs one forward on zeros of input_shape (the dtype and device of the model's first
// parameter) under no-grad in eval mode (the mode is restored afterwards), recording rows with
// forward hooks. FLOPs count a multiply-add as 2: Linear 2 * in * out per item, convolutions
// 2 * (Cin / groups) * k * k per output element (ConvTranspose2d: per input element times
// Cout / groups); normalization, activation and pooling layers count one per output element;
// reshaping layers (Flatten, Identity, Dropout) count 0.
#include <cstdint>
#include <string>
#include <vector>

#include "nn/module.h"

namespace strata::nn {

struct LayerInfo {
  std::string name;       // full module name ("0.conv")
  std::string type;       // "Conv2d"
  Shape output_shape;
  int64_t params = 0;     // the module's own parameters
  bool trainable = false; // any own parameter requires grad
  int64_t flops = 0;
};

// The rows of the summary, one per leaf-module call.
std::vector<LayerInfo> layer_info(Module& model, const Shape& input_shape);
// With given inputs, for models with several (tabular: categorical i64 and continuous floats);
// they are used as they are (dtype, device).
std::vector<LayerInfo> layer_info(Module& model, const std::vector<Tensor>& inputs);

std::string summary(Module& model, const Shape& input_shape);
std::string summary(Module& model, const std::vector<Tensor>& inputs);

}  // namespace strata::nn
