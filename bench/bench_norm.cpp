// Google Benchmark for the normalization ops. The headline case is the PyTorch peer's
// batchnorm_train_fwdbwd_32x64x56x56 (shared/peers/torch_ops.py):
//   F.batch_norm(x, rm, rv, gamma, beta, training=True).sum().backward()
// on x [32, 64, 56, 56] f32, reported like the peer: "GB/s" = 5 * 4 * numel bytes / time (read x
// twice, write y, read the gradient, write dx: the napkin traffic of a fused forward + backward).
// The same iteration is then taken apart so each piece's share is visible:
//   fwd        batch_norm forward alone (training: statistics + normalize, running-stat update)
//   bwd        the fused backward op alone (batch_norm_backward with a contiguous gradient)
//   fwd+bwd    forward + backward(g) through autograd, no sum
//   sum        sum(y) over everything plus its backward's expanded gradient made contiguous:
//              what .sum().backward() adds around batch norm
// plus eval-mode forward, layer norm and group norm fwd+bwd for reference.
//
// Every case is validated against a double-precision reference before it is timed
// (SkipWithError otherwise). The summary prints each case's GB/s and, for the headline case,
// strata/pytorch with PyTorch measured in the same sitting (the peer script via run-tuned,
// best of STRATA_PEER_REPEATS runs, default 2; STRATA_BENCH_PEER=0 skips it; a missing script or
// PyTorch prints n/a). Threads: STRATA_NUM_THREADS (default 2), for both sides.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/cpu/parallel.h"
#include "strata.h"

namespace {

using strata::Shape;
using strata::Tensor;

const Shape kBnShape{32, 64, 56, 56};
const char* kPeerCase = "batchnorm_train_fwdbwd_32x64x56x56";

int num_threads() {
  const char* env = std::getenv("STRATA_NUM_THREADS");
  return env ? std::max(1, std::atoi(env)) : 2;
}

std::map<std::string, double>& measured() {  // benchmark name -> GB/s of its last run
  static std::map<std::string, double> m;
  return m;
}

Tensor random(const Shape& shape, uint64_t seed) {
  strata::Generator gen(seed);
  return strata::randn(shape, {}, &gen);
}

// ---- validation: channel statistics, y and dx (for g = 1) in double ----

bool validate_batch_norm(std::string* why) {
  Tensor x = random({8, 16, 20, 20}, 7).requires_grad_();
  Tensor w = random({16}, 8).requires_grad_(), b = random({16}, 9).requires_grad_();
  Tensor y = strata::batch_norm(x, Tensor(), Tensor(), w, b, {.training = true});
  strata::sum(y).backward();
  const auto xv = x.detach().to_vector<float>(), yv = y.detach().to_vector<float>(), dx = x.grad().to_vector<float>();
  const auto wv = w.detach().to_vector<float>(), bv = b.detach().to_vector<float>();
  const int64_t n = 8, c = 16, s = 400;
  for (int64_t ch = 0; ch < c; ++ch) {
    double mean = 0, var = 0;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t p = 0; p < s; ++p) mean += xv[(i * c + ch) * s + p];
    mean /= n * s;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t p = 0; p < s; ++p) var += std::pow(xv[(i * c + ch) * s + p] - mean, 2);
    var /= n * s;
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t p = 0; p < s; ++p) {
        const int64_t k = (i * c + ch) * s + p;
        const double want = (xv[k] - mean) / std::sqrt(var + 1e-5) * wv[ch] + bv[ch];
        // With g = 1 everywhere, dx = w * invstd * (1 - 1 - xhat * mean(xhat)) = 0 up to rounding.
        if (std::abs(yv[k] - want) > 1e-4 * (1 + std::abs(want)) || std::abs(dx[k]) > 1e-4) {
          *why = "element " + std::to_string(k) + ": y " + std::to_string(yv[k]) + " (want " + std::to_string(want) +
                 "), dx " + std::to_string(dx[k]) + " (want 0)";
          return false;
        }
      }
    }
  }
  return true;
}

// ---- cases ----

struct BnState {
  Tensor x, w, b, rm, rv, g;
  BnState() {
    x = random(kBnShape, 1).requires_grad_();
    w = strata::ones({64}).requires_grad_();
    b = strata::zeros({64}).requires_grad_();
    rm = strata::zeros({64});
    rv = strata::ones({64});
    g = strata::ones(kBnShape);
  }
  void zero_grads() {
    for (Tensor* t : {&x, &w, &b}) t->zero_grad();
  }
};

