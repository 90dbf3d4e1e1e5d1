// Google Benchmark of one optimizer step over a ResNet-18-sized parameter set: the 62
// parameter tensors of torchvision's resnet18 (11,689,512 parameters), every one with a
// gradient, one group, fastai's AdamW (Adam{} : mom 0.9, sqr_mom 0.99, eps 1e-5, wd 0.01
// decoupled). PyTorch's figure is torch.optim.AdamW(lr=1e-3, weight_decay=0.01).step() over the
// same count (torch_ops.py case adamw_step_11.7M: 62 equal tensors).
//
// Napkin math: AdamW reads p, g, grad_avg, sqr_avg and writes p, grad_avg, sqr_avg: 28 bytes a
// parameter, 327 MB a step; at ~20 GB/s that is ~16 ms, ~700 Mparams/s. The fused kernel makes
// that one pass; the generic path (the same composition through tensor ops, one op per formula
// term per tensor) is timed beside it to show what fusing buys.
//
// Cases (counter Mparams/s = parameters / median step time):
//   adamw_step_11.7M          the fused path (what Adam{} runs)
//   adamw_step_11.7M_generic  the reference stats/steppers path
//   sgd_mom_step_11.7M        fused SGD with momentum 0.9 (12 + 8 bytes a parameter)
// Before timing, the fused and generic paths are run once on the same data and compared.
// Threads: STRATA_NUM_THREADS (default 2). On a loaded machine PyTorch's step (hundreds of small
// parallel ops, each a thread-pool hand-off) collapses far more than one fused pass does, which
// inflates the ratio; compare on a quiet machine, or single-threaded on both sides
// (STRATA_NUM_THREADS=1 and `run-tuned torch_ops.py --filter adamw --threads 1`).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "best_reporter.h"
#include "kernels/cpu/parallel.h"
#include "median_timer.h"
#include "peer_torch.h"
#include "strata.h"
#include "train/optimizers.h"
#include "train/steppers.h"

