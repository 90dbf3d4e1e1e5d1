// Binary elementwise ops: values with broadcasting, PyTorch's type promotion (tensor-tensor and
// tensor-scalar), comparisons and logic, where, lerp, maximum/minimum NaN propagation,
// non-contiguous/empty/0-d operands, f16/bf16 accuracy, thread-count independence, errors.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "strata.h"
#include "support/expect_error.h"

namespace strata {
namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

std::vector<double> dv(const Tensor& t) { return t.to_vector<double>(); }

TEST(Binary, BroadcastColumnByRow) {
  Tensor a = tensor<double>({1, 2, 3}, {3, 1});
  Tensor b = tensor<double>({10, 20, 30, 40}, {1, 4});
  Tensor s = a + b;
  EXPECT_EQ(s.shape(), (Shape{3, 4}));
  EXPECT_EQ(dv(s), (std::vector<double>{11, 21, 31, 41, 12, 22, 32, 42, 13, 23, 33, 43}));
  EXPECT_EQ(dv(b - a), (std::vector<double>{9, 19, 29, 39, 8, 18, 28, 38, 7, 17, 27, 37}));
  EXPECT_EQ(dv(a * b).back(), 120);
  EXPECT_EQ(dv(b / a)[4], 5);
  EXPECT_EQ(dv(pow(a, tensor<double>({2}))), (std::vector<double>{1, 4, 9}));
}

TEST(Binary, BroadcastLeadingDimsAndZeroDim) {
  Tensor a = arange(0.0, 6.0, 1.0, {.dtype = DType::F32}).reshape({2, 3});
  Tensor row = tensor({100.0f, 200.0f, 300.0f});
  EXPECT_EQ((a + row).to_vector<float>(), (std::vector<float>{100, 201, 302, 103, 204, 305}));
  Tensor s = scalar_tensor(2.0);
  EXPECT_EQ((a * s).shape(), (Shape{2, 3}));
  EXPECT_EQ((s * a).to_vector<float>(), (std::vector<float>{0, 2, 4, 6, 8, 10}));
  Tensor z = scalar_tensor(3.0) - scalar_tensor(1.0);
  EXPECT_EQ(z.dim(), 0);
  EXPECT_EQ(z.item(), 2.0);
  Tensor big = zeros({2, 1, 3}) + tensor({1.0f, 2.0f}, {2, 1});
  EXPECT_EQ(big.shape(), (Shape{2, 2, 3}));
}

TEST(Binary, EmptyOperands) {
  Tensor e = zeros({0, 3}) + tensor({1.0f, 2.0f, 3.0f});
  EXPECT_EQ(e.shape(), (Shape{0, 3}));
  EXPECT_EQ((zeros({2, 0}) * zeros({1, 0})).shape(), (Shape{2, 0}));
  EXPECT_EQ((zeros({0}) + 1.0).shape(), Shape{0});
  EXPECT_EQ(lt(zeros({0}), zeros({1})).dtype(), DType::Bool);
}

TEST(Binary, NonContiguousOperands) {
  Tensor base = arange(0.0, 24.0, 1.0, {.dtype = DType::F64}).reshape({4, 6});
  Tensor a = base.t();                   // [6, 4], strides [1, 6]
  Tensor b = base.slice(1, 0, 6, 2).t();  // [3, 4], strides [2, 6]
  Tensor c = a.slice(0, 0, 6, 2) + b;     // [3, 4]: both strided
  EXPECT_EQ(dv(c), dv(a.slice(0, 0, 6, 2).contiguous() + b.contiguous()));
  EXPECT_EQ(dv(c), dv(b * 2.0));
  Tensor m = maximum(a, base.select(0, 1).unsqueeze(1));  // [6, 4] vs [6, 1]
  auto mv = dv(m);
  for (int i = 0; i < 6; ++i)
    for (int j = 0; j < 4; ++j) EXPECT_EQ(mv[i * 4 + j], std::max<double>(j * 6 + i, 6 + i));
}

TEST(Binary, LargeTensorsAreTheSameForAnyThreadCount) {
  const int saved = get_num_threads();
  Generator g1(3), g2(4);
  Tensor a = randn({300, 700}, {}, &g1);
  Tensor b = randn({700}, {}, &g2);
  set_num_threads(1);
  Tensor r1 = a.t().contiguous().t() * b + a;
  set_num_threads(4);
  Tensor r4 = a.t().contiguous().t() * b + a;
  set_num_threads(saved);
  EXPECT_EQ(r1.to_vector<float>(), r4.to_vector<float>());
  auto av = a.to_vector<float>(), bv = b.to_vector<float>(), rv = r4.to_vector<float>();
  for (size_t i = 0; i < av.size(); i += 997) EXPECT_EQ(rv[i], av[i] * bv[i % 700] + av[i]);
}

TEST(Promotion, TensorTensor) {
  Tensor i32 = tensor<int32_t>({7, -3});
  Tensor i64 = tensor<int64_t>({2, 2});
  Tensor u8 = tensor<uint8_t>({250, 1});
  Tensor f32 = tensor<float>({0.5f, 0.25f});
  Tensor f16 = tensor<float>({1.5f, 2.0f}).to(DType::F16);
  Tensor bf16 = tensor<float>({1.5f, 3.0f}).to(DType::BF16);
  Tensor f64 = tensor<double>({1, 1});
  EXPECT_EQ((i32 + f32).dtype(), DType::F32);
  EXPECT_EQ(dv(i32 + f32), (std::vector<double>{7.5, -2.75}));
  EXPECT_EQ((i32 + i64).dtype(), DType::I64);
  EXPECT_EQ((u8 + i32).dtype(), DType::I32);
  EXPECT_EQ(dv(u8 + i32), (std::vector<double>{257, -2}));  // no u8 wrap-around
  EXPECT_EQ((f16 + f32).dtype(), DType::F32);
  EXPECT_EQ((f16 * f16).dtype(), DType::F16);
  EXPECT_EQ((bf16 * bf16).dtype(), DType::BF16);
  EXPECT_EQ(dv(bf16 * bf16), (std::vector<double>{2.25, 9}));
  EXPECT_EQ((f16 + bf16).dtype(), DType::F32);
  EXPECT_EQ((f16 + f64).dtype(), DType::F64);
  EXPECT_EQ((u8 * f16).dtype(), DType::F16);
  EXPECT_EQ(maximum(i32, i64).dtype(), DType::I64);
}

TEST(Promotion, IntegerDivisionIsTrueDivision) {
  Tensor a = tensor<int64_t>({7, -7, 1});
  Tensor b = tensor<int64_t>({2, 2, 0});
  Tensor q = a / b;
  EXPECT_EQ(q.dtype(), DType::F32);
  auto v = dv(q);
  EXPECT_EQ(v[0], 3.5);
  EXPECT_EQ(v[1], -3.5);
  EXPECT_TRUE(std::isinf(v[2]));
  EXPECT_EQ((tensor<uint8_t>({9}) / tensor<uint8_t>({2})).item(), 4.5);
  EXPECT_EQ((a / 2.0).dtype(), DType::F32);
  EXPECT_EQ(dv(a / 2.0)[0], 3.5);
  EXPECT_EQ((a / 4).to_vector<float>()[0], 1.75f);
}

TEST(Promotion, BoolArithmeticIsRejected) {
  Tensor b = tensor<bool>({true, false});
  EXPECT_STRATA_ERROR(b + b, DTypeError, {"add:", "bool", "[2]"});
  EXPECT_STRATA_ERROR(b * b, DTypeError, {"mul:", "bool"});
  EXPECT_EQ((b + tensor<int32_t>({1, 1})).dtype(), DType::I32);
  EXPECT_EQ((b + 1.0).dtype(), DType::I64);  // like PyTorch: bool tensor + int scalar
  EXPECT_EQ(dv(b + 1.0), (std::vector<double>{2, 1}));
  EXPECT_EQ(pow(b, b).dtype(), DType::I64);
}

TEST(Promotion, TensorScalar) {
  Tensor i = tensor<int32_t>({1, 2, 3});
  EXPECT_EQ((i * 2.5).dtype(), DType::F32);
  EXPECT_EQ(dv(i * 2.5), (std::vector<double>{2.5, 5, 7.5}));
  EXPECT_EQ((i + 2).dtype(), DType::I32);
  EXPECT_EQ((i + 2).to_vector<int32_t>(), (std::vector<int32_t>{3, 4, 5}));
  EXPECT_EQ((i - 5).to_vector<int32_t>(), (std::vector<int32_t>{-4, -3, -2}));
  EXPECT_EQ((i * -1).to_vector<int32_t>(), (std::vector<int32_t>{-1, -2, -3}));
  EXPECT_EQ((i + 0.5).dtype(), DType::F32);
  EXPECT_EQ((i + std::numeric_limits<double>::infinity()).dtype(), DType::F32);
  Tensor h = tensor<float>({1.0f}).to(DType::F16);
  EXPECT_EQ((h * 2.5).dtype(), DType::F16);
  EXPECT_EQ((h + 1e10).dtype(), DType::F16);
  EXPECT_TRUE(std::isinf((h + 1e10).item()));
  EXPECT_EQ((tensor<uint8_t>({200}) + 100).dtype(), DType::U8);
  EXPECT_EQ((tensor<uint8_t>({200}) + 100).to_vector<uint8_t>(), std::vector<uint8_t>{44});  // wraps like PyTorch
  EXPECT_EQ((tensor<uint8_t>({5, 0}) - 1).to_vector<uint8_t>(), (std::vector<uint8_t>{4, 255}));
  EXPECT_EQ((tensor<uint8_t>({10}) * -1).to_vector<uint8_t>(), std::vector<uint8_t>{246});
  EXPECT_EQ((tensor<int64_t>({int64_t{1} << 52}) + 3).to_vector<int64_t>(), std::vector<int64_t>{(int64_t{1} << 52) + 3});
  // Scalar on the left.
  Tensor x = tensor<double>({1, 2, 4});
  EXPECT_EQ(dv(1.0 - x), (std::vector<double>{0, -1, -3}));
  EXPECT_EQ(dv(8.0 / x), (std::vector<double>{8, 4, 2}));
  EXPECT_EQ((3.0 / tensor<double>({10.0})).item(), 3.0 / 10.0);  // a true division, not 3 * (1 / 10)
  EXPECT_EQ((1.0 / tensor<int32_t>({4})).dtype(), DType::F32);
  EXPECT_EQ((1.0 / tensor<int32_t>({4})).item(), 0.25);
  EXPECT_EQ(dv(3.0 * x), (std::vector<double>{3, 6, 12}));
  EXPECT_EQ(dv(3.0 + x), (std::vector<double>{4, 5, 7}));
}

TEST(Binary, ScalarDivisionIsCorrectlyRounded) {
  // x / s must equal the IEEE quotient, not x * (1 / s).
  std::vector<double> xs{3.0, 7.0, 0.3, 1e-300, 5.0, 49.0};
  for (double s : {10.0, 3.0, 49.0, 0.1}) {
    auto q = dv(tensor<double>(xs) / s);
    for (size_t i = 0; i < xs.size(); ++i) EXPECT_EQ(q[i], xs[i] / s) << xs[i] << " / " << s;
    std::vector<float> xf(xs.begin(), xs.end());
    auto qf = (tensor<float>(xf) / s).to_vector<float>();
    for (size_t i = 0; i < xf.size(); ++i) EXPECT_EQ(qf[i], xf[i] / static_cast<float>(s)) << xf[i] << " / " << s;
  }
  EXPECT_TRUE(std::isinf((tensor<double>({1.0}) / 0.0).item()));
}

TEST(Compare, ResultsAreBool) {
  Tensor a = tensor<double>({1, 2, 3});
  Tensor b = tensor<double>({3, 2, 1});
  auto bools = [](const Tensor& t) {
    EXPECT_EQ(t.dtype(), DType::Bool);
    return t.to_vector<uint8_t>();
  };
  EXPECT_EQ(bools(a == b), (std::vector<uint8_t>{0, 1, 0}));
  EXPECT_EQ(bools(a != b), (std::vector<uint8_t>{1, 0, 1}));
  EXPECT_EQ(bools(a < b), (std::vector<uint8_t>{1, 0, 0}));
  EXPECT_EQ(bools(a <= b), (std::vector<uint8_t>{1, 1, 0}));
  EXPECT_EQ(bools(a > b), (std::vector<uint8_t>{0, 0, 1}));
  EXPECT_EQ(bools(a >= b), (std::vector<uint8_t>{0, 1, 1}));
  EXPECT_EQ(bools(a > 1.5), (std::vector<uint8_t>{0, 1, 1}));
  EXPECT_EQ(bools(a == 2.0), (std::vector<uint8_t>{0, 1, 0}));
  // Mixed dtypes compare in the promoted type: 2 (i32) vs 2.5 is not equal.
  EXPECT_EQ(bools(tensor<int32_t>({2, 3}) == 2.5), (std::vector<uint8_t>{0, 0}));
  EXPECT_EQ(bools(tensor<int32_t>({2, 3}) < 2.5), (std::vector<uint8_t>{1, 0}));
  EXPECT_EQ(bools(tensor<int32_t>({2}) == tensor<float>({2.0f})), std::vector<uint8_t>{1});
  // Broadcast.
  EXPECT_EQ((tensor<double>({1, 2}, {2, 1}) < a).shape(), (Shape{2, 3}));
  // NaN compares unequal to everything, itself included.
  Tensor n = tensor<double>({kNaN});
  EXPECT_EQ(bools(n == n), std::vector<uint8_t>{0});
  EXPECT_EQ(bools(n != n), std::vector<uint8_t>{1});
  EXPECT_EQ(bools(n < 1.0), std::vector<uint8_t>{0});
  // Comparisons of half types.
  Tensor h = tensor<float>({1.0f, 2.0f}).to(DType::BF16);
  EXPECT_EQ(bools(h > 1.5), (std::vector<uint8_t>{0, 1}));
}

TEST(Compare, Logical) {
  Tensor a = tensor<bool>({true, true, false, false});
  Tensor b = tensor<bool>({true, false, true, false});
  EXPECT_EQ(logical_and(a, b).to_vector<uint8_t>(), (std::vector<uint8_t>{1, 0, 0, 0}));
  EXPECT_EQ(logical_or(a, b).to_vector<uint8_t>(), (std::vector<uint8_t>{1, 1, 1, 0}));
  EXPECT_EQ(logical_xor(a, b).to_vector<uint8_t>(), (std::vector<uint8_t>{0, 1, 1, 0}));
  EXPECT_EQ((a && b).to_vector<uint8_t>(), (std::vector<uint8_t>{1, 0, 0, 0}));
  EXPECT_EQ((!a).to_vector<uint8_t>(), (std::vector<uint8_t>{0, 0, 1, 1}));
  // Non-bool inputs: nonzero is true.
  Tensor f = tensor<double>({0.0, -2.0, kNaN});
  EXPECT_EQ(logical_not(f).to_vector<uint8_t>(), (std::vector<uint8_t>{1, 0, 0}));
  EXPECT_EQ(logical_and(f, tensor<int64_t>({1, 1, 1})).to_vector<uint8_t>(), (std::vector<uint8_t>{0, 1, 1}));
  EXPECT_EQ(logical_not(f.slice(0, 0, 3, 2)).to_vector<uint8_t>(), (std::vector<uint8_t>{1, 0}));
}

TEST(MaximumMinimum, NaNPropagatesFromEitherSide) {
  Tensor a = tensor<double>({kNaN, 1.0, 5.0, kNaN});
  Tensor b = tensor<double>({1.0, kNaN, 2.0, kNaN});
  auto mx = dv(maximum(a, b)), mn = dv(minimum(a, b));
  for (int i : {0, 1, 3}) {
    EXPECT_TRUE(std::isnan(mx[i])) << i;
    EXPECT_TRUE(std::isnan(mn[i])) << i;
  }
  EXPECT_EQ(mx[2], 5.0);
  EXPECT_EQ(mn[2], 2.0);
  EXPECT_EQ(maximum(tensor<int32_t>({-1, 4}), tensor<int32_t>({2, 3})).to_vector<int32_t>(), (std::vector<int32_t>{2, 4}));
  EXPECT_EQ(minimum(tensor<int32_t>({-1, 4}), tensor<int32_t>({2, 3})).to_vector<int32_t>(), (std::vector<int32_t>{-1, 3}));
}

TEST(PowTensor, Values) {
  EXPECT_EQ(dv(pow(tensor<double>({2, 3, 4}), tensor<double>({3, 0.5, -1}))),
            (std::vector<double>{8, std::pow(3.0, 0.5), 0.25}));
  EXPECT_EQ(pow(tensor<int64_t>({2, 3}), tensor<int64_t>({10, 2})).to_vector<int64_t>(), (std::vector<int64_t>{1024, 9}));
}

TEST(Where, BroadcastPromotionAndScalars) {
  Tensor c = tensor<bool>({true, false, true});
  Tensor a = tensor<double>({1, 2, 3});
  Tensor b = tensor<double>({-1, -2, -3});
  EXPECT_EQ(dv(where(c, a, b)), (std::vector<double>{1, -2, 3}));
  EXPECT_EQ(dv(where(c, a, 0.0)), (std::vector<double>{1, 0, 3}));
  EXPECT_EQ(dv(where(c, 9.0, b)), (std::vector<double>{9, -2, 9}));
  Tensor w = where(tensor<bool>({true, false}, {2, 1}), a, b);  // [2, 1] with [3]
  EXPECT_EQ(w.shape(), (Shape{2, 3}));
  EXPECT_EQ(dv(w), (std::vector<double>{1, 2, 3, -1, -2, -3}));
  Tensor mixed = where(c, tensor<int32_t>({1, 2, 3}), tensor<float>({0.5f, 0.5f, 0.5f}));
  EXPECT_EQ(mixed.dtype(), DType::F32);
  EXPECT_EQ(dv(mixed), (std::vector<double>{1, 0.5, 3}));
  EXPECT_EQ(where(c, tensor<int64_t>({1, 2, 3}), 0.5).dtype(), DType::F32);
  EXPECT_EQ(where(c, tensor<int64_t>({1, 2, 3}), 0.0).dtype(), DType::I64);
  // A strided condition.
  Tensor cs = tensor<bool>({true, true, false, false, true, true}).slice(0, 0, 6, 2);  // t, f, t
  EXPECT_EQ(dv(where(cs, a, b)), (std::vector<double>{1, -2, 3}));
  EXPECT_STRATA_ERROR(where(tensor<bool>({true, false}), a, b), ShapeError, {"where", "[2]", "[3]"});
}

TEST(Lerp, ValuesEndpointsAndBroadcast) {
  Tensor a = tensor<double>({0, 10, -4});
  Tensor b = tensor<double>({1, 20, 4});
  EXPECT_EQ(dv(lerp(a, b, 0.25)), (std::vector<double>{0.25, 12.5, -2}));
  EXPECT_EQ(dv(lerp(a, b, 0.0)), dv(a));
  // w = 1 gives b exactly, even where a + (b - a) would round.
  Tensor a2 = tensor<double>({0.1, 1e20, -3.3});
  Tensor b2 = tensor<double>({0.7, 1.0, 2.9});
  EXPECT_EQ(dv(lerp(a2, b2, 1.0)), dv(b2));
  Tensor af = tensor<float>({0.1f, 1e10f});
  Tensor bf = tensor<float>({0.3f, 3.0f});
  EXPECT_EQ(lerp(af, bf, 1.0).to_vector<float>(), bf.to_vector<float>());
  Tensor w = tensor<double>({0, 0.5, 1}, {3, 1});
  Tensor l = lerp(a, b, w);
  EXPECT_EQ(l.shape(), (Shape{3, 3}));
  EXPECT_EQ(dv(l.select(0, 1)), (std::vector<double>{0.5, 15, 0}));
  EXPECT_EQ(dv(l.select(0, 2)), dv(b));
  EXPECT_STRATA_ERROR(lerp(tensor<int64_t>({1}), tensor<int64_t>({2}), 0.5), DTypeError, {"lerp", "i64"});
}

TEST(HalfTypes, ResultsTrackF32WithinTheirPrecision) {
  Generator g(8);
  Tensor a = rand({500}, {}, &g) * 4.0 - 2.0;
  Tensor b = rand({500}, {}, &g) + 0.5;
  for (DType d : {DType::F16, DType::BF16}) {
    const double eps = d == DType::F16 ? 1.0 / 1024 : 1.0 / 128;
    Tensor ah = a.to(d), bh = b.to(d);
    Tensor a32 = ah.to(DType::F32), b32 = bh.to(DType::F32);  // the same rounded inputs
    for (auto [name, got, want] : std::vector<std::tuple<const char*, Tensor, Tensor>>{
             {"add", ah + bh, a32 + b32},
             {"mul", ah * bh, a32 * b32},
             {"div", ah / bh, a32 / b32},
             {"sub", ah - bh, a32 - b32},
             {"max", maximum(ah, bh), maximum(a32, b32)},
             {"scalar", ah * 3.0 + 1.0, (a32 * 3.0).to(d).to(DType::F32) + 1.0}}) {
      EXPECT_EQ(got.dtype(), d) << name;
      auto gv = dv(got), wv = dv(want);
      for (size_t i = 0; i < gv.size(); ++i)
        ASSERT_NEAR(gv[i], wv[i], eps * std::fabs(wv[i]) + 1e-7) << name << " " << dtype_name(d) << " at " << i;
    }
  }
}

TEST(BinaryErrors, MessagesNameOpShapesAndSite) {
  Tensor a = zeros({2, 3}), b = zeros({4, 3});
  EXPECT_STRATA_ERROR(add(a, b), ShapeError,
                      {"add: shapes [2, 3] and [4, 3] are not broadcastable (dim 0: 2 vs 4)", "(tensor/shape.cpp:"});
  EXPECT_STRATA_ERROR(a * zeros({2}), ShapeError, {"mul:", "[2, 3]", "[2]", "dim 1: 3 vs 2"});
  EXPECT_STRATA_ERROR(maximum(a, b), ShapeError, {"maximum:"});
  EXPECT_STRATA_ERROR(a < b, ShapeError, {"lt:"});
  EXPECT_STRATA_ERROR(add(a, Tensor()), ValueError, {"add", "second input", "undefined"});
  EXPECT_STRATA_ERROR(lerp(a, b, 0.5), ShapeError, {"lerp:", "[2, 3]", "[4, 3]"});
}

TEST(DeviceErrors, NoCudaBackendIsADeviceError) {
  if (cuda_is_available()) GTEST_SKIP() << "a CUDA device is present";
  EXPECT_STRATA_ERROR(empty({2}, {.device = Device::cuda()}), DeviceError, {"cuda:0"});
  EXPECT_STRATA_ERROR(zeros({2}).to(Device::cuda(1)), DeviceError, {"cuda:1"});
}

}  // namespace
}  // namespace strata
