// Google Benchmark for strata::conv2d at the shapes of /work/shared/peers/torch_ops.py (run
// `run-tuned torch_ops.py --filter conv` in the same sitting for PyTorch's figures):
//   conv3x3_fwd_<case> / conv3x3_fwdbwd_<case> - 3x3, padding 1, no bias: the reference CNN layers
//     cnn_l1..l3 (batch 128, 28x28 / 14x14) and the ResNet-18 stages r18_s1..s4 (batch 32);
//     forward+backward is conv2d(x, w).backward(ones) with x and w requiring grad, counted as 3x
//     the forward FLOPs (like torch_ops.py, whose .sum().backward() hands the same all-ones
//     gradient to the conv; the sum itself is left out because strata's reduction is still a
//     placeholder whose cost would swamp the conv);
//   conv1x1_fwd_r50_s3 - a 1x1 conv, 256 -> 1024 channels at 14x14, batch 32.
// Counter "GFLOP/s" with FLOPs = 2 * N * Cout * Ho * Wo * Cin * kh * kw per forward.
//
// pass_<fwd|bwd_data|bwd_weight>_<case>: one kernel pass on its own (kernels::cpu, no autograd).
// Threads: STRATA_NUM_THREADS (default 2). STRATA_CONV_DIRECT=0 switches the direct stride-1
// path off (im2col + GEMM everywhere); STRATA_CONV_THIN=0 the thin-input path (kernels/cpu/conv_thin.h).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "kernels/conv.h"
#include "kernels/cpu/conv_direct.h"
#include "kernels/cpu/conv_thin.h"
#include "kernels/cpu/parallel.h"
#include "strata.h"

namespace {

using strata::Tensor;

struct ConvCase {
  std::string name;
  int64_t n, cin, cout, hw, stride, k;
};

Tensor random(const strata::Shape& shape, uint64_t seed) {
  strata::Generator gen(seed);
  return strata::randn(shape, {}, &gen);
}

void run_case(benchmark::State& state, const ConvCase& c, bool backward) {
  Tensor x = random({c.n, c.cin, c.hw, c.hw}, 1);
  Tensor w = random({c.cout, c.cin, c.k, c.k}, 2) * 0.05;
  const int64_t pad = c.k / 2;
  const strata::Conv2dOptions o{.stride = {c.stride, c.stride}, .padding = {pad, pad}};
  const int64_t ho = (c.hw + 2 * pad - c.k) / c.stride + 1;
  const double flops = 2.0 * c.n * c.cout * ho * ho * c.cin * c.k * c.k * (backward ? 3 : 1);
  if (backward) {
    x.requires_grad_(true);
    w.requires_grad_(true);
  }
  const Tensor ones = backward ? strata::ones({c.n, c.cout, ho, ho}) : Tensor();
  for (auto _ : state) {
    if (backward) {
      x.zero_grad();
      w.zero_grad();
      strata::conv2d(x, w, {}, o).backward(ones);
      benchmark::DoNotOptimize(w.grad().raw_data());
    } else {
      strata::NoGradGuard no_grad;
      Tensor y = strata::conv2d(x, w, {}, o);
      benchmark::DoNotOptimize(y.raw_data());
    }
  }
  state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9 * state.iterations(), benchmark::Counter::kIsRate);
}

// One kernel pass on its own (0 forward, 1 backward-data, 2 backward-weight), straight through
// kernels::cpu, to see where forward+backward spends its time.
void run_pass(benchmark::State& state, const ConvCase& c, int pass) {
  const int64_t pad = c.k / 2, ho = (c.hw + 2 * pad - c.k) / c.stride + 1;
  Tensor x = random({c.n, c.cin, c.hw, c.hw}, 1);
  Tensor w = random({c.cout, c.cin, c.k, c.k}, 2) * 0.05;
  Tensor y = random({c.n, c.cout, ho, ho}, 3);
  const strata::kernels::ConvGeometry g{c.stride, c.stride, pad, pad, 1, 1, 1};
  for (auto _ : state) {
    if (pass == 0) strata::kernels::cpu::conv2d_forward(x, w, Tensor(), y, g);
    if (pass == 1) strata::kernels::cpu::conv2d_backward_data(y, w, Tensor(), x, g);
    if (pass == 2) strata::kernels::cpu::conv2d_backward_weight(x, y, w, g);
  }
  const double flops = 2.0 * c.n * c.cout * ho * ho * c.cin * c.k * c.k;
  state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9 * state.iterations(), benchmark::Counter::kIsRate);
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2;
  if (const char* env = std::getenv("STRATA_NUM_THREADS")) threads = std::max(1, std::atoi(env));
  strata::set_num_threads(threads);
  // STRATA_CONV_DIRECT=0: the im2col path everywhere (before/after comparisons in one sitting).
  if (const char* env = std::getenv("STRATA_CONV_DIRECT"))
    strata::kernels::cpu::conv2d_set_direct_enabled(std::string(env) != "0");
  // STRATA_CONV_IN_PLACE=0: the direct path's forward always packs its B panels.
  if (const char* env = std::getenv("STRATA_CONV_IN_PLACE"))
    strata::kernels::cpu::conv2d_set_in_place_enabled(std::string(env) != "0");
  // STRATA_CONV_THIN=0: thin convolutions (Cin < 8) on im2col too.
  if (const char* env = std::getenv("STRATA_CONV_THIN"))
    strata::kernels::cpu::conv2d_set_thin_enabled(std::string(env) != "0");
  const std::vector<ConvCase> cases = {
      {"cnn_l1", 128, 1, 32, 28, 1, 3},   {"cnn_l2", 128, 32, 64, 28, 2, 3}, {"cnn_l3", 128, 64, 128, 14, 2, 3},
      {"r18_s1", 32, 64, 64, 56, 1, 3},   {"r18_s2", 32, 128, 128, 28, 1, 3}, {"r18_s3", 32, 256, 256, 14, 1, 3},
      {"r18_s4", 32, 512, 512, 7, 1, 3},
  };
  for (const ConvCase& c : cases)
    for (bool bwd : {false, true})
      benchmark::RegisterBenchmark((std::string(bwd ? "conv3x3_fwdbwd_" : "conv3x3_fwd_") + c.name).c_str(),
                                   [c, bwd](benchmark::State& s) { run_case(s, c, bwd); })
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
  const char* pass_names[] = {"fwd", "bwd_data", "bwd_weight"};
  for (const ConvCase& c : cases)
    for (int pass = 0; pass < 3; ++pass)
      benchmark::RegisterBenchmark((std::string("pass_") + pass_names[pass] + "_" + c.name).c_str(),
                                   [c, pass](benchmark::State& s) { run_pass(s, c, pass); })
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
  const ConvCase r50{"r50_s3", 32, 256, 1024, 14, 1, 1};
  benchmark::RegisterBenchmark("conv1x1_fwd_r50_s3", [r50](benchmark::State& s) { run_case(s, r50, false); })
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
