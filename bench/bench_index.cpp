// Index family benchmarks, llm.c style: each case first checks Strata's result against a plain
// serial reference written here, then times both; GB/s counts the bytes that must move.
//
//   embedding lookup  index_select(W[50000, 400] f32, 0, idx[32*70])
//                     bytes = rows read + rows written + index = 2 * 2240 * 400 * 4 + 2240 * 8   (~7.2 MB)
//   embedding grad    index_add_(G[50000, 400], 0, idx[32*70], dY[2240, 400]) (accumulating in place)
//                     bytes = dY read + rows read and written + index = 3 * 2240 * 400 * 4 + 2240 * 8
//   cat               cat(4 x [64, 256, 28, 28] f32, dim 1)
//                     bytes = read + write = 2 * 4 * 64 * 256 * 28 * 28 * 4                (~411 MB)
//   gather            gather(X[4096, 1024] f32, 1, idx[4096, 256])
//                     bytes = index + out + x element = (8 + 4 + 4) * 4096 * 256               (~16.8 MB)
// Not counted: Strata's front ends read the index once more to check its range (the price of an
// IndexError instead of a wild read), which the references skip; for gather that pass is 8 MB.
#include <benchmark/benchmark.h>

#include <cstring>
#include <thread>

#include "strata.h"

using namespace strata;

namespace {

void set_gbps(benchmark::State& state, double bytes) {
  state.counters["GB"] = benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// Runs the benchmark with state.range(0) threads, then restores the previous count.
struct ThreadCount {
  int saved = get_num_threads();
  explicit ThreadCount(int n) { set_num_threads(n); }
  ~ThreadCount() { set_num_threads(saved); }
};

bool same(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.to_vector<float>() == b.to_vector<float>();
}

// ---- embedding lookup ----
struct Embedding {
  Tensor weight = randn({50000, 400});
  Tensor idx = randint(0, 50000, {32 * 70});
  double bytes() const { return 2.0 * idx.numel() * 400 * 4 + idx.numel() * 8.0; }
};

Tensor lookup_reference(const Tensor& w, const Tensor& idx) {
  Tensor out = empty({idx.numel(), w.size(1)});
  const int64_t* ip = idx.data<int64_t>();
  const int64_t cols = w.size(1);
  const float* wp = w.data<float>();
  float* op = out.data<float>();
  for (int64_t j = 0; j < idx.numel(); ++j) std::memcpy(op + j * cols, wp + ip[j] * cols, cols * sizeof(float));
  return out;
}

void BM_EmbeddingLookup(benchmark::State& state) {
  ThreadCount threads(static_cast<int>(state.range(0)));
  Embedding e;
  if (!same(index_select(e.weight, 0, e.idx), lookup_reference(e.weight, e.idx)))
    return state.SkipWithError("index_select differs from the reference");
  for (auto _ : state) benchmark::DoNotOptimize(index_select(e.weight, 0, e.idx));
  set_gbps(state, e.bytes());
}

void BM_EmbeddingLookup_SerialReference(benchmark::State& state) {
  Embedding e;
  for (auto _ : state) benchmark::DoNotOptimize(lookup_reference(e.weight, e.idx));
  set_gbps(state, e.bytes());
}

// ---- embedding gradient ----
void grad_reference(Tensor& g, const Tensor& idx, const Tensor& dy) {
  const int64_t* ip = idx.data<int64_t>();
  const int64_t cols = g.size(1);
  float* gp = g.data<float>();
  const float* dp = dy.data<float>();
  for (int64_t j = 0; j < idx.numel(); ++j) {
    float* dst = gp + ip[j] * cols;
    const float* src = dp + j * cols;
    for (int64_t c = 0; c < cols; ++c) dst[c] += src[c];
  }
}

void BM_EmbeddingGradIndexAdd(benchmark::State& state) {
  ThreadCount threads(static_cast<int>(state.range(0)));
  Embedding e;
  Tensor dy = randn({e.idx.numel(), 400});
  Tensor g = zeros({50000, 400}), ref = zeros({50000, 400});
  index_add_(g, 0, e.idx, dy);
  grad_reference(ref, e.idx, dy);
  if (!same(g, ref)) return state.SkipWithError("index_add_ differs from the reference");
  for (auto _ : state) benchmark::DoNotOptimize(index_add_(g, 0, e.idx, dy));
  set_gbps(state, e.bytes() + e.idx.numel() * 400 * 4.0);
}

void BM_EmbeddingGradIndexAdd_SerialReference(benchmark::State& state) {
  Embedding e;
  Tensor dy = randn({e.idx.numel(), 400});
  Tensor g = zeros({50000, 400});
  for (auto _ : state) grad_reference(g, e.idx, dy);
  set_gbps(state, e.bytes() + e.idx.numel() * 400 * 4.0);
}

// ---- cat ----
struct Cat4 {
  std::vector<Tensor> parts{randn({64, 256, 28, 28}), randn({64, 256, 28, 28}), randn({64, 256, 28, 28}),
                            randn({64, 256, 28, 28})};
  double bytes() const { return 2.0 * 4 * 64 * 256 * 28 * 28 * 4; }
};

Tensor cat_reference(const std::vector<Tensor>& parts) {
  Tensor out = empty({64, 1024, 28, 28});
  const size_t block = 256 * 28 * 28;
  float* op = out.data<float>();
  for (int64_t n = 0; n < 64; ++n)
    for (size_t k = 0; k < parts.size(); ++k)
      std::memcpy(op + (n * 4 + k) * block, parts[k].data<float>() + n * block, block * sizeof(float));
  return out;
}

void BM_Cat4Dim1(benchmark::State& state) {
  ThreadCount threads(static_cast<int>(state.range(0)));
  Cat4 c;
  if (!same(cat(c.parts, 1), cat_reference(c.parts))) return state.SkipWithError("cat differs from the reference");
  for (auto _ : state) benchmark::DoNotOptimize(cat(c.parts, 1));
  set_gbps(state, c.bytes());
}

void BM_Cat4Dim1_SerialReference(benchmark::State& state) {
  Cat4 c;
  for (auto _ : state) benchmark::DoNotOptimize(cat_reference(c.parts));
  set_gbps(state, c.bytes());
}

// ---- gather along the last dim ----
struct GatherCase {
  Tensor x = randn({4096, 1024});
  Tensor idx = randint(0, 1024, {4096, 256});
  double bytes() const { return 16.0 * idx.numel(); }
};

Tensor gather_reference(const Tensor& x, const Tensor& idx) {
  Tensor out = empty(idx.shape());
  const int64_t rows = idx.size(0), k = idx.size(1), cols = x.size(1);
  const int64_t* ip = idx.data<int64_t>();
  const float* xp = x.data<float>();
  float* op = out.data<float>();
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < k; ++j) op[r * k + j] = xp[r * cols + ip[r * k + j]];
  return out;
}

void BM_GatherLastDim(benchmark::State& state) {
  ThreadCount threads(static_cast<int>(state.range(0)));
  GatherCase g;
  if (!same(gather(g.x, 1, g.idx), gather_reference(g.x, g.idx)))
    return state.SkipWithError("gather differs from the reference");
  for (auto _ : state) benchmark::DoNotOptimize(gather(g.x, 1, g.idx));
  set_gbps(state, g.bytes());
}

void BM_GatherLastDim_SerialReference(benchmark::State& state) {
  GatherCase g;
  for (auto _ : state) benchmark::DoNotOptimize(gather_reference(g.x, g.idx));
  set_gbps(state, g.bytes());
}

}  // namespace

