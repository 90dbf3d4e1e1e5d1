// fastai's stats and steppers (train/steppers.h), in tensor ops. step() runs them under
// NoGradGuard; each takes a mutable handle of p (or its gradient) for the in-place updates.
#include "train/steppers.h"

#include <algorithm>
#include <cmath>

#include "autograd/grad_mode.h"
#include "tensor/error.h"
#include "tensor/ops.h"

namespace strata::train {
namespace {

double hp(const Hypers& h, const char* name) {
  auto it = h.find(name);
  if (it == h.end()) {
    std::string have;
    for (const auto& [k, v] : h) have += (have.empty() ? "" : ", ") + k;
    STRATA_THROW(ValueError, "optimizer: hyper-parameter '{}' is not set (the group has: {})", name, have);
  }
  return it->second;
}

Tensor& state_tensor(ParamState& s, const char* name, const Tensor& like) {
  Tensor& t = s.tensors[name];
  if (!t.defined()) t = zeros_like(like.detach());
  return t;
}

Tensor grad_of(const Tensor& p) {
  Tensor g = p.grad();
  STRATA_CHECK(g.defined(), ValueError, "optimizer: parameter of shape {} has no gradient", p.shape());
  return g;
}

// The average to step along: grad_avg when a stat keeps one, else the gradient.
Tensor avg_or_grad(const Tensor& p, ParamState& s) {
  auto it = s.tensors.find("grad_avg");
  return it != s.tensors.end() && it->second.defined() ? it->second : grad_of(p);
}

void average_grad_impl(const Tensor& p, ParamState& s, const Hypers& h, bool dampening) {
  const double mom = hp(h, "mom");
  Tensor& avg = state_tensor(s, "grad_avg", p);
  mul_(avg, mom);
  add_(avg, grad_of(p), dampening ? 1.0 - mom : 1.0);
}

void layer_lr_impl(const Tensor& p, ParamState& s, const Hypers& h, bool clip) {
  const double lr = hp(h, "lr");
  const double p_norm = norm(p.detach()).item();
  const double g_norm = norm(grad_of(p)).item();
  const double local_lr = lr * hp(h, "trust_coeff") * p_norm / (g_norm + p_norm * hp(h, "wd") + hp(h, "eps"));
  s.scalars["local_lr"] = clip ? std::min(lr, local_lr) : local_lr;
}

double step_count(const ParamState& s) {
  auto it = s.scalars.find("step");
  STRATA_CHECK(it != s.scalars.end() && it->second >= 1, ValueError,
               "optimizer: this stepper needs the step count: put step_stat before it");
  return it->second;
}

const Tensor& needed(ParamState& s, const char* name, const char* stat) {
  auto it = s.tensors.find(name);
  STRATA_CHECK(it != s.tensors.end() && it->second.defined(), ValueError,
               "optimizer: this stepper needs the state '{}': put {} before it", name, stat);
  return it->second;
}

}  // namespace

double debias(double mom, double damp, double step) { return damp * (1.0 - std::pow(mom, step)) / (1.0 - mom); }

// ---- stats ----

void average_grad(const Tensor& p, ParamState& s, const Hypers& h) { average_grad_impl(p, s, h, false); }
void average_grad_dampened(const Tensor& p, ParamState& s, const Hypers& h) { average_grad_impl(p, s, h, true); }

void average_sqr_grad(const Tensor& p, ParamState& s, const Hypers& h) {
  const double sqr_mom = hp(h, "sqr_mom");
  Tensor& avg = state_tensor(s, "sqr_avg", p);
  const Tensor g = grad_of(p);
  mul_(avg, sqr_mom);
  add_(avg, g * g, 1.0 - sqr_mom);
}

void step_stat(const Tensor&, ParamState& s, const Hypers&) { s.scalars["step"] += 1.0; }

void larc_layer_lr(const Tensor& p, ParamState& s, const Hypers& h) { layer_lr_impl(p, s, h, true); }
void lars_layer_lr(const Tensor& p, ParamState& s, const Hypers& h) { layer_lr_impl(p, s, h, false); }

// ---- steppers ----

void weight_decay(const Tensor& p, ParamState& s, const Hypers& h) {
  const double wd = hp(h, "wd");
  if (!s.do_wd || wd == 0.0) return;
  Tensor w = p.detach();
  mul_(w, 1.0 - hp(h, "lr") * wd);
}

void l2_reg(const Tensor& p, ParamState& s, const Hypers& h) {
  const double wd = hp(h, "wd");
  if (!s.do_wd || wd == 0.0) return;
  Tensor g = grad_of(p);
  add_(g, p.detach(), wd);
}

void sgd_step(const Tensor& p, ParamState&, const Hypers& h) {
  Tensor w = p.detach();
  add_(w, grad_of(p), -hp(h, "lr"));
}

void momentum_step(const Tensor& p, ParamState& s, const Hypers& h) {
  Tensor w = p.detach();
  add_(w, needed(s, "grad_avg", "average_grad"), -hp(h, "lr"));
}

void rms_prop_step(const Tensor& p, ParamState& s, const Hypers& h) {
  const Tensor denom = sqrt(needed(s, "sqr_avg", "average_sqr_grad")) + hp(h, "eps");
  Tensor w = p.detach();
  add_(w, avg_or_grad(p, s) / denom, -hp(h, "lr"));
}

void adam_step(const Tensor& p, ParamState& s, const Hypers& h) {
  const double mom = hp(h, "mom"), sqr_mom = hp(h, "sqr_mom"), step = step_count(s);
  const double debias1 = debias(mom, 1.0 - mom, step);
  const double debias2 = debias(sqr_mom, 1.0 - sqr_mom, step);
  const Tensor& grad_avg = needed(s, "grad_avg", "average_grad_dampened");
  const Tensor denom = sqrt(needed(s, "sqr_avg", "average_sqr_grad") / debias2) + hp(h, "eps");
  Tensor w = p.detach();
  add_(w, grad_avg / denom, -hp(h, "lr") / debias1);
}

void radam_step(const Tensor& p, ParamState& s, const Hypers& h) {
  const double mom = hp(h, "mom"), sqr_mom = hp(h, "sqr_mom"), step = step_count(s), lr = hp(h, "lr");
  const double debias1 = debias(mom, 1.0 - mom, step);
  const double debias2 = debias(sqr_mom, 1.0 - sqr_mom, step);
  const double r_inf = 2.0 / (1.0 - sqr_mom) - 1.0;
  const double r = r_inf - 2.0 * step * std::pow(sqr_mom, step) / (1.0 - std::pow(sqr_mom, step));
  const Tensor& grad_avg = needed(s, "grad_avg", "average_grad_dampened");
  Tensor w = p.detach();
  if (r > 5.0) {
    const double v = std::sqrt(((r - 4.0) * (r - 2.0) * r_inf) / ((r_inf - 4.0) * (r_inf - 2.0) * r));
    Tensor denom = sqrt(needed(s, "sqr_avg", "average_sqr_grad") / debias2);
    if (const double eps = hp(h, "eps"); eps != 0.0) denom = denom + eps;
    if (const double beta = h.count("beta") ? h.at("beta") : 0.0; beta != 0.0) denom = softplus(denom * beta) / beta;
    add_(w, grad_avg / denom, -lr * v / debias1);
  } else {
    add_(w, grad_avg, -lr / debias1);
  }
}

void qhadam_step(const Tensor& p, ParamState& s, const Hypers& h) {
  const double mom = hp(h, "mom"), sqr_mom = hp(h, "sqr_mom"), step = step_count(s);
  const double nu_1 = hp(h, "nu_1"), nu_2 = hp(h, "nu_2");
  const double debias1 = debias(mom, 1.0 - mom, step);
  const double debias2 = debias(sqr_mom, 1.0 - sqr_mom, step);
  const Tensor g = grad_of(p);
  const Tensor num = g * (1.0 - nu_1) + (needed(s, "grad_avg", "average_grad_dampened") / debias1) * nu_1;
  const Tensor den =
      sqrt(g * g * (1.0 - nu_2) + (needed(s, "sqr_avg", "average_sqr_grad") / debias2) * nu_2) + hp(h, "eps");
  Tensor w = p.detach();
  add_(w, num / den, -hp(h, "lr"));
}

void larc_step(const Tensor& p, ParamState& s, const Hypers&) {
  auto it = s.scalars.find("local_lr");
  STRATA_CHECK(it != s.scalars.end(), ValueError,
               "optimizer: larc_step needs the state 'local_lr': put larc_layer_lr before it");
  Tensor w = p.detach();
  add_(w, avg_or_grad(p, s), -it->second);
}

void lamb_step(const Tensor& p, ParamState& s, const Hypers& h) {
  const double mom = hp(h, "mom"), sqr_mom = hp(h, "sqr_mom"), step = step_count(s);
  const double debias1 = debias(mom, 1.0 - mom, step);
  const double debias2 = debias(sqr_mom, 1.0 - sqr_mom, step);
  Tensor w = p.detach();
  const double r1 = std::sqrt(mean(w * w).item());
  const Tensor dir = (needed(s, "grad_avg", "average_grad_dampened") / debias1) /
                     (sqrt(needed(s, "sqr_avg", "average_sqr_grad") / debias2) + hp(h, "eps"));
  const double r2 = std::sqrt(mean(dir * dir).item());
  const double q = (r1 == 0.0 || r2 == 0.0) ? 1.0 : std::min(r1 / r2, 10.0);
  add_(w, dir, -hp(h, "lr") * q);
}

}  // namespace strata::train
