// ActivationStats: hooks are registered at before_fit on the leaf modules that have parameters
// (fastai's default for HookCallback) and removed at after_fit.
#include "train/callbacks/activation_stats.h"

#include "autograd/grad_mode.h"
#include "tensor/ops.h"
#include "train/learner.h"

namespace strata::train {

ActivationStats::ActivationStats(int every) : Callback("ActivationStats"), every_(every < 1 ? 1 : every) {
  order = -20;
}

ActivationStats::~ActivationStats() { remove_hooks(); }

void ActivationStats::remove_hooks() {
  for (auto& [m, id] : hooks_) m->remove_forward_hook(id);
  hooks_.clear();
}

void ActivationStats::before_fit() {
  remove_hooks();
  layer_names.clear();
  stats.clear();
  size_t idx = 0;
  for (auto& [name, m] : learn->model->named_modules()) {
    if (!m->children().empty() || m->parameters(false).empty()) continue;
    layer_names.push_back(name);
    size_t k = idx++;
    hooks_.emplace_back(m, m->register_forward_hook([this, k](nn::Module&, std::span<const Tensor>, const Tensor& out) {
      if (!recording_ || !out.defined() || !out.is_floating_point()) return;
      NoGradGuard g;
      Tensor o = out.detach().to(DType::F32);
      LayerStats s;
      s.mean = mean(o).item();
      s.std = o.numel() > 1 ? std(o).item() : 0.0;
      s.near_zero = o.numel() ? sum(le(o, 0.05)).item() / static_cast<double>(o.numel()) : 0.0;
      if (k < current_.size()) current_[k] = s;
    }));
  }
}

void ActivationStats::before_batch() {
  recording_ = learn->training && learn->train_iter % every_ == 0;
  if (recording_) current_.assign(layer_names.size(), LayerStats{});
}

void ActivationStats::after_batch() {
  if (recording_) stats.push_back(current_);
  recording_ = false;
}

void ActivationStats::after_fit() {
  remove_hooks();
  recording_ = false;
}

}  // namespace strata::train