// Strata cases run on 1 thread (compare with the serial reference) and on every core. On a shared
// machine quote medians: bench_index --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#define STRATA_INDEX_BENCH(fn, unit) BENCHMARK(fn)->Unit(unit)->UseRealTime()
STRATA_INDEX_BENCH(BM_EmbeddingLookup, benchmark::kMicrosecond)->Arg(1)->Arg(std::thread::hardware_concurrency());
STRATA_INDEX_BENCH(BM_EmbeddingLookup_SerialReference, benchmark::kMicrosecond);
STRATA_INDEX_BENCH(BM_EmbeddingGradIndexAdd, benchmark::kMicrosecond)->Arg(1)->Arg(std::thread::hardware_concurrency());
STRATA_INDEX_BENCH(BM_EmbeddingGradIndexAdd_SerialReference, benchmark::kMicrosecond);
STRATA_INDEX_BENCH(BM_Cat4Dim1, benchmark::kMillisecond)->Arg(1)->Arg(std::thread::hardware_concurrency());
STRATA_INDEX_BENCH(BM_Cat4Dim1_SerialReference, benchmark::kMillisecond);
STRATA_INDEX_BENCH(BM_GatherLastDim, benchmark::kMicrosecond)->Arg(1)->Arg(std::thread::hardware_concurrency());
STRATA_INDEX_BENCH(BM_GatherLastDim_SerialReference, benchmark::kMicrosecond);

BENCHMARK_MAIN();
