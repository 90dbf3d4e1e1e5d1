// The fused path of Optimizer::step (train/optimizer.h): recognise fastai's standard
// compositions by their functions and run each group as one kernel (kernels/optim.h).
//
// Recognised (stats then steppers, as one list; `wd` is weight_decay, l2_reg or absent):
//   [wd] sgd_step                                                        -> kSgd
//   [wd] average_grad momentum_step                                      -> kMomentum
//   [wd] average_grad_dampened average_sqr_grad step_stat adam_step      -> kAdam
// A decoupled weight_decay placed after some of the stats is moved to the front: the stats only
// read the gradient, so the order does not change any number. A group takes the fused path when
// every parameter with a gradient is contiguous f32 with a contiguous f32 gradient (and state,
// if it has any yet) on one device that has the kernel; otherwise it takes the generic path.
#include <cmath>

#include "kernels/cuda_table.h"
#include "kernels/optim.h"
#include "tensor/error.h"
#include "train/optimizer.h"
#include "train/steppers.h"

namespace strata::train {
namespace {

using Fn = void (*)(const Tensor&, ParamState&, const Hypers&);

Fn fn_of(const Stepper& s) {
  const Fn* f = s.target<Fn>();
  return f ? *f : nullptr;
}

bool is_pure_stat(Fn f) {
  return f == &average_grad || f == &average_grad_dampened || f == &average_sqr_grad || f == &step_stat;
}

bool usable(const Tensor& t, const Tensor& p) {
  return t.dtype() == DType::F32 && t.is_contiguous() && t.shape() == p.shape() && t.device() == p.device();
}

double get(const Hypers& h, const char* name) {
  auto it = h.find(name);
  STRATA_CHECK(it != h.end(), ValueError, "optimizer: hyper-parameter '{}' is not set", name);
  return it->second;
}

}  // namespace

void Optimizer::classify_composition() {
  fused_kind_ = 0;
  wd_mode_ = 0;
  std::vector<Fn> fns;
  for (const Stepper& cb : callbacks_) {
    Fn f = fn_of(cb);
    if (!f) return;  // a lambda or functor: only the generic path knows what it does
    fns.push_back(f);
  }
  // weight_decay after pure stats commutes with them: move it to the front.
  for (size_t k = 0; k < fns.size(); ++k) {
    if (fns[k] != &weight_decay) continue;
    bool movable = true;
    for (size_t j = 0; j < k; ++j) movable = movable && is_pure_stat(fns[j]);
    if (movable) {
      fns.erase(fns.begin() + static_cast<std::ptrdiff_t>(k));
      fns.insert(fns.begin(), &weight_decay);
    }
    break;
  }
  size_t at = 0;
  if (!fns.empty() && fns[0] == &weight_decay) wd_mode_ = 1, at = 1;
  else if (!fns.empty() && fns[0] == &l2_reg) wd_mode_ = 2, at = 1;
  const std::vector<Fn> rest(fns.begin() + static_cast<std::ptrdiff_t>(at), fns.end());
  using K = kernels::OptimKind;
  if (rest == std::vector<Fn>{&sgd_step}) fused_kind_ = static_cast<int>(K::kSgd);
  else if (rest == std::vector<Fn>{&average_grad, &momentum_step}) fused_kind_ = static_cast<int>(K::kMomentum);
  else if (rest == std::vector<Fn>{&average_grad_dampened, &average_sqr_grad, &step_stat, &adam_step})
    fused_kind_ = static_cast<int>(K::kAdam);
  else wd_mode_ = 0;
}

bool Optimizer::step_group_fused(size_t g) {
  using K = kernels::OptimKind;
  const K kind = static_cast<K>(fused_kind_);
  const ParamGroup& group = groups_[g];
  // Pass 1: which parameters step, and can they all go fused?
  std::vector<size_t> active;
  Device device = Device::cpu();
  for (size_t i = 0; i < group.params.size(); ++i) {
    const Tensor& p = group.params[i];
    if (!p.requires_grad()) continue;
    const Tensor grad = p.grad();
    if (!grad.defined()) continue;
    if (active.empty()) device = p.device();
    if (p.dtype() != DType::F32 || !p.is_contiguous() || p.device() != device || !usable(grad, p)) return false;
    for (const auto& [name, t] : states_[g][i].tensors)
      if (t.defined() && !usable(t, p)) return false;
    active.push_back(i);
  }
  if (active.empty()) return true;
  // No fused kernel for this device yet (CUDA before its table has one): the generic path works.
  if (device.is_cuda() && kernels::cuda_table().optim_step == nullptr) return false;

  const Hypers& h = group.hypers;
  const double lr = get(h, "lr");
  const double wd = wd_mode_ != 0 ? get(h, "wd") : 0.0;
  kernels::OptimCoeffs coeffs;
  if (kind != K::kSgd) coeffs.mom = get(h, "mom");
  if (kind == K::kAdam) {
    coeffs.sqr_mom = get(h, "sqr_mom");
    coeffs.eps = get(h, "eps");
  }
  // Pass 2: state (created on first use, as the stats do) and per-tensor scalars.
  std::vector<kernels::OptimSlot> slots;
  slots.reserve(active.size());
  for (size_t i : active) {
    const Tensor& p = group.params[i];
    ParamState& s = states_[g][i];
    kernels::OptimSlot slot;
    slot.param = p;
    slot.grad = p.grad();
    const bool decays = s.do_wd && wd != 0.0;
    if (decays && wd_mode_ == 1) slot.decay = 1.0 - lr * wd;
    if (decays && wd_mode_ == 2) slot.l2 = wd, coeffs.use_l2 = true;
    slot.step_size = lr;
    if (kind != K::kSgd) {
      Tensor& avg = s.tensors["grad_avg"];
      if (!avg.defined()) avg = zeros_like(p.detach());
      slot.grad_avg = avg;
    }
    if (kind == K::kAdam) {
      Tensor& sqr = s.tensors["sqr_avg"];
      if (!sqr.defined()) sqr = zeros_like(p.detach());
      slot.sqr_avg = sqr;
      const double step = (s.scalars["step"] += 1.0);
      slot.step_size = lr / debias(coeffs.mom, 1.0 - coeffs.mom, step);
      slot.debias2 = debias(coeffs.sqr_mom, 1.0 - coeffs.sqr_mom, step);
    }
    slots.push_back(std::move(slot));
  }
  kernels::optim_step(kind, slots, coeffs);
  for (const kernels::OptimSlot& slot : slots) {
    slot.param.bump_version();
    if (slot.l2 != 0.0) slot.grad.bump_version();
  }
  return true;
}

}  // namespace strata::train
