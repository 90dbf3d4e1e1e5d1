// GPU benchmark of matrix products (kernels/cuda/gemm.cu, cuBLAS) through strata::matmul, row-major
// C[M, N] = A[M, K] B[K, N], at 4096^3 and the GEMMs of a transformer layer with d_model 4096 and
// 8192 tokens (QKV projection 8192x12288x4096, output projection 8192x4096x4096, MLP up
// 8192x16384x4096, MLP down 8192x4096x16384), in
//   f32  - strata::matmul (cuBLAS SGEMM without TF32: results comparable with the CPU's);
//   tf32 - cublasGemmEx with CUBLAS_COMPUTE_32F_FAST_TF32 called here directly on the same
//          tensors: Strata has no TF32 switch, so this row is the library ceiling a TF32 mode
//          would reach, not a Strata figure;
//   bf16 - strata::matmul on bf16 tensors (f32 accumulation).
// Counters: TFLOP/s (2 M N K per product) and pct_peak, of the dense peak of the dtype (H100 SXM:
// fp32 67, tf32 494.7, bf16 989.4 TFLOP/s; bench/cuda_bench.h). Validated first against the CPU on
// the first 256 rows of C (A's first 256 rows times all of B, in f32 from the same rounded
// inputs): relative error <= 1e-5 (f32) / 3e-3 (tf32: 10-bit mantissas) / 1e-2 (bf16).
#include <map>
#include <stdexcept>
#include <tuple>

#include "cuda_bench.h"

#if defined(STRATA_WITH_CUDA)
#include <cublas_v2.h>
#endif

namespace {

namespace gpu = bench::gpu;
using strata::DType;
using strata::Tensor;

enum class Mode { f32, tf32, bf16 };
const char* mode_name(Mode m) { return m == Mode::f32 ? "f32" : m == Mode::tf32 ? "tf32" : "bf16"; }
DType mode_dtype(Mode m) { return m == Mode::bf16 ? DType::BF16 : DType::F32; }

struct Shape3 {
  const char* label;
  int64_t m, n, k;
};

#if defined(STRATA_WITH_CUDA)
cublasHandle_t cublas() {
  static cublasHandle_t h = [] {
    cublasHandle_t handle = nullptr;
    cublasCreate(&handle);
    return handle;
  }();
  return h;
}
#endif

// c = a b with TF32 tensor cores (cuBLAS directly; column-major view: c^T = b^T a^T).
bool matmul_tf32(const Tensor& a, const Tensor& b, Tensor& c) {
#if defined(STRATA_WITH_CUDA)
  const int m = static_cast<int>(a.size(0)), k = static_cast<int>(a.size(1)), n = static_cast<int>(b.size(1));
  const float alpha = 1.0f, beta = 0.0f;
  cublasSetStream(cublas(), static_cast<cudaStream_t>(strata::cuda::current_stream().handle));
  return cublasGemmEx(cublas(), CUBLAS_OP_N, CUBLAS_OP_N, n, m, k, &alpha, b.raw_data(), CUDA_R_32F, n, a.raw_data(),
                      CUDA_R_32F, k, &beta, c.raw_data(), CUDA_R_32F, n, CUBLAS_COMPUTE_32F_FAST_TF32,
                      CUBLAS_GEMM_DEFAULT) == CUBLAS_STATUS_SUCCESS;
#else
  (void)a, (void)b, (void)c;
  return false;
#endif
}

void run_case(benchmark::State& st, const std::string& name, Mode mode, Shape3 s) {
  const DType dt = mode_dtype(mode);
  const Tensor a_cpu = gpu::random_cpu({s.m, s.k}, dt, 31);
  const Tensor b_cpu = gpu::random_cpu({s.k, s.n}, dt, 32);
  const Tensor a = gpu::on_gpu(a_cpu), b = gpu::on_gpu(b_cpu);
  Tensor c = strata::empty({s.m, s.n}, {.dtype = dt, .device = strata::Device::cuda()});
  auto call = [&] {
    if (mode == Mode::tf32) {
      if (!matmul_tf32(a, b, c)) throw std::runtime_error("cublasGemmEx (TF32) failed");
    } else {
      c = strata::matmul(a, b);
    }
  };
  call();
  const int64_t rows = std::min<int64_t>(256, s.m);
  const Tensor ref = strata::matmul(a_cpu.slice(0, 0, rows).to(DType::F32), b_cpu.to(DType::F32));
  const Tensor got = c.slice(0, 0, rows).to(DType::F32);
  const double tol = mode == Mode::f32 ? 1e-5 : mode == Mode::tf32 ? 3e-3 : 1e-2;
  if (!gpu::check_close(st, name, ref, got, tol)) return;
  const double sec = gpu::time_calls(st, call);
  gpu::report_flops(st, name, 2.0 * s.m * s.n * s.k, sec, gpu::dense_peak_tflops(dt, mode == Mode::tf32));
}

const bool registered = [] {
  const std::vector<Shape3> shapes = {{"4096x4096x4096", 4096, 4096, 4096},
                                      {"qkv_8192x12288x4096", 8192, 12288, 4096},
                                      {"attn_out_8192x4096x4096", 8192, 4096, 4096},
                                      {"mlp_up_8192x16384x4096", 8192, 16384, 4096},
                                      {"mlp_down_8192x4096x16384", 8192, 4096, 16384}};
  for (Mode mode : {Mode::f32, Mode::tf32, Mode::bf16})
    for (const Shape3& s : shapes) {
      const std::string name = std::string("matmul_") + mode_name(mode) + "_" + s.label;
      benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& st) { gpu::guarded(st, name, [&] { run_case(st, name, mode, s); }); })
          ->UseManualTime()
          ->Iterations(gpu::kTimedCalls)
          ->Unit(benchmark::kMicrosecond);
    }
  return true;
}();

void headline() {
  for (const char* mode : {"f32", "tf32", "bf16"}) {
    const std::string n4096 = std::string("matmul_") + mode + "_4096x4096x4096";
    auto& f = gpu::results().figures[n4096];
    const auto [best_name, best_pct] = gpu::best("pct_peak", std::string("matmul_") + mode + "_");
    std::printf("headline: gemm %s 4096^3 %.1f TFLOP/s = %.1f%% of dense peak; best %.1f%% (%s)%s\n", mode,
                f["TFLOP/s"], f["pct_peak"], best_pct, best_name.c_str(),
                std::string(mode) == "tf32" ? " [cuBLAS TF32 ceiling, not a Strata path]" : "");
  }
}

}  // namespace

int main(int argc, char** argv) { return gpu::main(argc, argv, "bench_cuda_gemm", headline); }
