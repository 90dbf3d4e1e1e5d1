// Tracker callbacks, with fastai's orders (60, SaveModel 61, ReduceLROnPlateau 62, EarlyStopping 63).
#include "train/callbacks/tracker.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/core.h>
#include <fmt/ranges.h>

#include "tensor/error.h"
#include "train/callbacks/recorder.h"
#include "train/learner.h"

namespace strata::train {

TrackerCallback::TrackerCallback(std::string name, TrackerOptions opts) : Callback(std::move(name)), opts_(opts) {
  order = 60;
  lower_ = opts_.lower_is_better.value_or(opts_.monitor.find("loss") != std::string::npos ||
                                          opts_.monitor.find("error") != std::string::npos);
  if (lower_) opts_.min_delta = -opts_.min_delta;
  best = lower_ ? std::numeric_limits<double>::infinity() : -std::numeric_limits<double>::infinity();
}

void TrackerCallback::before_fit() {
  if (opts_.reset_on_fit)
    best = lower_ ? std::numeric_limits<double>::infinity() : -std::numeric_limits<double>::infinity();
  const auto& names = learn->recorder().metric_names;
  auto it = std::find(names.begin() + 1, names.end(), opts_.monitor);
  STRATA_CHECK(it != names.end(), ValueError, "{}: cannot monitor '{}': the recorded values are {}", name(),
               opts_.monitor, fmt::join(names.begin() + 1, names.end(), ", "));
  idx_ = static_cast<size_t>(it - names.begin()) - 1;
}

void TrackerCallback::after_epoch() {
  const auto& vals = learn->recorder().values;
  if (vals.empty() || idx_ >= vals.back().size()) {
    new_best = false;
    return;
  }
  double v = vals.back()[idx_];
  bool better = lower_ ? (v - opts_.min_delta < best) : (v - opts_.min_delta > best);
  if (better) {
    best = v;
    new_best = true;
  } else {
    new_best = false;
  }
}

EarlyStopping::EarlyStopping(TrackerOptions opts, int patience)
    : TrackerCallback("EarlyStoppingCallback", opts), patience_(patience) {
  order = 63;
}
void EarlyStopping::before_fit() {
  wait = 0;
  stopped_epoch = -1;
  TrackerCallback::before_fit();
}
void EarlyStopping::after_epoch() {
  TrackerCallback::after_epoch();
  if (new_best) {
    wait = 0;
    return;
  }
  if (++wait >= patience_) {
    stopped_epoch = learn->epoch;
    if (learn->logger) fmt::print("No improvement since epoch {}: early stopping\n", learn->epoch - wait);
    throw CancelFitException();
  }
}

SaveModel::SaveModel(TrackerOptions opts, SaveModelOptions save)
    : TrackerCallback("SaveModelCallback", opts), save_(std::move(save)) {
  order = 61;
}
void SaveModel::after_epoch() {
  if (save_.every_epoch > 0) {
    if (learn->epoch % save_.every_epoch == 0) learn->save(fmt::format("{}_{}", save_.fname, learn->epoch), save_.with_opt);
    return;
  }
  TrackerCallback::after_epoch();
  if (new_best) {
    best_epoch = learn->epoch;
    learn->save(save_.fname, save_.with_opt);
  }
}
void SaveModel::after_fit() {
  if (save_.at_end) learn->save(save_.fname, save_.with_opt);
  else if (save_.every_epoch <= 0 && best_epoch >= 0) learn->load(save_.fname, save_.with_opt);
}

ReduceLROnPlateau::ReduceLROnPlateau(TrackerOptions opts, int patience, double factor, double min_lr)
    : TrackerCallback("ReduceLROnPlateau", opts), patience_(patience), factor_(factor), min_lr_(min_lr) {
  order = 62;
}
void ReduceLROnPlateau::before_fit() {
  wait = 0;
  TrackerCallback::before_fit();
}
void ReduceLROnPlateau::after_epoch() {
  TrackerCallback::after_epoch();
  if (new_best) {
    wait = 0;
    return;
  }
  if (++wait >= patience_) {
    std::vector<double> lrs;
    for (size_t g = 0; g < learn->opt->n_groups(); ++g)
      lrs.push_back(std::max(learn->opt->hyper("lr", g) / factor_, min_lr_));
    learn->opt->set_hypers("lr", lrs);
    wait = 0;
  }
}

}  // namespace strata::train
