// Recorder: fastai's Recorder with the per-batch raw loss and momentum added.
#include "train/callbacks/recorder.h"

#include <cmath>

#include <fmt/core.h>

#include "train/learner.h"

namespace strata::train {

std::string format_time(double seconds) {
  auto t = static_cast<int64_t>(seconds);
  int64_t h = t / 3600, m = (t / 60) % 60, s = t % 60;
  if (h != 0) return fmt::format("{}:{:02d}:{:02d}", h, m, s);
  return fmt::format("{:02d}:{:02d}", m, s);
}

Recorder::Recorder(RecorderOptions opts) : Callback("Recorder"), opts_(opts), smooth_(opts.beta) { order = 50; }

std::vector<Metric*> Recorder::train_mets() {
  if (cancel_train_) return {};
  std::vector<Metric*> r{&smooth_};
  if (opts_.train_metrics)
    for (auto& m : learn->metrics) r.push_back(m.get());
  return r;
}

std::vector<Metric*> Recorder::valid_mets() {
  if (cancel_valid_ || !opts_.valid_metrics) return {};
  std::vector<Metric*> r{&loss_};
  for (auto& m : learn->metrics) r.push_back(m.get());
  return r;
}

void Recorder::before_fit() {
  losses.clear(); raw_losses.clear(); lrs.clear(); moms.clear(); iters.clear(); values.clear(); hps.clear();
  cancel_train_ = cancel_valid_ = false;
  std::vector<std::string> names;
  auto add_metrics = [&](const std::string& prefix) {
    for (auto& m : learn->metrics) names.push_back(prefix + m->name());
  };
  if (opts_.train_metrics && opts_.valid_metrics) {
    names.push_back("train_loss");
    add_metrics("train_");
    names.push_back("valid_loss");
    add_metrics("valid_");
  } else if (opts_.valid_metrics) {
    names = {"train_loss", "valid_loss"};
    add_metrics("");
  } else {
    names = {"train_loss"};
    if (opts_.train_metrics) add_metrics("");
  }
  if (opts_.add_time) names.push_back("time");
  metric_names = {"epoch"};
  metric_names.insert(metric_names.end(), names.begin(), names.end());
  smooth_.reset();
}

void Recorder::before_epoch() {
  start_ = std::chrono::steady_clock::now();
  log_.clear();
}

void Recorder::before_train() {
  auto mets = train_mets();
  for (size_t i = 1; i < mets.size(); ++i) mets[i]->reset();  // the smoothed loss runs on
}
void Recorder::before_validate() {
  for (auto* m : valid_mets()) m->reset();
}

void Recorder::after_batch() {
  if (learn->yb.empty()) return;
  for (auto* m : learn->training ? train_mets() : valid_mets()) m->accumulate(*learn);
  if (!learn->training) return;
  const auto& h = learn->opt->param_groups().back().hypers;
  lrs.push_back(h.at("lr"));
  if (auto it = h.find("mom"); it != h.end()) moms.push_back(it->second);
  losses.push_back(smooth_.value());
  raw_losses.push_back(learn->loss.defined() ? learn->loss.item() : NAN);
  learn->smooth_loss = smooth_.value();
}

void Recorder::after_train() {
  for (auto* m : train_mets()) log_.push_back(m->value());
}
void Recorder::after_validate() {
  for (auto* m : valid_mets()) log_.push_back(m->value());
}

void Recorder::after_epoch() {
  learn->final_record = log_;
  values.push_back(log_);
  std::vector<std::string> row{std::to_string(learn->epoch)};
  for (double v : log_) row.push_back(fmt::format("{:.6f}", v));
  if (opts_.add_time) {
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    row.push_back(format_time(secs));
  }
  if (learn->logger) learn->logger(row);
  iters.push_back(smooth_.count());
}

}  // namespace strata::train

// ---- plots ----
#include "train/plot.h"

namespace strata::train {

void Recorder::plot_loss(const std::filesystem::path& png, int skip_start, bool with_valid) const {
  std::vector<double> x, y;
  for (size_t i = static_cast<size_t>(std::max(skip_start, 0)); i < losses.size(); ++i) {
    x.push_back(static_cast<double>(i));
    y.push_back(losses[i]);
  }
  std::vector<Series> s{{.x = x, .y = y, .label = "train", .color = data::colors::blue}};
  if (with_valid && !values.empty() && values[0].size() >= 2 && metric_names.size() > 2 &&
      metric_names[2] == "valid_loss") {
    Series v{.label = "valid", .color = data::colors::orange, .markers = true};
    for (size_t e = 0; e < values.size() && e < iters.size(); ++e) {
      if (static_cast<int64_t>(iters[e]) - 1 < skip_start) continue;
      v.x.push_back(static_cast<double>(iters[e] - 1));
      v.y.push_back(values[e][1]);
    }
    s.push_back(v);
  }
  line_plot(png, s, {.title = "Loss", .xlabel = "batch", .ylabel = "loss"});
}

void Recorder::plot_sched(const std::filesystem::path& png) const {
  std::vector<double> x(lrs.size());
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<double>(i);
  std::vector<Series> s{{.x = x, .y = lrs, .label = "lr", .color = data::colors::blue}};
  line_plot(png, s, {.title = "Schedule", .xlabel = "batch", .ylabel = "lr"});
  if (!moms.empty()) {
    auto p = png;
    p.replace_filename(png.stem().string() + "_mom" + png.extension().string());
    std::vector<double> xm(moms.size());
    for (size_t i = 0; i < xm.size(); ++i) xm[i] = static_cast<double>(i);
    line_plot(p, {{.x = xm, .y = moms, .label = "mom", .color = data::colors::green}},
              {.title = "Schedule", .xlabel = "batch", .ylabel = "mom"});
  }
}

}  // namespace strata::train
