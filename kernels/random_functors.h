#pragma once
// Random bits -> values, shared by the CPU kernels (kernels/cpu/random.cpp, dropout.cpp) and the
// CUDA kernels (kernels/cuda/random.cu), so the CPU tests cover the math the GPU runs and both
// devices turn the same Philox block (kernels/philox.h) into the same values:
//   - uniform, bernoulli and the dropout mask use only integer and exactly rounded steps: the same
//     bits on both devices (the products and sums go through mul_rn / add_rn, which nvcc may not
//     fuse, kernels/rounded_math.h);
//   - normal (Box-Muller in double) calls log, sqrt, cos and sin, whose last bit may differ
//     between glibc and CUDA's libdevice: the values agree to f64 rounding (and so, nearly always,
//     exactly once stored in f32).
// What needs a loop over candidates (the largest value of T below `high`) is computed once on the
// host and handed to the per-element code.
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "kernels/philox.h"
#include "kernels/random.h"
#include "kernels/rounded_math.h"
#include "tensor/dtype.h"
#include "tensor/half.h"
#include "tensor/macros.h"

namespace strata::kernels {

// Random bits per uniform draw: no more than the stored type can hold below 1.
template <class T>
STRATA_HD_INLINE constexpr int uniform_bits() {
  if constexpr (std::is_same_v<T, Half>) return 11;
  if constexpr (std::is_same_v<T, BFloat16>) return 8;
  return 24;
}

// The four values of one Philox block `r`, before the per-dtype store: uniform in [a, b) on the
// grid of `bits` random bits, mean a / std b normals (Box-Muller on the lane pairs, u1 in (0, 1]
// so log never sees 0), or bernoulli's raw uniforms in [0, 1) (compared with p by the store).
STRATA_HD_INLINE void philox_values(Distribution dist, const Philox4& r, int bits, double a, double b, double v[4]) {
  if (dist == Distribution::Normal) {
    constexpr double kTwoPi = 2.0 * 3.14159265358979323846;
    for (int pair = 0; pair < 2; ++pair) {
      const double u1 = 1.0 - static_cast<double>(uint_to_unit_float(r.v[2 * pair]));
      const double u2 = static_cast<double>(uint_to_unit_float(r.v[2 * pair + 1]));
      const double rad = sqrt(mul_rn(-2.0, log(u1)));
      const double angle = mul_rn(kTwoPi, u2);
      const double scaled = mul_rn(b, rad);
      v[2 * pair] = add_rn(a, mul_rn(scaled, cos(angle)));
      v[2 * pair + 1] = add_rn(a, mul_rn(scaled, sin(angle)));
    }
  } else if (dist == Distribution::Uniform) {
    for (int k = 0; k < 4; ++k) v[k] = add_rn(a, mul_rn(b - a, static_cast<double>(uint_to_unit_grid(r.v[k], bits))));
  } else {
    for (int k = 0; k < 4; ++k) v[k] = static_cast<double>(uint_to_unit_float(r.v[k]));
  }
}

// The largest value of T strictly below `bound` (host only: it searches). Where a uniform draw
// low + (high - low) * u rounds up to high in T, the store puts this instead, so that uniform_
// stays within [low, high).
template <class T>
T largest_below(double bound) {
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
    T t = static_cast<T>(bound);
    while (static_cast<double>(t) >= bound) t = std::nextafter(t, -std::numeric_limits<T>::infinity());
    return t;
  } else if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) {
    T t = T(static_cast<float>(bound));
    while (static_cast<double>(static_cast<float>(t)) >= bound) {
      const bool negative = (t.bits & 0x8000u) != 0;
      const bool zero = (t.bits & 0x7fffu) == 0;
      t = T::from_bits(zero ? 0x8001 : static_cast<uint16_t>(negative ? t.bits + 1 : t.bits - 1));
    }
    return t;
  } else {
    return T{};
  }
}

// What the store of a draw needs besides the value: the distribution, the uniform's upper bound
// and the value that replaces a draw rounded up to it (`below`, used when clamp_high).
template <class T>
struct DrawStore {
  Distribution dist;
  double high;
  bool clamp_high;  // uniform with high > low
  T below;
};

template <class T>
DrawStore<T> make_draw_store(Distribution dist, double low, double high) {
  const bool clamp = dist == Distribution::Uniform && high > low;
  return {dist, high, clamp, clamp ? largest_below<T>(high) : T{}};
}

// Element value x (philox_values) stored as T; bernoulli compares with its probability p.
template <class T>
STRATA_HD_INLINE T store_draw(const DrawStore<T>& s, double x, double p) {
  if (s.dist == Distribution::Bernoulli) x = x < p ? 1.0 : 0.0;
  if constexpr (std::is_same_v<T, bool>) {
    return x != 0.0;
  } else if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) {
    const T o = T(static_cast<float>(x));
    return s.clamp_high && static_cast<float>(o) >= s.high ? s.below : o;
  } else if constexpr (std::is_integral_v<T>) {
    return static_cast<T>(floor(x));
  } else {
    const T o = static_cast<T>(x);
    return s.clamp_high && static_cast<double>(o) >= s.high ? s.below : o;
  }
}

// ---- dropout ------------------------------------------------------------------------------------

// keep <=> uint_to_unit_float(bits) < 1 - p <=> (bits >> 8) < (1 - p) * 2^24 <=> (bits >> 8) <
// ceil((1 - p) * 2^24): the same test in integers (the scaling by 2^24 is exact).
inline uint32_t dropout_threshold(double p) { return static_cast<uint32_t>(std::ceil((1.0 - p) * 16777216.0)); }

// out = keep ? x * scale : 0, with scale = 1 / (1 - p) in T's compute type.
template <class T>
struct DropoutFn {
  uint32_t threshold;
  compute_t<T> scale;
  STRATA_HD_INLINE bool keeps(uint32_t bits) const { return (bits >> 8) < threshold; }
  STRATA_HD_INLINE T operator()(uint32_t bits, compute_t<T> x) const {
    return keeps(bits) ? T(x * scale) : T(compute_t<T>(0));
  }
};

template <class T>
DropoutFn<T> make_dropout_fn(double p) {
  return {dropout_threshold(p), static_cast<compute_t<T>>(1.0 / (1.0 - p))};
}

}  // namespace strata::kernels
