#pragma once
// exp for f32 that the compiler can vectorize (glibc's expf is a call per element, so a loop over
// std::exp stays scalar). Cody-Waite range reduction and the Cephes polynomial, written for this
// project:
//
//   x = n ln2 + r,  n = round(x / ln2),  |r| <= ln2 / 2
//   exp(r) ~ 1 + r + r^2 P(r)         (P of degree 5, relative error ~1e-7, evaluated in
//                                      Estrin's form: shorter dependency chains than Horner's)
//   exp(x) = exp(r) * 2^(n/2) * 2^(n - n/2)   (two factors keep both exponents normal, so
//                                              results near FLT_MAX and subnormal results work)
//
// ln2 is split in two (C1 has 9 significant bits, so n * C1 and x - n * C1 are exact without an
// FMA). The input is clamped to [-104.5, 89], where the formula itself already gives 0 and inf,
// so no select is needed on the result. Accuracy: within 1 ulp of std::exp over the whole f32
// range, with or without FMA contraction (tests/kernels/test_fast_exp.cpp checks every float in
// wide intervals, the promise is 2 ulp); exp(+-inf) and NaN behave like std::exp. Branch-free
// selects, so the loop body vectorizes at -O3 (with -fno-trapping-math).
#include <cstdint>
#include <cstring>

namespace strata::kernels {

[[gnu::always_inline]] inline float exp_f32(float x) {
  constexpr float kHi = 89.0f;     // exp(x) overflows to inf well before this
  constexpr float kLo = -104.5f;   // exp(x) rounds to 0 well after this
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kC1 = 0.693359375f;
  constexpr float kC2 = -2.12194440e-4f;
  constexpr float kRound = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer (to even)

  // NaN fails both comparisons and passes through unchanged.
  float xc = x < kLo ? kLo : x;
  xc = xc > kHi ? kHi : xc;
  const float n = (xc * kLog2e + kRound) - kRound;
  const float r = (xc - n * kC1) - n * kC2;
  const float r2 = r * r;
  const float p01 = 5.0000001201e-1f + 1.6666665459e-1f * r;
  const float p23 = 4.1665795894e-2f + 8.3334519073e-3f * r;
  const float p45 = 1.3981999507e-3f + 1.9875691500e-4f * r;
  const float p = p01 + r2 * (p23 + r2 * p45);
  const float e = p * r2 + r + 1.0f;

  const int32_t ni = static_cast<int32_t>(n);
  const int32_t n1 = ni >> 1, n2 = ni - n1;
  const int32_t b1 = (n1 + 127) << 23, b2 = (n2 + 127) << 23;
  float s1, s2;
  std::memcpy(&s1, &b1, sizeof s1);
  std::memcpy(&s2, &b2, sizeof s2);
  return (e * s1) * s2;
}

}  // namespace strata::kernels
