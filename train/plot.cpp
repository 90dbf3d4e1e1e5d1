// A minimal line-chart renderer: data → pixel transform, nice ticks, labels with the bitmap font.
#include "train/plot.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/core.h>

#include "tensor/error.h"

namespace strata::train {

std::vector<double> nice_ticks(double lo, double hi, int target) {
  if (!(hi > lo)) return {lo};
  double raw = (hi - lo) / std::max(target, 1);
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double norm = raw / mag;
  double step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
  std::vector<double> ticks;
  for (double t = std::ceil(lo / step) * step; t <= hi + step * 1e-9; t += step)
    ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  return ticks;
}

namespace {

// Every tick of an axis gets the same format, chosen from the step: fixed with as many decimals
// as the step needs, or scientific for very small or large values.
std::string tick_label(double v, bool log_axis, double step) {
  if (log_axis) return fmt::format("1e{}", static_cast<int>(std::lround(v)));
  if (std::abs(v) < step * 1e-9) return "0";
  if (step < 1e-4 || std::abs(v) >= 1e5) return fmt::format("{:.1e}", v);
  int decimals = std::max(0, static_cast<int>(std::ceil(-std::log10(step) - 1e-9)));
  return fmt::format("{:.{}f}", v, decimals);
}

}  // namespace

void line_plot(const std::filesystem::path& png, const std::vector<Series>& series, const PlotOptions& o) {
  STRATA_CHECK(o.width >= 200 && o.height >= 150, ValueError, "line_plot: size {}x{} is too small (>= 200x150)",
               o.width, o.height);
  double xmin = std::numeric_limits<double>::infinity(), xmax = -xmin, ymin = xmin, ymax = -xmin;
  auto tx = [&](double x) { return o.log_x ? std::log10(x) : x; };
  for (const auto& s : series) {
    STRATA_CHECK(s.x.size() == s.y.size(), ValueError, "line_plot: series '{}' has {} x and {} y values", s.label,
                 s.x.size(), s.y.size());
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i]) || (o.log_x && s.x[i] <= 0)) continue;
      xmin = std::min(xmin, tx(s.x[i])); xmax = std::max(xmax, tx(s.x[i]));
      ymin = std::min(ymin, s.y[i]); ymax = std::max(ymax, s.y[i]);
    }
  }
  STRATA_CHECK(std::isfinite(xmin) && std::isfinite(ymin), ValueError, "line_plot: no finite point to plot ({})",
               png.string());
  if (xmax == xmin) { xmin -= 0.5; xmax += 0.5; }
  if (ymax == ymin) { ymin -= 0.5; ymax += 0.5; }
  double ypad = (ymax - ymin) * 0.05;
  ymin -= ypad; ymax += ypad;

  using namespace data;
  Canvas c(o.height, o.width, colors::white);
  const int left = 70, right = 20, top = o.title.empty() ? 20 : 36, bottom = 50;
  const int pw = o.width - left - right, ph = o.height - top - bottom;
  auto px = [&](double x) { return left + static_cast<int>(std::lround((tx(x) - xmin) / (xmax - xmin) * pw)); };
  auto pxt = [&](double t) { return left + static_cast<int>(std::lround((t - xmin) / (xmax - xmin) * pw)); };
  auto py = [&](double y) { return top + ph - static_cast<int>(std::lround((y - ymin) / (ymax - ymin) * ph)); };

  // Grid, ticks and labels.
  const Color grid{225, 225, 225, 255};
  std::vector<double> xt;
  if (o.log_x) {
    for (double e = std::ceil(xmin); e <= xmax + 1e-9; e += 1) xt.push_back(e);
    if (xt.size() > 10) {  // thin out
      std::vector<double> thin;
      size_t every = (xt.size() + 9) / 10;
      for (size_t i = 0; i < xt.size(); i += every) thin.push_back(xt[i]);
      xt = thin;
    }
  } else {
    xt = nice_ticks(xmin, xmax, 6);
  }
  for (double t : xt) {
    int x = pxt(t);
    if (x < left || x > left + pw) continue;
    c.line(x, top, x, top + ph, grid);
    c.line(x, top + ph, x, top + ph + 4, colors::black);
    std::string lab = tick_label(t, o.log_x, xt.size() > 1 ? xt[1] - xt[0] : 1.0);
    c.text(x - Canvas::text_width(lab) / 2, top + ph + 8, lab, colors::black);
  }
  auto yt = nice_ticks(ymin, ymax, 6);
  for (double t : yt) {
    int y = py(t);
    if (y < top || y > top + ph) continue;
    c.line(left, y, left + pw, y, grid);
    c.line(left - 4, y, left, y, colors::black);
    std::string lab = tick_label(t, false, yt.size() > 1 ? yt[1] - yt[0] : 1.0);
    c.text(left - 8 - Canvas::text_width(lab), y - 3, lab, colors::black);
  }
  c.rect(left, top, pw + 1, ph + 1, colors::black);

  // Series.
  for (const auto& s : series) {
    std::vector<PointI> run;
    auto flush = [&] {
      if (run.size() >= 2) c.polyline(run, s.color, 2);
      else if (run.size() == 1) c.fill_rect(run[0].x - 1, run[0].y - 1, 3, 3, s.color);
      run.clear();
    };
    for (size_t i = 0; i < s.x.size(); ++i) {
      bool ok = std::isfinite(s.x[i]) && std::isfinite(s.y[i]) && (!o.log_x || s.x[i] > 0);
      if (!ok) { flush(); continue; }
      PointI p{px(s.x[i]), py(s.y[i])};
      run.push_back(p);
      if (s.markers) c.fill_rect(p.x - 3, p.y - 3, 7, 7, s.color);
    }
    flush();
  }

  // Title, axis labels, legend.
  if (!o.title.empty()) c.text(left + (pw - Canvas::text_width(o.title, 2)) / 2, 8, o.title, colors::black, 2);
  if (!o.xlabel.empty()) c.text(left + (pw - Canvas::text_width(o.xlabel)) / 2, o.height - 16, o.xlabel, colors::black);
  if (!o.ylabel.empty()) c.text(6, top - 14 >= 0 ? top - 14 : 0, o.ylabel, colors::black);
  int ly = top + 8;
  for (const auto& s : series) {
    if (s.label.empty()) continue;
    int w = Canvas::text_width(s.label);
    int lx = left + pw - w - 30;
    c.fill_rect(lx - 4, ly - 3, w + 34, 13, colors::white);
    c.line(lx, ly + 3, lx + 18, ly + 3, s.color, 2);
    c.text(lx + 24, ly, s.label, colors::black);
    ly += 14;
  }
  std::filesystem::create_directories(png.parent_path().empty() ? "." : png.parent_path());
  c.save_png(png);
}

void plot_lr_find(const std::filesystem::path& png, const std::vector<double>& lrs, const std::vector<double>& losses,
                  double suggestion) {
  std::vector<Series> s{{.x = lrs, .y = losses, .label = "loss", .color = data::colors::blue}};
  // The suggestion: the loss at the closest recorded lr.
  size_t best = 0;
  for (size_t i = 0; i < lrs.size(); ++i)
    if (std::abs(std::log(lrs[i]) - std::log(suggestion)) < std::abs(std::log(lrs[best]) - std::log(suggestion)))
      best = i;
  if (!lrs.empty())
    s.push_back({.x = {lrs[best]}, .y = {losses[best]}, .label = fmt::format("valley {:.2e}", suggestion),
                 .color = data::colors::orange, .markers = true});
  line_plot(png, s, {.title = "lr_find", .xlabel = "Learning Rate", .ylabel = "Loss", .log_x = true});
}

}  // namespace strata::train
