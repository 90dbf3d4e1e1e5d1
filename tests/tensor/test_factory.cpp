// Factories: empty/zeros/ones/full (every dtype), arange (float and integer steps, negative
// steps, empty ranges), linspace (exact endpoints), eye, tensor(values), scalar_tensor and
// from_blob (deleter runs exactly once, when the last view goes).
#include <gtest/gtest.h>

#include "strata.h"
#include "support/expect_error.h"

namespace strata {
namespace {

constexpr DType kAll[] = {DType::F32, DType::F64, DType::F16, DType::BF16,
                          DType::I64, DType::I32, DType::U8,  DType::Bool};

TEST(Factory, EmptyHasContiguousLayout) {
  Tensor t = empty({2, 3, 4});
  EXPECT_EQ(t.shape(), (Shape{2, 3, 4}));
  EXPECT_EQ(t.strides(), (Strides{12, 4, 1}));
  EXPECT_EQ(t.offset(), 0);
  EXPECT_EQ(t.dtype(), DType::F32);
  EXPECT_TRUE(t.device().is_cpu());
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_FALSE(t.requires_grad());
  EXPECT_EQ(t.nbytes(), 96);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.raw_data()) % 64, 0u) << "CPU storage is 64-byte aligned";
}

TEST(Factory, EmptyRejectsNegativeDims) {
  EXPECT_STRATA_ERROR(empty({2, -1}), ShapeError, {"empty", "negative", "[2, -1]"});
  EXPECT_STRATA_ERROR(zeros({-3}), ShapeError, {"negative", "[-3]"});
}

TEST(Factory, ZeroSizedAndZeroDim) {
  Tensor e = zeros({0, 3});
  EXPECT_EQ(e.numel(), 0);
  EXPECT_TRUE(e.to_vector<float>().empty());
  Tensor s = scalar_tensor(2.5);
  EXPECT_EQ(s.dim(), 0);
  EXPECT_EQ(s.numel(), 1);
  EXPECT_EQ(s.item(), 2.5);
  Tensor si = scalar_tensor(7, {.dtype = DType::I32});
  EXPECT_EQ(si.dtype(), DType::I32);
  EXPECT_EQ(si.item<int>(), 7);
}

TEST(Factory, FullInEveryDtype) {
  for (DType d : kAll) {
    Tensor z = zeros({2, 2}, {.dtype = d});
    Tensor o = ones({2, 2}, {.dtype = d});
    Tensor f = full({3}, 3.0, {.dtype = d});
    EXPECT_EQ(z.dtype(), d);
    for (double v : z.to_vector<double>()) EXPECT_EQ(v, 0.0) << dtype_name(d);
    for (double v : o.to_vector<double>()) EXPECT_EQ(v, 1.0) << dtype_name(d);
    const double want = d == DType::Bool ? 1.0 : 3.0;
    for (double v : f.to_vector<double>()) EXPECT_EQ(v, want) << dtype_name(d);
  }
  EXPECT_EQ(full({1}, -0.1, {.dtype = DType::F16}).to_vector<Half>()[0].bits, Half(-0.1f).bits);
  EXPECT_EQ(full({1}, 2.75, {.dtype = DType::I64}).item<int64_t>(), 2);  // truncation like a C cast
}

TEST(Factory, LikeFactoriesCopyShapeDtypeNotData) {
  Tensor x = full({2, 3}, 5.0, {.dtype = DType::I32});
  Tensor z = zeros_like(x), o = ones_like(x), f = full_like(x, 9.0), e = empty_like(x);
  for (const Tensor* t : {&z, &o, &f, &e}) {
    EXPECT_EQ(t->shape(), x.shape());
    EXPECT_EQ(t->dtype(), DType::I32);
    EXPECT_FALSE(t->shares_storage(x));
  }
  EXPECT_EQ(f.to_vector<int32_t>(), std::vector<int32_t>(6, 9));
  EXPECT_EQ(o.to_vector<int32_t>(), std::vector<int32_t>(6, 1));
}

TEST(Factory, RequiresGradOption) {
  Tensor t = zeros({2}, {.requires_grad = true});
  EXPECT_TRUE(t.requires_grad());
  EXPECT_TRUE(t.is_leaf());
  EXPECT_STRATA_ERROR(zeros({2}, {.dtype = DType::I64, .requires_grad = true}), DTypeError,
                      {"requires_grad_", "i64"});
}