void set_bytes(benchmark::State& state, double bytes) {
  state.counters["GB/s"] = benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

const double kBnBytes = 5.0 * 4.0 * static_cast<double>(kBnShape.numel());

void BM_BatchNormTrainFwdSumBwd(benchmark::State& state) {
  std::string why;
  if (!validate_batch_norm(&why)) {
    state.SkipWithError(("batch_norm disagrees with the double reference at " + why).c_str());
    return;
  }
  BnState s;
  for (auto _ : state) {
    s.zero_grads();
    strata::sum(strata::batch_norm(s.x, s.rm, s.rv, s.w, s.b, {.training = true})).backward();
  }
  set_bytes(state, kBnBytes);
}

void BM_BatchNormTrainFwdBwd(benchmark::State& state) {
  BnState s;
  for (auto _ : state) {
    s.zero_grads();
    strata::batch_norm(s.x, s.rm, s.rv, s.w, s.b, {.training = true}).backward(s.g);
  }
  set_bytes(state, kBnBytes);
}

void BM_BatchNormTrainFwd(benchmark::State& state) {
  BnState s;
  strata::NoGradGuard no_grad;
  for (auto _ : state) benchmark::DoNotOptimize(strata::batch_norm(s.x, s.rm, s.rv, s.w, s.b, {.training = true}));
  set_bytes(state, 3.0 * 4.0 * static_cast<double>(kBnShape.numel()));  // read x twice, write y
}

void BM_BatchNormTrainBwd(benchmark::State& state) {
  BnState s;
  auto r = strata::batch_norm_with_stats(s.x.detach(), Tensor(), Tensor(), s.w.detach(), s.b.detach(), {.training = true});
  for (auto _ : state)
    benchmark::DoNotOptimize(strata::batch_norm_backward(s.g, s.x.detach(), s.w.detach(), r.save_mean, r.save_invstd, true));
  set_bytes(state, 5.0 * 4.0 * static_cast<double>(kBnShape.numel()));  // read g, x twice; write dx
}

void BM_BatchNormEvalFwd(benchmark::State& state) {
  BnState s;
  strata::NoGradGuard no_grad;
  for (auto _ : state) benchmark::DoNotOptimize(strata::batch_norm(s.x, s.rm, s.rv, s.w, s.b));
  set_bytes(state, 2.0 * 4.0 * static_cast<double>(kBnShape.numel()));
}

// What .sum().backward() costs around batch norm: the reduction and the gradient it hands back
// (an expanded scalar, made contiguous by the sum's backward).
void BM_SumAndItsBackward(benchmark::State& state) {
  BnState s;
  Tensor y = s.x.detach().requires_grad_();
  for (auto _ : state) {
    y.zero_grad();
    strata::sum(y).backward();
  }
  set_bytes(state, 2.0 * 4.0 * static_cast<double>(kBnShape.numel()));
}

void BM_LayerNormFwdBwd(benchmark::State& state) {
  Tensor x = random({4096, 1024}, 2).requires_grad_();
  Tensor w = strata::ones({1024}).requires_grad_(), b = strata::zeros({1024}).requires_grad_(), g = random({4096, 1024}, 3);
  for (auto _ : state) {
    for (Tensor* t : {&x, &w, &b}) t->zero_grad();
    strata::layer_norm(x, {1024}, w, b).backward(g);
  }
  set_bytes(state, 5.0 * 4.0 * static_cast<double>(x.numel()));
}

void BM_GroupNormFwdBwd(benchmark::State& state) {
  BnState s;
  for (auto _ : state) {
    s.zero_grads();
    strata::group_norm(s.x, 32, s.w, s.b).backward(s.g);
  }
  set_bytes(state, kBnBytes);
}

// The reference CNN's first BatchNorm + ReLU (bench_fashion_cnn: [128, 32, 28, 28] f32, training,
// running statistics): forward + backward(g) through autograd, unfused relu(batch_norm(...))
// (arg 0) vs the fused batch_norm_relu (arg 1), validated against each other first. "GB/s" counts
// the fused napkin traffic for both (8 passes: forward reads x twice and writes y; backward reads
// g and x twice and writes dx), so it is an inverse time; the unfused one moves 13 passes (relu
// forward: read y, write; relu backward: read g and y, write).
void BM_BatchNormReluCnnFwdBwd(benchmark::State& state) {
  const Shape shape{128, 32, 28, 28};
  const bool fused = state.range(0) == 1;
  Tensor x = random(shape, 21).requires_grad_(), g = random(shape, 22);
  Tensor w = (random({32}, 23) * 0.1 + 1.0).requires_grad_(), b = (random({32}, 24) * 0.1).requires_grad_();
  Tensor rm = strata::zeros({32}), rv = strata::ones({32});
  auto step = [&](bool f) {
    for (Tensor* t : {&x, &w, &b}) t->zero_grad();
    Tensor y = f ? strata::batch_norm_relu(x, rm, rv, w, b, {.training = true})
                 : strata::relu(strata::batch_norm(x, rm, rv, w, b, {.training = true}));
    y.backward(g);
    return std::vector<Tensor>{y.detach(), x.grad().clone(), w.grad().clone(), b.grad().clone()};
  };
  const auto a = step(true), u = step(false);
  for (size_t i = 0; i < a.size(); ++i) {
    const double diff = strata::max(strata::abs(a[i] - u[i])).item<double>();
    const double scale = strata::max(strata::abs(u[i])).item<double>();
    if (!(diff <= 1e-4 * (1.0 + scale))) {
      state.SkipWithError(("batch_norm_relu disagrees with relu(batch_norm) in output " + std::to_string(i)).c_str());
      return;
    }
  }
  for (auto _ : state) benchmark::DoNotOptimize(step(fused));
  set_bytes(state, 8.0 * 4.0 * static_cast<double>(shape.numel()));
}

// Records GB/s per benchmark for the summary.
class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      auto it = r.counters.find("GB/s");
      if (it == r.counters.end() || r.error_occurred) continue;
      std::string name = r.benchmark_name();
      if (const size_t cut = name.find("/"); cut != std::string::npos) name.erase(cut);
      measured()[name] = it->second.value;
    }
    ConsoleReporter::ReportRuns(runs);
  }
};

