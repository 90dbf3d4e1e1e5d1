#pragma once
// Line plots to PNG for the Learner (loss curves, schedules, lr_find), drawn on Strata's own
// Canvas (data/canvas.h): axes with ticks and numeric labels, a title, axis labels, a legend,
// optionally a logarithmic x axis. Strata's own module rather than a Debian plotting library:
// the figures are few and simple, and a C++ plotting library (e.g. via gnuplot) would add a
// run-time program dependency for three line charts.
//
//   train::line_plot("loss.png", {{.x = iters, .y = losses, .label = "train"}},
//                    {.title = "Loss", .xlabel = "batch", .ylabel = "loss"});
#include <filesystem>
#include <string>
#include <vector>

#include "data/canvas.h"

namespace strata::train {

struct Series {
  std::vector<double> x{}, y{};  // same length; non-finite points are skipped (the line breaks)
  std::string label{};
  data::Color color = data::colors::blue;
  bool markers = false;      // a small square at each point
};

struct PlotOptions {
  std::string title{}, xlabel{}, ylabel{};
  bool log_x = false;        // x values must be > 0
  int width = 640, height = 440;
};

// Throws ValueError when there is nothing finite to plot or a series' sizes differ.
void line_plot(const std::filesystem::path& png, const std::vector<Series>& series, const PlotOptions& opts = {});

// fastai's lr_find plot: smoothed loss against lr (log axis), the suggestion marked.
void plot_lr_find(const std::filesystem::path& png, const std::vector<double>& lrs, const std::vector<double>& losses,
                  double suggestion);

// "Nice" tick positions covering [lo, hi] (1, 2, 5 x 10^k steps), about `target` of them.
std::vector<double> nice_ticks(double lo, double hi, int target = 6);

}  // namespace strata::train
