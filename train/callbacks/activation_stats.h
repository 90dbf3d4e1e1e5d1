#pragma once
// ActivationStats (fastai/callback/hook.py): forward hooks on the model's layers record, for
// every training batch, each layer's output mean, standard deviation and share of values near
// zero (<= 0.05), to spot dead or exploding activations.
//
//   auto stats = std::make_shared<train::ActivationStats>();
//   learn.fit(1, 1e-3, {stats});
//   stats->stats[batch][layer].mean
#include <cstdint>
#include <string>
#include <vector>

#include "nn/module.h"
#include "train/callback.h"

namespace strata::train {

struct LayerStats {
  double mean = 0, std = 0, near_zero = 0;
};

class ActivationStats : public Callback {
 public:
  // `every`: record one training batch in `every` (1: all).
  explicit ActivationStats(int every = 1);
  ~ActivationStats() override;
  void before_fit() override;
  void before_batch() override;
  void after_batch() override;
  void after_fit() override;

  std::vector<std::string> layer_names;       // the hooked modules (leaves with parameters)
  std::vector<std::vector<LayerStats>> stats;  // [recorded batch][layer]

 private:
  void remove_hooks();
  int every_;
  bool recording_ = false;
  std::vector<LayerStats> current_;
  std::vector<std::pair<nn::Module*, int64_t>> hooks_;
};

}  // namespace strata::train
