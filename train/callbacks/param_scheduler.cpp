// ParamScheduler and LRFinder, as in fastai; LRFinder's checkpoint is a unique directory under
// <path>/<model_dir>, removed after the weights are restored.
#include "train/callbacks/param_scheduler.h"

#include <atomic>
#include <cmath>
#include <limits>

#include <fmt/core.h>
#include <unistd.h>

#include "tensor/error.h"
#include "train/callbacks/recorder.h"
#include "train/learner.h"

namespace strata::train {

ParamScheduler::ParamScheduler(Scheds scheds) : Callback("ParamScheduler"), scheds_(std::move(scheds)) {
  order = 60;
  run_valid = false;
  for (auto& [name, s] : scheds_)
    STRATA_CHECK(!s.empty(), ValueError, "ParamScheduler: no schedule for '{}'", name);
}

double ParamScheduler::learn_pct() const { return learn->pct_train; }

void ParamScheduler::before_fit() {
  hps.clear();
  for (auto& [name, s] : scheds_) hps[name] = {};
}

void ParamScheduler::update(double pct) {
  for (auto& [name, s] : scheds_) {
    if (s.size() == 1) {
      learn->opt->set_hyper(name, s[0](pct));
    } else {
      STRATA_CHECK(s.size() == learn->opt->n_groups(), ValueError,
                   "ParamScheduler: {} schedules for '{}' but the optimizer has {} groups", s.size(), name,
                   learn->opt->n_groups());
      std::vector<double> v;
      for (auto& f : s) v.push_back(f(pct));
      learn->opt->set_hypers(name, v);
    }
  }
}

void ParamScheduler::after_batch() {
  for (auto& [name, s] : scheds_) hps[name].push_back(learn->opt->hyper(name, learn->opt->n_groups() - 1));
}

void ParamScheduler::after_fit() {
  if (auto* r = learn->find_cb<Recorder>()) r->hps = hps;
}

LRFinder::LRFinder(LRFinderOptions opts)
    : ParamScheduler({{"lr", {SchedExp(opts.start_lr, opts.end_lr)}}}), opts_(opts) {
  if (opts_.num_it < 6) opts_.num_it = 6;
}

void LRFinder::before_fit() {
  ParamScheduler::before_fit();
  static std::atomic<int> counter{0};
  tmp_dir_ = fmt::format("_lr_find_{}_{}", static_cast<long>(getpid()), counter++);
  learn->save((tmp_dir_ / "_tmp").string(), /*with_opt=*/true);
  best_loss = std::numeric_limits<double>::infinity();
}

void LRFinder::before_batch() { update(static_cast<double>(learn->train_iter) / opts_.num_it); }

void LRFinder::after_batch() {
  ParamScheduler::after_batch();
  double s = learn->smooth_loss;
  if (s < best_loss) best_loss = s;
  if (opts_.stop_div && (s > 4 * best_loss || std::isnan(s))) throw CancelFitException();
  if (learn->train_iter >= opts_.num_it) throw CancelFitException();
}

void LRFinder::after_fit() {
  ParamScheduler::after_fit();
  learn->opt->zero_grad();
  auto dir = learn->path / learn->model_dir / tmp_dir_;
  if (std::filesystem::exists(dir / "_tmp.safetensors")) {
    learn->load((tmp_dir_ / "_tmp").string(), /*with_opt=*/true);
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
}

}  // namespace strata::train
