#pragma once
// exp for f32 that the compiler can vectorize (glibc's expf is a call per element, so a loop over
// std::exp stays scalar). Cody-Waite range reduction and the Cephes polynomial, written for this
// project:
//
//   x = n ln2 + r,  n = round(x / ln2),  |r| <= ln2 / 2
//   exp(r) ~ 1 + r + r^2 P(r)         (P of degree 5, relative error ~1e-7)
//   exp(x) = exp(r) * 2^(n/2) * 2^(n - n/2)   (two factors keep both exponents normal, so
//                                              results near FLT_MAX and subnormal results work)
//
// ln2 is split in two (C1 has 9 significant bits, so n * C1 and x - n * C1 are exact without an
// FMA). Accuracy: within 2 ulp of std::exp over the whole f32 range (tests/kernels/
// test_fast_exp.cpp checks every float in a wide interval); exp(+-inf) and NaN behave like
// std::exp. Branch-free selects, so the loop body vectorizes at -O3 with plain SSE2.
#include <cstdint>
#include <cstring>

namespace strata::kernels {

[[gnu::always_inline]] inline float exp_f32(float x) {
  constexpr float kHi = 88.72283935546875f;   // exp(x) overflows above this
  constexpr float kLo = -103.972084045410156f;  // exp(x) rounds to 0 below this
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kC1 = 0.693359375f;
  constexpr float kC2 = -2.12194440e-4f;
  constexpr float kRound = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer (to even)

  // Both comparisons always run (no nested condition), so the compiler can turn every select
  // into a blend. NaN passes through unchanged.
  const bool below = x < kLo, above = x > kHi;
  float xc = below ? kLo : x;
  xc = above ? kHi : xc;
  const float n = (xc * kLog2e + kRound) - kRound;
  const float r = (xc - n * kC1) - n * kC2;
  const float z = r * r;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float e = p * z + r + 1.0f;

  const int32_t ni = static_cast<int32_t>(n);
  const int32_t n1 = ni >> 1, n2 = ni - n1;
  const int32_t b1 = (n1 + 127) << 23, b2 = (n2 + 127) << 23;
  float s1, s2;
  std::memcpy(&s1, &b1, sizeof s1);
  std::memcpy(&s2, &b2, sizeof s2);
  float y = (e * s1) * s2;
  y = above ? __builtin_inff() : y;
  y = below ? 0.0f : y;
  return y;
}

}  // namespace strata::kernels
