// Google Benchmark for strata::lstm at the PyTorch peer's case (shared/peers/torch_ops.py):
//   lstm = nn.LSTM(400, 1152, batch_first=True); xs = randn(32, 70, 400)
//   lstm_fwdbwd_b32_t70_400_1152:  lstm(xs)[0].sum().backward()   figure: steps/s = 70 / median s
// The input does not require grad (as in the script), so neither side needs dx; the weights'
// gradients accumulate across iterations, as in the script. Diagnostics: the forward alone with
// grad mode off, and forward + backward with a precomputed all-ones output gradient (no sum).
// Napkin math: per step 2 * 32 * 4608 * (400 + 1152) = 458 MFLOP forward, ~2x that backward
// (dW over all steps plus the recurrent dh; no dx): ~88 GFLOP per iteration, printed as GFLOP/s.
//
// Before timing, the op is validated on a small case (B 2, T 4, I 3, H 5, 2 layers) against
// the LSTM unrolled with core ops (matmul, sigmoid, tanh, slicing): output and w_hh_l0's gradient.
// Threads: STRATA_NUM_THREADS (default 2), for both sides. PyTorch: bench/peer_torch.h (the
// script via run-tuned, best of STRATA_PEER_REPEATS runs; STRATA_BENCH_PEER=0 skips it).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "best_reporter.h"
#include "median_timer.h"
#include "peer_torch.h"
#include "strata.h"

