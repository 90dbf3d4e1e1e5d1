// Schedules as closures over their end points, exactly fastai's formulas.
#include "train/schedule.h"

#include <cmath>
#include <numbers>

#include "tensor/error.h"

namespace strata::train {

Schedule SchedLin(double start, double end) {
  return [=](double pos) { return start + pos * (end - start); };
}
Schedule SchedCos(double start, double end) {
  return [=](double pos) { return start + (1 + std::cos(std::numbers::pi * (1 - pos))) * (end - start) / 2; };
}
Schedule SchedNo(double start, double /*end*/) {
  return [=](double) { return start; };
}
Schedule SchedExp(double start, double end) {
  STRATA_CHECK(start > 0 && end > 0, ValueError, "SchedExp: start {} and end {} must be > 0", start, end);
  return [=](double pos) { return start * std::pow(end / start, pos); };
}
Schedule SchedPoly(double start, double end, double power) {
  return [=](double pos) { return start + (end - start) * std::pow(pos, power); };
}

Schedule combine_scheds(const std::vector<double>& pcts, const std::vector<Schedule>& scheds) {
  STRATA_CHECK(!pcts.empty() && pcts.size() == scheds.size(), ValueError,
               "combine_scheds: {} shares for {} schedules", pcts.size(), scheds.size());
  std::vector<double> edges{0.0};
  for (double p : pcts) {
    STRATA_CHECK(p >= 0, ValueError, "combine_scheds: share {} is negative", p);
    edges.push_back(edges.back() + p);
  }
  STRATA_CHECK(std::abs(edges.back() - 1.0) < 1e-6, ValueError, "combine_scheds: shares sum to {}, not 1",
               edges.back());
  return [edges, scheds](double pos) {
    // fastai: the last edge index with pos >= edge, capped at the last schedule.
    size_t idx = 0;
    for (size_t i = 0; i < edges.size(); ++i)
      if (pos >= edges[i]) idx = i;
    idx = std::min(idx, scheds.size() - 1);
    double width = edges[idx + 1] - edges[idx];
    double actual = width > 0 ? (pos - edges[idx]) / width : 1.0;
    return scheds[idx](actual);
  };
}

Schedule combined_cos(double pct, double start, double middle, double end) {
  return combine_scheds({pct, 1 - pct}, {SchedCos(start, middle), SchedCos(middle, end)});
}

}  // namespace strata::train
