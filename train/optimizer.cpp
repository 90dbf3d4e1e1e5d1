// Optimizer core (train/optimizer.h): groups, hypers, per-parameter state, freezing, and the
// generic step that runs the composition on each parameter. The fused path, recognising the
// standard compositions, is in train/optimizer_fused.cpp; state saving in optimizer_state.cpp.
#include "train/optimizer.h"

#include <cmath>

#include "autograd/grad_mode.h"
#include "tensor/error.h"

namespace strata::train {
namespace {

void check_hyper(const std::string& name, double value) {
  STRATA_CHECK(std::isfinite(value), ValueError, "optimizer: hyper-parameter '{}' must be finite, got {}", name,
               value);
  if (name == "lr" || name == "eps" || name == "wd")
    STRATA_CHECK(value >= 0.0, ValueError, "optimizer: hyper-parameter '{}' must be >= 0, got {}", name, value);
  if (name == "mom" || name == "sqr_mom")
    STRATA_CHECK(value >= 0.0 && value < 1.0, ValueError, "optimizer: hyper-parameter '{}' must be in [0, 1), got {}",
                 name, value);
}

}  // namespace

Optimizer::Optimizer(std::vector<std::vector<Tensor>> param_groups, std::vector<Stepper> steppers, Hypers defaults,
                     std::vector<Stat> stats)
    : stats_(std::move(stats)), steppers_(std::move(steppers)) {
  STRATA_CHECK(!param_groups.empty(), ValueError, "optimizer: no parameter groups");
  STRATA_CHECK(!steppers_.empty(), ValueError, "optimizer: no steppers (an optimizer needs at least one)");
  for (const Stepper& s : steppers_) STRATA_CHECK(bool(s), ValueError, "optimizer: an empty stepper function");
  for (const Stat& s : stats_) STRATA_CHECK(bool(s), ValueError, "optimizer: an empty stat function");
  for (const auto& [name, value] : defaults) check_hyper(name, value);
  groups_.reserve(param_groups.size());
  states_.resize(param_groups.size());
  for (size_t g = 0; g < param_groups.size(); ++g) {
    for (size_t i = 0; i < param_groups[g].size(); ++i) {
      const Tensor& p = param_groups[g][i];
      STRATA_CHECK(p.defined(), ValueError, "optimizer: parameter {} of group {} is undefined", i, g);
      STRATA_CHECK(p.is_floating_point(), DTypeError,
                   "optimizer: parameter {} of group {} has dtype {} (shape {}); parameters must be floating", i, g,
                   p.dtype(), p.shape());
      auto [it, fresh] = where_.emplace(p.impl_ptr().get(), Location{g, i});
      STRATA_CHECK(fresh, ValueError, "optimizer: parameter {} of group {} (shape {}) is also parameter {} of group {}",
                   i, g, p.shape(), it->second.index, it->second.group);
    }
    states_[g].resize(param_groups[g].size());
    groups_.push_back(ParamGroup{std::move(param_groups[g]), defaults});
  }
  callbacks_ = stats_;
  callbacks_.insert(callbacks_.end(), steppers_.begin(), steppers_.end());
  classify_composition();
}

Optimizer::Optimizer(TakeOver, Optimizer&& inner)
    : groups_(std::move(inner.groups_)),
      states_(std::move(inner.states_)),
      where_(std::move(inner.where_)),
      stats_(std::move(inner.stats_)),
      steppers_(std::move(inner.steppers_)),
      callbacks_(std::move(inner.callbacks_)),
      frozen_idx_(inner.frozen_idx_),
      fused_kind_(inner.fused_kind_),
      wd_mode_(inner.wd_mode_) {}

Optimizer::~Optimizer() = default;

void Optimizer::step() {
  NoGradGuard no_grad;
  for (size_t g = 0; g < groups_.size(); ++g) {
    if (fused_kind_ != 0 && step_group_fused(g)) continue;
    step_group_generic(g);
  }
}

void Optimizer::step_group_generic(size_t g) {
  const ParamGroup& group = groups_[g];
  for (size_t i = 0; i < group.params.size(); ++i) {
    const Tensor& p = group.params[i];
    if (!p.requires_grad() || !p.grad().defined()) continue;
    for (const Stepper& cb : callbacks_) cb(p, states_[g][i], group.hypers);
  }
}

void Optimizer::zero_grad() {
  for (ParamGroup& group : groups_)
    for (Tensor& p : group.params) p.zero_grad();
}

void Optimizer::clear_state() {
  for (auto& group_states : states_)
    for (ParamState& s : group_states) s = ParamState{.do_wd = s.do_wd, .force_train = s.force_train};
}

void Optimizer::set_hyper(const std::string& name, double value) {
  check_hyper(name, value);
  for (ParamGroup& group : groups_) group.hypers[name] = value;
}

void Optimizer::set_hypers(const std::string& name, std::span<const double> per_group) {
  STRATA_CHECK(per_group.size() == 1 || per_group.size() == groups_.size(), ValueError,
               "optimizer: set_hypers('{}') got {} values for {} parameter groups", name, per_group.size(),
               groups_.size());
  for (double v : per_group) check_hyper(name, v);
  for (size_t g = 0; g < groups_.size(); ++g) groups_[g].hypers[name] = per_group.size() == 1 ? per_group[0] : per_group[g];
}

double Optimizer::hyper(const std::string& name, size_t group) const {
  STRATA_CHECK(group < groups_.size(), IndexError, "optimizer: hyper('{}') of group {}, but there are {} groups",
               name, group, groups_.size());
  const Hypers& h = groups_[group].hypers;
  auto it = h.find(name);
  if (it == h.end()) {
    std::string have;
    for (const auto& [k, v] : h) have += (have.empty() ? "" : ", ") + k;
    STRATA_THROW(ValueError, "optimizer: no hyper-parameter '{}' (group {} has: {})", name, group, have);
  }
  return it->second;
}

const Optimizer::Location* Optimizer::find(const Tensor& p) const {
  if (!p.defined()) return nullptr;
  auto it = where_.find(p.impl_ptr().get());
  return it == where_.end() ? nullptr : &it->second;
}

ParamState& Optimizer::state(const Tensor& p) {
  return const_cast<ParamState&>(static_cast<const Optimizer&>(*this).state(p));
}

const ParamState& Optimizer::state(const Tensor& p) const {
  const Location* at = find(p);
  STRATA_CHECK(at != nullptr, ValueError, "optimizer: the tensor{} is not a parameter of this optimizer",
               p.defined() ? fmt::format(" of shape {}", p.shape()) : std::string(" (undefined)"));
  return states_[at->group][at->index];
}

void Optimizer::freeze_to(int n) {
  const int count = static_cast<int>(groups_.size());
  int idx = n >= 0 ? n : count + n;
  if (idx < 0) idx = 0;
  if (idx > count) idx = count;
  frozen_idx_ = idx;
  for (size_t g = 0; g < groups_.size(); ++g) {
    const bool trainable = static_cast<int>(g) >= idx;
    for (size_t i = 0; i < groups_[g].params.size(); ++i)
      groups_[g].params[i].requires_grad_(trainable || states_[g][i].force_train);
  }
}

void Optimizer::freeze() {
  STRATA_CHECK(groups_.size() > 1, ValueError,
               "optimizer: freeze() needs at least 2 parameter groups (there is {}); use a splitter", groups_.size());
  freeze_to(-1);
}

void Optimizer::unfreeze() { freeze_to(0); }

void Optimizer::set_force_train(const std::vector<Tensor>& params) {
  for (const Tensor& p : params) {
    ParamState& s = state(p);
    s.force_train = true;
    if (!p.requires_grad()) {
      Tensor w = p;
      w.requires_grad_(true);
    }
  }
}

void Optimizer::set_no_weight_decay(const std::vector<Tensor>& params) {
  for (const Tensor& p : params) state(p).do_wd = false;
}

std::vector<double> spread_lrs(double lo, double hi, size_t n_groups) {
  STRATA_CHECK(n_groups > 0, ValueError, "spread_lrs: no parameter groups");
  STRATA_CHECK(lo > 0 && hi > 0 && std::isfinite(lo) && std::isfinite(hi), ValueError,
               "spread_lrs: learning rates must be positive and finite, got {} and {}", lo, hi);
  if (n_groups == 1) return {hi};
  std::vector<double> out(n_groups);
  const double step = std::pow(hi / lo, 1.0 / static_cast<double>(n_groups - 1));
  for (size_t i = 0; i < n_groups; ++i) out[i] = lo * std::pow(step, static_cast<double>(i));
  out.back() = hi;
  return out;
}

}  // namespace strata::train
