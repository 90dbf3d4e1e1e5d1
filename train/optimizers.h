#pragma once
// fastai's optimizers (fastai/optimizer.py) as option structs callable like its opt_func:
//
//   auto opt = train::Adam{}(groups, 1e-3);                       // AdamW, fastai's defaults
//   Learner(..., {.opt_func = train::Adam{.wd = 0.1}});           // an OptFunc
//   auto r = train::ranger()(groups, 1e-3);                       // Lookahead over RAdam
//
// Each is a short composition of train/steppers.h, with fastai's defaults; `decouple_wd` picks
// weight_decay (true: AdamW-style p *= 1 - lr*wd) or l2_reg (false: g += wd*p).
#include <memory>
#include <vector>

#include "train/optimizer.h"

namespace strata::train {

using Groups = std::vector<std::vector<Tensor>>;

// SGD; with mom != 0, SGD with (undampened) momentum.
struct SGD {
  double mom = 0.0;
  double wd = 0.0;
  bool decouple_wd = true;
  std::unique_ptr<Optimizer> operator()(Groups groups, double lr) const;
};

// RMSProp; with mom != 0 it steps along the (undampened) gradient average.
struct RMSProp {
  double sqr_mom = 0.99;
  double mom = 0.0;
  double eps = 1e-8;
  double wd = 0.0;
  bool decouple_wd = true;
  std::unique_ptr<Optimizer> operator()(Groups groups, double lr) const;
};

// Adam (AdamW with decouple_wd); fastai puts eps outside the square root.
struct Adam {
  double mom = 0.9;
  double sqr_mom = 0.99;
  double eps = 1e-5;
  double wd = 0.01;
  bool decouple_wd = true;
  std::unique_ptr<Optimizer> operator()(Groups groups, double lr) const;
};

// Rectified Adam; beta != 0 smooths the denominator with softplus(beta).
struct RAdam {
  double mom = 0.9;
  double sqr_mom = 0.99;
  double eps = 1e-5;
  double wd = 0.0;
  double beta = 0.0;
  bool decouple_wd = true;
  std::unique_ptr<Optimizer> operator()(Groups groups, double lr) const;
};

// Quasi-hyperbolic Adam.
struct QHAdam {
  double mom = 0.999;
  double sqr_mom = 0.999;
  double nu_1 = 0.7;
  double nu_2 = 1.0;
  double eps = 1e-8;
  double wd = 0.0;
  bool decouple_wd = true;
  std::unique_ptr<Optimizer> operator()(Groups groups, double lr) const;
};

// LARC (clip = true) / LARS (clip = false): layer-wise trust-ratio learning rates.
struct Larc {
  double mom = 0.9;
  bool clip = true;
  double trust_coeff = 0.02;
  double eps = 1e-8;
  double wd = 0.0;
  bool decouple_wd = true;
  std::unique_ptr<Optimizer> operator()(Groups groups, double lr) const;
};

// LAMB: Adam with a layer-wise trust ratio.
struct Lamb {
  double mom = 0.9;
  double sqr_mom = 0.99;
  double eps = 1e-5;
  double wd = 0.0;
  bool decouple_wd = true;
  std::unique_ptr<Optimizer> operator()(Groups groups, double lr) const;
};

// fastai's Lookahead: keeps slow weights (copied at the first step); every k steps of the inner
// optimizer, slow += alpha * (fast - slow) and the parameters are set to slow. The inner
// optimizer's groups, hypers and state are taken over, so hypers, freezing and state_dict act
// on the one object. The inner optimizer must be a plain Optimizer (not itself a wrapper).
class LookaheadOptimizer : public Optimizer {
 public:
  LookaheadOptimizer(std::unique_ptr<Optimizer> inner, int k = 6, double alpha = 0.5);
  void step() override;
  void clear_state() override;  // also forgets the slow weights and the count
  int count() const { return count_; }
  int k() const { return k_; }
  double alpha() const { return alpha_; }
  // Adds "lookahead.count" and "lookahead.slow.<group>.<index>" to the inner state.
  std::map<std::string, Tensor> state_dict() const override;
  void load_state_dict(const std::map<std::string, Tensor>& sd) override;

 private:
  int k_;
  double alpha_;
  int count_ = 0;
  std::vector<std::vector<Tensor>> slow_;  // empty until the first step
};

struct Lookahead {
  OptFunc inner;
  int k = 6;
  double alpha = 0.5;
  std::unique_ptr<Optimizer> operator()(Groups groups, double lr) const;
};

// fastai's ranger: Lookahead over RAdam with mom 0.95, wd 0.01, eps 1e-6.
struct RangerOptions {
  double mom = 0.95;
  double sqr_mom = 0.99;
  double eps = 1e-6;
  double wd = 0.01;
  double beta = 0.0;
  bool decouple_wd = true;
  int k = 6;
  double alpha = 0.5;
};
Lookahead ranger(RangerOptions options = {});

}  // namespace strata::train
