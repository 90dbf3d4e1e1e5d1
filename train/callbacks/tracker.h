#pragma once
// Callbacks that track a monitored value across epochs (fastai/callback/tracker.py):
// EarlyStopping, SaveModel, ReduceLROnPlateau. The monitored value is one of the Recorder's
// columns ("valid_loss", "accuracy", ...); by default lower is better when its name contains
// "loss" or "error", higher otherwise. An epoch improves when the value beats the best by more
// than min_delta.
#include <optional>
#include <string>

#include "train/callback.h"

namespace strata::train {

struct TrackerOptions {
  std::string monitor = "valid_loss";
  std::optional<bool> lower_is_better{};  // default: from the name
  double min_delta = 0.0;
  bool reset_on_fit = true;
};

class TrackerCallback : public Callback {
 public:
  TrackerCallback(std::string name, TrackerOptions opts);
  void before_fit() override;
  void after_epoch() override;

  double best = 0;
  bool new_best = false;

 protected:
  TrackerOptions opts_;
  bool lower_;
  size_t idx_ = 0;
};

// Stops training (CancelFitException) after `patience` epochs without improvement.
class EarlyStopping : public TrackerCallback {
 public:
  explicit EarlyStopping(TrackerOptions opts = {}, int patience = 1);
  void before_fit() override;
  void after_epoch() override;
  int wait = 0;
  int stopped_epoch = -1;  // the epoch that stopped training, or -1

 private:
  int patience_;
};

struct SaveModelOptions {
  std::string fname = "model";
  int every_epoch = 0;   // > 0: save as fname_<epoch> every that many epochs instead of on improvement
  bool at_end = false;   // save at the end of training instead of loading the best
  bool with_opt = false;
};

// Saves the model whenever the monitored value improves, and loads the best one at the end.
class SaveModel : public TrackerCallback {
 public:
  explicit SaveModel(TrackerOptions opts = {}, SaveModelOptions save = {});
  void after_epoch() override;
  void after_fit() override;
  int best_epoch = -1;

 private:
  SaveModelOptions save_;
};

// Divides every group's lr by `factor` (not below min_lr) after `patience` epochs without improvement.
class ReduceLROnPlateau : public TrackerCallback {
 public:
  explicit ReduceLROnPlateau(TrackerOptions opts = {}, int patience = 1, double factor = 10.0, double min_lr = 0.0);
  void before_fit() override;
  void after_epoch() override;
  int wait = 0;

 private:
  int patience_;
  double factor_, min_lr_;
};

}  // namespace strata::train
