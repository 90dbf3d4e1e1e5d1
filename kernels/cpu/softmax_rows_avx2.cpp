// AVX2 + FMA softmax primitives (kernels/cpu/softmax_rows.h), chosen at run time by loss.cpp on
// CPUs without AVX-512. Same construction as softmax_rows_avx512.cpp.
#if defined(__x86_64__) && defined(__GNUC__)
#pragma GCC target("avx2,fma")
#include <immintrin.h>

#include "kernels/cpu/softmax_simd.h"

namespace strata::kernels::cpu::detail {
namespace {

struct Avx2F32 {
  using T = float;
  using vec = __m256;
  static constexpr int W = 8;
  static __m256i mask(int r) { return _mm256_cmpgt_epi32(_mm256_set1_epi32(r), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)); }
  static vec load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, vec v) { _mm256_storeu_ps(p, v); }
  static vec load_partial(const float* p, int r, float fill) {
    const __m256i m = mask(r);
    return _mm256_blendv_ps(_mm256_set1_ps(fill), _mm256_maskload_ps(p, m), _mm256_castsi256_ps(m));
  }
  static void store_partial(float* p, vec v, int r) { _mm256_maskstore_ps(p, mask(r), v); }
  static vec set1(float s) { return _mm256_set1_ps(s); }
  static vec add(vec a, vec b) { return _mm256_add_ps(a, b); }
  static vec sub(vec a, vec b) { return _mm256_sub_ps(a, b); }
  static vec mul(vec a, vec b) { return _mm256_mul_ps(a, b); }
  static vec max(vec a, vec b) { return _mm256_max_ps(a, b); }
  static vec min(vec a, vec b) { return _mm256_min_ps(a, b); }
  static vec fmadd(vec a, vec b, vec c) { return _mm256_fmadd_ps(a, b, c); }
  static vec fnmadd(vec a, vec b, vec c) { return _mm256_fnmadd_ps(a, b, c); }
  static vec round(vec x) { return _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static vec pow2n(vec n) {
    const __m256i e = _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127));
    return _mm256_castsi256_ps(_mm256_slli_epi32(e, 23));
  }
  static vec zero_where_less(vec v, vec x, vec threshold) {
    return _mm256_andnot_ps(_mm256_cmp_ps(x, threshold, _CMP_LT_OQ), v);
  }
  static vec exp(vec x) { return exp_poly<Avx2F32>(x); }
  static float hsum(vec v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  static float hmax(vec v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
};

constexpr SoftmaxPrimitives<float> kAvx2 = make_softmax_primitives<Avx2F32>("avx2");

}  // namespace

const SoftmaxPrimitives<float>* softmax_primitives_avx2() { return &kAvx2; }

}  // namespace strata::kernels::cpu::detail
#else
#include "kernels/cpu/softmax_rows.h"
namespace strata::kernels::cpu::detail {
const SoftmaxPrimitives<float>* softmax_primitives_avx2() { return nullptr; }
}  // namespace strata::kernels::cpu::detail
#endif
