#pragma once
// Per-call timing with a median, the statistic of shared/peers/torch_ops.py (figure = work /
// median time of one call), so a strata/pytorch ratio compares like with like. Google
// Benchmark's own columns (mean time per iteration) are still printed beside it.
//
//   bench::MedianTimer timer;
//   for (auto _ : state) timer.time([&] { benchmark::DoNotOptimize(x + y); });
//   state.counters["GB/s"] = timer.rate(bytes * 1e-9);   // bytes per median call, in GB/s
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <vector>

namespace bench {

class MedianTimer {
 public:
  template <class F>
  void time(F&& f) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    seconds_.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  double median_seconds() {
    if (seconds_.empty()) return 0;
    auto mid = seconds_.begin() + static_cast<std::ptrdiff_t>(seconds_.size() / 2);
    std::nth_element(seconds_.begin(), mid, seconds_.end());
    return *mid;
  }
  // `work` units per median call, per second (a plain counter: not averaged over iterations).
  benchmark::Counter rate(double work) {
    const double s = median_seconds();
    return benchmark::Counter(s > 0 ? work / s : 0.0);
  }

 private:
  std::vector<double> seconds_;
};

}  // namespace bench
