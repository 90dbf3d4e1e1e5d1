#pragma once
// Hyper-parameter schedules (fastai/callback/schedule.py): a schedule maps the training progress
// `pos` in [0, 1] to a value. The fit_* recipes that use them (fit_one_cycle, fit_flat_cos,
// fit_sgdr, fine_tune, lr_find) are members of Learner (train/learner.h); the callback that
// applies them is ParamScheduler (train/callbacks/param_scheduler.h).
//
//   Schedule lr = combine_scheds({0.25, 0.75}, {SchedCos(1e-4, 1e-3), SchedCos(1e-3, 1e-8)});
//   double v = lr(0.1);
#include <functional>
#include <vector>

namespace strata::train {

using Schedule = std::function<double(double pos)>;

Schedule SchedLin(double start, double end);  // start + pos * (end - start)
Schedule SchedCos(double start, double end);  // start + (1 + cos(pi * (1 - pos))) * (end - start) / 2
Schedule SchedNo(double start, double end);   // start
Schedule SchedExp(double start, double end);  // start * (end / start)^pos
Schedule SchedPoly(double start, double end, double power);  // start + (end - start) * pos^power

// Runs scheds[i] over the i-th share of training: pcts are the shares (>= 0, summing to 1); each
// schedule sees its own 0 → 1. Throws ValueError when the sizes differ or the shares are bad.
Schedule combine_scheds(const std::vector<double>& pcts, const std::vector<Schedule>& scheds);

// Cosine from start to middle over the first `pct` of training, then middle to end.
Schedule combined_cos(double pct, double start, double middle, double end);

}  // namespace strata::train
