// AVX2 + FMA micro-kernels (built with -mavx2 -mfma -O3; chosen at run time by gemm.cpp).
//
// f32 tile 6 x 16: 12 ymm accumulators + 2 for the B row + 1 broadcast of A = 15 of the 16 ymm
// registers. Twelve independent FMA chains cover the FMA latency (4-5 cycles) on both FMA pipes,
// and each k step issues 8 loads for 12 FMAs, under the two-loads-per-cycle limit.
// f64 tile 6 x 8: the same register plan with 4 doubles per ymm.
// Blocking (measured on Zen 3: 32 KiB L1d, 512 KiB L2): KC = 256 keeps the A micro-panel
// (6 x 256 floats = 6 KiB) in L1 while B micro-panels stream from L2; the packed B block
// (KC x n_l2) takes about half of L2; the packed A block (m_l3 x KC) sits in L3.
#include <immintrin.h>

#include "kernels/cpu/microkernel.h"

namespace strata::kernels::cpu::detail {
namespace {

struct Avx2F32 {
  using scalar = float;
  using reg = __m256;
  static constexpr int width = 8;
  static reg zero() { return _mm256_setzero_ps(); }
  static reg load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, reg r) { _mm256_storeu_ps(p, r); }
  static reg broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  static reg set1(float x) { return _mm256_set1_ps(x); }
  static reg fmadd(reg a, reg b, reg c) { return _mm256_fmadd_ps(a, b, c); }
  static reg mul(reg a, reg b) { return _mm256_mul_ps(a, b); }
  static void prefetch(const float* p) { _mm_prefetch(reinterpret_cast<const char*>(p), _MM_HINT_T0); }
};

struct Avx2F64 {
  using scalar = double;
  using reg = __m256d;
  static constexpr int width = 4;
  static reg zero() { return _mm256_setzero_pd(); }
  static reg load(const double* p) { return _mm256_loadu_pd(p); }
  static void store(double* p, reg r) { _mm256_storeu_pd(p, r); }
  static reg broadcast(const double* p) { return _mm256_broadcast_sd(p); }
  static reg set1(double x) { return _mm256_set1_pd(x); }
  static reg fmadd(reg a, reg b, reg c) { return _mm256_fmadd_pd(a, b, c); }
  static reg mul(reg a, reg b) { return _mm256_mul_pd(a, b); }
  static void prefetch(const double* p) { _mm_prefetch(reinterpret_cast<const char*>(p), _MM_HINT_T0); }
};

constexpr KernelSet<float> kAvx2F32 =
    KernelSetFor<Avx2F32, 6, 2>::make("avx2", /*kc=*/256, /*n_l2=*/256, /*m_l3=*/1536);
constexpr KernelSet<double> kAvx2F64 =
    KernelSetFor<Avx2F64, 6, 2>::make("avx2", /*kc=*/256, /*n_l2=*/128, /*m_l3=*/768);

}  // namespace

const KernelSet<float>* avx2_kernels_f32() { return &kAvx2F32; }
const KernelSet<double>* avx2_kernels_f64() { return &kAvx2F64; }

}  // namespace strata::kernels::cpu::detail
