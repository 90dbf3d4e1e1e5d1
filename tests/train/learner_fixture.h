#pragma once
// Shared pieces of the Learner tests: a synthetic regression (y = 3x + 2 + noise), a tiny
// affine model, loaders over it, and a callback that logs every event it sees.
#include <memory>
#include <string>
#include <vector>

#include "autograd/grad_mode.h"
#include "nn/linear.h"
#include "nn/loss.h"
#include "nn/module.h"
#include "nn/sequential.h"
#include "tensor/ops.h"
#include "train/callback.h"
#include "train/callbacks/recorder.h"
#include "train/learner.h"
#include "train/loader.h"

namespace strata::train::testing {

// y = a * x + b (+ noise), x ~ N(0, 1): [n, 1] each.
inline std::vector<Tensor> regression_data(int64_t n, uint64_t seed, double a = 3.0, double b = 2.0,
                                           double noise = 0.1) {
  Generator g(seed);
  Tensor x = randn({n, 1}, {}, &g);
  Tensor y = x * a + b + randn({n, 1}, {}, &g) * noise;
  return {x, y};
}

inline DataLoaders regression_dls(int64_t n_train = 32, int64_t n_valid = 16, int64_t bs = 16, bool shuffle = false,
                                  uint64_t seed = 1) {
  auto tr = regression_data(n_train, seed);
  auto va = regression_data(n_valid, seed + 100);
  return {std::make_shared<TensorLoader>(tr, TensorLoaderOptions{.bs = bs, .shuffle = shuffle, .seed = seed}),
          std::make_shared<TensorLoader>(va, TensorLoaderOptions{.bs = bs})};
}

// A Linear(1, 1) with fixed weights (w = 0.5, b = -0.25), so runs do not depend on init.
inline std::shared_ptr<nn::Linear> affine_model(double w = 0.5, double b = -0.25) {
  auto m = std::make_shared<nn::Linear>(1, 1);
  {
    NoGradGuard g;
    m->parameter("weight").fill_(w);
    m->parameter("bias").fill_(b);
  }
  return m;
}

inline LearnerOptions quiet_options(LearnerOptions o = {}) {
  if (!o.loss_func) o.loss_func = std::make_shared<nn::MSELossFlat>();
  o.progress = false;
  return o;
}

// A learner that prints nothing.
inline std::unique_ptr<Learner> quiet_learner(DataLoaders dls, nn::ModulePtr model, LearnerOptions o = {}) {
  auto l = std::make_unique<Learner>(std::move(dls), std::move(model), quiet_options(std::move(o)));
  l->logger = {};
  return l;
}

// Logs every event as "event" (batch events prefixed with t/v for training/validation), and
// throws `Ex` once at the `at`-th occurrence of event `when` (0-based) when armed.
class EventLog : public Callback {
 public:
  EventLog() : Callback("EventLog") {}
  std::vector<std::string> log;
  std::function<void(Event)> on_event;  // runs after logging, may throw

#define HOOK(n)                 \
  void n() override {           \
    record(Event::n);           \
  }
  HOOK(after_create) HOOK(before_fit) HOOK(before_epoch) HOOK(before_train) HOOK(before_batch) HOOK(after_pred)
  HOOK(after_loss) HOOK(before_backward) HOOK(after_cancel_backward) HOOK(after_backward) HOOK(before_step)
  HOOK(after_cancel_step) HOOK(after_step) HOOK(after_cancel_batch) HOOK(after_batch) HOOK(after_cancel_train)
  HOOK(after_train) HOOK(before_validate) HOOK(after_cancel_validate) HOOK(after_validate) HOOK(after_cancel_epoch)
  HOOK(after_epoch) HOOK(after_cancel_fit) HOOK(after_fit)
#undef HOOK

 private:
  void record(Event e) {
    log.emplace_back(event_name(e));
    if (on_event) on_event(e);
  }
};

}  // namespace strata::train::testing
