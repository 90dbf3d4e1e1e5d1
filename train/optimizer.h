#pragma once
// Optimizer: fastai's generic optimizer (fastai/optimizer.py `Optimizer`, `_BaseOptimizer`).
//
// Parameters come in groups (one per splitter section), each with its own hyper-parameters
// (lr, mom, sqr_mom, eps, wd, ... any name) that schedulers set by name. Every parameter has a
// state: named tensors (grad_avg, sqr_avg, ...) and scalars (step, local_lr, ...). An optimizer is
// a composition of small functions run in order on each parameter with a gradient: *stats* that
// update the state (average_grad, average_sqr_grad, step_stat) and *steppers* that change the
// parameter (weight_decay, sgd_step, adam_step, ...), see train/steppers.h. The factories in
// train/optimizers.h (SGD, Adam, RAdam, ...) are short compositions of them.
//
//   auto opt = train::Adam{.wd = 0.1}({model.parameters()}, 1e-3);
//   loss.backward(); opt->step(); opt->zero_grad();
//   opt->set_hyper("lr", 3e-4);
//
// Order: the `stats` run first, then the `steppers`, each list in order. fastai keeps one list
// (weight decay first, then the stats, then the step); the factories pass that whole list as
// `steppers`, which gives fastai's order exactly (it matters for l2_reg, which changes the
// gradient the stats then read).
//
// Speed: step() recognises the standard compositions (SGD, SGD with momentum, Adam/AdamW, each
// with decoupled weight decay, L2 or none) and runs them as one fused kernel per group over all of
// its f32 parameters (kernels/optim.h); anything else, or parameters that are not contiguous f32,
// take the generic path that calls the stats and steppers one by one. Both give the same numbers
// within f32 rounding (tests/train/test_optimizer_fused.cpp).
//
// zero_grad() resets gradients to *undefined* (PyTorch's set_to_none), not to zero as fastai
// does: no memory traffic, and step() skips parameters without a gradient anyway.
#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tensor/tensor.h"

namespace strata::train {

// Hyper-parameters of one group, by name: lr, mom, sqr_mom, eps, wd, beta, nu_1, ...
using Hypers = std::map<std::string, double>;

struct ParamGroup {
  std::vector<Tensor> params;
  Hypers hypers;
};

// Per-parameter state. `do_wd` false exempts the parameter from weight decay (fastai's
// wd_bn_bias=False); `force_train` keeps it trainable when its group is frozen (train_bn).
struct ParamState {
  std::map<std::string, Tensor> tensors{};   // grad_avg, sqr_avg, ...
  std::map<std::string, double> scalars{};   // step, local_lr, ...
  bool do_wd = true;
  bool force_train = false;
};

// A stat updates the state from the gradient; a stepper changes the parameter (or its gradient).
// Both get the parameter (its .grad() is defined), its state and its group's hypers.
using Stat = std::function<void(const Tensor& p, ParamState& state, const Hypers& h)>;
using Stepper = std::function<void(const Tensor& p, ParamState& state, const Hypers& h)>;

class Optimizer {
 public:
  // `param_groups`: the parameters, one vector per group (a group may be empty). `defaults`:
  // the hypers every group starts with. Throws ValueError for an undefined or non-floating
  // parameter, a parameter in two places, a bad hyper value or an empty list of steppers.
  Optimizer(std::vector<std::vector<Tensor>> param_groups, std::vector<Stepper> steppers, Hypers defaults,
            std::vector<Stat> stats = {});
  virtual ~Optimizer();
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // One update of every parameter that requires grad and has a gradient.
  virtual void step();
  // Gradients back to undefined (see the file comment).
  void zero_grad();
  // Forgets the per-parameter state (averages, step counts; Lookahead's slow weights) but keeps
  // the do_wd and force_train flags, like fastai's clear_state (Learner.fit(reset_opt=True)).
  virtual void clear_state();

  size_t n_groups() const { return groups_.size(); }
  std::vector<ParamGroup>& param_groups() { return groups_; }
  const std::vector<ParamGroup>& param_groups() const { return groups_; }

