// Google Benchmark for the loss family against PyTorch on this machine, in the same run:
//   cross_entropy fwd+bwd [1024, 1000] (logits a leaf; .grad accumulates, as in the peer script
//     /work/shared/peers/torch_ops.py): GB/s = 3 * 4 * numel / time (torch_ops.py's napkin math:
//     read logits, write and accumulate the gradient);
//   softmax fwd over dim 1 of [4096, 1000]: GB/s = 2 * 4 * numel / time (read x, write y);
//   log_softmax fwd [4096, 1000], and cross_entropy fwd+bwd on segmentation logits
//     [16, 21, 64, 64] (the strided kernel): same formulas.
// Every case is validated against a double-precision reference before it is timed. PyTorch runs
// the same cases from an embedded script (median of 15 after 3 warm-ups, like torch_ops.py, with
// jemalloc preloaded when present, as run-tuned does); without PyTorch the ratios are skipped.
//
// Threads: STRATA_NUM_THREADS (default 2) for both sides.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "kernels/loss.h"
#include "strata.h"

namespace {

using strata::DType;
using strata::Tensor;

struct Case {
  std::string name;       // shared with the PyTorch script
  strata::Shape shape;
  double bytes_per_elem;  // napkin math: bytes moved per logit
};

const std::vector<Case>& cases() {
  static const std::vector<Case> c = {
      {"cross_entropy_fwdbwd_1024x1000", {1024, 1000}, 12},
      {"softmax_fwd_dim1_4096x1000", {4096, 1000}, 8},
      {"log_softmax_fwd_dim1_4096x1000", {4096, 1000}, 8},
      {"cross_entropy_fwdbwd_seg_16x21x64x64", {16, 21, 64, 64}, 12},
  };
  return c;
}

std::map<std::string, double>& measured() {  // case name -> GB/s
  static std::map<std::string, double> m;
  return m;
}

Tensor randn(const strata::Shape& shape, uint64_t seed) {
  strata::Generator gen(seed);
  return strata::randn(shape, {}, &gen);
}

Tensor targets(const strata::Shape& shape, int64_t classes, uint64_t seed) {
  strata::Generator gen(seed);
  return strata::randint(0, classes, shape, {.dtype = DType::I64}, &gen);
}

strata::Shape items_of(const strata::Shape& s) {
  strata::Shape r = s;
  r.erase(1);
  return r;
}

// Mean cross-entropy over class dim 1, in double.
double reference_cross_entropy(const Tensor& x, const Tensor& t) {
  const auto xv = x.to(DType::F64).contiguous().to_vector<double>();
  const auto tv = t.to_vector<int64_t>();
  const int64_t n = x.size(0), c = x.size(1), inner = x.numel() / (n * c);
  double total = 0;
  for (int64_t o = 0; o < n; ++o)
    for (int64_t j = 0; j < inner; ++j) {
      auto at = [&](int64_t k) { return xv[(o * c + k) * inner + j]; };
      double m = -INFINITY, s = 0;
      for (int64_t k = 0; k < c; ++k) m = std::max(m, at(k));
      for (int64_t k = 0; k < c; ++k) s += std::exp(at(k) - m);
      total += m + std::log(s) - at(tv[o * inner + j]);
    }
  return total / static_cast<double>(n * inner);
}

// Largest |softmax(x) - reference| over rows of dim 1 (2-d x).
double softmax_error(const Tensor& x, const Tensor& y, bool log) {
  const auto xv = x.to_vector<double>();
  const auto yv = y.to_vector<double>();
  const int64_t n = x.size(0), c = x.size(1);
  double err = 0;
  for (int64_t r = 0; r < n; ++r) {
    double m = -INFINITY, s = 0;
    for (int64_t k = 0; k < c; ++k) m = std::max(m, xv[r * c + k]);
    for (int64_t k = 0; k < c; ++k) s += std::exp(xv[r * c + k] - m);
    for (int64_t k = 0; k < c; ++k) {
      const double want = log ? xv[r * c + k] - m - std::log(s) : std::exp(xv[r * c + k] - m) / s;
      err = std::max(err, std::abs(yv[r * c + k] - want));
    }
  }
  return err;
}

void BM_Case(benchmark::State& state, Case c) {
  Tensor x = randn(c.shape, 1);
  const bool ce = c.name.rfind("cross_entropy", 0) == 0;
  if (ce) {
    Tensor t = targets(items_of(c.shape), c.shape[1], 2);
    x.requires_grad_(true);
    const double want = reference_cross_entropy(x.detach(), t);
    const double got = strata::cross_entropy(x, t).item();
    if (!(std::abs(got - want) <= 1e-5 * std::abs(want))) {
      state.SkipWithError(("cross_entropy " + std::to_string(got) + " vs reference " + std::to_string(want)).c_str());
      return;
    }
    for (auto _ : state) strata::cross_entropy(x, t).backward();
  } else {
    const bool log = c.name.rfind("log_", 0) == 0;
    const double err = softmax_error(x, log ? strata::log_softmax(x, 1) : strata::softmax(x, 1), log);
    if (!(err <= 1e-5)) {
      state.SkipWithError(("softmax differs from the reference by " + std::to_string(err)).c_str());
      return;
    }
    for (auto _ : state) benchmark::DoNotOptimize(log ? strata::log_softmax(x, 1) : strata::softmax(x, 1));
  }
  const double bytes = c.bytes_per_elem * static_cast<double>(x.numel());
  state.counters["GB/s"] = benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      auto it = r.counters.find("GB/s");
      if (it == r.counters.end() || r.error_occurred) continue;
      std::string name = r.benchmark_name();
      if (const size_t cut = name.find("/real_time"); cut != std::string::npos) name.erase(cut);
      measured()[name] = it->second.value;
    }
    ConsoleReporter::ReportRuns(runs);
  }
};

