// fastai's training recipes (fastai/callback/schedule.py): each builds a ParamScheduler and
// calls fit. lr_find's suggestion functions follow fastai's valley / slide / minimum / steep.
#include <algorithm>
#include <cmath>
#include <limits>

#include "tensor/error.h"
#include "train/callbacks/param_scheduler.h"
#include "train/callbacks/recorder.h"
#include "train/learner.h"
#include "train/plot.h"

namespace strata::train {

namespace {

bool all_equal(const std::vector<double>& v) {
  return std::all_of(v.begin(), v.end(), [&](double x) { return x == v.front(); });
}

// One schedule per group, or one for all when the groups agree.
std::vector<Schedule> per_group(const std::vector<double>& vals, const std::function<Schedule(double)>& make) {
  if (all_equal(vals)) return {make(vals.front())};
  std::vector<Schedule> s;
  for (double v : vals) s.push_back(make(v));
  return s;
}

std::vector<CallbackPtr> with_sched(ParamScheduler::Scheds s, const std::vector<CallbackPtr>& extra) {
  std::vector<CallbackPtr> cbs{std::make_shared<ParamScheduler>(std::move(s))};
  cbs.insert(cbs.end(), extra.begin(), extra.end());
  return cbs;
}

// ---- lr_find suggestions (fastai's) ----
double valley(const std::vector<double>& lrs, const std::vector<double>& losses) {
  size_t n = losses.size();
  size_t max_start = 0, max_end = 0;
  std::vector<size_t> lds(n, 1);
  for (size_t i = 1; i < n; ++i)
    for (size_t j = 0; j < i; ++j) {
      if (losses[i] < losses[j] && lds[i] < lds[j] + 1) lds[i] = lds[j] + 1;
      if (lds[max_end] < lds[i]) {
        max_end = i;
        max_start = max_end - lds[max_end];
      }
    }
  double sections = (static_cast<double>(max_end) - static_cast<double>(max_start)) / 3;
  size_t idx = max_start + static_cast<size_t>(sections) + static_cast<size_t>(sections / 2);
  return lrs[std::min(idx, n - 1)];
}

double slide(const std::vector<double>& lrs, const std::vector<double>& losses, int lr_diff = 15,
             double thresh = 0.005, double adjust_value = 1.0) {
  auto n = static_cast<int64_t>(losses.size());
  std::vector<double> g(n, 0.0);  // numpy.gradient with unit spacing
  if (n >= 2) {
    g[0] = losses[1] - losses[0];
    g[n - 1] = losses[n - 1] - losses[n - 2];
    for (int64_t i = 1; i + 1 < n; ++i) g[i] = (losses[i + 1] - losses[i - 1]) / 2;
  }
  auto at = [n](int64_t neg) { return n + neg; };  // python negative index
  int64_t r = -1, l = r - lr_diff;
  if (at(l) < 0) return lrs.front() * adjust_value;
  double local_min_lr = lrs[at(l)];
  while (l >= -n && std::abs(g[at(r)] - g[at(l)]) > thresh) {
    local_min_lr = lrs[at(l)];
    --r;
    --l;
  }
  return local_min_lr * adjust_value;
}

double minimum(const std::vector<double>& lrs, const std::vector<double>& losses) {
  size_t i = std::min_element(losses.begin(), losses.end()) - losses.begin();
  return lrs[i] / 10;
}

double steep(const std::vector<double>& lrs, const std::vector<double>& losses) {
  size_t best = 0;
  double best_g = std::numeric_limits<double>::infinity();
  for (size_t i = 0; i + 1 < losses.size(); ++i) {
    double gr = (losses[i + 1] - losses[i]) / (std::log(lrs[i + 1]) - std::log(lrs[i]));
    if (gr < best_g) { best_g = gr; best = i; }
  }
  return lrs[best];
}

}  // namespace

void Learner::fit_one_cycle(int n, OneCycleOptions o) {
  if (!opt) create_opt();
  auto lr_max = o.lr_max.value_or(LR(lr)).per_group(opt->n_groups());
  opt->set_hypers("lr", lr_max);
  auto m = o.moms.value_or(moms);
  ParamScheduler::Scheds s;
  s["lr"] = per_group(lr_max, [&](double v) { return combined_cos(o.pct_start, v / o.div, v, v / o.div_final); });
  s["mom"] = {combined_cos(o.pct_start, m[0], m[1], m[2])};
  fit(n, {}, with_sched(std::move(s), o.cbs), o.wd);
}

void Learner::fit_flat_cos(int n, FlatCosOptions o) {
  if (!opt) create_opt();
  auto lrs = o.lr.value_or(LR(lr)).per_group(opt->n_groups());
  opt->set_hypers("lr", lrs);
  ParamScheduler::Scheds s;
  s["lr"] = per_group(lrs, [&](double v) { return combined_cos(o.pct_start, v, v, v / o.div_final); });
  fit(n, {}, with_sched(std::move(s), o.cbs), o.wd);
}

void Learner::fit_sgdr(int n_cycles, int cycle_len, SgdrOptions o) {
  STRATA_CHECK(n_cycles > 0 && cycle_len > 0 && o.cycle_mult >= 1, ValueError,
               "Learner.fit_sgdr: n_cycles {}, cycle_len {} and cycle_mult {} must be >= 1", n_cycles, cycle_len,
               o.cycle_mult);
  int mult = o.cycle_mult;
  int64_t total = 0, len = cycle_len;
  std::vector<int64_t> lens;
  for (int i = 0; i < n_cycles; ++i, len *= mult) {
    lens.push_back(len);
    total += len;
  }
  double lr_max = o.lr_max.value_or(lr);
  std::vector<double> pcts;
  std::vector<Schedule> scheds;
  for (int64_t l : lens) {
    pcts.push_back(static_cast<double>(l) / total);
    scheds.push_back(SchedCos(lr_max, 0));
  }
  ParamScheduler::Scheds s{{"lr", {combine_scheds(pcts, scheds)}}};
  fit(static_cast<int>(total), {}, with_sched(std::move(s), o.cbs), o.wd);
}

void Learner::fine_tune(int epochs, FineTuneOptions o) {
  freeze();
  fit_one_cycle(o.freeze_epochs, {.lr_max = slice(o.base_lr), .pct_start = 0.99, .wd = o.wd, .cbs = o.cbs});
  double base = o.base_lr / 2;
  unfreeze();
  fit_one_cycle(epochs, {.lr_max = slice(base / o.lr_mult, base), .div = o.div, .pct_start = o.pct_start,
                         .wd = o.wd, .cbs = o.cbs});
}

LRFindResult Learner::lr_find(LRFindOptions o) {
  int64_t n_train = dls.train->size();
  STRATA_CHECK(n_train > 0, ValueError, "Learner.lr_find: the train loader has no batches");
  int n_ep = static_cast<int>(o.num_it / n_train + 1);
  auto finder = std::make_shared<LRFinder>(
      LRFinderOptions{.start_lr = o.start_lr, .end_lr = o.end_lr, .num_it = o.num_it, .stop_div = o.stop_div});
  {
    Logger saved = logger;
    logger = {};
    try {
      fit(n_ep, {}, {finder});
    } catch (...) {
      logger = saved;
      throw;
    }
    logger = saved;
  }
  const Recorder& rec = recorder();
  LRFindResult r;
  r.lrs = rec.lrs;
  r.losses = rec.losses;
  // fastai: lrs[num_it//10 : -5], cut at the first NaN.
  size_t a = static_cast<size_t>(o.num_it / 10);
  size_t b = r.lrs.size() > 5 ? r.lrs.size() - 5 : 0;
  std::vector<double> lrs, losses;
  for (size_t i = a; i < b; ++i) {
    if (std::isnan(r.losses[i])) break;
    lrs.push_back(r.lrs[i]);
    losses.push_back(r.losses[i]);
  }
  STRATA_CHECK(lrs.size() >= 2, ValueError,
               "Learner.lr_find: only {} usable points recorded (of {}): use more iterations", lrs.size(),
               r.lrs.size());
  r.valley = valley(lrs, losses);
  r.slide = slide(lrs, losses);
  r.minimum = minimum(lrs, losses);
  r.steep = steep(lrs, losses);
  if (!o.plot.empty()) plot_lr_find(o.plot, r.lrs, r.losses, r.valley);
  return r;
}

}  // namespace strata::train
