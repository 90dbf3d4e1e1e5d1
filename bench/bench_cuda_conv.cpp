// GPU benchmark of conv2d: Strata's own implicit-GEMM kernel against cuDNN, chosen per call with
// Conv2dOptions::algorithm (ConvAlgorithm::implicit_gemm / cudnn), forward and backward, at the
// shapes of bench/bench_conv.cpp: 3x3 convs with padding 1 (no bias) of the reference CNN
// (cnn_l1..l3, batch 128, 28x28 / 14x14) and the ResNet-18 stages (r18_s1..s4, batch 32), plus
// ResNet-50's 1x1 256 -> 1024 at 14x14. f32 and bf16.
//   fwd_<case>: y = conv2d(x, w);
//   bwd_<case>: y.backward(g) through a retained graph (data and weight gradients), the leaves'
//               gradients reset (untimed) before each call.
// Counters: TFLOP/s (forward 2 N Cout Ho Wo Cin kh kw; backward twice that) and pct_peak of the
// dtype's dense peak; the headline prints implicit_gemm time / cuDNN time per case (1.0: as fast).
// Each case is validated against the CPU's conv first (output, or both gradients): relative
// error <= 1e-4 (f32: cuDNN may pick TF32-free algorithms of other summation orders) / 1e-2 (bf16).
#include <map>

#include "cuda_bench.h"

namespace {

namespace gpu = bench::gpu;
using strata::ConvAlgorithm;
using strata::DType;
using strata::Tensor;

struct ConvCase {
  const char* name;
  int64_t n, cin, cout, hw, stride, k;
};

const std::vector<ConvCase>& cases() {
  static const std::vector<ConvCase> c = {
      {"cnn_l1", 128, 1, 32, 28, 1, 3},   {"cnn_l2", 128, 32, 64, 28, 2, 3}, {"cnn_l3", 128, 64, 128, 14, 2, 3},
      {"r18_s1", 32, 64, 64, 56, 1, 3},   {"r18_s2", 32, 128, 128, 28, 1, 3}, {"r18_s3", 32, 256, 256, 14, 1, 3},
      {"r18_s4", 32, 512, 512, 7, 1, 3},  {"r50_1x1_s3", 32, 256, 1024, 14, 1, 1}};
  return c;
}

const char* algo_name(ConvAlgorithm a) { return a == ConvAlgorithm::cudnn ? "cudnn" : "implicit_gemm"; }

strata::Conv2dOptions options(const ConvCase& c, ConvAlgorithm a) {
  const int64_t pad = c.k / 2;
  return {.stride = {c.stride, c.stride}, .padding = {pad, pad}, .algorithm = a};
}

void run_case(benchmark::State& st, const std::string& name, const ConvCase& c, ConvAlgorithm algo, DType dt,
              bool backward) {
  const Tensor x_cpu = gpu::random_cpu({c.n, c.cin, c.hw, c.hw}, dt, 41);
  const Tensor w_cpu = gpu::random_cpu({c.cout, c.cin, c.k, c.k}, dt, 42, -0.1, 0.1);
  Tensor x = gpu::on_gpu(x_cpu).requires_grad_(backward);
  Tensor w = gpu::on_gpu(w_cpu).requires_grad_(backward);
  const double tol = dt == DType::F32 ? 1e-4 : 1e-2;
  const int64_t ho = (c.hw + 2 * (c.k / 2) - c.k) / c.stride + 1;
  const double flops = 2.0 * c.n * c.cout * ho * ho * c.cin * c.k * c.k * (backward ? 2.0 : 1.0);
  const double peak = gpu::dense_peak_tflops(dt);
  if (!backward) {
    Tensor y = strata::conv2d(x, w, Tensor(), options(c, algo));
    const Tensor ref = strata::conv2d(x_cpu, w_cpu, Tensor(), options(c, ConvAlgorithm::automatic));
    if (!gpu::check_close(st, name, ref, y, tol)) return;
    const double s = gpu::time_calls(st, [&] { y = strata::conv2d(x, w, Tensor(), options(c, algo)); });
    gpu::report_flops(st, name, flops, s, peak);
    return;
  }
  Tensor xc = x_cpu.detach().requires_grad_(true), wc = w_cpu.detach().requires_grad_(true);
  const Tensor yc = strata::conv2d(xc, wc, Tensor(), options(c, ConvAlgorithm::automatic));
  const Tensor g_cpu = gpu::random_cpu(yc.shape(), dt, 43);
  yc.backward(g_cpu);
  const Tensor g = gpu::on_gpu(g_cpu);
  const Tensor y = strata::conv2d(x, w, Tensor(), options(c, algo));
  y.backward(g, /*retain_graph=*/true);
  if (!gpu::check_close(st, name + " grad x", xc.grad(), x.grad(), tol)) return;
  if (!gpu::check_close(st, name + " grad w", wc.grad(), w.grad(), tol)) return;
  const double s = gpu::time_calls(
      st, [&] { y.backward(g, /*retain_graph=*/true); },
      [&] {
        x.zero_grad();
        w.zero_grad();
      });
  gpu::report_flops(st, name, flops, s, peak);
}

std::string case_name(bool backward, const ConvCase& c, DType dt, ConvAlgorithm a) {
  return std::string(backward ? "bwd_" : "fwd_") + c.name + "_" + gpu::dtype_str(dt) + "_" + algo_name(a);
}

const bool registered = [] {
  for (bool backward : {false, true})
    for (const ConvCase& c : cases())
      for (DType dt : {DType::F32, DType::BF16})
        for (ConvAlgorithm a : {ConvAlgorithm::implicit_gemm, ConvAlgorithm::cudnn}) {
          const std::string name = case_name(backward, c, dt, a);
          benchmark::RegisterBenchmark(name.c_str(),
                                       [=](benchmark::State& st) {
                                         gpu::guarded(st, name, [&] { run_case(st, name, c, a, dt, backward); });
                                       })
              ->UseManualTime()
              ->Iterations(gpu::kTimedCalls)
              ->Unit(benchmark::kMicrosecond);
        }
  return true;
}();

void headline() {
  for (DType dt : {DType::F32, DType::BF16})
    for (bool backward : {false, true}) {
      std::string row;
      double worst = 0;
      for (const ConvCase& c : cases()) {
        auto& figures = gpu::results().figures;
        const double own = figures[case_name(backward, c, dt, ConvAlgorithm::implicit_gemm)]["ms"];
        const double cudnn = figures[case_name(backward, c, dt, ConvAlgorithm::cudnn)]["ms"];
        if (own <= 0 || cudnn <= 0) continue;
        row += " " + std::string(c.name) + "=" + std::to_string(own / cudnn).substr(0, 4);
        worst = std::max(worst, own / cudnn);
      }
      std::printf("headline: conv %s %s implicit_gemm/cudnn time ratio (worst %.2f):%s\n", backward ? "bwd" : "fwd",
                  gpu::dtype_str(dt).c_str(), worst, row.empty() ? " (no pair ran)" : row.c_str());
    }
}

}  // namespace

int main(int argc, char** argv) { return gpu::main(argc, argv, "bench_cuda_conv", headline); }
