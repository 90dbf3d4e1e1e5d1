#pragma once
// A console reporter that also remembers, per benchmark, the best value of one counter over all
// repetitions (these VMs are shared and noisy: the best run is the one least disturbed).
// Aggregate rows (mean, median, stddev of --benchmark_repetitions) are printed but not recorded.
//
//   bench::BestReporter reporter("GB/s");
//   benchmark::RunSpecifiedBenchmarks(&reporter);
//   double best = reporter.best("add_4M");   // 0 when the case did not run
#include <benchmark/benchmark.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

namespace bench {

class BestReporter : public benchmark::ConsoleReporter {
 public:
  explicit BestReporter(std::string counter) : counter_(std::move(counter)) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      if (r.error_occurred || r.run_type == Run::RT_Aggregate) continue;
      auto it = r.counters.find(counter_);
      if (it == r.counters.end()) continue;
      std::string name = r.run_name.function_name;
      double& best = best_[name];
      best = std::max(best, static_cast<double>(it->second.value));
    }
    ConsoleReporter::ReportRuns(runs);
  }

  double best(const std::string& name) const {
    auto it = best_.find(name);
    return it == best_.end() ? 0.0 : it->second;
  }

 private:
  std::string counter_;
  std::map<std::string, double> best_;
};

}  // namespace bench
