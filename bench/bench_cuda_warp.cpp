// GPU benchmark of the fused resampler: warp_batch (one kernel: each output pixel maps its own
// coordinate through the matrix and interpolates) against affine_grid + grid_sample (two
// kernels: a [N, H, W, 2] grid written to memory, then read back) on a batch of 64 x 3 x 224 x 224
// images, f32 and bf16, reflection padding, align_corners (fastai's defaults), near-identity
// affine matrices (small rotations, zooms and shifts, like fastai's aug_transforms).
// Counters: ms, GB/s (warp: input read + output written, 2 x numel; the two-kernel path moves
// the grid twice more) and, in the headline, the speed-up two_kernels time / warp_batch time.
// Target: >= 3x. Validated first, each path on the GPU against the same path on the CPU (in bf16
// the two paths differ by design: affine_grid's grid is rounded to bf16, warp_batch keeps its
// coordinates in f32): relative error <= 1e-4 (f32: a coordinate rounded differently moves a
// sample by ~1e-5 pixel, and neighbouring pixels of random images differ by up to 1) / 1e-2
// (bf16).
#include "cuda_bench.h"

namespace {

namespace gpu = bench::gpu;
using strata::DType;
using strata::Tensor;

constexpr int64_t N = 64, C = 3, H = 224, W = 224;

struct Inputs {
  Tensor x_cpu, m_cpu, theta_cpu, x, m, theta;
};
const Inputs& inputs(DType dt) {
  static std::map<DType, Inputs> cache;
  auto it = cache.find(dt);
  if (it != cache.end()) return it->second;
  Inputs in;
  in.x_cpu = gpu::random_cpu({N, C, H, W}, dt, 51, 0.0, 1.0);
  const Tensor eye = strata::eye(3, 3, {.dtype = dt}).unsqueeze(0).expand({N, 3, 3});
  in.m_cpu = (eye + gpu::random_cpu({N, 3, 3}, dt, 52, -0.2, 0.2)).contiguous();
  in.x = gpu::on_gpu(in.x_cpu);
  in.m = gpu::on_gpu(in.m_cpu);
  in.theta_cpu = in.m_cpu.slice(1, 0, 2).contiguous();  // [N, 2, 3]: the affine part
  in.theta = gpu::on_gpu(in.theta_cpu);
  return cache.emplace(dt, std::move(in)).first->second;
}

const strata::WarpOptions kWarp{.padding_mode = strata::PaddingMode::Reflection, .align_corners = true};
const strata::GridSampleOptions kSample{.padding_mode = strata::PaddingMode::Reflection, .align_corners = true};

Tensor two_kernels(const Tensor& x, const Tensor& theta) {
  return strata::grid_sample(x, strata::affine_grid(theta, {N, C, H, W}, true), kSample);
}

void run_case(benchmark::State& st, const std::string& name, DType dt, bool fused) {
  const Inputs& in = inputs(dt);
  const double tol = dt == DType::F32 ? 1e-4 : 1e-2;
  auto run = [&](bool on_gpu) {
    const Tensor& x = on_gpu ? in.x : in.x_cpu;
    return fused ? strata::warp_batch(x, on_gpu ? in.m : in.m_cpu, kWarp)
                 : two_kernels(x, on_gpu ? in.theta : in.theta_cpu);
  };
  Tensor out = run(true);
  if (!gpu::check_close(st, name, run(false), out, tol)) return;
  const double s = gpu::time_calls(st, [&] { out = run(true); });
  const double grid_bytes = fused ? 0.0 : 2.0 * N * H * W * 2 * strata::dtype_size(dt);
  gpu::report_bandwidth(st, name, 2.0 * static_cast<double>(in.x.nbytes()) + grid_bytes, s);
}

std::string case_name(DType dt, bool fused) {
  return std::string(fused ? "warp_batch_" : "affine_grid_grid_sample_") + gpu::dtype_str(dt) + "_64x3x224x224";
}

const bool registered = [] {
  for (DType dt : {DType::F32, DType::BF16})
    for (bool fused : {true, false}) {
      const std::string name = case_name(dt, fused);
      benchmark::RegisterBenchmark(name.c_str(),
                                   [=](benchmark::State& st) {
                                     gpu::guarded(st, name, [&] { run_case(st, name, dt, fused); });
                                   })
          ->UseManualTime()
          ->Iterations(gpu::kTimedCalls)
          ->Unit(benchmark::kMicrosecond);
    }
  return true;
}();

void headline() {
  for (DType dt : {DType::F32, DType::BF16}) {
    auto& f = gpu::results().figures;
    const double fused = f[case_name(dt, true)]["ms"], two = f[case_name(dt, false)]["ms"];
    if (fused <= 0 || two <= 0) {
      std::printf("headline: warp_batch %s: no ratio (a case did not run)\n", gpu::dtype_str(dt).c_str());
      continue;
    }
    std::printf("headline: warp_batch %s %.3f ms vs affine_grid+grid_sample %.3f ms: %.2fx (target >= 3x: %s)\n",
                gpu::dtype_str(dt).c_str(), fused, two, two / fused, two / fused >= 3 ? "met" : "MISSED");
  }
}

}  // namespace

int main(int argc, char** argv) { return gpu::main(argc, argv, "bench_cuda_warp", headline); }
