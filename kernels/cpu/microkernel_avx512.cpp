// AVX-512 micro-kernels (built with -mavx512f ... -O3; chosen at run time by gemm.cpp).
//
// f32 tile 12 x 32: 24 zmm accumulators + 2 for the B row + 1 broadcast of A = 27 of the 32 zmm
// registers (14 x 32 would use 31 and leave the compiler no slack). 24 independent FMA chains
// cover latency 4 on two 512-bit FMA pipes (Zen 5, Intel server cores); each k step is 14 loads
// for 24 FMAs. 12 rows also split m = 256/512/1024 between two threads with little padding.
// f64 tile 12 x 16: the same register plan with 8 doubles per zmm.
// Blocking: KC = 256 keeps the A micro-panel (12 x 256 floats = 12 KiB) in a 32-48 KiB L1 while
// 32-column B micro-panels stream from L2; the packed B block (KC x n_l2 = 384 KiB) stays in a
// 1-2 MiB L2; the packed A block (m_l3 x KC = 1.5 MiB) sits in L3.
#include <immintrin.h>

#include "kernels/cpu/microkernel.h"

namespace strata::kernels::cpu::detail {
namespace {

struct Avx512F32 {
  using scalar = float;
  using reg = __m512;
  static constexpr int width = 16;
  static reg zero() { return _mm512_setzero_ps(); }
  static reg load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, reg r) { _mm512_storeu_ps(p, r); }
  static reg broadcast(const float* p) { return _mm512_set1_ps(*p); }
  static reg set1(float x) { return _mm512_set1_ps(x); }
  static reg fmadd(reg a, reg b, reg c) { return _mm512_fmadd_ps(a, b, c); }
  static reg mul(reg a, reg b) { return _mm512_mul_ps(a, b); }
  static void prefetch(const float* p) { _mm_prefetch(reinterpret_cast<const char*>(p), _MM_HINT_T0); }
};

struct Avx512F64 {
  using scalar = double;
  using reg = __m512d;
  static constexpr int width = 8;
  static reg zero() { return _mm512_setzero_pd(); }
  static reg load(const double* p) { return _mm512_loadu_pd(p); }
  static void store(double* p, reg r) { _mm512_storeu_pd(p, r); }
  static reg broadcast(const double* p) { return _mm512_set1_pd(*p); }
  static reg set1(double x) { return _mm512_set1_pd(x); }
  static reg fmadd(reg a, reg b, reg c) { return _mm512_fmadd_pd(a, b, c); }
  static reg mul(reg a, reg b) { return _mm512_mul_pd(a, b); }
  static void prefetch(const double* p) { _mm_prefetch(reinterpret_cast<const char*>(p), _MM_HINT_T0); }
};

constexpr KernelSet<float> kAvx512F32 =
    KernelSetFor<Avx512F32, 12, 2>::make("avx512", /*kc=*/256, /*n_l2=*/384, /*m_l3=*/1536);
constexpr KernelSet<double> kAvx512F64 =
    KernelSetFor<Avx512F64, 12, 2>::make("avx512", /*kc=*/256, /*n_l2=*/192, /*m_l3=*/768);

}  // namespace

const KernelSet<float>* avx512_kernels_f32() { return &kAvx512F32; }
const KernelSet<double>* avx512_kernels_f64() { return &kAvx512F64; }

}  // namespace strata::kernels::cpu::detail
