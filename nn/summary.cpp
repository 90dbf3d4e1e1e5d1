// Summary: forward hooks on the leaf modules record one row per call; FLOPs are derived from the
// layer's type and its input/output shapes.
#include "nn/summary.h"

#include <fmt/format.h>

#include "autograd/grad_mode.h"
#include "nn/activation.h"
#include "nn/basic.h"
#include "nn/conv.h"
#include "nn/linear.h"
#include "nn/norm.h"
#include "tensor/error.h"
#include "tensor/ops.h"

namespace strata::nn {

namespace {

int64_t layer_flops(Module& m, std::span<const Tensor> in, const Tensor& out) {
  if (auto* l = dynamic_cast<Linear*>(&m)) return 2 * out.numel() * l->in_features;
  if (auto* c = dynamic_cast<Conv2d*>(&m))
    return 2 * out.numel() * (c->in_channels / c->options.groups) * c->kernel_size * c->kernel_size;
  if (auto* c = dynamic_cast<Conv1d*>(&m))
    return 2 * out.numel() * (c->in_channels / c->options.groups) * c->kernel_size;
  if (auto* c = dynamic_cast<ConvTranspose2d*>(&m))
    return in.empty() ? 0
                      : 2 * in[0].numel() * (c->out_channels / c->options.groups) * c->kernel_size * c->kernel_size;
  if (dynamic_cast<Flatten*>(&m) || dynamic_cast<Identity*>(&m) || dynamic_cast<Dropout*>(&m) ||
      dynamic_cast<Dropout2d*>(&m))
    return 0;
  return out.defined() ? out.numel() : 0;
}

std::string shape_str(const Shape& s) {
  std::string r;
  for (int64_t i = 0; i < s.ndim(); ++i) r += (i ? " x " : "") + std::to_string(s[i]);
  return r;
}

std::string thousands(int64_t v) {
  std::string digits = std::to_string(v < 0 ? -v : v), r;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) r += ',';
    r += digits[i];
  }
  return v < 0 ? "-" + r : r;
}

// Removes hooks and restores the training mode however the forward ends.
struct HookScope {
  std::vector<std::pair<Module*, int64_t>> hooks;
  Module* model;
  bool was_training;
  ~HookScope() {
    for (auto& [m, id] : hooks) m->remove_forward_hook(id);
    model->train(was_training);
  }
};

}  // namespace

std::vector<LayerInfo> layer_info(Module& model, const Shape& input_shape) {
  std::vector<LayerInfo> rows;
  HookScope scope{{}, &model, model.is_training()};
  for (auto& [name, m] : model.named_modules()) {
    if (!m->children().empty()) continue;
    std::string full = name;
    int64_t id = m->register_forward_hook([&rows, full](Module& mod, std::span<const Tensor> in, const Tensor& out) {
      LayerInfo info;
      info.name = full;
      info.type = mod.type_name();
      if (out.defined()) info.output_shape = out.shape();
      for (const auto& p : mod.parameters(/*recurse=*/false)) {
        info.params += p.numel();
        info.trainable = info.trainable || p.requires_grad();
      }
      info.flops = layer_flops(mod, in, out);
      rows.push_back(std::move(info));
    });
    scope.hooks.emplace_back(m, id);
  }
  TensorOptions opts;
  auto params = model.parameters();
  if (!params.empty()) opts = {.dtype = params[0].dtype(), .device = params[0].device()};
  model.eval();
  NoGradGuard no_grad;
  model(zeros(input_shape, opts));
  return rows;
}

std::string summary(Module& model, const Shape& input_shape) {
  std::vector<LayerInfo> rows = layer_info(model, input_shape);
  const std::string rule(88, '=');
  std::string s = fmt::format("{} (Input shape: {})\n{}\n", model.type_name(), shape_str(input_shape), rule);
  s += fmt::format("{:<24} {:<24} {:<12} {:<10} {:<14}\n{}\n", "Layer (type)", "Output Shape", "Param #", "Trainable",
                   "FLOPs", rule);
  int64_t flops = 0;
  for (const auto& r : rows) {
    s += fmt::format("{:<24} {:<24} {:<12} {:<10} {:<14}\n", r.type, shape_str(r.output_shape), r.params,
                     r.params ? (r.trainable ? "True" : "False") : "", thousands(r.flops));
    flops += r.flops;
  }
  const int64_t total = model.num_parameters(), trainable = model.num_parameters(/*trainable_only=*/true);
  s += rule + "\n";
  s += fmt::format("Total params: {}\n", thousands(total));
  s += fmt::format("Total trainable params: {}\n", thousands(trainable));
  s += fmt::format("Total non-trainable params: {}\n", thousands(total - trainable));
  s += fmt::format("Total FLOPs: {}\n", thousands(flops));
  return s;
}

}  // namespace strata::nn
