// Batch augmentation throughput at the shape of shared/peers/torch_ops.py's
// `affine_grid+grid_sample_64x3x224x224` (64 RGB 224x224 f32 images), the resampling fastai's
// batch augmentation does in PyTorch. Figure: GB/s = 2 * 4 * numel / median call (the peer's
// napkin math: one read and one write of the images).
//
//   aug_affine_64x3x224x224      aug_transforms' AffineCoordTfm (flip, warp, rotate, zoom with
//                                fastai's defaults, p_affine 0.75): per-sample draws, one matrix
//                                per sample, ONE warp_batch
//   aug_affine_p1_64x3x224x224   the same with p_affine 1 (every sample warped, perspective on all)
//   aug_lighting_64x3x224x224    aug_transforms' LightingTfm alone
//   aug_transforms_64x3x224x224  the whole list: affine + lighting (brightness, contrast in logit
//                                space)
//
// Two PyTorch peers, run in the same sitting:
//   - shared/peers/torch_ops.py's affine_grid + grid_sample (no draws, no perspective, no
//     lighting: strictly less work than any Strata case); goal for the affine transform >= 2x;
//   - bench/peers/torch_augment.py: what fastai's aug_transforms does in torch (per-sample draws,
//     affine_grid + perspective on the grid + grid_sample; brightness and contrast in logit space
//     as fastai's LightingTfm), case for case: fastai_affine, fastai_lighting,
//     fastai_aug_transforms; goal for the whole list >= 2x.
// Threads: STRATA_NUM_THREADS (default 2). PyTorch: bench/peer_torch.h (STRATA_BENCH_PEER=0 skips).
// Use --benchmark_repetitions=3: the summary takes the best run of each side.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "best_reporter.h"
#include "data/augment.h"
#include "median_timer.h"
#include "peer_script.h"
#include "peer_torch.h"
#include "strata.h"

namespace {

using strata::Tensor;
using namespace strata::data;

constexpr int64_t kN = 64, kC = 3, kH = 224, kW = 224;
const char* kPeer = "affine_grid+grid_sample_64x3x224x224";
const char* kAffine = "aug_affine_64x3x224x224";
const char* kAffineP1 = "aug_affine_p1_64x3x224x224";
const char* kAll = "aug_transforms_64x3x224x224";
const char* kLighting = "aug_lighting_64x3x224x224";

const Tensor& images() {
  static const Tensor x = [] {
    strata::Generator gen(7);
    return strata::cast<strata::TensorImage>(strata::rand({kN, kC, kH, kW}, {}, &gen));
  }();
  return x;
}

void BM_Tfms(benchmark::State& state, std::vector<TfmPtr> tfms) {
  strata::NoGradGuard no_grad;
  const Tensor& x = images();
  bench::MedianTimer timer;
  for (auto _ : state)
    timer.time([&] {
      Item y{x};
      for (const auto& t : tfms) y = (*t)(y, 0);
      benchmark::DoNotOptimize(y.tensor().raw_data());
    });
  state.counters["GB/s"] = timer.rate(2.0 * 4.0 * static_cast<double>(x.numel()) * 1e-9);
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2;
  if (const char* env = std::getenv("STRATA_NUM_THREADS")) threads = std::max(1, std::atoi(env));
  strata::set_num_threads(threads);
  std::printf("bench_augment: threads=%d, f32 [%lld, %lld, %lld, %lld], reflection, align_corners\n", threads,
              static_cast<long long>(kN), static_cast<long long>(kC), static_cast<long long>(kH),
              static_cast<long long>(kW));
  auto all = aug_transforms({.seed = 1});
  std::vector<TfmPtr> affine{all[0]};
  auto p1 = aug_transforms({.max_lighting = 0, .p_affine = 1.0, .seed = 2});
  benchmark::RegisterBenchmark(kAffine, BM_Tfms, affine)->UseRealTime()->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark(kAffineP1, BM_Tfms, p1)->UseRealTime()->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark(kLighting, BM_Tfms, std::vector<TfmPtr>{all[1]})
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark(kAll, BM_Tfms, all)->UseRealTime()->Unit(benchmark::kMillisecond);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  bench::BestReporter reporter("GB/s");
  benchmark::RunSpecifiedBenchmarks(&reporter);

  const auto torch = bench::torch_figures({kPeer});
  std::printf("\nsummary (GB/s = 2 * 4 * numel / median call, best repetition; ratio = strata / pytorch "
              "affine_grid+grid_sample; goal aug_affine >= 2.0)\n");
  auto it = torch.find(kPeer);
  const double peer = it == torch.end() ? 0.0 : it->second;
  std::vector<std::pair<std::string, double>> rows;
  for (const char* name : {kAffine, kAffineP1, kLighting, kAll}) rows.emplace_back(name, reporter.best(name));
  bench::print_ratio_rows(rows, peer);

  const auto fastai = bench::script_figures("torch_augment.py");
  std::printf("\nsummary against fastai-style torch (bench/peers/torch_augment.py, same figure; goal "
              "aug_transforms >= 2.0)\n");
  const std::pair<const char*, const char*> pairs[] = {{kAffine, "fastai_affine_64x3x224x224"},
                                                      {kLighting, "fastai_lighting_64x3x224x224"},
                                                      {kAll, "fastai_aug_transforms_64x3x224x224"}};
  for (const auto& [ours, theirs] : pairs) {
    auto f = fastai.find(theirs);
    bench::print_ratio_rows({{ours, reporter.best(ours)}}, f == fastai.end() ? 0.0 : f->second);
  }
  benchmark::Shutdown();
  return 0;
}