namespace {

using strata::Shape;
using strata::Tensor;
namespace train = strata::train;

// torchvision resnet18's parameter shapes, in order (conv weights, BN weight and bias, fc).
std::vector<Shape> resnet18_shapes() {
  std::vector<Shape> s;
  auto conv = [&](int64_t o, int64_t i, int64_t k) { s.push_back({o, i, k, k}); };
  auto bn = [&](int64_t c) {
    s.push_back({c});
    s.push_back({c});
  };
  conv(64, 3, 7);
  bn(64);
  int64_t in = 64;
  for (int64_t width : {64, 128, 256, 512}) {
    for (int block = 0; block < 2; ++block) {
      const bool down = block == 0 && width != 64;
      conv(width, block == 0 ? in : width, 3);
      bn(width);
      conv(width, width, 3);
      bn(width);
      if (down) {
        conv(width, in, 1);
        bn(width);
      }
    }
    in = width;
  }
  s.push_back({1000, 512});
  s.push_back({1000});
  return s;
}

std::vector<Tensor> make_params(uint64_t seed) {
  strata::Generator gen(seed);
  std::vector<Tensor> ps;
  for (const Shape& shape : resnet18_shapes()) {
    Tensor p = strata::randn(shape, {}, &gen).requires_grad_();
    p.set_grad(strata::randn(shape, {}, &gen));
    ps.push_back(p);
  }
  return ps;
}

int64_t count(const std::vector<Tensor>& ps) {
  int64_t n = 0;
  for (const Tensor& p : ps) n += p.numel();
  return n;
}

std::unique_ptr<train::Optimizer> generic_adamw(std::vector<Tensor> ps) {
  std::vector<train::Stepper> cbs;
  for (train::Stepper f : std::vector<train::Stepper>{&train::weight_decay, &train::average_grad_dampened,
                                                      &train::average_sqr_grad, &train::step_stat,
                                                      &train::adam_step})
    cbs.push_back([f](const Tensor& p, train::ParamState& s, const train::Hypers& h) { f(p, s, h); });
  return std::make_unique<train::Optimizer>(
      std::vector<std::vector<Tensor>>{std::move(ps)}, cbs,
      train::Hypers{{"lr", 1e-3}, {"mom", 0.9}, {"sqr_mom", 0.99}, {"eps", 1e-5}, {"wd", 0.01}});
}

// One step each way on the same data; the largest relative difference of the parameters.
double validate() {
  std::vector<Tensor> a = make_params(3), b;
  for (const Tensor& p : a) {
    Tensor q = p.detach().clone().requires_grad_();
    q.set_grad(p.grad().clone());
    b.push_back(q);
  }
  auto fused = train::Adam{}({a}, 1e-3);
  auto generic = generic_adamw(b);
  if (!fused->has_fused_path() || generic->has_fused_path()) return 1e9;
  fused->step();
  generic->step();
  double worst = 0;
  for (size_t t = 0; t < a.size(); ++t) {
    const auto x = a[t].detach().to_vector<float>(), y = b[t].detach().to_vector<float>();
    for (size_t i = 0; i < x.size(); ++i)
      worst = std::max(worst, std::abs(double(x[i]) - y[i]) / std::max(1.0, std::abs(double(y[i]))));
  }
  return worst;
}

enum class Kind { kAdamW, kAdamWGeneric, kSgdMomentum };

void run_case(benchmark::State& state, Kind kind) {
  std::vector<Tensor> ps = make_params(1);
  const double mparams = count(ps) * 1e-6;
  std::unique_ptr<train::Optimizer> opt;
  switch (kind) {
    case Kind::kAdamW: opt = train::Adam{}({ps}, 1e-3); break;
    case Kind::kAdamWGeneric: opt = generic_adamw(ps); break;
    case Kind::kSgdMomentum: opt = train::SGD{.mom = 0.9}({ps}, 1e-3); break;
  }
  opt->step();  // state allocated outside the timing, as in PyTorch after its first step
  bench::MedianTimer timer;
  for (auto _ : state) timer.time([&] { opt->step(); });
  state.counters["Mparams/s"] = timer.rate(mparams);
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2;
  if (const char* env = std::getenv("STRATA_NUM_THREADS")) threads = std::max(1, std::atoi(env));
  strata::set_num_threads(threads);
  const int64_t n = count(make_params(0));
  std::printf("bench_optimizer: threads=%d, resnet18 parameter set: %zu tensors, %lld parameters\n", threads,
              resnet18_shapes().size(), static_cast<long long>(n));
  const double diff = validate();
  std::printf("validation: fused vs generic AdamW step, max relative difference %.3g (%s)\n", diff,
              diff < 1e-5 ? "ok" : "MISMATCH");
  if (diff >= 1e-5) return 1;

  const std::vector<std::pair<std::string, Kind>> cases = {
      {"adamw_step_11.7M", Kind::kAdamW},
      {"adamw_step_11.7M_generic", Kind::kAdamWGeneric},
      {"sgd_mom_step_11.7M", Kind::kSgdMomentum},
  };
  for (const auto& [name, kind] : cases)
    benchmark::RegisterBenchmark(name.c_str(), [kind](benchmark::State& s) { run_case(s, kind); })
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  bench::BestReporter reporter("Mparams/s");
  benchmark::RunSpecifiedBenchmarks(&reporter);

  const auto torch = bench::torch_figures({"adamw_step_11.7M"});
  std::printf("\nsummary (Mparams/s = parameters / median step, best repetition; ratio = strata / pytorch AdamW, "
              "goal >= 1.3)\n");
  for (const auto& [name, kind] : cases) {
    const double s = reporter.best(name);
    if (s <= 0) continue;
    auto it = torch.find("adamw_step_11.7M");
    if (kind == Kind::kSgdMomentum || it == torch.end() || it->second <= 0)
      std::printf("  %-26s strata %8.1f\n", name.c_str(), s);
    else
      std::printf("  %-26s strata %8.1f  pytorch %8.1f  ratio %.2f\n", name.c_str(), s, it->second, s / it->second);
  }
  benchmark::Shutdown();
  return 0;
}
