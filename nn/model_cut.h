#pragma once
// Splitting a model into body and head, the way fastai's cnn_learner does (create_body,
// num_features_model):
//
//   auto body = nn::cut_model(nn::resnet34(), -2);      // drop avgpool and fc
//   int64_t nf = nn::num_features_model(*body);         // 512: the head's input channels
//
// cut_model keeps the model's children [0, cut) (negative counts from the end) in a new
// Sequential; the modules are shared, not copied. num_features_model runs a tiny batch (one
// image of the channels the first 4-d weight expects, 32x32, doubled up to 2048 when the model
// needs a larger input) in eval mode without grad and returns the output's dim 1; the model's
// training mode is restored afterwards.
#include <cstdint>
#include <functional>
#include <memory>

#include "nn/module.h"
#include "nn/sequential.h"

namespace strata::nn {

std::shared_ptr<Sequential> cut_model(const ModulePtr& model, int64_t cut);
// fastai also takes a function that returns the body.
std::shared_ptr<Sequential> cut_model(const ModulePtr& model, const std::function<ModulePtr(const ModulePtr&)>& cut);

// The channels a conv body expects: dim 1 of its first 4-d weight (fastai's in_channels).
int64_t in_channels(const Module& model);
int64_t num_features_model(Module& body);

}  // namespace strata::nn
