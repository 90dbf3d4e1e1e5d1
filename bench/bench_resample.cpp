// Resampling throughput at the shape of shared/peers/torch_ops.py's
// `affine_grid+grid_sample_64x3x224x224`: 64 RGB 224x224 f32 images, theta = I + 0.05 N(0, 1),
// bilinear, reflection padding, align_corners. Figure: GB/s = 2 * 4 * numel / median call (one
// read and one write of the images, the script's napkin math).
//
//   affine_grid+grid_sample_64x3x224x224  strata's two-step path, the peer's exact computation
//   warp_batch_64x3x224x224               the fused resampler on the same matrices (no grid)
//   warp_batch_perspective_64x3x224x224   the same plus fastai's Warp (random corner offsets,
//                                         magnitude 0.2): a homography per pixel
//   copy_64x3x224x224                     a plain copy of the images: the memory roofline
//
// Both are checked against each other before timing (max difference 1e-3: f32 grid coordinates
// carry ~1e-5 pixel of rounding on a 224-pixel image, times N(0, 1) pixel-to-pixel slopes). The ratio of each
// to PyTorch's affine_grid + grid_sample is printed (goal: warp_batch >= 2x).
//
// Threads: STRATA_NUM_THREADS (default 2). PyTorch: see bench/peer_torch.h (STRATA_BENCH_PEER=0
// skips it). Use --benchmark_repetitions=3: the summary takes the best run of each side.
#include <benchmark/benchmark.h>

#include <algorithm>
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

constexpr int64_t kN = 64, kC = 3, kH = 224, kW = 224;
const char* kTwoStep = "affine_grid+grid_sample_64x3x224x224";
const char* kFused = "warp_batch_64x3x224x224";
const char* kPerspective = "warp_batch_perspective_64x3x224x224";
const char* kCopy = "copy_64x3x224x224";  // roofline reference

struct Inputs {
  Tensor images, theta, matrices, offsets;
};

const Inputs& inputs() {
  static const Inputs in = [] {
    strata::Generator gen(7);
    Tensor images = strata::randn({kN, kC, kH, kW}, {}, &gen);
    Tensor eye = strata::eye(2, 3).unsqueeze(0).expand({kN, 2, 3});
    Tensor theta = (eye + strata::randn({kN, 2, 3}, {}, &gen) * 0.05).contiguous();
    Tensor last = strata::tensor<float>({0, 0, 1}, {1, 1, 3}).expand({kN, 1, 3});
    Tensor matrices = strata::cat({theta, last}, 1).contiguous();
    Tensor mag = (strata::rand({2, kN}, {}, &gen) * 0.4 - 0.2).contiguous();
    Tensor offsets = strata::warp_coord_offsets(mag[0], mag[1]);
    return Inputs{images, theta, matrices, offsets};
  }();
  return in;
}

Tensor two_step(const Inputs& in) {
  Tensor grid = strata::affine_grid(in.theta, in.images.shape(), true);
  return strata::grid_sample(in.images, grid,
                             {.padding_mode = strata::PaddingMode::Reflection, .align_corners = true});
}

Tensor fused(const Inputs& in) { return strata::warp_batch(in.images, in.matrices); }
Tensor fused_perspective(const Inputs& in) {
  return strata::warp_batch(in.images, in.matrices, {.coord_offsets = in.offsets});
}

bool check_agreement() {
  strata::NoGradGuard no_grad;
  const Inputs& in = inputs();
  const double diff = strata::max(strata::abs(two_step(in) - fused(in))).item();
  std::printf("check: max |warp_batch - affine_grid+grid_sample| = %.2e %s\n", diff, diff < 1e-3 ? "(ok)" : "(MISMATCH)");
  if (!(diff < 1e-3)) return false;
  return true;
}

// The roofline: one read and one write of the images (a plain copy), same GB/s arithmetic.
void BM_Copy(benchmark::State& state) {
  const Inputs& in = inputs();
  bench::MedianTimer timer;
  for (auto _ : state)
    timer.time([&] {
      Tensor y = in.images.clone();
      benchmark::DoNotOptimize(y.raw_data());
    });
  state.counters["GB/s"] = timer.rate(2.0 * 4.0 * static_cast<double>(in.images.numel()) * 1e-9);
}

void BM_Case(benchmark::State& state, Tensor (*fn)(const Inputs&)) {
  strata::NoGradGuard no_grad;
  const Inputs& in = inputs();
  bench::MedianTimer timer;
  for (auto _ : state)
    timer.time([&] {
      Tensor y = fn(in);
      benchmark::DoNotOptimize(y.raw_data());
    });
  state.counters["GB/s"] = timer.rate(2.0 * 4.0 * static_cast<double>(in.images.numel()) * 1e-9);
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2;
  if (const char* env = std::getenv("STRATA_NUM_THREADS")) threads = std::max(1, std::atoi(env));
  strata::set_num_threads(threads);
  std::printf("bench_resample: threads=%d, f32 [%lld, %lld, %lld, %lld], reflection, align_corners\n", threads,
              static_cast<long long>(kN), static_cast<long long>(kC), static_cast<long long>(kH),
              static_cast<long long>(kW));
  if (!check_agreement()) return 1;
  benchmark::RegisterBenchmark(kTwoStep, BM_Case, two_step)->UseRealTime()->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark(kFused, BM_Case, fused)->UseRealTime()->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark(kPerspective, BM_Case, fused_perspective)->UseRealTime()->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark(kCopy, BM_Copy)->UseRealTime()->Unit(benchmark::kMillisecond);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  bench::BestReporter reporter("GB/s");
  benchmark::RunSpecifiedBenchmarks(&reporter);

  const auto torch = bench::torch_figures({kTwoStep});
  std::printf("\nsummary (GB/s = 2 * 4 * numel / median call, best repetition; ratio = strata / pytorch "
              "affine_grid+grid_sample; goal warp_batch >= 2.0)\n");
  auto it = torch.find(kTwoStep);
  const double peer = it == torch.end() ? 0.0 : it->second;
  std::vector<std::pair<std::string, double>> rows;
  for (const char* name : {kTwoStep, kFused, kPerspective, kCopy}) rows.emplace_back(name, reporter.best(name));
  bench::print_ratio_rows(rows, peer);
  benchmark::Shutdown();
  return 0;
}
