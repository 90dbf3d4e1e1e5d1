// Tests for the vectorizable f32 exp (kernels/fast_exp.h) that strata::exp uses for f32, f16 and
// bf16 on the CPU. The promise is "within 2 ulp of std::exp", checked through strata::exp itself
// (so the vectorized loop is what is tested) on:
//   - every float in [1, 2) and [-2, -1): every mantissa once, so every residual of the range
//     reduction at two exponents;
//   - every float in [64, 89.5] and [-105, -64]: overflow, the largest finite results, the
//     subnormal results, the underflow to 0 and both clamps of the input;
//   - every 4099th float of the whole line (all exponents, both signs, subnormal inputs);
// and the special values (inf, -inf, NaN, +-0) exactly.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "kernels/fast_exp.h"
#include "strata.h"

namespace strata {
namespace {

float from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// Position of a float on a line where neighbouring floats are 1 apart (-0 and +0 coincide).
int64_t ordinal(float f) {
  int32_t i;
  std::memcpy(&i, &f, sizeof i);
  return i < 0 ? int64_t{INT32_MIN} - i : int64_t{i};
}

// Largest ulp distance between strata::exp and std::exp over `xs`; `where` gets the worst input.
int64_t worst_ulp(const std::vector<float>& xs, float* where) {
  Tensor in = empty({static_cast<int64_t>(xs.size())});
  std::memcpy(in.data<float>(), xs.data(), xs.size() * sizeof(float));
  Tensor out = exp(in);
  const float* y = out.data<float>();
  int64_t worst = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const float want = std::exp(xs[i]);
    const int64_t d = std::llabs(ordinal(y[i]) - ordinal(want));
    if (d > worst) {
      worst = d;
      *where = xs[i];
    }
  }
  return worst;
}

// Every float with bit pattern in [lo, hi), in chunks.
void expect_all_within_2ulp(uint32_t lo, uint32_t hi) {
  constexpr uint32_t kChunk = 1 << 22;
  std::vector<float> xs;
  for (uint32_t start = lo; start < hi; start += std::min(kChunk, hi - start)) {
    const uint32_t end = start + std::min(kChunk, hi - start);
    xs.clear();
    for (uint32_t b = start; b < end; ++b) xs.push_back(from_bits(b));
    float where = 0;
    const int64_t worst = worst_ulp(xs, &where);
    ASSERT_LE(worst, 2) << "exp(" << where << ") is " << worst << " ulp from std::exp";
  }
}

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

TEST(FastExp, EveryMantissaWithinTwoUlp) {
  expect_all_within_2ulp(bits(1.0f), bits(2.0f));
  expect_all_within_2ulp(bits(-1.0f), bits(-2.0f));  // negative floats grow in bits with magnitude
}

TEST(FastExp, OverflowLargestFiniteAndSubnormalResultsWithinTwoUlp) {
  expect_all_within_2ulp(bits(64.0f), bits(89.5f) + 1);
  expect_all_within_2ulp(bits(-64.0f), bits(-105.0f) + 1);
}

TEST(FastExp, SampledWholeLineWithinTwoUlp) {
  std::vector<float> xs;
  for (uint64_t b = 0; b < (uint64_t{1} << 32); b += 4099) {
    const float x = from_bits(static_cast<uint32_t>(b));
    if (!std::isnan(x)) xs.push_back(x);
  }
  float where = 0;
  EXPECT_LE(worst_ulp(xs, &where), 2) << "worst at exp(" << where << ")";
}

TEST(FastExp, SpecialValuesMatchStdExp) {
  const float inf = std::numeric_limits<float>::infinity();
  Tensor y = exp(tensor({inf, -inf, 0.0f, -0.0f, 89.0f, -104.0f, std::nanf(""), 1e30f, -1e30f}));
  const std::vector<float> v = y.to_vector<float>();
  EXPECT_EQ(v[0], inf);
  EXPECT_EQ(v[1], 0.0f);
  EXPECT_EQ(v[2], 1.0f);
  EXPECT_EQ(v[3], 1.0f);
  EXPECT_EQ(v[4], inf);
  EXPECT_EQ(v[5], 0.0f);
  EXPECT_TRUE(std::isnan(v[6]));
  EXPECT_EQ(v[7], inf);
  EXPECT_EQ(v[8], 0.0f);
}

TEST(FastExp, ScalarFunctionAgreesWithTheKernel) {
  // exp_f32 is also what a scalar (non-vectorized, here non-FMA) call gives: within 1 ulp of the
  // tensor op, whose loop an FMA clone may contract; and within 2 ulp of std::exp itself.
  std::vector<float> xs = {-87.5f, -3.25f, -1e-3f, 1e-7f, 0.5f, 10.0f, 88.5f};
  for (float x = -104.0f; x < 89.0f; x += 0.37f) xs.push_back(x);
  const std::vector<float> y = exp(tensor(std::vector<float>(xs))).to_vector<float>();
  for (size_t i = 0; i < xs.size(); ++i) {
    EXPECT_LE(std::llabs(ordinal(kernels::exp_f32(xs[i])) - ordinal(y[i])), 1) << xs[i];
    EXPECT_LE(std::llabs(ordinal(kernels::exp_f32(xs[i])) - ordinal(std::exp(xs[i]))), 2) << xs[i];
  }
}

TEST(FastExp, HalfPrecisionUsesTheSameExp) {
  Tensor x = tensor({-2.0f, 0.0f, 1.5f});
  const std::vector<float> h = exp(x.to(DType::F16)).to_vector<float>();
  for (size_t i = 0; i < h.size(); ++i) {
    const float want = static_cast<float>(Half(std::exp(x.to_vector<float>()[i])));
    EXPECT_EQ(h[i], want);
  }
}

}  // namespace
}  // namespace strata