// The PyTorch side: same shapes, same napkin math, torch_ops.py's timing. Prints "name GB/s".
const char* kPeerScript = R"PY(
import statistics, sys, time
try:
    import torch
    import torch.nn.functional as F
except ImportError:
    print("no-torch"); sys.exit(0)
torch.set_num_threads(int(sys.argv[1]))
g = torch.Generator().manual_seed(0)
def timeit(fn, repeat=15, warmup=3):
    for _ in range(warmup): fn()
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter(); fn(); ts.append(time.perf_counter() - t0)
    return statistics.median(ts)
def ce(shape):
    x = torch.randn(*shape, generator=g).requires_grad_()
    t = torch.randint(0, shape[1], (shape[0],) + tuple(shape[2:]), generator=g)
    return x, (lambda: F.cross_entropy(x, t).backward())
x, f = ce((1024, 1000)); print("cross_entropy_fwdbwd_1024x1000", 12 * x.numel() / timeit(f) / 1e9)
m = torch.randn(4096, 1000, generator=g)
print("softmax_fwd_dim1_4096x1000", 8 * m.numel() / timeit(lambda: torch.softmax(m, 1)) / 1e9)
print("log_softmax_fwd_dim1_4096x1000", 8 * m.numel() / timeit(lambda: torch.log_softmax(m, 1)) / 1e9)
x, f = ce((16, 21, 64, 64)); print("cross_entropy_fwdbwd_seg_16x21x64x64", 12 * x.numel() / timeit(f) / 1e9)
)PY";

std::map<std::string, double> run_peer(int threads) {
  std::map<std::string, double> peer;
  const std::string path = "/tmp/strata_bench_loss_peer.py";
  std::ofstream(path) << kPeerScript;
  std::string cmd;
  const char* jemalloc = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2";
  if (std::ifstream(jemalloc).good())
    cmd = std::string("LD_PRELOAD=") + jemalloc + " MALLOC_CONF=dirty_decay_ms:-1,muzzy_decay_ms:-1 ";
  cmd += "/usr/bin/python3 " + path + " " + std::to_string(threads) + " 2>/dev/null";
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return peer;
  char name[128];
  double value;
  while (std::fscanf(pipe, "%127s %lf", name, &value) == 2) peer[name] = value;
  pclose(pipe);
  return peer;
}

void print_summary(int threads) {
  const auto peer = run_peer(threads);
  std::printf("\nsummary (GB/s; ratio = strata / pytorch, measured in this run)\n");
  if (peer.empty()) std::printf("  pytorch not available (/usr/bin/python3 with torch): ratios skipped\n");
  for (const Case& c : cases()) {
    const double st = measured().count(c.name) ? measured().at(c.name) : 0.0;
    auto it = peer.find(c.name);
    if (it == peer.end()) {
      std::printf("  %-40s strata %7.2f\n", c.name.c_str(), st);
    } else {
      std::printf("  %-40s strata %7.2f  pytorch %7.2f  ratio x%.2f\n", c.name.c_str(), st, it->second,
                  st / it->second);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2;
  if (const char* env = std::getenv("STRATA_NUM_THREADS")) threads = std::max(1, std::atoi(env));
  strata::set_num_threads(threads);
  std::printf("bench_loss: softmax isa=%s threads=%d\n", strata::kernels::cpu::softmax_isa(), threads);
  for (const Case& c : cases())
    benchmark::RegisterBenchmark(c.name.c_str(), BM_Case, c)->UseRealTime()->Unit(benchmark::kMicrosecond);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  SummaryReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  print_summary(threads);
  benchmark::Shutdown();
  return 0;
}
