// The console progress bar and per-epoch table. The bar is redrawn with '\r' at most ~10 times
// a second; the table's columns are as wide as their header or first value.
#include "train/callbacks/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>

#include <fmt/core.h>

#include "train/callbacks/recorder.h"

namespace strata::train {

ProgressCallback::ProgressCallback(std::FILE* out, bool force_bar)
    : Callback("ProgressCallback"), out_(out), bar_(force_bar || isatty(fileno(out))) {
  order = 60;
}

void ProgressCallback::before_fit() {
  table_ = learn->create_mbar;
  widths_.clear();
  old_logger_ = learn->logger;
  if (learn->logger) {
    learn->logger = [this](const std::vector<std::string>& row) { write_row(row); };
    write_row(learn->recorder().metric_names);
  }
}

void ProgressCallback::write_row(const std::vector<std::string>& row) {
  if (!table_) return;
  if (widths_.empty())
    for (const auto& c : row) widths_.push_back(std::max<size_t>(c.size(), 6));
  std::string line;
  for (size_t i = 0; i < row.size(); ++i) {
    size_t w = i < widths_.size() ? widths_[i] : row[i].size();
    if (i + 1 < row.size()) line += fmt::format("{:<{}}  ", row[i], w);
    else line += row[i];  // no trailing blanks
  }
  if (bar_ && bar_len_) fmt::print(out_, "\r{:<{}}\r", "", bar_len_);
  fmt::print(out_, "{}\n", line);
  std::fflush(out_);
}

void ProgressCallback::launch_bar() {
  bar_start_ = std::chrono::steady_clock::now();
  bar_len_ = 0;
}

void ProgressCallback::after_batch() {
  if (!bar_) return;
  int64_t done = learn->iter + 1, total = std::max<int64_t>(learn->n_iter, done);
  auto now = std::chrono::steady_clock::now();
  if (done != total && bar_len_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  double el = std::chrono::duration<double>(now - bar_start_).count();
  double remain = done > 0 ? el / done * (total - done) : 0;
  constexpr int kWidth = 30;
  int filled = static_cast<int>(kWidth * done / total);
  std::string bar(filled, '#');
  bar += std::string(kWidth - filled, '-');
  std::string line = fmt::format("[{}] {}/{} {}<{}", bar, done, total, format_time(el), format_time(remain));
  if (learn->training && !std::isnan(learn->smooth_loss)) line += fmt::format(" {:.4f}", learn->smooth_loss);
  bar_len_ = std::max(bar_len_, line.size());
  fmt::print(out_, "\r{:<{}}", line, bar_len_);
  std::fflush(out_);
}

void ProgressCallback::end_bar() {
  if (bar_ && bar_len_) {
    fmt::print(out_, "\r{:<{}}\r", "", bar_len_);
    std::fflush(out_);
  }
  bar_len_ = 0;
}

void ProgressCallback::after_fit() {
  end_bar();
  learn->logger = old_logger_;
  table_ = false;
}

}  // namespace strata::train
