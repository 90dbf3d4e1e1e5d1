// Google Benchmark for strata::linear, forward and forward+backward, at the shapes of a softmax
// regression on MNIST ([256, 784] x [10, 784]^T) and a wide hidden layer ([512, 1024] x
// [1024, 1024]^T). Two yardsticks run the same arithmetic on raw buffers:
//   raw_gemm  - the three kernels::cpu::gemm_f32 calls linear makes (forward x W^T, backward
//               dY W and dY^T x) plus the bias: what the tensor front end and autograd cost on top;
//   eigen_ref - the same with gemm_reference_f32 (Eigen, single-threaded).
// Every case is validated against the Eigen result before it is timed (SkipWithError otherwise).
// Counter "GFLOP/s": 2*rows*in*out per forward, three times that per forward+backward.
// A summary with the ratios to both yardsticks is printed at the end.
//
// Threads: STRATA_NUM_THREADS (default 2), for strata's side.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "kernels/cpu/gemm.h"
#include "kernels/cpu/parallel.h"
#include "strata.h"

namespace {

using strata::DType;
using strata::Tensor;

struct LinearShape {
  int64_t rows, in, out;
  std::string name() const { return std::to_string(rows) + "x" + std::to_string(in) + "->" + std::to_string(out); }
};

enum class Impl { kStrata, kRawGemm, kEigenRef };
const char* impl_name(Impl i) { return i == Impl::kStrata ? "strata_linear" : i == Impl::kRawGemm ? "raw_gemm" : "eigen_ref"; }

std::map<std::string, double>& measured() {  // benchmark name -> GFLOP/s of its last run
  static std::map<std::string, double> m;
  return m;
}

Tensor random(const strata::Shape& shape, uint64_t seed) {
  strata::Generator gen(seed);
  return strata::rand(shape, {}, &gen) * 2.0 - 1.0;
}

// y = x W^T + b; with backward: dx = dY W, dW = dY^T x, db = column sums of dY (dY given).
// Raw-buffer version of what linear does, with the GEMM of `impl`.
struct RawLinear {
  LinearShape s;
  Impl impl;
  const float *x, *w, *b, *dy;
  float *y, *dx, *dw, *db;

  void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* bb,
            int64_t ldb, float beta, float* c, int64_t ldc) const {
    if (impl == Impl::kRawGemm) strata::kernels::cpu::gemm_f32(ta, tb, m, n, k, 1.f, a, lda, bb, ldb, beta, c, ldc);
    else strata::kernels::cpu::gemm_reference_f32(ta, tb, m, n, k, 1.f, a, lda, bb, ldb, beta, c, ldc);
  }
  void forward() const {
    for (int64_t r = 0; r < s.rows; ++r)
      for (int64_t j = 0; j < s.out; ++j) y[r * s.out + j] = b[j];
    gemm(false, true, s.rows, s.out, s.in, x, s.in, w, s.in, 1.f, y, s.out);
  }
  void backward() const {
    gemm(false, false, s.rows, s.in, s.out, dy, s.out, w, s.in, 0.f, dx, s.in);
    gemm(true, false, s.out, s.in, s.rows, dy, s.out, x, s.in, 0.f, dw, s.in);
    for (int64_t j = 0; j < s.out; ++j) db[j] = 0.f;
    for (int64_t r = 0; r < s.rows; ++r)
      for (int64_t j = 0; j < s.out; ++j) db[j] += dy[r * s.out + j];
  }
};

bool close(const Tensor& got, const std::vector<float>& want, double tol, std::string* why) {
  auto g = got.to_vector<float>();
  for (size_t i = 0; i < want.size(); ++i) {
    if (!(std::abs(g[i] - want[i]) <= tol * (1.0 + std::abs(want[i])))) {
      *why = "element " + std::to_string(i) + ": got " + std::to_string(g[i]) + ", want " + std::to_string(want[i]);
      return false;
    }
  }
  return true;
}

