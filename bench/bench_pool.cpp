// Pool family benchmarks. Each case first checks Strata's result against a plain serial reference
// written here (where one is cheap to write), then times it; GB/s counts the bytes that must move.
//
//   ResNet stem max pool   max_pool2d(X[32, 64, 112, 112] f32, 3x3, stride 2, pad 1) -> [32, 64, 56, 56]
//     fwd      inference (x does not require grad: no indices) bytes = x read + out written
//              = 4 * in + 4 * out                                                         (~128 MB)
//     fwd+bwd  fwd with i64 indices + grad_in zeroed and written + grad_out and indices read
//              = 4 * in + (4 + 8) * out + 2 * 4 * in + (4 + 8) * out                      (~462 MB)
//   head pool              adaptive_avg_pool2d(X[32, 512, 7, 7] f32, 1) -> [32, 512, 1, 1]
//              bytes = 4 * in + 4 * out                                                   (~3.3 MB)
// fwd+bwd runs through autograd (y.backward(g)), so it includes the graph's bookkeeping.
#include <benchmark/benchmark.h>

#include <cmath>
#include <limits>
#include <vector>
#include <thread>

#include "strata.h"

using namespace strata;

namespace {

void set_gbps(benchmark::State& state, double bytes) {
  state.counters["GB"] = benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

struct ThreadCount {
  int saved = get_num_threads();
  explicit ThreadCount(int n) { set_num_threads(n); }
  ~ThreadCount() { set_num_threads(saved); }
};

const MaxPool2dOptions kStem{.kernel_size = 3, .stride = 2, .padding = 1};

struct Stem {
  Tensor x = randn({32, 64, 112, 112});
  double in_bytes() const { return 4.0 * x.numel(); }
  double out_elems() const { return 32.0 * 64 * 56 * 56; }
  double fwd_bytes() const { return in_bytes() + 4.0 * out_elems(); }
  double fwd_bwd_bytes() const { return 3.0 * in_bytes() + 24.0 * out_elems(); }
};

// Serial 3x3 / stride 2 / pad 1 max pool of one [H, W] plane per (n, c).
Tensor stem_reference(const Tensor& x) {
  const int64_t planes = 32 * 64, h = 112, w = 112, oh = 56, ow = 56;
  Tensor out = empty({32, 64, oh, ow});
  const float* xp = x.data<float>();
  float* op = out.data<float>();
  for (int64_t p = 0; p < planes; ++p)
    for (int64_t i = 0; i < oh; ++i)
      for (int64_t j = 0; j < ow; ++j) {
        float best = -std::numeric_limits<float>::infinity();
        for (int64_t a = 2 * i - 1; a <= 2 * i + 1; ++a)
          for (int64_t b = 2 * j - 1; b <= 2 * j + 1; ++b)
            if (a >= 0 && a < h && b >= 0 && b < w) best = std::max(best, xp[(p * h + a) * w + b]);
        op[(p * oh + i) * ow + j] = best;
      }
  return out;
}

void BM_MaxPoolStemFwd(benchmark::State& state) {
  ThreadCount threads(static_cast<int>(state.range(0)));
  Stem s;
  if (max_pool2d(s.x, kStem).to_vector<float>() != stem_reference(s.x).to_vector<float>())
    return state.SkipWithError("max_pool2d differs from the reference");
  for (auto _ : state) benchmark::DoNotOptimize(max_pool2d(s.x, kStem));
  set_gbps(state, s.fwd_bytes());
}

void BM_MaxPoolStemFwd_SerialReference(benchmark::State& state) {
  Stem s;
  for (auto _ : state) benchmark::DoNotOptimize(stem_reference(s.x));
  set_gbps(state, s.fwd_bytes());
}

void BM_MaxPoolStemFwdBwd(benchmark::State& state) {
  ThreadCount threads(static_cast<int>(state.range(0)));
  Stem s;
  s.x.requires_grad_(true);
  Tensor g = randn({32, 64, 56, 56});
  for (auto _ : state) {
    s.x.zero_grad();
    max_pool2d(s.x, kStem).backward(g);
    benchmark::DoNotOptimize(s.x.grad());
  }
  set_gbps(state, s.fwd_bwd_bytes());
}

void BM_AdaptiveAvgPoolHead(benchmark::State& state) {
  ThreadCount threads(static_cast<int>(state.range(0)));
  Tensor x = randn({32, 512, 7, 7});
  const std::vector<float> xs = x.to_vector<float>(), got = adaptive_avg_pool2d(x, 1).to_vector<float>();
  for (int64_t p = 0; p < 32 * 512; ++p) {
    float sum = 0;
    for (int64_t k = 0; k < 49; ++k) sum += xs[p * 49 + k];
    if (std::abs(got[p] - sum / 49) > 1e-5f) return state.SkipWithError("adaptive_avg_pool2d differs from the mean");
  }
  for (auto _ : state) benchmark::DoNotOptimize(adaptive_avg_pool2d(x, 1));
  set_gbps(state, 4.0 * x.numel() + 4.0 * 32 * 512);
}

}  // namespace

#define STRATA_POOL_BENCH(fn) BENCHMARK(fn)->Unit(benchmark::kMillisecond)->UseRealTime()
STRATA_POOL_BENCH(BM_MaxPoolStemFwd)->Arg(1)->Arg(std::thread::hardware_concurrency());
STRATA_POOL_BENCH(BM_MaxPoolStemFwd_SerialReference);
STRATA_POOL_BENCH(BM_MaxPoolStemFwdBwd)->Arg(1)->Arg(std::thread::hardware_concurrency());
BENCHMARK(BM_AdaptiveAvgPoolHead)->Unit(benchmark::kMicrosecond)->UseRealTime()->Arg(1)->Arg(
    std::thread::hardware_concurrency());

BENCHMARK_MAIN();