  // Hypers. Values must be finite; lr, eps and wd >= 0; mom and sqr_mom in [0, 1). A new name
  // is allowed (it becomes a hyper of every group). set_hypers takes one value per group, or
  // one value for all. hyper() throws IndexError for a group out of range and ValueError for a
  // name the group does not have.
  void set_hyper(const std::string& name, double value);
  void set_hypers(const std::string& name, std::span<const double> per_group);
  double hyper(const std::string& name, size_t group = 0) const;

  // The state of parameter `p` (the same tensor handle's impl); ValueError when p is not one of
  // this optimizer's parameters.
  ParamState& state(const Tensor& p);
  const ParamState& state(const Tensor& p) const;

  // fastai's freezing: parameters of the groups before `n` (negative: counted from the end) stop
  // requiring grad, except those flagged force_train; the others require grad. freeze() is
  // freeze_to(-1) (needs 2 groups or more); unfreeze() is freeze_to(0).
  void freeze_to(int n);
  void freeze();
  void unfreeze();
  int frozen_idx() const { return frozen_idx_; }
  // Whether the composition is one step() runs as a fused kernel (SGD, momentum, Adam/AdamW).
  bool has_fused_path() const { return fused_kind_ != 0; }
  void set_force_train(const std::vector<Tensor>& params);    // BN and bias when train_bn
  void set_no_weight_decay(const std::vector<Tensor>& params);  // wd_bn_bias = false

  // Everything needed to resume exactly, keyed
  //   "<group>.<index>.<name>"          state tensors (aliases of the live state: clone to keep)
  //   "<group>.<index>.scalar.<name>"   state scalars (0-d f64)
  //   "<group>.<index>.flag.do_wd" / ".flag.force_train"   (0-d u8)
  //   "hyper.<group>.<name>"           hypers (0-d f64)
  // load_state_dict replaces the whole state and the hypers it names; it throws ValueError for a
  // malformed key or a group/index out of range and ShapeError for a state tensor whose shape is
  // not its parameter's.
  virtual std::map<std::string, Tensor> state_dict() const;
  virtual void load_state_dict(const std::map<std::string, Tensor>& sd);
  void save(const std::filesystem::path& path) const;  // safetensors
  void load(const std::filesystem::path& path);

 protected:
  // Takes over another optimizer's groups, state and composition (Lookahead wraps this way).
  struct TakeOver {};
  Optimizer(TakeOver, Optimizer&& inner);

  struct Location {
    size_t group;
    size_t index;
  };
  const Location* find(const Tensor& p) const;
  std::vector<std::vector<ParamState>>& states() { return states_; }
  const std::vector<std::vector<ParamState>>& states() const { return states_; }

 private:
  void step_group_generic(size_t g);
  bool step_group_fused(size_t g);  // false when the group cannot take the fused path
  void classify_composition();

  std::vector<ParamGroup> groups_;
  std::vector<std::vector<ParamState>> states_;  // parallel to groups_[g].params
  std::unordered_map<const TensorImpl*, Location> where_;
  std::vector<Stat> stats_;
  std::vector<Stepper> steppers_;
  std::vector<Stepper> callbacks_;  // stats_ then steppers_: the order step() runs them in
  int frozen_idx_ = 0;
  int fused_kind_ = 0;  // kernels::OptimKind of a recognised composition, 0 for none
  int wd_mode_ = 0;     // 0 none, 1 decoupled weight_decay, 2 l2_reg
};

// fastai's opt_func: builds an optimizer from parameter groups and a learning rate.
using OptFunc = std::function<std::unique_ptr<Optimizer>(std::vector<std::vector<Tensor>> param_groups, double lr)>;

// Discriminative learning rates (fastai's even_mults): n values from lo to hi, geometrically
// spaced; n == 1 gives {hi}. Throws ValueError for lo or hi <= 0 or n == 0.
std::vector<double> spread_lrs(double lo, double hi, size_t n_groups);

}  // namespace strata::train
