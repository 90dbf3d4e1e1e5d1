// Google Benchmark: backward-data of strided convolutions, the phase-split path of
// kernels/cpu/conv_strided_data.cpp ("on") against the im2col path ("off", the same kernel
// entry with conv2d_set_strided_data_enabled(false)), at the reference CNN's stride-2 layers
// and the ResNet-18 downsampling convolutions (3x3 and 1x1, stride 2; the path leaves the 1x1
// ones, whose phases a tap does not reach, to im2col: "on" and "off" run the same code there),
// with a few shapes in between.
// Compare single-thread CPU time: STRATA_NUM_THREADS=1 (default 1 here), and
// --benchmark_enable_random_interleaving=true --benchmark_repetitions=3 on a shared box.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "kernels/conv.h"
#include "kernels/cpu/conv_strided_data.h"
#include "kernels/cpu/parallel.h"
#include "strata.h"

namespace {

using strata::Tensor;

struct Case {
  std::string name;
  int64_t n, cin, cout, hw, k, stride, pad;
};

void run(benchmark::State& state, const Case& c, bool on) {
  const int64_t ho = (c.hw + 2 * c.pad - c.k) / c.stride + 1;
  strata::Generator gen(1);
  Tensor gx = strata::empty({c.n, c.cin, c.hw, c.hw});
  Tensor w = strata::randn({c.cout, c.cin, c.k, c.k}, {}, &gen);
  Tensor gy = strata::randn({c.n, c.cout, ho, ho}, {}, &gen);
  const strata::kernels::ConvGeometry g{c.stride, c.stride, c.pad, c.pad, 1, 1, 1};
  strata::kernels::cpu::conv2d_set_strided_data_enabled(on);
  for (auto _ : state) strata::kernels::cpu::conv2d_backward_data(gy, w, Tensor(), gx, g);
  strata::kernels::cpu::conv2d_set_strided_data_enabled(true);
  const double flops = 2.0 * c.n * c.cout * ho * ho * c.cin * c.k * c.k;
  state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9 * state.iterations(), benchmark::Counter::kIsRate);
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 1;
  if (const char* env = std::getenv("STRATA_NUM_THREADS")) threads = std::max(1, std::atoi(env));
  strata::set_num_threads(threads);
  const std::vector<Case> cases = {
      {"cnn_l2", 128, 32, 64, 28, 3, 2, 1},      {"cnn_l3", 128, 64, 128, 14, 3, 2, 1},
      {"c48_28", 128, 48, 96, 28, 3, 2, 1},      {"c40_14", 128, 40, 80, 14, 3, 2, 1},
      {"r18_down2", 32, 64, 128, 56, 3, 2, 1},   {"r18_down3", 32, 128, 256, 28, 3, 2, 1},
      {"r18_down4", 32, 256, 512, 14, 3, 2, 1},  {"r18_1x1_down2", 32, 64, 128, 56, 1, 2, 0},
      {"r18_1x1_down4", 32, 256, 512, 14, 1, 2, 0},
  };
  for (const Case& c : cases)
    for (bool on : {false, true})
      benchmark::RegisterBenchmark(("bwd_data_" + c.name + (on ? "/on" : "/off")).c_str(),
                                   [c, on](benchmark::State& s) { run(s, c, on); })
          ->Unit(benchmark::kMillisecond);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
