// Google Benchmark for the reductions: sum and mean of a contiguous [4096, 4096] f32 tensor over
// everything, over dim 1 (rows: the reduced dim is contiguous) and over dim 0 (columns: the kept
// dim is contiguous), logsumexp over dim 1 of [4096, 4096] and [256, 10000], and the shapes of
// the PyTorch peer script (/work/shared/peers/torch_ops.py): sum of 4M floats, sum and logsumexp
// over dim 1 of [4000, 1000].
//
// Every case is validated against a double-precision reference before it is timed
// (SkipWithError otherwise). Counter "GB/s" = bytes of input read once / time: a reduction reads
// each element once, so this is the fraction of memory bandwidth it reaches.
//
// Each case is timed call by call (31 repetitions of one iteration, like the peer script's 15 timed
// calls); the summary reports the median GB/s (the peer script reports medians too) and the best
// call (this 2-core machine is shared and noisy: the best is what the code does when it gets the
// cores).
//
// Ratios to PyTorch: run the peer in the same sitting and point STRATA_TORCH_JSON at its output
// (a comma-separated list of files is merged),
//   /work/shared/peers/run-tuned torch_ops.py --json /tmp/torch_ops.json
//   STRATA_TORCH_JSON=/tmp/torch_ops.json ./build/bench/bench_reduce
// and the summary prints strata/pytorch for every case whose name a JSON has (a missing or
// unreadable file just skips the ratios). torch_ops.py covers sum_4M, sum_dim1_4000x1000 and
// logsumexp_dim1_4000x1000; for the [4096, 4096] and [256, 10000] cases the same format comes from
//   for name, f, t in [("sum_4096x4096", lambda: A.sum(), A), ("sum_dim0_4096x4096", lambda: A.sum(0), A),
//                      ("logsumexp_dim1_256x10000", lambda: torch.logsumexp(B, 1), B), ...]:
//       ms = median of 15 timed calls after 3 warm-ups, best = their minimum
//       results[name] = {"ms": ms, "GB/s": 4 * t.numel() / ms / 1e6, "best_GB/s": 4 * t.numel() / best / 1e6}
//   json.dump({"results": results}, ...)
// (A = torch.randn(4096, 4096), B = torch.randn(256, 10000), torch.set_num_threads(2), run under
// run-tuned's environment: jemalloc preloaded.) Threads: STRATA_NUM_THREADS (default 2).
// Measure on a quiet machine: with any other busy process (even a niced compile), PyTorch's
// 2-thread OpenMP calls stretch to whole scheduler slices (8 ms for sum_4M), and so do ours when
// the pool's worker is descheduled; compare STRATA_NUM_THREADS=1 with torch_ops.py --threads 1 then.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kernels/cpu/parallel.h"
#include "strata.h"

