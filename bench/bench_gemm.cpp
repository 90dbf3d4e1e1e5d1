// Google Benchmark for the CPU GEMM: strata::kernels::cpu::gemm_f32 against Eigen.
//
// Shapes: square 256 / 512 / 1024 (all four transposes at 512), the backward-pass and softmax
// regression shapes of a small MLP (tall-skinny n = 10, small k = 10), f64 at 512, and a batch of
// 64 products of 128^3. Every case is checked against gemm_reference_f32 before it is timed; a
// wrong result stops that benchmark with SkipWithError. Counter "GFLOP/s" = 2*m*n*k per second.
//
// Threads: STRATA_NUM_THREADS (default 2) threads for both sides. Eigen is built without OpenMP,
// so its side splits C into row blocks over the same strata thread pool, one Eigen product per
// block. Eigen's speed depends on the flags this file is compiled with (it vectorises for the
// instruction sets enabled at compile time, SSE2 only by default: bench/CMakeLists.txt compiles this
// file with -mavx2 -mfma for a fair comparison); strata's kernels pick their instruction set at run
// time.
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu/gemm.h"
#include "kernels/cpu/parallel.h"

namespace {

using strata::kernels::cpu::gemm_batched_f32;
using strata::kernels::cpu::gemm_f32;
using strata::kernels::cpu::gemm_f64;
using strata::kernels::cpu::gemm_reference_f32;
using strata::kernels::cpu::gemm_reference_f64;

struct Shape {
  bool ta = false, tb = false;
  int64_t m = 0, n = 0, k = 0;
  int64_t batch = 1;
};

template <class T>
using RowMajor = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using ConstView = Eigen::Map<const RowMajor<T>, Eigen::Unaligned, Eigen::OuterStride<>>;
template <class T>
using View = Eigen::Map<RowMajor<T>, Eigen::Unaligned, Eigen::OuterStride<>>;

// Eigen on rows [i0, i1) of C = op(A) * op(B) (alpha = 1, beta = 0), dense storage.
template <class T>
void eigen_rows(const Shape& s, const T* a, const T* b, T* c, int64_t i0, int64_t i1) {
  const int64_t rows = i1 - i0;
  View<T> cv(c + i0 * s.n, rows, s.n, Eigen::OuterStride<>(s.n));
  ConstView<T> bv(b, s.tb ? s.n : s.k, s.tb ? s.k : s.n, Eigen::OuterStride<>(s.tb ? s.k : s.n));
  if (s.ta) {
    // A stored k x m: the rows of op(A) are columns i0..i1 of the stored matrix.
    ConstView<T> av(a + i0, s.k, rows, Eigen::OuterStride<>(s.m));
    if (s.tb) cv.noalias() = av.transpose() * bv.transpose();
    else cv.noalias() = av.transpose() * bv;
  } else {
    ConstView<T> av(a + i0 * s.k, rows, s.k, Eigen::OuterStride<>(s.k));
    if (s.tb) cv.noalias() = av * bv.transpose();
    else cv.noalias() = av * bv;
  }
}

// Eigen over the strata pool: C split into one row block per thread.
template <class T>
void eigen_gemm(const Shape& s, const T* a, const T* b, T* c) {
  const int threads = strata::get_num_threads();
  strata::parallel_for(0, threads, 1, [&](int64_t lo, int64_t hi) {
    const int64_t i0 = s.m * lo / threads, i1 = s.m * hi / threads;
    if (i0 < i1) eigen_rows(s, a, b, c, i0, i1);
  });
}

template <class T>
void strata_gemm(const Shape& s, const T* a, const T* b, T* c) {
  const int64_t lda = s.ta ? s.m : s.k, ldb = s.tb ? s.k : s.n;
  if constexpr (std::is_same_v<T, float>) {
    gemm_f32(s.ta, s.tb, s.m, s.n, s.k, 1.f, a, lda, b, ldb, 0.f, c, s.n);
  } else {
    gemm_f64(s.ta, s.tb, s.m, s.n, s.k, 1.0, a, lda, b, ldb, 0.0, c, s.n);
  }
}

template <class T>
void reference_gemm(const Shape& s, const T* a, const T* b, T* c) {
  const int64_t lda = s.ta ? s.m : s.k, ldb = s.tb ? s.k : s.n;
  if constexpr (std::is_same_v<T, float>) {
    gemm_reference_f32(s.ta, s.tb, s.m, s.n, s.k, 1.f, a, lda, b, ldb, 0.f, c, s.n);
  } else {
    gemm_reference_f64(s.ta, s.tb, s.m, s.n, s.k, 1.0, a, lda, b, ldb, 0.0, c, s.n);
  }
}

template <class T>
std::vector<T> random_values(int64_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  std::vector<T> v(static_cast<size_t>(count));
  for (auto& x : v) x = static_cast<T>(dist(rng));
  return v;
}

enum class Impl { kStrata, kEigen };

template <class T>
void BM_Gemm(benchmark::State& state, Impl impl, Shape s) {
  const int64_t a_size = s.m * s.k, b_size = s.k * s.n, c_size = s.m * s.n;
  const auto a = random_values<T>(a_size * s.batch, 1);
  const auto b = random_values<T>(b_size * s.batch, 2);
  std::vector<T> c(static_cast<size_t>(c_size * s.batch), T(0));

  auto run = [&] {
    if (s.batch == 1) {
      if (impl == Impl::kStrata) strata_gemm(s, a.data(), b.data(), c.data());
      else eigen_gemm(s, a.data(), b.data(), c.data());
      return;
    }
    if (impl == Impl::kStrata) {
      static_assert(sizeof(T) == 4 || sizeof(T) == 8);
      if constexpr (std::is_same_v<T, float>) {
        gemm_batched_f32(s.ta, s.tb, s.batch, s.m, s.n, s.k, 1.f, a.data(), s.ta ? s.m : s.k, a_size,
                         b.data(), s.tb ? s.k : s.n, b_size, 0.f, c.data(), s.n, c_size);
      }
    } else {
      // Eigen: the batch split over the threads, one product at a time.
      strata::parallel_for(0, s.batch, 1, [&](int64_t lo, int64_t hi) {
        for (int64_t i = lo; i < hi; ++i)
          eigen_rows(s, a.data() + i * a_size, b.data() + i * b_size, c.data() + i * c_size, 0, s.m);
      });
    }
  };

  // Validate before timing.
  run();
  std::vector<T> want(c.size());
  for (int64_t i = 0; i < s.batch; ++i)
    reference_gemm(s, a.data() + i * a_size, b.data() + i * b_size, want.data() + i * c_size);
  const double tol = 1e-5 * std::sqrt(static_cast<double>(s.k)) * (sizeof(T) == 4 ? 8.0 : 1e-8);
  for (size_t i = 0; i < c.size(); ++i) {
    const double diff = std::abs(static_cast<double>(c[i]) - static_cast<double>(want[i]));
    if (!(diff <= tol * (1.0 + std::abs(static_cast<double>(want[i]))))) {
      const std::string msg = "wrong result at " + std::to_string(i) + ": got " +
                              std::to_string(c[i]) + ", want " + std::to_string(want[i]);
      state.SkipWithError(msg.c_str());
      return;
    }
  }

  for (auto _ : state) {
    run();
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  const double flops = 2.0 * s.m * s.n * s.k * s.batch;
  state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

std::string shape_name(const Shape& s) {
  std::string name = std::string(s.ta ? "T" : "N") + (s.tb ? "T" : "N") + "/";
  if (s.batch > 1) name += std::to_string(s.batch) + "x";
  return name + std::to_string(s.m) + "x" + std::to_string(s.n) + "x" + std::to_string(s.k);
}

void register_all() {
  std::vector<Shape> f32_shapes;
  for (int64_t size : {256, 512, 1024}) f32_shapes.push_back({false, false, size, size, size});
  f32_shapes.push_back({true, false, 512, 512, 512});
  f32_shapes.push_back({false, true, 512, 512, 512});
  f32_shapes.push_back({true, true, 512, 512, 512});
  f32_shapes.push_back({false, false, 256, 10, 784});   // softmax regression forward: x W
  f32_shapes.push_back({true, false, 784, 10, 512});    // weight gradient: x^T dY
  f32_shapes.push_back({false, true, 512, 784, 10});    // input gradient: dY W^T
  f32_shapes.push_back({false, false, 512, 256, 784});  // MLP hidden layer
  f32_shapes.push_back({false, false, 128, 128, 128, 64});  // batched
  for (const Shape& s : f32_shapes) {
    for (Impl impl : {Impl::kStrata, Impl::kEigen}) {
      const std::string name = std::string(impl == Impl::kStrata ? "strata" : "eigen") + "/sgemm/" + shape_name(s);
      benchmark::RegisterBenchmark(name.c_str(), BM_Gemm<float>, impl, s)->UseRealTime()->Unit(benchmark::kMicrosecond);
    }
  }
  for (Impl impl : {Impl::kStrata, Impl::kEigen}) {
    const Shape s{false, false, 512, 512, 512};
    const std::string name = std::string(impl == Impl::kStrata ? "strata" : "eigen") + "/dgemm/" + shape_name(s);
    benchmark::RegisterBenchmark(name.c_str(), BM_Gemm<double>, impl, s)->UseRealTime()->Unit(benchmark::kMicrosecond);
  }
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2;
  if (const char* env = std::getenv("STRATA_NUM_THREADS")) threads = std::max(1, std::atoi(env));
  strata::set_num_threads(threads);
  std::printf("strata gemm: isa=%s threads=%d\n", strata::kernels::cpu::gemm_isa(), threads);
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
