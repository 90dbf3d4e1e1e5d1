// In-place ops, copy_, fill_, to(dtype) and clone: values, broadcasting into the destination,
// dtype rules (no silent float -> int truncation), version bumps, the autograd guard on leaves,
// aliasing between source and destination, and writes into views.
#include <gtest/gtest.h>

#include "strata.h"
#include "support/expect_error.h"

namespace strata {
namespace {

std::vector<double> dv(const Tensor& t) { return t.to_vector<double>(); }

TEST(InPlace, ArithmeticValuesAndVersions) {
  Tensor a = tensor<double>({1, 2, 3});
  const uint32_t v0 = a.version();
  add_(a, tensor<double>({1, 1, 1}));
  EXPECT_EQ(dv(a), (std::vector<double>{2, 3, 4}));
  EXPECT_EQ(a.version(), v0 + 1);
  sub_(a, tensor<double>({1, 1, 1}));
  mul_(a, tensor<double>({2, 2, 2}));
  div_(a, tensor<double>({4, 4, 4}));
  EXPECT_EQ(dv(a), (std::vector<double>{0.5, 1, 1.5}));
  add_(a, tensor<double>({2, 2, 2}), 0.5);
  EXPECT_EQ(dv(a), (std::vector<double>{1.5, 2, 2.5}));
  add_(a, 1.0);
  mul_(a, 2.0);
  EXPECT_EQ(dv(a), (std::vector<double>{5, 6, 7}));
  a += tensor<double>({1, 1, 1});
  a -= tensor<double>({1, 1, 1});
  a *= 2.0;
  a /= tensor<double>({2, 2, 2});
  a += 1.0;
  EXPECT_EQ(dv(a), (std::vector<double>{6, 7, 8}));
  EXPECT_EQ(a.version(), v0 + 12);
  clamp_(a, 6.5, std::nullopt);
  EXPECT_EQ(dv(a), (std::vector<double>{6.5, 7, 8}));
  clamp_(a, std::nullopt, 7.0);
  EXPECT_EQ(dv(a), (std::vector<double>{6.5, 7, 7}));
  EXPECT_STRATA_ERROR(clamp_(a, 2.0, 1.0), ValueError, {"clamp_", "min 2", "max 1"});
  Tensor flags = tensor<bool>({true});
  EXPECT_STRATA_ERROR(clamp_(flags, 0.0, 1.0), DTypeError, {"clamp_", "bool"});
  lerp_(a, tensor<double>({0, 0, 0}), 0.5);
  EXPECT_EQ(dv(a), (std::vector<double>{3.25, 3.5, 3.5}));
  masked_fill_(a, tensor<bool>({false, true, false}), -1.0);
  EXPECT_EQ(dv(a), (std::vector<double>{3.25, -1, 3.5}));
  EXPECT_EQ(a.version(), v0 + 16);
}

TEST(InPlace, BroadcastsTheSourceButNotTheDestination) {
  Tensor a = zeros({2, 3});
  add_(a, tensor({1.0f, 2.0f, 3.0f}));
  EXPECT_EQ(a.to_vector<float>(), (std::vector<float>{1, 2, 3, 1, 2, 3}));
  mul_(a, tensor({2.0f, 3.0f}, {2, 1}));
  EXPECT_EQ(a.to_vector<float>(), (std::vector<float>{2, 4, 6, 3, 6, 9}));
  Tensor r = zeros({3});
  EXPECT_STRATA_ERROR(add_(r, zeros({2, 3})), ShapeError, {"add_", "[3]", "[2, 3]"});
  EXPECT_STRATA_ERROR(mul_(r, zeros({2, 3})), ShapeError, {"mul_", "[3]"});
  EXPECT_STRATA_ERROR(sub_(r, zeros({4})), ShapeError, {"sub", "[3]", "[4]"});
}

TEST(InPlace, DtypeRules) {
  Tensor i = tensor<int32_t>({1, 2, 3});
  add_(i, tensor<int64_t>({1, 1, 1}));  // i64 result cast back to i32 is allowed
  EXPECT_EQ(i.dtype(), DType::I32);
  EXPECT_EQ(i.to_vector<int32_t>(), (std::vector<int32_t>{2, 3, 4}));
  add_(i, 3.0);
  EXPECT_EQ(i.to_vector<int32_t>(), (std::vector<int32_t>{5, 6, 7}));
  // A float result cannot be written into an integer tensor (PyTorch refuses too).
  EXPECT_STRATA_ERROR(add_(i, tensor<float>({0.5f, 0.5f, 0.5f})), DTypeError, {"add_", "f32", "i32"});
  EXPECT_STRATA_ERROR(div_(i, tensor<int32_t>({2, 2, 2})), DTypeError, {"div_", "f32", "i32"});
  EXPECT_STRATA_ERROR(mul_(i, 2.5), DTypeError, {"mul_", "i32"});
  EXPECT_STRATA_ERROR(add_(i, 0.5), DTypeError, {"add_", "i32"});
  EXPECT_EQ(i.to_vector<int32_t>(), (std::vector<int32_t>{5, 6, 7})) << "a rejected op leaves the tensor alone";
  // Float destinations accept any source dtype.
  Tensor f = tensor<float>({1, 2});
  add_(f, tensor<double>({0.25, 0.25}));
  mul_(f, tensor<int64_t>({2, 2}));
  EXPECT_EQ(f.dtype(), DType::F32);
  EXPECT_EQ(f.to_vector<float>(), (std::vector<float>{2.5f, 4.5f}));
  Tensor h = tensor<float>({1, 2}).to(DType::F16);
  add_(h, 0.5);
  EXPECT_EQ(h.to_vector<float>(), (std::vector<float>{1.5f, 2.5f}));
  Tensor b = tensor<bool>({true, false});
  EXPECT_STRATA_ERROR(add_(b, tensor<bool>({true, true})), DTypeError, {"add", "bool"});
}

TEST(InPlace, SourceOverlappingTheDestination) {
  // a += a.t() must read the original values, not ones already written.
  Tensor a = tensor<double>({1, 2, 3, 4}, {2, 2});
  add_(a, a.t());
  EXPECT_EQ(dv(a), (std::vector<double>{2, 5, 5, 8}));
  Tensor b = tensor<double>({1, 2, 3, 4}, {2, 2});
  mul_(b, b.t());
  EXPECT_EQ(dv(b), (std::vector<double>{1, 6, 6, 16}));
  Tensor c = tensor<double>({1, 2, 3, 4});
  Tensor rev = c.slice(0, 0, 4, 2);  // [1, 3]
  Tensor tail = c.slice(0, 1, 4, 2);  // [2, 4]
  add_(tail, rev);
  EXPECT_EQ(dv(c), (std::vector<double>{1, 3, 3, 7}));
  // Exactly the same elements: an ordinary elementwise update.
  Tensor d = tensor<double>({1, 2});
  add_(d, d);
  EXPECT_EQ(dv(d), (std::vector<double>{2, 4}));
}

TEST(InPlace, IntoViewsWritesTheBase) {
  Tensor x = zeros({3, 4}, {.dtype = DType::F64});
  Tensor col = x.select(1, 2);
  add_(col, tensor<double>({1, 2, 3}));
  Tensor strided = x.slice(1, 0, 4, 3);  // columns 0 and 3
  add_(strided, 5.0);
  EXPECT_EQ(dv(x), (std::vector<double>{5, 0, 1, 5, 5, 0, 2, 5, 5, 0, 3, 5}));
  Tensor xt = x.t();
  mul_(xt, 2.0);
  EXPECT_EQ(dv(x.select(0, 2)), (std::vector<double>{10, 0, 6, 10}));
}

TEST(InPlace, ExpandedDestinationIsRejected) {
  Tensor e = zeros({3}).expand({2, 3});
  EXPECT_STRATA_ERROR(add_(e, ones({2, 3})), ValueError, {"add_", "[2, 3]", "overlap"});
  EXPECT_STRATA_ERROR(e.fill_(1.0), ValueError, {"fill_"});
  EXPECT_STRATA_ERROR(e.copy_(ones({2, 3})), ValueError, {"copy_"});
}

TEST(InPlace, LeafRequiringGradNeedsNoGradGuard) {
  Tensor w = ones({2}, {.requires_grad = true});
  EXPECT_STRATA_ERROR(add_(w, 1.0), AutogradError, {"add_", "leaf", "NoGradGuard"});
  EXPECT_STRATA_ERROR(mul_(w, ones({2})), AutogradError, {"mul_", "leaf"});
  EXPECT_STRATA_ERROR(w.fill_(0.0), AutogradError, {"fill_"});
  EXPECT_STRATA_ERROR(w.copy_(zeros({2})), AutogradError, {"copy_"});
  EXPECT_STRATA_ERROR(clamp_(w, 0.0, 1.0), AutogradError, {"clamp_"});
  EXPECT_EQ(w.to_vector<float>(), (std::vector<float>{1, 1}));
  const uint32_t v0 = w.version();
  {
    NoGradGuard ng;
    add_(w, 1.0);
    sub_(w, tensor({0.5f, 0.5f}));
    w.zero_();
  }
  EXPECT_EQ(w.to_vector<float>(), (std::vector<float>{0, 0}));
  EXPECT_EQ(w.version(), v0 + 3);
  EXPECT_TRUE(w.requires_grad());
  EXPECT_TRUE(w.is_leaf());
  // detach() shares the data but not the guard.
  Tensor d = w.detach();
  add_(d, 2.0);
  EXPECT_EQ(w.to_vector<float>(), (std::vector<float>{2, 2}));
}

TEST(InPlace, NonLeafInTheGraphIsRejected) {
  Tensor w = ones({2}, {.requires_grad = true});
  Tensor y = w * 2.0;
  EXPECT_STRATA_ERROR(add_(y, 1.0), AutogradError, {"add_", "mul_scalarBackward"});
}

TEST(Copy, BroadcastAndConvert) {
  Tensor dst = zeros({2, 3}, {.dtype = DType::I32});
  dst.copy_(tensor<double>({1.9, -2.9, 3.0}));
  EXPECT_EQ(dst.to_vector<int32_t>(), (std::vector<int32_t>{1, -2, 3, 1, -2, 3}));
  dst.copy_(scalar_tensor(7.0));
  EXPECT_EQ(dst.to_vector<int32_t>(), std::vector<int32_t>(6, 7));
  Tensor f = zeros({2, 2});
  f.copy_(tensor<bool>({true, false}, {2, 1}));
  EXPECT_EQ(f.to_vector<float>(), (std::vector<float>{1, 1, 0, 0}));
  Tensor into_view = zeros({3, 3}, {.dtype = DType::F64});
  Tensor diag_block = into_view.slice(0, 1, 3).slice(1, 1, 3);
  diag_block.copy_(tensor<float>({1, 2, 3, 4}, {2, 2}).t());
  EXPECT_EQ(dv(into_view), (std::vector<double>{0, 0, 0, 0, 1, 3, 0, 2, 4}));
  EXPECT_STRATA_ERROR(zeros({3}).copy_(zeros({2, 3})), ShapeError, {"copy_", "[2, 3]", "[3]"});
  EXPECT_STRATA_ERROR(zeros({3}).copy_(zeros({2})), ShapeError, {"copy_", "[2]", "[3]"});
  EXPECT_STRATA_ERROR(zeros({3}).copy_(Tensor()), ValueError, {"copy_", "undefined"});
}

TEST(Copy, FromAnOverlappingSource) {
  Tensor a = tensor<double>({1, 2, 3, 4}, {2, 2});
  a.copy_(a.t());
  EXPECT_EQ(dv(a), (std::vector<double>{1, 3, 2, 4}));
  Tensor s = tensor<double>({1, 2, 3, 4, 5});
  s.slice(0, 1, 5).copy_(s.slice(0, 0, 4));  // shift right by one
  EXPECT_EQ(dv(s), (std::vector<double>{1, 1, 2, 3, 4}));
}

TEST(Fill, AllDtypesAndViews) {
  Tensor x = zeros({2, 3}, {.dtype = DType::BF16});
  x.fill_(1.5);
  EXPECT_EQ(x.to_vector<float>(), std::vector<float>(6, 1.5f));
  x.select(1, 0).fill_(-2.0);
  EXPECT_EQ(x.to_vector<float>(), (std::vector<float>{-2, 1.5, 1.5, -2, 1.5, 1.5}));
  Tensor b = zeros({2}, {.dtype = DType::Bool});
  b.fill_(0.5);
  EXPECT_EQ(b.to_vector<uint8_t>(), (std::vector<uint8_t>{1, 1}));
  Tensor e = zeros({0});
  e.fill_(3.0);  // nothing to do, no error
  EXPECT_EQ(e.numel(), 0);
}

TEST(ToDtype, RoundTripsAndSameDtype) {
  Tensor x = tensor<double>({-1.5, 0.0, 2.25, 1000.0});
  EXPECT_TRUE(x.to(DType::F64).is_same(x));
  for (DType d : {DType::F32, DType::F16, DType::BF16}) EXPECT_EQ(dv(x.to(d).to(DType::F64)), dv(x)) << dtype_name(d);
  EXPECT_EQ(x.to(DType::I64).to_vector<int64_t>(), (std::vector<int64_t>{-1, 0, 2, 1000}));
  EXPECT_EQ(x.to(DType::Bool).to_vector<uint8_t>(), (std::vector<uint8_t>{1, 0, 1, 1}));
  EXPECT_EQ(x.to(DType::U8).to_vector<uint8_t>()[3], 232) << "1000 wraps modulo 256";
  Tensor i = tensor<int64_t>({-3, 7});
  EXPECT_EQ(i.to(DType::F32).to(DType::I64).to_vector<int64_t>(), (std::vector<int64_t>{-3, 7}));
  EXPECT_EQ(i.to(DType::I32).to(DType::I64).to_vector<int64_t>(), (std::vector<int64_t>{-3, 7}));
  Tensor nc = tensor<double>({1, 2, 3, 4}, {2, 2}).t();
  Tensor c = nc.to(DType::F32);
  EXPECT_EQ(c.to_vector<float>(), (std::vector<float>{1, 3, 2, 4}));
  EXPECT_TRUE(c.is_contiguous());
}

TEST(Clone, IsIndependent) {
  Tensor x = tensor<double>({1, 2, 3});
  Tensor c = x.clone();
  EXPECT_FALSE(c.shares_storage(x));
  c.fill_(0.0);
  EXPECT_EQ(dv(x), (std::vector<double>{1, 2, 3}));
  Tensor t = tensor<double>({1, 2, 3, 4}, {2, 2}).t().clone();
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_EQ(dv(t), (std::vector<double>{1, 3, 2, 4}));
  Tensor e = zeros({0, 2}).clone();
  EXPECT_EQ(e.shape(), (Shape{0, 2}));
}

}  // namespace
}  // namespace strata