namespace {

using strata::Tensor;

struct Rates {
  double median = 0, best = 0;  // GB/s over the repetitions
};
std::map<std::string, Rates>& measured() {  // benchmark name -> its rates
  static std::map<std::string, Rates> m;
  return m;
}

Tensor random(const strata::Shape& shape, uint64_t seed) {
  strata::Generator gen(seed);
  return strata::randn(shape, {}, &gen);
}

// The double-precision reference of a row-wise reduction of a [rows, cols] buffer.
enum class Ref { sum, mean, logsumexp };
std::vector<double> reference(const float* x, int64_t rows, int64_t cols, int dim, Ref ref) {
  const int64_t n_out = dim == 1 ? rows : cols, n_red = dim == 1 ? cols : rows;
  std::vector<double> out(n_out);
  for (int64_t o = 0; o < n_out; ++o) {
    auto at = [&](int64_t r) { return static_cast<double>(dim == 1 ? x[o * cols + r] : x[r * cols + o]); };
    if (ref == Ref::logsumexp) {
      double m = -INFINITY, s = 0;
      for (int64_t r = 0; r < n_red; ++r) m = std::max(m, at(r));
      for (int64_t r = 0; r < n_red; ++r) s += std::exp(at(r) - m);
      out[o] = std::log(s) + m;
    } else {
      double s = 0;
      for (int64_t r = 0; r < n_red; ++r) s += at(r);
      out[o] = ref == Ref::mean ? s / static_cast<double>(n_red) : s;
    }
  }
  return out;
}

struct Case {
  std::string name;
  int64_t rows, cols;  // the input is [rows, cols] (rows == 1: a 1-d tensor of cols elements)
  int dim;             // 1: over dim 1, 0: over dim 0, -1: over everything
  Ref ref;
};

Tensor run_case(const Case& c, const Tensor& x) {
  const strata::Dims dims = c.dim < 0 ? strata::Dims{} : strata::Dims{c.dim};
  switch (c.ref) {
    case Ref::sum: return strata::sum(x, dims);
    case Ref::mean: return strata::mean(x, dims);
    case Ref::logsumexp: return strata::logsumexp(x, dims);
  }
  return {};
}

// The input of a case, made and validated once (every repetition times one call on warm data,
// like the peer script's consecutive calls); an empty string when the result checks out.
struct Prepared {
  Tensor x;
  std::string error;
};
const Prepared& prepare(const Case& c) {
  static std::map<std::string, Prepared> cache;
  auto it = cache.find(c.name);
  if (it != cache.end()) return it->second;
  Prepared p;
  p.x = c.rows == 1 ? random({c.cols}, 7) : random({c.rows, c.cols}, 7);
  // Validate every output against the double reference, relative to sqrt(n) (sums) or 1.
  const float* xp = p.x.data<float>();
  const std::vector<double> want = c.dim < 0 ? reference(xp, 1, c.rows * c.cols, 1, c.ref)
                                             : reference(xp, c.rows, c.cols, c.dim, c.ref);
  const std::vector<float> got = run_case(c, p.x).reshape({-1}).to_vector<float>();
  const double scale = c.ref == Ref::sum ? std::sqrt(static_cast<double>(p.x.numel()) / want.size()) : 1.0;
  for (size_t i = 0; i < want.size() && p.error.empty(); ++i) {
    if (!(std::abs(got[i] - want[i]) <= 1e-5 * scale + 1e-5 * std::abs(want[i])))
      p.error = "wrong result at " + std::to_string(i) + ": got " + std::to_string(got[i]) + ", want " +
                std::to_string(want[i]);
  }
  return cache.emplace(c.name, std::move(p)).first->second;
}

void bench_case(benchmark::State& state, const Case& c) {
  const Prepared& p = prepare(c);
  if (!p.error.empty()) {
    state.SkipWithError(p.error.c_str());
    return;
  }
  for (int warm = 0; warm < 2; ++warm) run_case(c, p.x);
  for (auto _ : state) {
    Tensor r = run_case(c, p.x);
    benchmark::DoNotOptimize(r.raw_data());
  }
  const double bytes = static_cast<double>(p.x.nbytes());
  state.counters["GB/s"] = benchmark::Counter(bytes / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

double case_bytes(const std::string& name);

const std::vector<Case>& cases() {
  static const std::vector<Case> c = {
      {"sum_4096x4096", 4096, 4096, -1, Ref::sum},
      {"sum_dim1_4096x4096", 4096, 4096, 1, Ref::sum},
      {"sum_dim0_4096x4096", 4096, 4096, 0, Ref::sum},
      {"mean_4096x4096", 4096, 4096, -1, Ref::mean},
      {"mean_dim1_4096x4096", 4096, 4096, 1, Ref::mean},
      {"mean_dim0_4096x4096", 4096, 4096, 0, Ref::mean},
      {"logsumexp_dim1_4096x4096", 4096, 4096, 1, Ref::logsumexp},
      {"logsumexp_dim1_256x10000", 256, 10000, 1, Ref::logsumexp},
      // The peer script's shapes (torch_ops.py names).
      {"sum_4M", 1, 4000000, -1, Ref::sum},
      {"sum_dim1_4000x1000", 4000, 1000, 1, Ref::sum},
      {"logsumexp_dim1_4000x1000", 4000, 1000, 1, Ref::logsumexp},
  };
  return c;
}

double case_bytes(const std::string& name) {
  for (const Case& c : cases())
    if (c.name == name) return 4.0 * static_cast<double>(c.rows * c.cols);
  return 0;
}

// Keeps the median and the best GB/s of each case for the summary (from the "median" and "min"
// aggregates over repetitions; the iteration run's when there are no repetitions).
class Recorder : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      auto it = r.counters.find("GB/s");
      if (r.error_occurred || it == r.counters.end()) continue;
      Rates& rates = measured()[r.run_name.function_name];
      if (r.run_type == Run::RT_Aggregate && r.aggregate_name == "median") rates.median = it->second;
      if (r.run_type == Run::RT_Aggregate && r.aggregate_name == "min") {
        // The min statistic is taken of the times (and of the counters, which is not what we want).
        const double seconds = r.GetAdjustedRealTime() * 1e-6;  // the unit is microseconds
        rates.best = case_bytes(r.run_name.function_name) / 1e9 / seconds;
      }
      if (r.run_type == Run::RT_Iteration && r.repetitions <= 1) rates.median = rates.best = it->second;
    }
    ConsoleReporter::ReportRuns(runs);
  }
};