TEST(Arange, IntegerSteps) {
  Tensor a = arange(5);
  EXPECT_EQ(a.dtype(), DType::I64);
  EXPECT_EQ(a.to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(arange(2, 11, 3).to_vector<int64_t>(), (std::vector<int64_t>{2, 5, 8}));
  EXPECT_EQ(arange(-2, 2).to_vector<int64_t>(), (std::vector<int64_t>{-2, -1, 0, 1}));
  EXPECT_EQ(arange(3, {.dtype = DType::I32}).to_vector<int32_t>(), (std::vector<int32_t>{0, 1, 2}));
}

TEST(Arange, NegativeStep) {
  EXPECT_EQ(arange(5, 0, -1).to_vector<int64_t>(), (std::vector<int64_t>{5, 4, 3, 2, 1}));
  EXPECT_EQ(arange(5, 0, -2).to_vector<int64_t>(), (std::vector<int64_t>{5, 3, 1}));
  auto f = arange(1.0, 0.0, -0.25, {.dtype = DType::F32}).to_vector<float>();
  EXPECT_EQ(f, (std::vector<float>{1.0f, 0.75f, 0.5f, 0.25f}));
}

TEST(Arange, FloatSteps) {
  auto v = arange(0.0, 1.0, 0.1, {.dtype = DType::F64}).to_vector<double>();
  ASSERT_EQ(v.size(), 10u);  // end excluded: 0.0 ... 0.9
  for (size_t i = 0; i < v.size(); ++i) EXPECT_DOUBLE_EQ(v[i], 0.1 * static_cast<double>(i));
  EXPECT_EQ(arange(0.0, 1.0, 0.3, {.dtype = DType::F32}).numel(), 4);  // 0, 0.3, 0.6, 0.9
  EXPECT_EQ(arange(0.5, 2.0, 0.5, {.dtype = DType::F32}).to_vector<float>(), (std::vector<float>{0.5f, 1.0f, 1.5f}));
}

TEST(Arange, EmptyRanges) {
  EXPECT_EQ(arange(0).numel(), 0);
  EXPECT_EQ(arange(3, 3).numel(), 0);
  EXPECT_EQ(arange(5, 0).numel(), 0);      // wrong direction: empty, like numpy
  EXPECT_EQ(arange(0, 5, -1).numel(), 0);
}

TEST(Arange, Errors) {
  EXPECT_STRATA_ERROR(arange(0, 5, 0), ValueError, {"arange", "step"});
  EXPECT_STRATA_ERROR(arange(0.0, std::numeric_limits<double>::infinity()), ValueError, {"arange", "finite"});
}

TEST(Linspace, EndpointsAreExact) {
  auto v = linspace(0.0, 1.0, 11, {.dtype = DType::F64}).to_vector<double>();
  ASSERT_EQ(v.size(), 11u);
  EXPECT_EQ(v.front(), 0.0);
  EXPECT_EQ(v.back(), 1.0);
  for (size_t i = 0; i < v.size(); ++i) EXPECT_NEAR(v[i], 0.1 * static_cast<double>(i), 1e-15);
  // Endpoints that are not representable sums of the step.
  auto w = linspace(-0.3, 0.7, 7, {.dtype = DType::F32}).to_vector<float>();
  EXPECT_EQ(w.front(), -0.3f);
  EXPECT_EQ(w.back(), 0.7f);
  auto d = linspace(1.0, -1.0, 5).to_vector<float>();  // decreasing
  EXPECT_EQ(d, (std::vector<float>{1.0f, 0.5f, 0.0f, -0.5f, -1.0f}));
}

TEST(Linspace, DegenerateCounts) {
  EXPECT_EQ(linspace(0.0, 1.0, 0).numel(), 0);
  auto one = linspace(2.0, 5.0, 1).to_vector<float>();  // PyTorch: [start]
  EXPECT_EQ(one, std::vector<float>{2.0f});
  EXPECT_EQ(linspace(2.0, 5.0, 2).to_vector<float>(), (std::vector<float>{2.0f, 5.0f}));
  EXPECT_EQ(linspace(3.0, 3.0, 3).to_vector<float>(), (std::vector<float>{3.0f, 3.0f, 3.0f}));
  EXPECT_STRATA_ERROR(linspace(0.0, 1.0, -1), ValueError, {"linspace", "-1"});
}

TEST(Eye, SquareAndRectangular) {
  EXPECT_EQ(eye(3).to_vector<float>(), (std::vector<float>{1, 0, 0, 0, 1, 0, 0, 0, 1}));
  Tensor r = eye(2, 3, {.dtype = DType::I64});
  EXPECT_EQ(r.shape(), (Shape{2, 3}));
  EXPECT_EQ(r.to_vector<int64_t>(), (std::vector<int64_t>{1, 0, 0, 0, 1, 0}));
  EXPECT_EQ(eye(3, 2).to_vector<float>(), (std::vector<float>{1, 0, 0, 1, 0, 0}));
  EXPECT_EQ(eye(0).numel(), 0);
  EXPECT_STRATA_ERROR(eye(-2), ValueError, {"eye", "-2"});
}

TEST(TensorFromValues, ShapesAndDtypes) {
  Tensor a = tensor({1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f}, {2, 3});
  EXPECT_EQ(a.shape(), (Shape{2, 3}));
  EXPECT_EQ(a.select(1, 2).to_vector<float>(), (std::vector<float>{3.0f, 6.0f}));
  Tensor b = tensor<int64_t>({1, 2, 3});
  EXPECT_EQ(b.dtype(), DType::I64);
  EXPECT_EQ(b.shape(), Shape{3});
  Tensor c = tensor<bool>({true, false, true});
  EXPECT_EQ(c.dtype(), DType::Bool);
  EXPECT_EQ(c.to_vector<uint8_t>(), (std::vector<uint8_t>{1, 0, 1}));
  Tensor d = tensor<double>({0.5, 1.5}, {}, {.dtype = DType::F16});
  EXPECT_EQ(d.dtype(), DType::F16);
  EXPECT_EQ(d.to_vector<float>(), (std::vector<float>{0.5f, 1.5f}));
  Tensor g = tensor<float>({1, 2}, {}, {.requires_grad = true});
  EXPECT_TRUE(g.requires_grad());
  Tensor e = tensor<float>({});
  EXPECT_EQ(e.shape(), Shape{0});
  EXPECT_STRATA_ERROR(tensor({1.0f, 2.0f, 3.0f}, {2, 2}), ShapeError, {"tensor", "3 values", "[2, 2]"});
}

TEST(FromBlob, SharesMemoryAndDeletesOnceWhenTheLastViewDies) {
  int deletions = 0;
  float* buf = new float[6]{0, 1, 2, 3, 4, 5};
  Tensor view;
  {
    Tensor t = from_blob(buf, {2, 3}, DType::F32, [&](void* p) {
      ++deletions;
      delete[] static_cast<float*>(p);
    });
    EXPECT_EQ(t.data<float>(), buf);
    buf[4] = 40;  // no copy: the tensor sees the change
    EXPECT_EQ(t.select(1, 1).to_vector<float>(), (std::vector<float>{1, 40}));
    view = t.t().slice(0, 1, 3);
    Tensor copy = t.clone();
    EXPECT_FALSE(copy.shares_storage(t));
  }
  EXPECT_EQ(deletions, 0) << "a view still holds the storage";
  EXPECT_EQ(view.to_vector<float>(), (std::vector<float>{1, 40, 2, 5}));
  view = Tensor();
  EXPECT_EQ(deletions, 1);
}

TEST(FromBlob, WithoutDeleterBorrows) {
  std::vector<int32_t> data{1, 2, 3};
  {
    Tensor t = from_blob(data.data(), {3}, DType::I32);
    t.fill_(7);
  }
  EXPECT_EQ(data, (std::vector<int32_t>{7, 7, 7}));
  EXPECT_STRATA_ERROR(from_blob(nullptr, {2}, DType::F32), ValueError, {"from_blob", "null"});
  EXPECT_STRATA_ERROR(from_blob(data.data(), {-1}, DType::F32), ShapeError, {"from_blob", "[-1]"});
}

}  // namespace
}  // namespace strata
