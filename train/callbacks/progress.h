#pragma once
// ProgressCallback (fastai/callback/progress.py, console flavour of fastprogress): while an
// epoch's training or validation runs, a progress bar with the batch count, elapsed/remaining
// time and the smoothed loss, redrawn in place; after each epoch, a row of the table
//
//   epoch  train_loss  valid_loss  accuracy  time
//   0      0.512345    0.423456    0.851200  00:12
//
// When the output is not a terminal, no bar is drawn and the table comes as plain lines.
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "train/callback.h"
#include "train/learner.h"

namespace strata::train {

class ProgressCallback : public Callback {
 public:
  // `out`: where to write (stdout by default); `force_bar` draws the bar even when out is not a
  // terminal (tests).
  explicit ProgressCallback(std::FILE* out = stdout, bool force_bar = false);

  void before_fit() override;
  void before_train() override { launch_bar(); }
  void before_validate() override { launch_bar(); }
  void after_batch() override;
  void after_train() override { end_bar(); }
  void after_validate() override { end_bar(); }
  void after_fit() override;

 private:
  void launch_bar();
  void end_bar();
  void write_row(const std::vector<std::string>& row);

  std::FILE* out_;
  bool bar_;
  bool table_ = false;
  std::vector<size_t> widths_;
  Logger old_logger_;
  std::chrono::steady_clock::time_point bar_start_, last_draw_;
  size_t bar_len_ = 0;
};

}  // namespace strata::train
