// Unary elementwise ops against std:: math, in f64 and f32, on contiguous and strided inputs;
// result dtypes for integer inputs; bool inputs rejected; f16/bf16 within their precision;
// special values (NaN, inf, -0, rounding ties).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "strata.h"
#include "support/expect_error.h"

namespace strata {
namespace {

using UnaryFn = Tensor (*)(const Tensor&);

double ref_sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
double ref_softplus(double x) { return std::log1p(std::exp(x)); }

struct UnaryCase {
  const char* name;
  UnaryFn fn;
  double (*ref)(double);
  double low, high;  // input domain
};

const UnaryCase kUnary[] = {
    {"neg", [](const Tensor& x) { return neg(x); }, [](double x) { return -x; }, -3, 3},
    {"abs", [](const Tensor& x) { return abs(x); }, [](double x) { return std::fabs(x); }, -3, 3},
    {"exp", [](const Tensor& x) { return exp(x); }, [](double x) { return std::exp(x); }, -5, 5},
    {"log", [](const Tensor& x) { return log(x); }, [](double x) { return std::log(x); }, 0.01, 10},
    {"log1p", [](const Tensor& x) { return log1p(x); }, [](double x) { return std::log1p(x); }, -0.9, 5},
    {"expm1", [](const Tensor& x) { return expm1(x); }, [](double x) { return std::expm1(x); }, -3, 3},
    {"sqrt", [](const Tensor& x) { return sqrt(x); }, [](double x) { return std::sqrt(x); }, 0, 10},
    {"rsqrt", [](const Tensor& x) { return rsqrt(x); }, [](double x) { return 1.0 / std::sqrt(x); }, 0.01, 10},
    {"square", [](const Tensor& x) { return square(x); }, [](double x) { return x * x; }, -3, 3},
    {"reciprocal", [](const Tensor& x) { return reciprocal(x); }, [](double x) { return 1.0 / x; }, 0.1, 5},
    {"erf", [](const Tensor& x) { return erf(x); }, [](double x) { return std::erf(x); }, -3, 3},
    {"sin", [](const Tensor& x) { return sin(x); }, [](double x) { return std::sin(x); }, -6, 6},
    {"cos", [](const Tensor& x) { return cos(x); }, [](double x) { return std::cos(x); }, -6, 6},
    {"tanh", [](const Tensor& x) { return tanh(x); }, [](double x) { return std::tanh(x); }, -5, 5},
    {"sigmoid", [](const Tensor& x) { return sigmoid(x); }, ref_sigmoid, -10, 10},
    {"relu", [](const Tensor& x) { return relu(x); }, [](double x) { return x > 0 ? x : 0.0; }, -3, 3},
    {"gelu", [](const Tensor& x) { return gelu(x); },
     [](double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); }, -4, 4},
    {"silu", [](const Tensor& x) { return silu(x); }, [](double x) { return x * ref_sigmoid(x); }, -6, 6},
    {"softplus", [](const Tensor& x) { return softplus(x); }, ref_softplus, -10, 10},
    {"mish", [](const Tensor& x) { return mish(x); }, [](double x) { return x * std::tanh(ref_softplus(x)); }, -5, 5},
    {"sign", [](const Tensor& x) { return sign(x); }, [](double x) { return double((x > 0) - (x < 0)); }, -3, 3},
    {"floor", [](const Tensor& x) { return floor(x); }, [](double x) { return std::floor(x); }, -3, 3},
    {"ceil", [](const Tensor& x) { return ceil(x); }, [](double x) { return std::ceil(x); }, -3, 3},
    {"round", [](const Tensor& x) { return round(x); }, [](double x) { return std::nearbyint(x); }, -3, 3},
    {"leaky_relu", [](const Tensor& x) { return leaky_relu(x, 0.2); }, [](double x) { return x > 0 ? x : 0.2 * x; }, -3, 3},
    {"clamp", [](const Tensor& x) { return clamp(x, -0.5, 1.25); }, [](double x) { return std::min(std::max(x, -0.5), 1.25); }, -3, 3},
    {"pow_scalar", [](const Tensor& x) { return pow(x, 2.5); }, [](double x) { return std::pow(x, 2.5); }, 0, 3},
    {"pow_scalar_neg", [](const Tensor& x) { return pow(x, -1.5); }, [](double x) { return std::pow(x, -1.5); }, 0.1, 3},
    {"rpow_scalar", [](const Tensor& x) { return pow(1.7, x); }, [](double x) { return std::pow(1.7, x); }, -3, 3},
    {"sigmoid_range", [](const Tensor& x) { return sigmoid_range(x, -1.0, 5.0); },
     [](double x) { return ref_sigmoid(x) * 6.0 - 1.0; }, -5, 5},
};

std::vector<double> sample_values(double low, double high, int n) {
  Generator gen(17);
  return (rand({n}, {.dtype = DType::F64}, &gen) * (high - low) + low).to_vector<double>();
}

class UnaryVsStd : public ::testing::TestWithParam<UnaryCase> {};

TEST_P(UnaryVsStd, F64MatchesStdMath) {
  const auto& c = GetParam();
  auto xs = sample_values(c.low, c.high, 257);
  Tensor x = tensor<double>(xs);
  Tensor y = c.fn(x);
  EXPECT_EQ(y.dtype(), DType::F64);
  EXPECT_EQ(y.shape(), x.shape());
  auto ys = y.to_vector<double>();
  for (size_t i = 0; i < xs.size(); ++i) {
    const double want = c.ref(xs[i]);
    EXPECT_NEAR(ys[i], want, 1e-14 + 1e-13 * std::fabs(want)) << c.name << "(" << xs[i] << ")";
  }
}

TEST_P(UnaryVsStd, F32MatchesStdMath) {
  const auto& c = GetParam();
  auto xs = sample_values(c.low, c.high, 257);
  std::vector<float> xf(xs.begin(), xs.end());
  Tensor y = c.fn(tensor<float>(xf));
  EXPECT_EQ(y.dtype(), DType::F32);
  auto ys = y.to_vector<float>();
  for (size_t i = 0; i < xf.size(); ++i) {
    const double want = c.ref(static_cast<double>(xf[i]));
    EXPECT_NEAR(ys[i], want, 1e-6 + 2e-6 * std::fabs(want)) << c.name << "(" << xf[i] << ")";
  }
}

TEST_P(UnaryVsStd, NonContiguousInputMatchesContiguous) {
  const auto& c = GetParam();
  auto xs = sample_values(c.low, c.high, 60);
  Tensor base = tensor<double>(xs, {6, 10});
  Tensor strided = base.t().slice(0, 1, 10, 2);  // [5, 6], strides [2, 10]
  ASSERT_FALSE(strided.is_contiguous());
  Tensor y = c.fn(strided);
  EXPECT_EQ(y.shape(), (Shape{5, 6}));
  EXPECT_EQ(y.to_vector<double>(), c.fn(strided.contiguous()).to_vector<double>()) << c.name;
  auto sx = strided.to_vector<double>();
  auto ys = y.to_vector<double>();
  for (size_t i = 0; i < sx.size(); ++i) EXPECT_NEAR(ys[i], c.ref(sx[i]), 1e-13 * (1 + std::fabs(ys[i]))) << c.name;
}

TEST_P(UnaryVsStd, HalfPrecisionWithinTolerance) {
  const auto& c = GetParam();
  auto xs = sample_values(c.low, c.high, 101);
  std::vector<float> xf(xs.begin(), xs.end());
  Tensor x32 = tensor<float>(xf);
  for (DType d : {DType::F16, DType::BF16}) {
    Tensor xh = x32.to(d);
    Tensor y = c.fn(xh);
    EXPECT_EQ(y.dtype(), d);
    // Reference: the op in f64 on the already-rounded inputs. A single op rounds once (half an
    // ulp); the composite sigmoid_range rounds three times, hence the margin.
    auto ref = c.fn(xh.to(DType::F64)).to_vector<double>();
    auto got = y.to_vector<double>();
    const double eps = d == DType::F16 ? 1.0 / 1024 : 1.0 / 128;
    for (size_t i = 0; i < got.size(); ++i)
      EXPECT_NEAR(got[i], ref[i], eps * (std::fabs(ref[i]) + 1.0)) << c.name << " " << dtype_name(d) << " at " << i;
  }
}

TEST_P(UnaryVsStd, EmptyAndZeroDim) {
  const auto& c = GetParam();
  Tensor e = c.fn(zeros({0, 3}, {.dtype = DType::F64}));
  EXPECT_EQ(e.shape(), (Shape{0, 3}));
  const double v = (c.low + c.high) / 2 + 0.123;
  Tensor s = c.fn(scalar_tensor(v, {.dtype = DType::F64}));
  EXPECT_EQ(s.dim(), 0);
  EXPECT_NEAR(s.item(), c.ref(v), 1e-13 * (1 + std::fabs(c.ref(v))));
}

INSTANTIATE_TEST_SUITE_P(AllUnary, UnaryVsStd, ::testing::ValuesIn(kUnary),
                         [](const ::testing::TestParamInfo<UnaryCase>& info) { return std::string(info.param.name); });

TEST(Unary, IntegerInputsComputeInF32) {
  Tensor i = tensor<int64_t>({0, 1, 2});
  Tensor e = exp(i);
  EXPECT_EQ(e.dtype(), DType::F32);
  EXPECT_NEAR(e.to_vector<float>()[2], std::exp(2.0f), 1e-6);
  EXPECT_EQ(sqrt(tensor<int32_t>({4, 9})).to_vector<float>(), (std::vector<float>{2, 3}));
  EXPECT_EQ(sigmoid(tensor<uint8_t>({0})).dtype(), DType::F32);
}

TEST(Unary, IntegerPreservingOps) {
  Tensor i = tensor<int32_t>({-3, 0, 5});
  for (auto [name, fn] : std::vector<std::pair<const char*, UnaryFn>>{
           {"abs", [](const Tensor& x) { return abs(x); }},
           {"neg", [](const Tensor& x) { return neg(x); }},
           {"square", [](const Tensor& x) { return square(x); }},
           {"sign", [](const Tensor& x) { return sign(x); }},
           {"relu", [](const Tensor& x) { return relu(x); }},
           {"floor", [](const Tensor& x) { return floor(x); }},
           {"round", [](const Tensor& x) { return round(x); }}}) {
    EXPECT_EQ(fn(i).dtype(), DType::I32) << name;
  }
  EXPECT_EQ(abs(i).to_vector<int32_t>(), (std::vector<int32_t>{3, 0, 5}));
  EXPECT_EQ(neg(i).to_vector<int32_t>(), (std::vector<int32_t>{3, 0, -5}));
  EXPECT_EQ(square(i).to_vector<int32_t>(), (std::vector<int32_t>{9, 0, 25}));
  EXPECT_EQ(sign(i).to_vector<int32_t>(), (std::vector<int32_t>{-1, 0, 1}));
  EXPECT_EQ(relu(i).to_vector<int32_t>(), (std::vector<int32_t>{0, 0, 5}));
  EXPECT_EQ(clamp(i, -1, 2).to_vector<int32_t>(), (std::vector<int32_t>{-1, 0, 2}));
  EXPECT_EQ(clamp(i, -1, 2).dtype(), DType::I32);
  EXPECT_EQ(abs(tensor<int64_t>({-7})).dtype(), DType::I64);
}

TEST(Unary, BoolInputsAreRejected) {
  Tensor b = tensor<bool>({true, false});
  EXPECT_STRATA_ERROR(exp(b), DTypeError, {"exp", "bool"});
  EXPECT_STRATA_ERROR(neg(b), DTypeError, {"neg", "bool"});
  EXPECT_STRATA_ERROR(abs(b), DTypeError, {"abs", "bool"});
  EXPECT_STRATA_ERROR(clamp(b, 0.0, 1.0), DTypeError, {"clamp", "bool"});
  EXPECT_STRATA_ERROR(exp(Tensor()), ValueError, {"exp", "undefined"});
}

TEST(Unary, SpecialValues) {
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  Tensor x = tensor<double>({-inf, -0.0, 0.0, inf, nan});
  auto e = exp(x).to_vector<double>();
  EXPECT_EQ(e[0], 0.0);
  EXPECT_EQ(e[3], inf);
  EXPECT_TRUE(std::isnan(e[4]));
  auto s = sigmoid(x).to_vector<double>();
  EXPECT_EQ(s[0], 0.0);
  EXPECT_EQ(s[1], 0.5);
  EXPECT_EQ(s[3], 1.0);
  EXPECT_TRUE(std::isnan(s[4]));
  auto a = abs(x).to_vector<double>();
  EXPECT_FALSE(std::signbit(a[1])) << "abs(-0) is +0";
  EXPECT_TRUE(std::isnan(a[4]));
  EXPECT_TRUE(std::isnan(relu(x).to_vector<double>()[4]));
  EXPECT_TRUE(std::isnan(clamp(x, -1.0, 1.0).to_vector<double>()[4])) << "clamp propagates NaN";
  EXPECT_EQ(log(tensor<double>({0.0})).item(), -inf);
  EXPECT_TRUE(std::isnan(log(tensor<double>({-1.0})).item()));
  EXPECT_TRUE(std::isnan(sqrt(tensor<double>({-1.0})).item()));
  EXPECT_EQ(reciprocal(tensor<double>({0.0})).item(), inf);
  // Large inputs stay finite where the math is finite.
  EXPECT_EQ(sigmoid(tensor<float>({-200.0f, 200.0f})).to_vector<float>(), (std::vector<float>{0.0f, 1.0f}));
  EXPECT_EQ(softplus(tensor<float>({100.0f})).item(), 100.0);
  EXPECT_NEAR(softplus(tensor<float>({-100.0f})).item(), 0.0, 1e-40);
  EXPECT_EQ(silu(tensor<float>({-200.0f})).item(), 0.0);
  EXPECT_NEAR(mish(tensor<float>({50.0f})).item(), 50.0, 1e-5);
}

TEST(Unary, RoundHalfToEven) {
  auto r = round(tensor<double>({0.5, 1.5, 2.5, -0.5, -1.5, 2.4999, -2.6})).to_vector<double>();
  EXPECT_EQ(r, (std::vector<double>{0, 2, 2, -0, -2, 2, -3}));
  EXPECT_EQ(floor(tensor<float>({-0.5f, 1.5f})).to_vector<float>(), (std::vector<float>{-1, 1}));
  EXPECT_EQ(ceil(tensor<float>({-0.5f, 1.5f})).to_vector<float>(), (std::vector<float>{-0.0f, 2}));
}

TEST(Clamp, OnlyMinOrOnlyMax) {
  Tensor x = tensor({-2.0f, -0.5f, 0.5f, 2.0f});
  EXPECT_EQ(clamp(x, -1.0, std::nullopt).to_vector<float>(), (std::vector<float>{-1, -0.5f, 0.5f, 2}));
  EXPECT_EQ(clamp(x, std::nullopt, 1.0).to_vector<float>(), (std::vector<float>{-2, -0.5f, 0.5f, 1}));
  EXPECT_EQ(clamp_min(x, 0.0).to_vector<float>(), (std::vector<float>{0, 0, 0.5f, 2}));
  EXPECT_EQ(clamp_max(x, 0.0).to_vector<float>(), (std::vector<float>{-2, -0.5f, 0, 0}));
  EXPECT_EQ(clamp(x, std::nullopt, std::nullopt).to_vector<float>(), x.to_vector<float>());
  EXPECT_EQ(clamp(x, 0.5, 0.5).to_vector<float>(), std::vector<float>(4, 0.5f));
  EXPECT_STRATA_ERROR(clamp(x, 1.0, -1.0), ValueError, {"clamp", "min 1", "max -1"});
}

TEST(Pow, ScalarExponentsAndBases) {
  Tensor x = tensor<double>({1.0, 2.0, 3.0});
  EXPECT_EQ(pow(x, 2.0).to_vector<double>(), (std::vector<double>{1, 4, 9}));
  EXPECT_EQ(pow(x, 1.0).to_vector<double>(), (std::vector<double>{1, 2, 3}));
  EXPECT_FALSE(pow(x, 1.0).shares_storage(x));
  EXPECT_EQ(pow(x, 0.0).to_vector<double>(), (std::vector<double>{1, 1, 1}));
  EXPECT_EQ(pow(x, 3.0).to_vector<double>(), (std::vector<double>{1, 8, 27}));
  EXPECT_EQ(pow(2.0, x).to_vector<double>(), (std::vector<double>{2, 4, 8}));
  Tensor i = tensor<int64_t>({2, 3});
  EXPECT_EQ(pow(i, 2.0).dtype(), DType::I64);
  EXPECT_EQ(pow(i, 2.0).to_vector<int64_t>(), (std::vector<int64_t>{4, 9}));
  EXPECT_EQ(pow(i, 0.5).dtype(), DType::F32);
}

}  // namespace
}  // namespace strata
