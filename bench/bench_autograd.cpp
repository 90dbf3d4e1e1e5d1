// Autograd and dispatch overhead on tiny tensors, the case of shared/peers/torch_ops.py:
//
//   autograd_tiny_10ops  t = randn(8, requires_grad); z = t; 10 times: z = tanh(z * 1.01 + 0.1);
//                        z.sum().backward()       figure: ops/s = 20 / median seconds per iteration
//                                                 (the script's statistic, bench/median_timer.h)
//
// (30 forward ops, a sum and a backward through 31 nodes: on 8 floats this is pure overhead.)
// Like the script, t.grad() is never reset, so every backward after the first accumulates.
// Two diagnostic cases split the time: the same forward with grad mode off (dispatch only) and
// with recording but no backward (dispatch + graph building); their figure is forward ops/s.
//
// The gradient is checked against the chain rule in double before timing:
//   dz_k/dz_{k-1} = 1.01 * (1 - z_k^2), so dt = prod_k 1.01 * (1 - z_k^2) elementwise.
//
// Threads: STRATA_NUM_THREADS (default 2). PyTorch: see bench/peer_torch.h. The goal is
// strata/pytorch >= 3 on autograd_tiny_10ops; use --benchmark_repetitions=3 (best run counts).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "best_reporter.h"
#include "median_timer.h"
#include "peer_torch.h"
#include "strata.h"

namespace {

using strata::Tensor;

Tensor tiny_leaf() {
  strata::Generator gen(7);
  return strata::randn({8}, {}, &gen).requires_grad_();
}

Tensor chain(const Tensor& t) {
  Tensor z = t;
  for (int i = 0; i < 10; ++i) z = strata::tanh(z * 1.01 + 0.1);
  return z;
}

// "" when t's gradient after one backward matches the chain rule.
std::string check_gradient() {
  Tensor t = tiny_leaf();
  strata::sum(chain(t)).backward();
  const std::vector<float> x = t.detach().to_vector<float>(), g = t.grad().to_vector<float>();
  for (size_t i = 0; i < x.size(); ++i) {
    double z = x[i], d = 1.0;
    for (int k = 0; k < 10; ++k) {
      z = std::tanh(z * 1.01 + 0.1);
      d *= 1.01 * (1.0 - z * z);
    }
    if (!(std::abs(g[i] - d) <= 1e-5 * (1.0 + std::abs(d))))
      return "element " + std::to_string(i) + ": got " + std::to_string(g[i]) + ", want " + std::to_string(d);
  }
  return "";
}

void BM_AutogradTiny(benchmark::State& state) {
  if (std::string why = check_gradient(); !why.empty()) {
    state.SkipWithError(("autograd_tiny_10ops: wrong gradient at " + why).c_str());
    return;
  }
  Tensor t = tiny_leaf();
  bench::MedianTimer timer;
  for (auto _ : state) timer.time([&] { strata::sum(chain(t)).backward(); });
  state.counters["ops/s"] = timer.rate(20);
}

void BM_ForwardOnly(benchmark::State& state, bool record) {
  Tensor t = tiny_leaf();
  std::optional<strata::NoGradGuard> no_grad;
  if (!record) no_grad.emplace();
  bench::MedianTimer timer;
  for (auto _ : state) timer.time([&] { benchmark::DoNotOptimize(chain(t)); });
  state.counters["ops/s"] = timer.rate(30);
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2;
  if (const char* env = std::getenv("STRATA_NUM_THREADS")) threads = std::max(1, std::atoi(env));
  strata::set_num_threads(threads);
  std::printf("bench_autograd: threads=%d\n", threads);
  benchmark::RegisterBenchmark("autograd_tiny_10ops", BM_AutogradTiny)->UseRealTime()->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("tiny_forward_30ops_nograd", BM_ForwardOnly, false)
      ->UseRealTime()
      ->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("tiny_forward_30ops_record", BM_ForwardOnly, true)
      ->UseRealTime()
      ->Unit(benchmark::kMicrosecond);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  bench::BestReporter reporter("ops/s");
  benchmark::RunSpecifiedBenchmarks(&reporter);

  const double s = reporter.best("autograd_tiny_10ops");
  if (s > 0) {
    const auto torch = bench::torch_figures({"autograd_tiny_10ops"});
    std::printf("\nsummary (ops/s = 20 / median s per iteration, best repetition; goal strata/pytorch >= 3)\n");
    std::printf("  %-22s strata %10.0f (%.1f us/iter)", "autograd_tiny_10ops", s, 20e6 / s);
    if (auto it = torch.find("autograd_tiny_10ops"); it != torch.end() && it->second > 0)
      std::printf("  pytorch %10.0f (%.1f us/iter)  ratio %.2f\n", it->second, 20e6 / it->second, s / it->second);
    else
      std::printf("  pytorch n/a\n");
  }
  benchmark::Shutdown();
  return 0;
}
