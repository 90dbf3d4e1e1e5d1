#pragma once
// 16-bit floating-point storage types. Arithmetic converts to float, computes, converts back
// (round to nearest even), which is also what the CUDA kernels do for f16/bf16 data.
#include <cstdint>
#include <cstring>

#include "tensor/macros.h"

namespace strata {

namespace detail {
STRATA_HD_INLINE uint32_t float_bits(float f) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(f);
#else
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
#endif
}
STRATA_HD_INLINE float bits_float(uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float f;
  std::memcpy(&f, &u, 4);
  return f;
#endif
}
}  // namespace detail

// bfloat16: the top 16 bits of an IEEE float.
struct BFloat16 {
  uint16_t bits = 0;
  BFloat16() = default;
  STRATA_HD BFloat16(float f) {  // NOLINT: implicit like a built-in float type
    uint32_t u = detail::float_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) {
      bits = static_cast<uint16_t>((u >> 16) | 0x40);  // quiet NaN
    } else {
      u += 0x7fffu + ((u >> 16) & 1u);  // round to nearest even
      bits = static_cast<uint16_t>(u >> 16);
    }
  }
  STRATA_HD operator float() const { return detail::bits_float(static_cast<uint32_t>(bits) << 16); }
  static STRATA_HD BFloat16 from_bits(uint16_t b) {
    BFloat16 h;
    h.bits = b;
    return h;
  }
};

// IEEE binary16.
struct Half {
  uint16_t bits = 0;
  Half() = default;
  STRATA_HD Half(float f) { bits = from_float(f); }  // NOLINT
  STRATA_HD operator float() const { return to_float(bits); }
  static STRATA_HD Half from_bits(uint16_t b) {
    Half h;
    h.bits = b;
    return h;
  }

  static STRATA_HD uint16_t from_float(float f) {
    const uint32_t u = detail::float_bits(f);
    const uint32_t sign = (u >> 16) & 0x8000u;
    const uint32_t abs = u & 0x7fffffffu;
    if (abs > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u);      // NaN
    if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);     // overflow -> inf
    if (abs < 0x38800000u) {                                                   // subnormal or zero
      if (abs < 0x33000000u) return static_cast<uint16_t>(sign);               // rounds to zero
      const uint32_t exp = abs >> 23;
      const uint32_t mant = (abs & 0x7fffffu) | 0x800000u;
      const uint32_t shift = 126 - exp;  // 14..24
      uint32_t half = mant >> shift;
      const uint32_t rem = mant & ((1u << shift) - 1);
      const uint32_t halfway = 1u << (shift - 1);
      if (rem > halfway || (rem == halfway && (half & 1u))) ++half;
      return static_cast<uint16_t>(sign | half);
    }
    uint32_t r = abs - 0x38000000u;  // rebias exponent 127 -> 15
    r += 0xfffu + ((r >> 13) & 1u);  // round to nearest even
    return static_cast<uint16_t>(sign | (r >> 13));
  }
  static STRATA_HD float to_float(uint16_t h) {
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    const uint32_t exp = (h >> 10) & 0x1fu;
    const uint32_t mant = h & 0x3ffu;
    if (exp == 0) {
      if (mant == 0) return detail::bits_float(sign);
      // subnormal: value = mant * 2^-24
      float v = static_cast<float>(mant) * 5.9604644775390625e-8f;
      return sign ? -v : v;
    }
    if (exp == 31) return detail::bits_float(sign | 0x7f800000u | (mant << 13));
    return detail::bits_float(sign | ((exp + 112) << 23) | (mant << 13));
  }
};

}  // namespace strata
