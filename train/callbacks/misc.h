#pragma once
// Small callbacks (fastai/callback/tracker.py, training.py, progress.py):
//   TerminateOnNaN  stops training when a batch loss is NaN or infinite
//   BnFreeze        keeps frozen batch-norm layers in eval mode (their running statistics stay)
//   CSVLogger       appends each epoch's row to <path>/<fname> (header: the Recorder's names)
#include <cstdio>
#include <filesystem>
#include <string>

#include "train/callback.h"
#include "train/learner.h"

namespace strata::train {

class TerminateOnNaN : public Callback {
 public:
  TerminateOnNaN() : Callback("TerminateOnNaNCallback") { order = -9; }
  void after_batch() override;
};

// Sets every batch-norm layer whose parameters do not require grad (frozen) to eval mode.
void set_bn_eval(nn::Module& model);

class BnFreeze : public Callback {
 public:
  BnFreeze() : Callback("BnFreeze") { order = -5; }  // after TrainEvalCallback's model.train()
  void before_train() override;
};

class CSVLogger : public Callback {
 public:
  explicit CSVLogger(std::filesystem::path fname = "history.csv", bool append = false);
  ~CSVLogger() override;
  void before_fit() override;
  void after_fit() override;
  std::filesystem::path file() const;

 private:
  void write(const std::vector<std::string>& row);
  std::filesystem::path fname_;
  bool append_;
  std::FILE* f_ = nullptr;
  Logger old_;
};

}  // namespace strata::train
