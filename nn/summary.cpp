// Summary: forward hooks on the leaf modules record one row per call; FLOPs are derived from the
// layer's type and its input/output shapes.
#include "nn/summary.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>

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

// Removes the hooks and restores every module's own training flag (a model may mix modes, e.g.
// frozen batch norms kept in eval) however the forward ends.
struct HookScope {
  std::vector<std::pair<Module*, int64_t>> hooks;
  std::vector<std::pair<Module*, bool>> modes;  // parents before children
  ~HookScope() {
    for (auto& [m, id] : hooks) m->remove_forward_hook(id);
    for (auto& [m, training] : modes) m->train(training);  // train() recurses; children are set after
  }
};

std::vector<LayerInfo> collect_rows(Module& model, const std::function<Tensor()>& run) {
  std::vector<LayerInfo> rows;
  HookScope scope;
  for (auto& [name, m] : model.named_modules()) scope.modes.emplace_back(m, m->is_training());
  std::vector<Module*> hooked;
  for (auto& [name, m] : model.named_modules()) {
    // A module reused in two places is hooked once (under its first name): one row per call.
    if (!m->children().empty() || std::find(hooked.begin(), hooked.end(), m) != hooked.end()) continue;
    hooked.push_back(m);
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
  model.eval();
  NoGradGuard no_grad;
  run();
  return rows;
}

std::string table(Module& model, const std::string& input_desc, const std::vector<LayerInfo>& rows) {
  const std::string rule(88, '=');
  std::string s = fmt::format("{} (Input shape: {})\n{}\n", model.type_name(), input_desc, rule);
  s += fmt::format("{:<24} {:<24} {:<12} {:<10} {}\n{}\n", "Layer (type)", "Output Shape", "Param #", "Trainable",
                   "FLOPs", rule);
  int64_t flops = 0;
  for (const auto& r : rows) {
    s += fmt::format("{:<24} {:<24} {:<12} {:<10} {}\n", r.type, shape_str(r.output_shape), r.params,
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

}  // namespace

std::vector<LayerInfo> layer_info(Module& model, const Shape& input_shape) {
  TensorOptions opts;
  auto params = model.parameters();
  if (!params.empty()) opts = {.dtype = params[0].dtype(), .device = params[0].device()};
  return collect_rows(model, [&] { return model(zeros(input_shape, opts)); });
}

std::vector<LayerInfo> layer_info(Module& model, const std::vector<Tensor>& inputs) {
  STRATA_CHECK(!inputs.empty(), ValueError, "summary: no inputs given");
  return collect_rows(model, [&] { return model(std::span<const Tensor>(inputs.data(), inputs.size())); });
}

std::string summary(Module& model, const Shape& input_shape) {
  return table(model, shape_str(input_shape), layer_info(model, input_shape));
}

std::string summary(Module& model, const std::vector<Tensor>& inputs) {
  auto rows = layer_info(model, inputs);
  std::string desc;
  for (size_t i = 0; i < inputs.size(); ++i) desc += (i ? ", " : "") + shape_str(inputs[i].shape());
  return table(model, desc, rows);
}

}  // namespace strata::nn
