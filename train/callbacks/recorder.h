#pragma once
// Recorder (fastai): records, per training batch, the loss, its smoothed value (beta 0.98,
// debiased), the learning rate and momentum of the last parameter group; per epoch, the train
// loss, valid loss and metrics (`values`), and sends the epoch's row to learn.logger. Added to
// every Learner (order 50).
//
//   learn.recorder().plot_loss("loss.png");
//   double last_valid = learn.recorder().values.back()[1];
#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "train/callback.h"
#include "train/metrics.h"

namespace strata::train {

struct RecorderOptions {
  bool add_time = true;
  bool train_metrics = false;  // also compute the metrics on the training set
  bool valid_metrics = true;
  double beta = 0.98;
};

class Recorder : public Callback {
 public:
  explicit Recorder(RecorderOptions opts = {});

  // ---- what was recorded (reset at before_fit) ----
  std::vector<double> losses;      // smoothed training loss after each batch (fastai's losses)
  std::vector<double> raw_losses;  // the batch's own mean loss
  std::vector<double> lrs;         // lr of the last group, per batch
  std::vector<double> moms;        // mom (or beta1) of the last group, per batch, when the optimizer has one
  std::vector<int64_t> iters;      // number of batches seen at the end of each epoch
  std::vector<std::vector<double>> values;  // per epoch: the row's numbers without epoch and time
  std::vector<std::string> metric_names;    // "epoch", "train_loss", "valid_loss", metrics..., "time"
  std::map<std::string, std::vector<double>> hps;  // hypers scheduled by ParamScheduler, per batch

  void before_fit() override;
  void before_epoch() override;
  void before_train() override;
  void before_validate() override;
  void after_batch() override;
  void after_train() override;
  void after_validate() override;
  void after_cancel_train() override { cancel_train_ = true; }
  void after_cancel_validate() override { cancel_valid_ = true; }
  void after_epoch() override;

  // PNG plots (train/plot.h). plot_loss: training loss per batch (after skip_start) and the
  // validation loss at each epoch's end; plot_sched: lr (and mom) per batch.
  void plot_loss(const std::filesystem::path& png, int skip_start = 5, bool with_valid = true) const;
  void plot_sched(const std::filesystem::path& png) const;

  const AvgSmoothLoss& smooth_loss() const { return smooth_; }

 private:
  std::vector<Metric*> train_mets();
  std::vector<Metric*> valid_mets();

  RecorderOptions opts_;
  AvgLoss loss_;
  AvgSmoothLoss smooth_;
  bool cancel_train_ = false, cancel_valid_ = false;
  std::vector<double> log_;
  std::chrono::steady_clock::time_point start_;
};

// fastai's format_time: "mm:ss", or "h:mm:ss" past an hour.
std::string format_time(double seconds);

}  // namespace strata::train
