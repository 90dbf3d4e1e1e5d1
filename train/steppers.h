#pragma once
// fastai's optimizer callbacks (fastai/optimizer.py), one function each, for composing
// optimizers (train/optimizer.h). Stats update the parameter's state; steppers change the
// parameter. Each reads its hypers from the group (a missing one throws ValueError naming it)
// and creates its state tensors (zeros) on first use. Written with tensor ops: they run on any
// device and dtype; this is the readable reference path, and the standard compositions also
// have a fused kernel (kernels/optim.h) that step() uses when it can.
//
//   Optimizer opt(groups, {weight_decay, average_grad, momentum_step}, {{"lr", 0.1}, {"mom", 0.9}, {"wd", 0}});
#include "train/optimizer.h"

namespace strata::train {

// fastai's debias(mom, damp, step) = damp * (1 - mom^step) / (1 - mom).
double debias(double mom, double damp, double step);

// ---- stats ----
void average_grad(const Tensor& p, ParamState& s, const Hypers& h);           // grad_avg = mom*grad_avg + g
void average_grad_dampened(const Tensor& p, ParamState& s, const Hypers& h);  // ... + (1-mom)*g
void average_sqr_grad(const Tensor& p, ParamState& s, const Hypers& h);       // sqr_avg = sqr_mom*sqr_avg + (1-sqr_mom)*g^2
void step_stat(const Tensor& p, ParamState& s, const Hypers& h);              // scalars["step"] += 1
// LARC's layer-wise lr, local_lr = lr*trust_coeff*|p| / (|g| + |p|*wd + eps), clipped to lr
// (larc_layer_lr) or not (lars_layer_lr): scalars["local_lr"].
void larc_layer_lr(const Tensor& p, ParamState& s, const Hypers& h);
void lars_layer_lr(const Tensor& p, ParamState& s, const Hypers& h);

// ---- steppers ----
void weight_decay(const Tensor& p, ParamState& s, const Hypers& h);   // p *= 1 - lr*wd  (if do_wd, wd != 0)
void l2_reg(const Tensor& p, ParamState& s, const Hypers& h);         // g += wd*p       (if do_wd, wd != 0)
void sgd_step(const Tensor& p, ParamState& s, const Hypers& h);       // p -= lr*g
void momentum_step(const Tensor& p, ParamState& s, const Hypers& h);  // p -= lr*grad_avg
// p -= lr * (grad_avg or g) / (sqrt(sqr_avg) + eps)
void rms_prop_step(const Tensor& p, ParamState& s, const Hypers& h);
// p -= lr/debias1 * grad_avg / (sqrt(sqr_avg/debias2) + eps)
void adam_step(const Tensor& p, ParamState& s, const Hypers& h);
// Rectified Adam: the variance-rectified Adam step once r > 5, else SGD with momentum on the
// debiased average; with beta != 0 the denominator goes through softplus(beta).
void radam_step(const Tensor& p, ParamState& s, const Hypers& h);
// Quasi-hyperbolic Adam: nu_1, nu_2 mix the raw gradient with the averages.
void qhadam_step(const Tensor& p, ParamState& s, const Hypers& h);
void larc_step(const Tensor& p, ParamState& s, const Hypers& h);  // p -= local_lr * (grad_avg or g)
// LAMB: the Adam direction scaled by the trust ratio min(rms(p)/rms(step), 10) (1 if either is 0).
void lamb_step(const Tensor& p, ParamState& s, const Hypers& h);

}  // namespace strata::train