void BM_Linear(benchmark::State& state, Impl impl, LinearShape s, bool with_backward) {
  Tensor x = random({s.rows, s.in}, 1), w = random({s.out, s.in}, 2) * 0.05, b = random({s.out}, 3);
  Tensor dy = random({s.rows, s.out}, 4);
  std::vector<float> y(s.rows * s.out), dx(s.rows * s.in), dw(s.out * s.in), db(s.out);
  const float *px = x.data<float>(), *pw = w.data<float>(), *pb = b.data<float>(), *pdy = dy.data<float>();
  RawLinear raw{s, impl, px, pw, pb, pdy, y.data(), dx.data(), dw.data(), db.data()};
  if (impl != Impl::kStrata) {
    for (auto _ : state) {  // warm-up and calibration runs come through here too
      raw.forward();
      if (with_backward) raw.backward();
      benchmark::ClobberMemory();
    }
  }

  // Validate strata's linear against the Eigen yardstick before timing it.
  if (impl == Impl::kStrata) {
    RawLinear ref{s, Impl::kEigenRef, px, pw, pb, pdy, y.data(), dx.data(), dw.data(), db.data()};
    ref.forward();
    ref.backward();
    x.requires_grad_(with_backward);
    w.requires_grad_(with_backward);
    b.requires_grad_(with_backward);
    // Scoped: `out` must not outlive the check, or its graph would keep the leaves' gradient
    // accumulators (released by this backward) alive into the timed graphs.
    std::string why;
    bool ok;
    {
      Tensor out = strata::linear(x, w, b);
      const double tol = 1e-4 * std::sqrt(static_cast<double>(std::max(s.in, s.rows)));
      ok = close(out.detach(), y, tol, &why);
      if (ok && with_backward) {
        out.backward(dy);
        ok = close(x.grad(), dx, tol, &why) && close(w.grad(), dw, tol, &why) && close(b.grad(), db, tol, &why);
      }
    }
    if (!ok) {
      state.SkipWithError(("strata::linear disagrees with Eigen at " + why).c_str());
      return;
    }
    for (auto _ : state) {
      for (Tensor* t : {&x, &w, &b}) t->zero_grad();
      if (with_backward) {
        strata::linear(x, w, b).backward(dy);
      } else {
        strata::NoGradGuard no_grad;
        benchmark::DoNotOptimize(strata::linear(x, w, b));
      }
    }
  }
  const double flops = 2.0 * s.rows * s.in * s.out * (with_backward ? 3 : 1);
  state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// Records GFLOP/s per benchmark for the summary, from the reporter's own numbers.
class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      auto it = r.counters.find("GFLOP/s");
      if (it == r.counters.end() || r.error_occurred) continue;
      std::string name = r.benchmark_name();
      if (const size_t cut = name.find("/real_time"); cut != std::string::npos) name.erase(cut);
      measured()[name] = it->second.value;
    }
    ConsoleReporter::ReportRuns(runs);
  }
};

std::string bench_name(Impl impl, const LinearShape& s, bool with_backward) {
  return std::string(impl_name(impl)) + (with_backward ? "/fwd+bwd/" : "/fwd/") + s.name();
}

const std::vector<LinearShape>& shapes() {
  static const std::vector<LinearShape> s = {{256, 784, 10}, {512, 1024, 1024}};
  return s;
}

void print_summary() {
  std::printf("\nsummary (GFLOP/s; ratio = strata_linear / yardstick)\n");
  for (const LinearShape& s : shapes()) {
    for (bool bwd : {false, true}) {
      const double st = measured()[bench_name(Impl::kStrata, s, bwd)];
      const double raw = measured()[bench_name(Impl::kRawGemm, s, bwd)];
      const double eig = measured()[bench_name(Impl::kEigenRef, s, bwd)];
      std::printf("  %-8s %-16s strata %7.1f  raw_gemm %7.1f (x%.2f)  eigen_ref %7.1f (x%.2f)\n",
                  bwd ? "fwd+bwd" : "fwd", s.name().c_str(), st, raw, raw > 0 ? st / raw : 0.0, eig,
                  eig > 0 ? st / eig : 0.0);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2;
  if (const char* env = std::getenv("STRATA_NUM_THREADS")) threads = std::max(1, std::atoi(env));
  strata::set_num_threads(threads);
  std::printf("bench_matmul: gemm isa=%s threads=%d (eigen_ref single-threaded)\n",
              strata::kernels::cpu::gemm_isa(), threads);
  for (const LinearShape& s : shapes())
    for (bool bwd : {false, true})
      for (Impl impl : {Impl::kStrata, Impl::kRawGemm, Impl::kEigenRef})
        benchmark::RegisterBenchmark(bench_name(impl, s, bwd).c_str(), BM_Linear, impl, s, bwd)
            ->UseRealTime()
            ->Unit(benchmark::kMicrosecond);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  SummaryReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  print_summary();
  benchmark::Shutdown();
  return 0;
}
