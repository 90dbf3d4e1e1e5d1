#pragma once
// ParamScheduler and LRFinder (fastai/callback/schedule.py).
//
// ParamScheduler sets hypers from schedules before every training batch, at pct_train (the
// share of the whole fit done so far). A hyper gets one schedule for every group, or one per
// group (discriminative learning rates). The values it set are recorded per batch and handed to
// the Recorder (`recorder().hps`) at the end of the fit.
//
//   learn.fit(3, {}, {std::make_shared<ParamScheduler>(ParamScheduler::Scheds{
//       {"lr", {SchedCos(1e-3, 1e-5)}}})});
//
// LRFinder sweeps the lr exponentially from start_lr to end_lr over num_it batches, stops when
// the smoothed loss passes 4x its best (or is NaN), skips validation, and restores the model and
// optimizer saved at the start. Learner::lr_find drives it.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "train/callback.h"
#include "train/schedule.h"

namespace strata::train {

class ParamScheduler : public Callback {
 public:
  using Scheds = std::map<std::string, std::vector<Schedule>>;
  explicit ParamScheduler(Scheds scheds);

  void before_fit() override;
  void before_batch() override { update(learn_pct()); }
  void after_batch() override;
  void after_fit() override;

  std::map<std::string, std::vector<double>> hps;  // value of the last group, per batch

 protected:
  double learn_pct() const;
  void update(double pct);
  Scheds scheds_;
};

struct LRFinderOptions {
  double start_lr = 1e-7;
  double end_lr = 10;
  int num_it = 100;
  bool stop_div = true;
};

class LRFinder : public ParamScheduler {
 public:
  explicit LRFinder(LRFinderOptions opts = {});
  void before_fit() override;
  void before_batch() override;
  void after_batch() override;
  void before_validate() override { throw CancelValidException(); }
  void after_fit() override;

  double best_loss = 0;

 private:
  LRFinderOptions opts_;
  std::filesystem::path tmp_dir_;
};

}  // namespace strata::train