namespace {

using strata::Tensor;

constexpr int64_t kBatch = 32, kSteps = 70, kIn = 400, kHidden = 1152;
const char* kPeerCase = "lstm_fwdbwd_b32_t70_400_1152";
// Like torch_ops.py (3 warm-up calls, median of 15): warm-up calls first (page faults of the first
// allocations, cold caches), then the median of kIterations timed calls.
constexpr int kWarmup = 2, kIterations = 7;
constexpr double kFlopsPerIter = 2.0 * kBatch * 4 * kHidden * (kIn + kHidden) * kSteps * 3;

Tensor uniform(const strata::Shape& shape, double bound, uint64_t seed) {
  strata::Generator gen(seed);
  return strata::rand(shape, {}, &gen) * (2 * bound) - bound;
}

std::vector<Tensor> lstm_weights(int64_t in, int64_t hidden, int64_t layers, uint64_t seed) {
  const double k = 1.0 / std::sqrt(static_cast<double>(hidden));
  std::vector<Tensor> w;
  for (int64_t l = 0; l < layers; ++l) {
    const int64_t layer_in = l == 0 ? in : hidden;
    for (const strata::Shape& s : {strata::Shape{4 * hidden, layer_in}, strata::Shape{4 * hidden, hidden},
                                   strata::Shape{4 * hidden}, strata::Shape{4 * hidden}})
      w.push_back(uniform(s, k, seed++).requires_grad_());
  }
  return w;
}

// The LSTM unrolled with core ops, time-major, zero initial state.
Tensor unrolled(const Tensor& x, const std::vector<Tensor>& w, int64_t layers, int64_t hidden) {
  Tensor input = x;
  for (int64_t l = 0; l < layers; ++l) {
    const Tensor *w_ih = &w[4 * l], *w_hh = &w[4 * l + 1], *b_ih = &w[4 * l + 2], *b_hh = &w[4 * l + 3];
    Tensor h = strata::zeros({x.size(1), hidden}), c = strata::zeros({x.size(1), hidden});
    std::vector<Tensor> outs;
    for (int64_t t = 0; t < x.size(0); ++t) {
      const Tensor g = strata::matmul(input[t], w_ih->t()) + *b_ih + strata::matmul(h, w_hh->t()) + *b_hh;
      const Tensor i = strata::sigmoid(g.narrow(1, 0, hidden)), f = strata::sigmoid(g.narrow(1, hidden, hidden));
      const Tensor gg = strata::tanh(g.narrow(1, 2 * hidden, hidden)),
                   o = strata::sigmoid(g.narrow(1, 3 * hidden, hidden));
      c = f * c + i * gg;
      h = o * strata::tanh(c);
      outs.push_back(h);
    }
    input = strata::stack(outs, 0);
  }
  return input;
}

std::string validate() {
  const int64_t layers = 2, hidden = 5;
  const Tensor x = uniform({4, 2, 3}, 1.0, 3);
  const std::vector<Tensor> w = lstm_weights(3, hidden, layers, 11);
  const Tensor got = strata::lstm(x, {}, w, {.num_layers = layers}).output;
  strata::sum(got * got).backward();
  const std::vector<float> g_fused = w[1].grad().to_vector<float>();
  for (Tensor t : w) t.zero_grad();
  const Tensor want = unrolled(x, w, layers, hidden);
  strata::sum(want * want).backward();
  const std::vector<float> g_ref = w[1].grad().to_vector<float>();
  const std::vector<float> a = got.detach().to_vector<float>(), b = want.detach().to_vector<float>();
  for (size_t i = 0; i < a.size(); ++i)
    if (std::abs(a[i] - b[i]) > 1e-5) return "output element " + std::to_string(i);
  for (size_t i = 0; i < g_ref.size(); ++i)
    if (std::abs(g_fused[i] - g_ref[i]) > 1e-5 * (1 + std::abs(g_ref[i])))
      return "w_hh_l0 gradient element " + std::to_string(i);
  return "";
}

struct Model {
  Tensor x = uniform({kBatch, kSteps, kIn}, 1.0, 1);
  std::vector<Tensor> w = lstm_weights(kIn, kHidden, 1, 2);
};

void BM_LstmFwdBwd(benchmark::State& state) {
  if (std::string why = validate(); !why.empty()) {
    state.SkipWithError(("lstm disagrees with the unrolled reference at " + why).c_str());
    return;
  }
  Model m;
  auto step = [&] { strata::sum(strata::lstm(m.x, {}, m.w, {.batch_first = true}).output).backward(); };
  for (int i = 0; i < kWarmup; ++i) step();
  bench::MedianTimer timer;
  for (auto _ : state) timer.time(step);
  state.counters["steps/s"] = timer.rate(kSteps);
  state.counters["GFLOP/s"] = timer.rate(kFlopsPerIter * 1e-9);
}

void BM_LstmFwdBwdOnes(benchmark::State& state) {
  Model m;
  const Tensor ones = strata::ones({kBatch, kSteps, kHidden});
  auto step = [&] { strata::lstm(m.x, {}, m.w, {.batch_first = true}).output.backward(ones); };
  for (int i = 0; i < kWarmup; ++i) step();
  bench::MedianTimer timer;
  for (auto _ : state) timer.time(step);
  state.counters["steps/s"] = timer.rate(kSteps);
  state.counters["GFLOP/s"] = timer.rate(kFlopsPerIter * 1e-9);
}

void BM_LstmFwd(benchmark::State& state) {
  Model m;
  strata::NoGradGuard no_grad;
  auto step = [&] { benchmark::DoNotOptimize(strata::lstm(m.x, {}, m.w, {.batch_first = true}).output); };
  for (int i = 0; i < kWarmup; ++i) step();
  bench::MedianTimer timer;
  for (auto _ : state) timer.time(step);
  state.counters["steps/s"] = timer.rate(kSteps);
  state.counters["GFLOP/s"] = timer.rate(kFlopsPerIter / 3 * 1e-9);
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2;
  if (const char* env = std::getenv("STRATA_NUM_THREADS")) threads = std::max(1, std::atoi(env));
  strata::set_num_threads(threads);
  std::printf("bench_lstm: threads=%d\n", threads);
  benchmark::RegisterBenchmark(kPeerCase, BM_LstmFwdBwd)
      ->UseRealTime()
      ->Iterations(kIterations)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("lstm_fwdbwd_ones_b32_t70_400_1152", BM_LstmFwdBwdOnes)
      ->UseRealTime()
      ->Iterations(kIterations)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("lstm_fwd_b32_t70_400_1152", BM_LstmFwd)
      ->UseRealTime()
      ->Iterations(kIterations)
      ->Unit(benchmark::kMillisecond);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  bench::BestReporter reporter("steps/s");
  benchmark::RunSpecifiedBenchmarks(&reporter);
  const double s = reporter.best(kPeerCase);
  if (s > 0) {
    const auto torch = bench::torch_figures({kPeerCase});
    std::printf("\nsummary (steps/s = 70 / median s per iteration, best repetition; goal strata/pytorch >= 0.9)\n");
    std::printf("  %-30s strata %7.1f (%.0f ms/iter)", kPeerCase, s, 70e3 / s);
    if (auto it = torch.find(kPeerCase); it != torch.end() && it->second > 0)
      std::printf("  pytorch %7.1f (%.0f ms/iter)  ratio %.2f\n", it->second, 70e3 / it->second, s / it->second);
    else
      std::printf("  pytorch n/a\n");
  }
  benchmark::Shutdown();
  return 0;
}
