// AVX-512 softmax primitives (kernels/cpu/softmax_rows.h), chosen at run time by loss.cpp.
// Compiled for AVX-512 with a target pragma placed before every include: the template bodies in
// softmax_simd.h then get the wide ISA, and nothing here is visible outside this file.
#if defined(__x86_64__) && defined(__GNUC__)
#pragma GCC target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")
// GCC 12's AVX-512 headers start some intrinsics from a deliberately undefined register.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "kernels/cpu/softmax_simd.h"

namespace strata::kernels::cpu::detail {
namespace {

struct Avx512F32 {
  using T = float;
  using vec = __m512;
  static constexpr int W = 16;
  static __mmask16 mask(int r) { return static_cast<__mmask16>((1u << r) - 1u); }
  static vec load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, vec v) { _mm512_storeu_ps(p, v); }
  static vec load_partial(const float* p, int r, float fill) { return _mm512_mask_loadu_ps(_mm512_set1_ps(fill), mask(r), p); }
  static void store_partial(float* p, vec v, int r) { _mm512_mask_storeu_ps(p, mask(r), v); }
  static vec set1(float s) { return _mm512_set1_ps(s); }
  static vec add(vec a, vec b) { return _mm512_add_ps(a, b); }
  static vec sub(vec a, vec b) { return _mm512_sub_ps(a, b); }
  static vec mul(vec a, vec b) { return _mm512_mul_ps(a, b); }
  static vec max(vec a, vec b) { return _mm512_max_ps(a, b); }
  static vec min(vec a, vec b) { return _mm512_min_ps(a, b); }
  static vec fmadd(vec a, vec b, vec c) { return _mm512_fmadd_ps(a, b, c); }
  static vec fnmadd(vec a, vec b, vec c) { return _mm512_fnmadd_ps(a, b, c); }
  static vec round(vec x) { return _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static vec pow2n(vec n) {
    const __m512i e = _mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127));
    return _mm512_castsi512_ps(_mm512_slli_epi32(e, 23));
  }
  static vec zero_where_less(vec v, vec x, vec threshold) {
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, threshold, _CMP_LT_OQ), v, _mm512_setzero_ps());
  }
  static vec exp(vec x) { return exp_poly<Avx512F32>(x); }
  static float hsum(vec v) { return _mm512_reduce_add_ps(v); }
  static float hmax(vec v) { return _mm512_reduce_max_ps(v); }
};

constexpr SoftmaxPrimitives<float> kAvx512 = make_softmax_primitives<Avx512F32>("avx512");

}  // namespace

const SoftmaxPrimitives<float>* softmax_primitives_avx512() { return &kAvx512; }

}  // namespace strata::kernels::cpu::detail
#else
#include "kernels/cpu/softmax_rows.h"
namespace strata::kernels::cpu::detail {
const SoftmaxPrimitives<float>* softmax_primitives_avx512() { return nullptr; }
}  // namespace strata::kernels::cpu::detail
#endif