// The peer's GB/s for `name` (best of a few runs), or 0 when it cannot run.
double torch_figure(const std::string& name, int threads) {
  if (const char* skip = std::getenv("STRATA_BENCH_PEER"); skip && std::string(skip) == "0") return 0;
  const char* dir_env = std::getenv("STRATA_PEERS");
  const std::string runner = std::string(dir_env ? dir_env : "/work/shared/peers") + "/run-tuned";
  if (FILE* f = std::fopen(runner.c_str(), "r")) {
    std::fclose(f);
  } else {
    return 0;
  }
  int repeats = 2;
  if (const char* r = std::getenv("STRATA_PEER_REPEATS")) repeats = std::max(1, std::atoi(r));
  double best = 0;
  for (int rep = 0; rep < repeats; ++rep) {
    const std::string cmd =
        runner + " torch_ops.py --threads " + std::to_string(threads) + " --filter " + name + " 2>/dev/null";
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) continue;
    char line[512];
    while (std::fgets(line, sizeof line, p)) {
      std::istringstream in(line);
      std::string got, ms_unit, unit;
      double ms = 0, figure = 0;
      if (in >> got >> ms >> ms_unit >> figure >> unit && got == name && ms_unit == "ms") best = std::max(best, figure);
    }
    pclose(p);
  }
  return best;
}

}  // namespace

BENCHMARK(BM_BatchNormTrainFwdSumBwd)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0);
BENCHMARK(BM_BatchNormTrainFwdBwd)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0);
BENCHMARK(BM_BatchNormTrainFwd)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0);
BENCHMARK(BM_BatchNormTrainBwd)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0);
BENCHMARK(BM_SumAndItsBackward)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0);
BENCHMARK(BM_BatchNormEvalFwd)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0);
BENCHMARK(BM_LayerNormFwdBwd)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0);
BENCHMARK(BM_BatchNormReluCnnFwdBwd)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0);
BENCHMARK(BM_GroupNormFwdBwd)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0);

int main(int argc, char** argv) {
  const int threads = num_threads();
  strata::set_num_threads(threads);
  benchmark::Initialize(&argc, argv);
  SummaryReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();

  const double peer = torch_figure(kPeerCase, threads);
  std::printf("\nsummary (%d threads; GB/s = bytes of the napkin traffic / time)\n", threads);
  for (const auto& [name, gbs] : measured()) std::printf("  %-30s %8.2f GB/s\n", name.c_str(), gbs);
  const auto it = measured().find("BM_BatchNormTrainFwdSumBwd");
  if (it != measured().end()) {
    if (peer > 0) {
      std::printf("  %s: strata %.2f GB/s, pytorch %.2f GB/s, strata/pytorch %.2fx\n", kPeerCase, it->second, peer,
                  it->second / peer);
    } else {
      std::printf("  %s: strata %.2f GB/s, pytorch n/a (peer script or PyTorch missing)\n", kPeerCase, it->second);
    }
  }
  return 0;
}
