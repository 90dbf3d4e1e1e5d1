// Embedding and dropout benchmarks. The embedding cases follow torch_ops.py's
// embedding_fwdbwd_60000x400_32x70 (a 60000 x 400 f32 table, [32, 70] indices): forward (row
// memcpy), the dense backward kernel (zero-fill of the whole [60000, 400] gradient, 96 MB, plus
// 2240 row accumulations), and the two through autograd (the output gradient is ones, which is
// what `.sum().backward()` feeds in). Each case first checks Strata against a serial reference
// written here. rows/s = looked-up rows per second; GB/s counts the bytes that must move.
//   forward   bytes = 2 * 2240 * 400 * 4 (rows read + written)
//   backward  bytes = 60000 * 400 * 4 (zero-fill) + 2 * 2240 * 400 * 4 (dY read, rows updated)
// Dropout: [32, 70, 400] f32, p = 0.5, bytes = read + write.
#include <benchmark/benchmark.h>

#include <cstring>
#include <thread>

#include "strata.h"

using namespace strata;

namespace {

constexpr int64_t kVocab = 60000, kDim = 400, kBatch = 32, kSeq = 70;

struct ThreadCount {
  int saved = get_num_threads();
  explicit ThreadCount(int n) { set_num_threads(n); }
  ~ThreadCount() { set_num_threads(saved); }
};

struct Case {
  Generator gen{1};
  Tensor weight = randn({kVocab, kDim}, {}, &gen);
  Tensor idx = randint(0, kVocab, {kBatch, kSeq}, {.dtype = DType::I64}, &gen);
  Tensor dy = ones({kBatch, kSeq, kDim});
};

void set_counters(benchmark::State& state, double bytes) {
  state.counters["GB/s"] = benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["rows/s"] =
      benchmark::Counter(static_cast<double>(kBatch * kSeq), benchmark::Counter::kIsIterationInvariantRate);
}

constexpr double kFwdBytes = 2.0 * kBatch * kSeq * kDim * 4;
constexpr double kBwdBytes = 1.0 * kVocab * kDim * 4 + kFwdBytes;

Tensor backward_reference(const Tensor& dy, const Tensor& idx) {
  Tensor g = zeros({kVocab, kDim});
  const int64_t* ip = idx.data<int64_t>();
  const float* dp = dy.data<float>();
  float* gp = g.data<float>();
  for (int64_t j = 0; j < idx.numel(); ++j)
    for (int64_t c = 0; c < kDim; ++c) gp[ip[j] * kDim + c] += dp[j * kDim + c];
  return g;
}

bool same(const Tensor& a, const Tensor& b) { return a.to_vector<float>() == b.to_vector<float>(); }

void BM_EmbeddingForward(benchmark::State& state) {
  ThreadCount threads(static_cast<int>(state.range(0)));
  Case c;
  Tensor ref = index_select(c.weight, 0, c.idx.reshape({-1})).reshape({kBatch, kSeq, kDim});
  if (!same(embedding(c.weight, c.idx), ref)) return state.SkipWithError("embedding differs from index_select");
  for (auto _ : state) benchmark::DoNotOptimize(embedding(c.weight, c.idx));
  set_counters(state, kFwdBytes);
}

void BM_EmbeddingBackwardKernel(benchmark::State& state) {
  ThreadCount threads(static_cast<int>(state.range(0)));
  Case c;
  if (!same(embedding_backward(c.dy, c.idx, kVocab), backward_reference(c.dy, c.idx)))
    return state.SkipWithError("embedding_backward differs from the reference");
  for (auto _ : state) benchmark::DoNotOptimize(embedding_backward(c.dy, c.idx, kVocab));
  set_counters(state, kBwdBytes);
}

void BM_EmbeddingBackward_SerialReference(benchmark::State& state) {
  Case c;
  for (auto _ : state) benchmark::DoNotOptimize(backward_reference(c.dy, c.idx));
  set_counters(state, kBwdBytes);
}

// The torch_ops.py case without its sum: forward, then backward with a ones gradient; like the
// torch case, .grad is never reset, so from the second step on the new dense gradient is also
// added into the existing one (another 96 MB read and written, not counted in GB/s).
void BM_EmbeddingFwdBwd(benchmark::State& state) {
  ThreadCount threads(static_cast<int>(state.range(0)));
  Case c;
  c.weight.requires_grad_(true);
  for (auto _ : state) {
    Tensor e = embedding(c.weight, c.idx);
    e.backward(c.dy);
    benchmark::DoNotOptimize(c.weight.grad());
  }
  set_counters(state, kFwdBytes + kBwdBytes);
}

void BM_Dropout(benchmark::State& state) {
  ThreadCount threads(static_cast<int>(state.range(0)));
  Generator gen(3);
  Tensor x = randn({kBatch, kSeq, kDim}, {}, &gen);
  for (auto _ : state) benchmark::DoNotOptimize(dropout(x, 0.5, true, &gen));
  state.counters["GB/s"] =
      benchmark::Counter(2.0 * x.nbytes() * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

#define STRATA_EMB_BENCH(fn) BENCHMARK(fn)->Unit(benchmark::kMicrosecond)->UseRealTime()
STRATA_EMB_BENCH(BM_EmbeddingForward)->Arg(1)->Arg(std::thread::hardware_concurrency());
STRATA_EMB_BENCH(BM_EmbeddingBackwardKernel)->Arg(1)->Arg(std::thread::hardware_concurrency());
STRATA_EMB_BENCH(BM_EmbeddingBackward_SerialReference);
STRATA_EMB_BENCH(BM_EmbeddingFwdBwd)->Arg(1)->Arg(std::thread::hardware_concurrency());
STRATA_EMB_BENCH(BM_Dropout)->Arg(1)->Arg(std::thread::hardware_concurrency());

BENCHMARK_MAIN();
