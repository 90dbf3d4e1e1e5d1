// fastai's optimizer compositions (train/optimizers.h) and Lookahead.
#include "train/optimizers.h"

#include <typeinfo>

#include "autograd/grad_mode.h"
#include "tensor/error.h"
#include "tensor/ops.h"
#include "train/steppers.h"

namespace strata::train {
namespace {

Stepper wd_stepper(bool decouple_wd) { return decouple_wd ? Stepper(&weight_decay) : Stepper(&l2_reg); }

}  // namespace

std::unique_ptr<Optimizer> SGD::operator()(Groups groups, double lr) const {
  std::vector<Stepper> cbs{wd_stepper(decouple_wd)};
  if (mom != 0.0) cbs.push_back(&average_grad);
  cbs.push_back(mom == 0.0 ? Stepper(&sgd_step) : Stepper(&momentum_step));
  return std::make_unique<Optimizer>(std::move(groups), std::move(cbs),
                                     Hypers{{"lr", lr}, {"mom", mom}, {"wd", wd}});
}

std::unique_ptr<Optimizer> RMSProp::operator()(Groups groups, double lr) const {
  std::vector<Stepper> cbs{wd_stepper(decouple_wd)};
  if (mom != 0.0) cbs.push_back(&average_grad);
  cbs.push_back(&average_sqr_grad);
  cbs.push_back(&rms_prop_step);
  return std::make_unique<Optimizer>(std::move(groups), std::move(cbs),
                                     Hypers{{"lr", lr}, {"mom", mom}, {"sqr_mom", sqr_mom}, {"eps", eps}, {"wd", wd}});
}

std::unique_ptr<Optimizer> Adam::operator()(Groups groups, double lr) const {
  std::vector<Stepper> cbs{wd_stepper(decouple_wd), &average_grad_dampened, &average_sqr_grad, &step_stat, &adam_step};
  return std::make_unique<Optimizer>(std::move(groups), std::move(cbs),
                                     Hypers{{"lr", lr}, {"mom", mom}, {"sqr_mom", sqr_mom}, {"eps", eps}, {"wd", wd}});
}

std::unique_ptr<Optimizer> RAdam::operator()(Groups groups, double lr) const {
  std::vector<Stepper> cbs{wd_stepper(decouple_wd), &average_grad_dampened, &average_sqr_grad, &step_stat,
                           &radam_step};
  return std::make_unique<Optimizer>(
      std::move(groups), std::move(cbs),
      Hypers{{"lr", lr}, {"mom", mom}, {"sqr_mom", sqr_mom}, {"eps", eps}, {"wd", wd}, {"beta", beta}});
}

std::unique_ptr<Optimizer> QHAdam::operator()(Groups groups, double lr) const {
  std::vector<Stepper> cbs{wd_stepper(decouple_wd), &average_grad_dampened, &average_sqr_grad, &step_stat,
                           &qhadam_step};
  return std::make_unique<Optimizer>(std::move(groups), std::move(cbs),
                                     Hypers{{"lr", lr},
                                            {"mom", mom},
                                            {"sqr_mom", sqr_mom},
                                            {"nu_1", nu_1},
                                            {"nu_2", nu_2},
                                            {"eps", eps},
                                            {"wd", wd}});
}

std::unique_ptr<Optimizer> Larc::operator()(Groups groups, double lr) const {
  std::vector<Stepper> cbs{wd_stepper(decouple_wd)};
  if (mom != 0.0) cbs.push_back(&average_grad);
  cbs.push_back(clip ? Stepper(&larc_layer_lr) : Stepper(&lars_layer_lr));
  cbs.push_back(&larc_step);
  return std::make_unique<Optimizer>(
      std::move(groups), std::move(cbs),
      Hypers{{"lr", lr}, {"mom", mom}, {"trust_coeff", trust_coeff}, {"eps", eps}, {"wd", wd}});
}

std::unique_ptr<Optimizer> Lamb::operator()(Groups groups, double lr) const {
  std::vector<Stepper> cbs{wd_stepper(decouple_wd), &average_grad_dampened, &average_sqr_grad, &step_stat,
                           &lamb_step};
  return std::make_unique<Optimizer>(std::move(groups), std::move(cbs),
                                     Hypers{{"lr", lr}, {"mom", mom}, {"sqr_mom", sqr_mom}, {"eps", eps}, {"wd", wd}});
}

// ---- Lookahead ----

namespace {
Optimizer&& checked_inner(const std::unique_ptr<Optimizer>& inner) {
  STRATA_CHECK(inner != nullptr, ValueError, "Lookahead: the inner optimizer is null");
  STRATA_CHECK(typeid(*inner) == typeid(Optimizer), ValueError,
               "Lookahead: the inner optimizer must be a plain Optimizer (got a wrapper such as Lookahead)");
  return std::move(*inner);
}
}  // namespace

LookaheadOptimizer::LookaheadOptimizer(std::unique_ptr<Optimizer> inner, int k, double alpha)
    : Optimizer(TakeOver{}, checked_inner(inner)), k_(k), alpha_(alpha) {
  STRATA_CHECK(k >= 1, ValueError, "Lookahead: k must be >= 1, got {}", k);
  STRATA_CHECK(alpha >= 0.0 && alpha <= 1.0, ValueError, "Lookahead: alpha must be in [0, 1], got {}", alpha);
}

void LookaheadOptimizer::step() {
  NoGradGuard no_grad;
  if (slow_.empty()) {
    for (const ParamGroup& group : param_groups()) {
      slow_.emplace_back();
      for (const Tensor& p : group.params) slow_.back().push_back(p.detach().clone());
    }
  }
  Optimizer::step();
  if (++count_ % k_ != 0) return;
  for (size_t g = 0; g < slow_.size(); ++g) {
    for (size_t i = 0; i < slow_[g].size(); ++i) {
      Tensor fast = param_groups()[g].params[i].detach();
      Tensor& slow = slow_[g][i];
      add_(slow, fast - slow, alpha_);
      fast.copy_(slow);
      fast.bump_version();
    }
  }
}

void LookaheadOptimizer::clear_state() {
  Optimizer::clear_state();
  slow_.clear();
  count_ = 0;
}

std::map<std::string, Tensor> LookaheadOptimizer::state_dict() const {
  std::map<std::string, Tensor> sd = Optimizer::state_dict();
  sd["lookahead.count"] = scalar_tensor(count_, {.dtype = DType::F64});
  for (size_t g = 0; g < slow_.size(); ++g)
    for (size_t i = 0; i < slow_[g].size(); ++i) sd[fmt::format("lookahead.slow.{}.{}", g, i)] = slow_[g][i];
  return sd;
}

void LookaheadOptimizer::load_state_dict(const std::map<std::string, Tensor>& sd) {
  std::map<std::string, Tensor> inner;
  std::map<std::string, Tensor> slow;
  int count = 0;
  for (const auto& [key, t] : sd) {
    if (key == "lookahead.count") count = static_cast<int>(t.cpu().item<double>());
    else if (key.rfind("lookahead.slow.", 0) == 0) slow[key] = t;
    else inner[key] = t;
  }
  Optimizer::load_state_dict(inner);
  std::vector<std::vector<Tensor>> loaded;
  if (!slow.empty()) {
    for (size_t g = 0; g < param_groups().size(); ++g) {
      loaded.emplace_back();
      for (size_t i = 0; i < param_groups()[g].params.size(); ++i) {
        const Tensor& p = param_groups()[g].params[i];
        const std::string key = fmt::format("lookahead.slow.{}.{}", g, i);
        auto it = slow.find(key);
        STRATA_CHECK(it != slow.end(), ValueError, "Lookahead.load_state_dict: '{}' is missing", key);
        STRATA_CHECK(it->second.shape() == p.shape(), ShapeError,
                     "Lookahead.load_state_dict: '{}' has shape {} but its parameter has shape {}", key,
                     it->second.shape(), p.shape());
        loaded.back().push_back(it->second.to(p.device()).to(p.dtype()).clone());
      }
    }
  }
  slow_ = std::move(loaded);
  count_ = count;
}

std::unique_ptr<Optimizer> Lookahead::operator()(Groups groups, double lr) const {
  STRATA_CHECK(bool(inner), ValueError, "Lookahead: no inner opt_func");
  return std::make_unique<LookaheadOptimizer>(inner(std::move(groups), lr), k, alpha);
}

Lookahead ranger(RangerOptions o) {
  return Lookahead{RAdam{.mom = o.mom, .sqr_mom = o.sqr_mom, .eps = o.eps, .wd = o.wd, .beta = o.beta,
                         .decouple_wd = o.decouple_wd},
                   o.k, o.alpha};
}

}  // namespace strata::train