void print_summary() {
  std::map<std::string, Rates> torch;  // "GB/s" (median) and "best_GB/s" when the file has it
  if (const char* paths = std::getenv("STRATA_TORCH_JSON")) {
    std::string list = paths;
    for (size_t start = 0; start <= list.size();) {
      const size_t comma = std::min(list.find(',', start), list.size());
      const std::string path = list.substr(start, comma - start);
      start = comma + 1;
      if (path.empty()) continue;
      try {
        std::ifstream f(path);
        const auto j = nlohmann::json::parse(f);
        for (const auto& [name, v] : j.at("results").items()) {
          if (!v.contains("GB/s")) continue;
          Rates& t = torch[name];
          t.median = v.at("GB/s").get<double>();
          t.best = v.contains("best_GB/s") ? v.at("best_GB/s").get<double>() : 0;
        }
      } catch (const std::exception& e) {
        std::printf("(could not read %s: %s; its ratios are skipped)\n", path.c_str(), e.what());
      }
    }
  }
  std::printf("\nGB/s over repetitions, %d threads: median (and best)\n%-28s %16s %18s %16s\n",
              strata::get_num_threads(), "case", "strata", "pytorch", "strata/pytorch");
  for (const Case& c : cases()) {
    auto it = measured().find(c.name);
    if (it == measured().end()) continue;
    const Rates& m = it->second;
    auto t = torch.find(c.name);
    if (t == torch.end()) {
      std::printf("%-28s %7.2f (%6.2f) %18s %16s\n", c.name.c_str(), m.median, m.best, "-", "-");
    } else if (t->second.best > 0) {
      std::printf("%-28s %7.2f (%6.2f) %8.2f (%7.2f) %6.2f (%6.2f)\n", c.name.c_str(), m.median, m.best,
                  t->second.median, t->second.best, m.median / t->second.median, m.best / t->second.best);
    } else {
      std::printf("%-28s %7.2f (%6.2f) %8.2f %9s %6.2f\n", c.name.c_str(), m.median, m.best, t->second.median, "",
                  m.median / t->second.median);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const char* nt = std::getenv("STRATA_NUM_THREADS");
  strata::set_num_threads(nt ? std::atoi(nt) : 2);
  for (const Case& c : cases())
    benchmark::RegisterBenchmark(c.name.c_str(), [c](benchmark::State& s) { bench_case(s, c); })
        ->UseRealTime()
        ->Iterations(1)
        ->Repetitions(31)
        ->ComputeStatistics("min", [](const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); })
        ->DisplayAggregatesOnly(true)
        ->Unit(benchmark::kMicrosecond);
  benchmark::Initialize(&argc, argv);
  Recorder reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  print_summary();
  benchmark::Shutdown();
  return 0;
}
