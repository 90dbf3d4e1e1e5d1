// DType rules and the 16-bit float types: the promotion table against PyTorch's for every pair,
// sizes and names, and Half/BFloat16 conversions against known IEEE bit patterns (round to
// nearest even, subnormals, overflow, inf and NaN), plus exhaustive round trips.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "strata.h"
#include "support/expect_error.h"

namespace strata {
namespace {

constexpr DType kAll[] = {DType::F32, DType::F64, DType::F16, DType::BF16,
                          DType::I64, DType::I32, DType::U8,  DType::Bool};

float from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
uint32_t to_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

TEST(DType, PromotionTableMatchesPyTorchForEveryPair) {
  using enum DType;
  // Row/column order: F32 F64 F16 BF16 I64 I32 U8 Bool (torch.promote_types).
  const DType table[8][8] = {
      /*F32 */ {F32, F64, F32, F32, F32, F32, F32, F32},
      /*F64 */ {F64, F64, F64, F64, F64, F64, F64, F64},
      /*F16 */ {F32, F64, F16, F32, F16, F16, F16, F16},
      /*BF16*/ {F32, F64, F32, BF16, BF16, BF16, BF16, BF16},
      /*I64 */ {F32, F64, F16, BF16, I64, I64, I64, I64},
      /*I32 */ {F32, F64, F16, BF16, I64, I32, I32, I32},
      /*U8  */ {F32, F64, F16, BF16, I64, I32, U8, U8},
      /*Bool*/ {F32, F64, F16, BF16, I64, I32, U8, Bool},
  };
  for (int i = 0; i < 8; ++i)
    for (int j = 0; j < 8; ++j)
      EXPECT_EQ(promote_types(kAll[i], kAll[j]), table[i][j]) << dtype_name(kAll[i]) << " with " << dtype_name(kAll[j]);
}

TEST(DType, PromotionIsSymmetric) {
  for (DType a : kAll)
    for (DType b : kAll) EXPECT_EQ(promote_types(a, b), promote_types(b, a));
}

TEST(DType, SizesNamesAndCategories) {
  const int64_t sizes[] = {4, 8, 2, 2, 8, 4, 1, 1};
  const char* names[] = {"f32", "f64", "f16", "bf16", "i64", "i32", "u8", "bool"};
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(dtype_size(kAll[i]), sizes[i]);
    EXPECT_EQ(dtype_name(kAll[i]), names[i]);
    EXPECT_EQ(fmt::format("{}", kAll[i]), names[i]);
    EXPECT_EQ(is_floating(kAll[i]), i < 4);
    EXPECT_EQ(is_integral(kAll[i]), i >= 4 && i < 7);
  }
  EXPECT_EQ(sizeof(Half), 2u);
  EXPECT_EQ(sizeof(BFloat16), 2u);
}

TEST(DType, VisitDtypeGivesTheStoredType) {
  for (DType d : kAll) {
    visit_dtype(d, [&]<class T>() {
      EXPECT_EQ(dtype_of<T>(), d);
      EXPECT_EQ(static_cast<int64_t>(sizeof(T)), dtype_size(d));
    });
  }
}

TEST(DType, VisitFloatingRejectsIntegersNamingTheOp) {
  EXPECT_STRATA_ERROR(visit_floating(DType::I32, "myop", []<class T>() { return 0; }), DTypeError,
                      {"myop", "floating", "i32"});
  EXPECT_EQ(visit_floating(DType::BF16, "myop", []<class T>() { return static_cast<int>(sizeof(T)); }), 2);
}

// ---- Half ----

TEST(Half, KnownBitPatterns) {
  struct Case {
    float value;
    uint16_t bits;
  };
  const Case cases[] = {
      {0.0f, 0x0000},
      {-0.0f, 0x8000},
      {1.0f, 0x3c00},
      {-2.0f, 0xc000},
      {0.5f, 0x3800},
      {0.1f, 0x2e66},
      {65504.0f, 0x7bff},                   // largest finite
      {65519.99f, 0x7bff},                  // below the halfway point to 65536
      {65520.0f, 0x7c00},                   // halfway: rounds to even, which is inf
      {1e6f, 0x7c00},                       // overflow
      {-1e6f, 0xfc00},
      {std::ldexp(1.0f, -14), 0x0400},      // smallest normal
      {std::ldexp(1023.0f, -24), 0x03ff},   // largest subnormal
      {std::ldexp(1.0f, -24), 0x0001},      // smallest subnormal
      {-std::ldexp(1.0f, -24), 0x8001},
      {std::ldexp(1.0f, -25), 0x0000},      // halfway to the smallest subnormal: even is 0
      {std::nextafter(std::ldexp(1.0f, -25), 1.0f), 0x0001},
      {std::ldexp(3.0f, -25), 0x0002},      // 1.5 subnormal units: tie to even 2
      {std::ldexp(5.0f, -25), 0x0002},      // 2.5 units: tie to even 2
      {std::ldexp(2047.0f, -25), 0x0400},   // 1023.5 units: tie rounds up into the normals
      {std::ldexp(1.0f, -26), 0x0000},
      {1.0f + std::ldexp(1.0f, -11), 0x3c00},   // tie between 1 and 1+2^-10: even
      {1.0f + std::ldexp(3.0f, -11), 0x3c02},   // tie between 0x3c01 and 0x3c02: even
      {1.0f + std::ldexp(1.0f, -11) + std::ldexp(1.0f, -20), 0x3c01},  // just above the tie
      {2.0f - std::ldexp(1.0f, -12), 0x4000},   // rounds up, carrying into the exponent
      {std::numeric_limits<float>::infinity(), 0x7c00},
      {-std::numeric_limits<float>::infinity(), 0xfc00},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(Half(c.value).bits, c.bits) << "value " << c.value << " (float bits 0x" << std::hex << to_bits(c.value) << ")";
  }
}

TEST(Half, NaNStaysNaN) {
  for (uint32_t u : {0x7fc00000u, 0x7f800001u, 0xffc00000u, 0x7fffffffu}) {
    const Half h(from_bits(u));
    EXPECT_EQ(h.bits & 0x7c00u, 0x7c00u);
    EXPECT_NE(h.bits & 0x03ffu, 0u) << std::hex << u;
    EXPECT_TRUE(std::isnan(static_cast<float>(h)));
  }
}

TEST(Half, ToFloatOfKnownPatterns) {
  EXPECT_EQ(static_cast<float>(Half::from_bits(0x7bff)), 65504.0f);
  EXPECT_EQ(static_cast<float>(Half::from_bits(0x0001)), std::ldexp(1.0f, -24));
  EXPECT_EQ(static_cast<float>(Half::from_bits(0x83ff)), -std::ldexp(1023.0f, -24));
  EXPECT_EQ(static_cast<float>(Half::from_bits(0x0400)), std::ldexp(1.0f, -14));
  EXPECT_EQ(static_cast<float>(Half::from_bits(0x3555)), 0.333251953125f);
  EXPECT_TRUE(std::isinf(static_cast<float>(Half::from_bits(0xfc00))));
  EXPECT_LT(static_cast<float>(Half::from_bits(0xfc00)), 0.0f);
  EXPECT_TRUE(std::isnan(static_cast<float>(Half::from_bits(0x7e00))));
  EXPECT_TRUE(std::signbit(static_cast<float>(Half::from_bits(0x8000))));
}

TEST(Half, EveryNonNaNPatternRoundTripsThroughFloat) {
  for (uint32_t b = 0; b < 0x10000; ++b) {
    const bool nan = (b & 0x7c00) == 0x7c00 && (b & 0x3ff) != 0;
    if (nan) continue;
    const float f = Half::from_bits(static_cast<uint16_t>(b));
    ASSERT_EQ(Half(f).bits, b) << "pattern 0x" << std::hex << b;
  }
}

TEST(Half, RoundsToTheNearestRepresentable) {
  // For random floats in the half range, the result is one of the two neighbours and the nearer.
  Generator gen(5);
  auto v = (rand({20000}, {.dtype = DType::F64}, &gen) * 140000.0 - 70000.0).to_vector<double>();
  for (double dv : v) {
    const float f = static_cast<float>(dv);
    const Half h(f);
    const float hf = h;
    if (std::isinf(hf)) {
      EXPECT_GE(std::fabs(f), 65520.0f);
      continue;
    }
    const uint16_t up = static_cast<uint16_t>(h.bits + 1), down = static_cast<uint16_t>(h.bits - 1);
    for (uint16_t nb : {up, down}) {
      const float other = Half::from_bits(nb);
      if (std::isnan(other) || std::isinf(other)) continue;
      EXPECT_LE(std::fabs(hf - f), std::fabs(other - f)) << f;
    }
  }
}

// ---- BFloat16 ----

TEST(BFloat16, KnownBitPatterns) {
  struct Case {
    float value;
    uint16_t bits;
  };
  const Case cases[] = {
      {0.0f, 0x0000},
      {-0.0f, 0x8000},
      {1.0f, 0x3f80},
      {-2.0f, 0xc000},
      {0.1f, 0x3dcd},
      {3.140625f, 0x4049},
      {1.0f + std::ldexp(1.0f, -8), 0x3f80},   // tie: even
      {1.0f + std::ldexp(3.0f, -8), 0x3f82},   // tie: even
      {1.0f + std::ldexp(1.0f, -8) + std::ldexp(1.0f, -20), 0x3f81},
      {from_bits(0x7f7f0000u), 0x7f7f},        // largest finite bf16
      {std::numeric_limits<float>::max(), 0x7f80},  // rounds up to inf
      {std::numeric_limits<float>::infinity(), 0x7f80},
      {-std::numeric_limits<float>::infinity(), 0xff80},
      {from_bits(0x00010000u), 0x0001},        // subnormal
      {from_bits(0x000116c2u), 0x0001},
      {from_bits(0x00018000u), 0x0002},        // subnormal tie: even
      {std::numeric_limits<float>::denorm_min(), 0x0000},
  };
  for (const auto& c : cases)
    EXPECT_EQ(BFloat16(c.value).bits, c.bits) << "float bits 0x" << std::hex << to_bits(c.value);
}

TEST(BFloat16, NaNStaysNaNIncludingSignalling) {
  for (uint32_t u : {0x7fc00000u, 0x7f800001u, 0xff800001u, 0x7fffffffu}) {
    const BFloat16 b(from_bits(u));
    EXPECT_EQ(b.bits & 0x7f80u, 0x7f80u);
    EXPECT_NE(b.bits & 0x007fu, 0u) << std::hex << u;
    EXPECT_TRUE(std::isnan(static_cast<float>(b)));
  }
}

TEST(BFloat16, EveryNonNaNPatternRoundTripsThroughFloat) {
  for (uint32_t b = 0; b < 0x10000; ++b) {
    const bool nan = (b & 0x7f80) == 0x7f80 && (b & 0x7f) != 0;
    if (nan) continue;
    const float f = BFloat16::from_bits(static_cast<uint16_t>(b));
    EXPECT_EQ(to_bits(f), b << 16);
    ASSERT_EQ(BFloat16(f).bits, b) << "pattern 0x" << std::hex << b;
  }
}

TEST(DType, TensorConversionsUseTheSameRounding) {
  Tensor x = tensor({1.0f, 65520.0f, 1.0f + std::ldexp(3.0f, -11), std::ldexp(1.0f, -25), -0.1f});
  auto h = x.to(DType::F16).to_vector<Half>();
  EXPECT_EQ(h[0].bits, 0x3c00);
  EXPECT_EQ(h[1].bits, 0x7c00);
  EXPECT_EQ(h[2].bits, 0x3c02);
  EXPECT_EQ(h[3].bits, 0x0000);
  EXPECT_EQ(h[4].bits, Half(-0.1f).bits);
  auto b = x.to(DType::BF16).to_vector<BFloat16>();
  EXPECT_EQ(b[0].bits, 0x3f80);
  EXPECT_EQ(b[4].bits, BFloat16(-0.1f).bits);
}

}  // namespace
}  // namespace strata
