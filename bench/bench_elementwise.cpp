// Elementwise throughput at the shapes of shared/peers/torch_ops.py, with the same GB/s napkin
// math, and the strata/pytorch ratio of each case measured in the same sitting:
//
//   add_4M               x[4M] + y[4M]            bytes = 2 reads + 1 write = 3 * 4 * 4M  (48 MB)
//   add_bcast_2000x2000  x[2000,2000] + y[2000]   bytes = 2 * 4 * 4M (x read, out written; y stays in L1)
//   mul_4M               x[4M] * y[4M]            bytes = 3 * 4 * 4M
//   exp_4M               exp(x[4M])               bytes = 2 * 4 * 4M
//
// Every case is checked against a plain serial loop before it is timed (exp: within 2 ulp of
// std::exp). Tensors are f32 N(0, 1), like the script's torch.randn. The output is allocated each
// iteration, as `x + y` does in PyTorch (both sides reuse freed memory). GB/s is computed like the
// script's: bytes / median time of one call (bench/median_timer.h).
//
// Threads: STRATA_NUM_THREADS (default 2). PyTorch: see bench/peer_torch.h (STRATA_BENCH_PEER=0
// skips it). Use --benchmark_repetitions=3: the summary takes the best run of each side.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "best_reporter.h"
#include "median_timer.h"
#include "peer_torch.h"
#include "strata.h"

namespace {

using strata::Tensor;

constexpr int64_t kN = 4'000'000;

Tensor randn(const strata::Shape& shape, uint64_t seed) {
  strata::Generator gen(seed);
  return strata::randn(shape, {}, &gen);
}

// Distance in units in the last place between two finite floats of the same sign region.
int64_t ulp_distance(float a, float b) {
  auto key = [](float f) {
    int32_t i;
    std::memcpy(&i, &f, sizeof i);
    return i < 0 ? int64_t{INT32_MIN} - i : int64_t{i};
  };
  return std::llabs(key(a) - key(b));
}

struct Case {
  std::string name;
  double bytes;
  std::function<Tensor()> op;
  std::function<std::string(const Tensor&)> check;  // "" when the result is right
};

std::vector<Case> make_cases() {
  static Tensor x = randn({kN}, 1), y = randn({kN}, 2);
  static Tensor xb = randn({2000, 2000}, 3), yb = randn({2000}, 4);
  const float *px = x.data<float>(), *py = y.data<float>();
  const float *pxb = xb.data<float>(), *pyb = yb.data<float>();

  auto exact = [](auto ref) {
    return [ref](const Tensor& got) -> std::string {
      const float* g = got.data<float>();
      for (int64_t i = 0; i < got.numel(); ++i) {
        const float want = ref(i);
        if (g[i] != want) return "element " + std::to_string(i) + ": got " + std::to_string(g[i]) + ", want " +
                                 std::to_string(want);
      }
      return "";
    };
  };
  std::vector<Case> cases;
  cases.push_back({"add_4M", 3.0 * 4 * kN, [] { return x + y; }, exact([=](int64_t i) { return px[i] + py[i]; })});
  cases.push_back({"add_bcast_2000x2000", 2.0 * 4 * kN, [] { return xb + yb; },
                   exact([=](int64_t i) { return pxb[i] + pyb[i % 2000]; })});
  cases.push_back({"mul_4M", 3.0 * 4 * kN, [] { return x * y; }, exact([=](int64_t i) { return px[i] * py[i]; })});
  cases.push_back({"exp_4M", 2.0 * 4 * kN, [] { return strata::exp(x); }, [=](const Tensor& got) -> std::string {
                     const float* g = got.data<float>();
                     for (int64_t i = 0; i < kN; ++i) {
                       const float want = std::exp(px[i]);
                       if (ulp_distance(g[i], want) > 2)
                         return "exp(" + std::to_string(px[i]) + "): got " + std::to_string(g[i]) + ", want " +
                                std::to_string(want) + " (more than 2 ulp apart)";
                     }
                     return "";
                   }});
  return cases;
}

void BM_Case(benchmark::State& state, const Case& c) {
  if (std::string why = c.check(c.op()); !why.empty()) {
    state.SkipWithError((c.name + " is wrong at " + why).c_str());
    return;
  }
  bench::MedianTimer timer;
  for (auto _ : state) timer.time([&] { benchmark::DoNotOptimize(c.op()); });
  state.counters["GB/s"] = timer.rate(c.bytes * 1e-9);
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2;
  if (const char* env = std::getenv("STRATA_NUM_THREADS")) threads = std::max(1, std::atoi(env));
  strata::set_num_threads(threads);
  std::printf("bench_elementwise: threads=%d, f32\n", threads);
  const std::vector<Case> cases = make_cases();
  for (const Case& c : cases)
    benchmark::RegisterBenchmark(c.name.c_str(), BM_Case, c)->UseRealTime()->Unit(benchmark::kMillisecond);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  bench::BestReporter reporter("GB/s");
  benchmark::RunSpecifiedBenchmarks(&reporter);

  std::vector<std::string> names;
  for (const Case& c : cases)
    if (reporter.best(c.name) > 0) names.push_back(c.name);
  const auto torch = bench::torch_figures(names);
  std::printf("\nsummary (GB/s = bytes / median call, best repetition; ratio = strata / pytorch, goal >= 1.0)\n");
  for (const std::string& n : names) {
    const double s = reporter.best(n);
    auto it = torch.find(n);
    if (it == torch.end() || it->second <= 0) {
      std::printf("  %-22s strata %8.2f  pytorch     n/a\n", n.c_str(), s);
    } else {
      std::printf("  %-22s strata %8.2f  pytorch %8.2f  ratio %.2f\n", n.c_str(), s, it->second, s / it->second);
    }
  }
  benchmark::Shutdown();
  return 0;
}
