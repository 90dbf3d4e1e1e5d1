// View ops share storage with their base: a write through the view is visible in the base.
// Pins down shapes, strides, offsets, is_contiguous, when reshape/contiguous copy, and the error
// message of every bad call.
#include <gtest/gtest.h>

#include "strata.h"
#include "support/expect_error.h"

namespace strata {
namespace {

// [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]] as f32.
Tensor grid34() { return arange(0.0, 12.0, 1.0, {.dtype = DType::F32}).reshape({3, 4}); }

std::vector<float> vals(const Tensor& t) { return t.to_vector<float>(); }

TEST(View, SharesStorageAndWritesThrough) {
  Tensor x = grid34();
  Tensor v = x.view({2, 6});
  EXPECT_TRUE(v.shares_storage(x));
  EXPECT_EQ(v.strides(), (Strides{6, 1}));
  v.select(1, 5).fill_(-1.0);  // elements 5 and 11
  EXPECT_EQ(x.to_vector<float>()[5], -1.0f);
  EXPECT_EQ(x.to_vector<float>()[11], -1.0f);
  EXPECT_GT(x.version(), 0u);
  EXPECT_EQ(x.version(), v.version()) << "the version counter lives in the shared storage";
}

TEST(View, InfersOneDim) {
  Tensor x = grid34();
  EXPECT_EQ(x.view({-1}).shape(), Shape{12});
  EXPECT_EQ(x.view({2, -1, 3}).shape(), (Shape{2, 2, 3}));
  EXPECT_EQ(zeros({0, 4}).view({-1, 2}).shape(), (Shape{0, 2}));
  EXPECT_STRATA_ERROR(x.view({-1, -1}), ShapeError, {"view", "only one dim can be -1"});
  EXPECT_STRATA_ERROR(x.view({5, -1}), ShapeError, {"view", "[5, -1]", "[3, 4]", "12 elements"});
  EXPECT_STRATA_ERROR(x.view({5, 2}), ShapeError, {"view", "[5, 2]", "[3, 4]"});
  EXPECT_STRATA_ERROR(x.view({-2, 6}), ShapeError, {"view", "invalid size -2"});
  EXPECT_STRATA_ERROR(zeros({0, 4}).view({0, -1}), ShapeError, {"view"});  // -1 is ambiguous
}

TEST(View, OfNonContiguousLayoutErrors) {
  Tensor xt = grid34().t();  // [4, 3] strides [1, 4]
  EXPECT_FALSE(xt.is_contiguous());
  EXPECT_STRATA_ERROR(xt.view({12}), ShapeError, {"view", "[4, 3]", "[1, 4]", "use reshape"});
  // Splitting or merging dims that stay contiguous with each other is fine.
  Tensor s = xt.view({2, 2, 3});
  EXPECT_EQ(s.strides(), (Strides{2, 1, 4}));
  EXPECT_EQ(vals(s), vals(xt));
  Tensor p = zeros({2, 3, 4}).permute({1, 0, 2});  // [3, 2, 4] strides [4, 12, 1]
  EXPECT_EQ(p.view({3, 2, 2, 2}).strides(), (Strides{4, 12, 2, 1}));
  EXPECT_STRATA_ERROR(p.view({6, 4}), ShapeError, {"view"});
}

TEST(View, SizeOneDimsAndExpandedInputs) {
  Tensor e = tensor({1.0f, 2.0f, 3.0f}).view({3, 1}).expand({3, 4});  // strides [1, 0]
  Tensor u = e.view({3, 1, 4});
  EXPECT_TRUE(u.shares_storage(e));
  EXPECT_EQ(u.stride(2), 0);
  EXPECT_EQ(vals(u), vals(e));
  EXPECT_STRATA_ERROR(e.view({12}), ShapeError, {"view"});
}

TEST(Reshape, ViewsWhenPossibleCopiesOtherwise) {
  Tensor x = grid34();
  Tensor r = x.reshape({4, 3});
  EXPECT_TRUE(r.shares_storage(x));
  Tensor xt = x.t();
  Tensor c = xt.reshape({12});
  EXPECT_FALSE(c.shares_storage(x));
  EXPECT_EQ(vals(c), (std::vector<float>{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}));
  EXPECT_TRUE(xt.reshape({2, 2, 3}).shares_storage(x));
  EXPECT_STRATA_ERROR(x.reshape({5, 5}), ShapeError, {"reshape", "[5, 5]", "[3, 4]"});
}

TEST(Flatten, Ranges) {
  Tensor x = zeros({2, 3, 4, 5});
  EXPECT_EQ(x.flatten().shape(), Shape{120});
  EXPECT_EQ(x.flatten(1).shape(), (Shape{2, 60}));
  EXPECT_EQ(x.flatten(1, 2).shape(), (Shape{2, 12, 5}));
  EXPECT_EQ(x.flatten(-2, -1).shape(), (Shape{2, 3, 20}));
  EXPECT_EQ(x.flatten(2, 2).shape(), x.shape());
  EXPECT_EQ(scalar_tensor(1.0).flatten().shape(), Shape{1});
  EXPECT_TRUE(x.flatten(1, 2).shares_storage(x));
  EXPECT_STRATA_ERROR(x.flatten(2, 1), IndexError, {"flatten", "start_dim 2", "end_dim 1"});
  EXPECT_STRATA_ERROR(x.flatten(0, 4), IndexError, {"flatten", "dim 4"});
}

TEST(Permute, StridesValuesAndErrors) {
  Tensor x = arange(0.0, 24.0, 1.0, {.dtype = DType::F32}).reshape({2, 3, 4});
  Tensor p = x.permute({2, 0, 1});
  EXPECT_EQ(p.shape(), (Shape{4, 2, 3}));
  EXPECT_EQ(p.strides(), (Strides{1, 12, 4}));
  EXPECT_FALSE(p.is_contiguous());
  EXPECT_TRUE(p.shares_storage(x));
  // p[i][j][k] == x[j][k][i]
  EXPECT_EQ(p.select(0, 3).select(0, 1).select(0, 2).item(), x.select(0, 1).select(0, 2).select(0, 3).item());
  EXPECT_EQ(x.permute({-1, 0, 1}).shape(), (Shape{4, 2, 3}));
  EXPECT_TRUE(x.permute({0, 1, 2}).is_contiguous());
  EXPECT_STRATA_ERROR(x.permute({0, 1}), ShapeError, {"permute", "2 dims", "[2, 3, 4]"});
  EXPECT_STRATA_ERROR(x.permute({0, 1, 1}), IndexError, {"permute", "repeated"});
  EXPECT_STRATA_ERROR(x.permute({0, 1, 3}), IndexError, {"permute", "dim 3"});
}

TEST(Transpose, AndT) {
  Tensor x = grid34();
  Tensor t = x.transpose(0, 1);
  EXPECT_EQ(t.shape(), (Shape{4, 3}));
  EXPECT_EQ(t.strides(), (Strides{1, 4}));
  EXPECT_EQ(vals(t.contiguous()), vals(x.t().contiguous()));
  EXPECT_EQ(x.transpose(-1, -2).shape(), (Shape{4, 3}));
  EXPECT_EQ(x.transpose(1, 1).strides(), x.strides());
  Tensor v = arange(3);
  EXPECT_EQ(v.t().shape(), Shape{3});
  EXPECT_TRUE(v.t().shares_storage(v));
  EXPECT_EQ(scalar_tensor(1.0).t().dim(), 0);
  EXPECT_STRATA_ERROR(zeros({2, 2, 2}).t(), ShapeError, {"t:", "[2, 2, 2]"});
  EXPECT_STRATA_ERROR(x.transpose(0, 2), IndexError, {"transpose", "dim 2"});
  // Writing through a transpose lands in the right base element.
  t.select(0, 3).select(0, 1).fill_(100.0);  // t[3][1] == x[1][3]
  EXPECT_EQ(x.select(0, 1).select(0, 3).item(), 100.0);
}

TEST(Slice, PythonSemantics) {
  Tensor x = arange(0.0, 10.0, 1.0, {.dtype = DType::F32});
  EXPECT_EQ(vals(x.slice(0, 2, 5)), (std::vector<float>{2, 3, 4}));
  EXPECT_EQ(vals(x.slice(0, -3, 10)), (std::vector<float>{7, 8, 9}));           // negative start
  EXPECT_EQ(vals(x.slice(0, 0, -7)), (std::vector<float>{0, 1, 2}));            // negative end
  EXPECT_EQ(vals(x.slice(0, 1, 10, 3)), (std::vector<float>{1, 4, 7}));         // step
  EXPECT_EQ(vals(x.slice(0, 1, 9, 3)), (std::vector<float>{1, 4, 7}));
  EXPECT_EQ(vals(x.slice(0, -100, 2)), (std::vector<float>{0, 1}));             // clamped start
  EXPECT_EQ(vals(x.slice(0, 8, 100)), (std::vector<float>{8, 9}));              // clamped end
  EXPECT_EQ(x.slice(0, 5, 2).numel(), 0);                                       // empty
  EXPECT_EQ(x.slice(0, 20, 30).numel(), 0);
  EXPECT_EQ(x.slice(0, 10, 10).numel(), 0);
  Tensor s = x.slice(0, 1, 10, 3);
  EXPECT_EQ(s.stride(0), 3);
  EXPECT_EQ(s.offset(), 1);
  EXPECT_FALSE(s.is_contiguous());
  EXPECT_TRUE(x.slice(0, 2, 6).is_contiguous());
  EXPECT_STRATA_ERROR(x.slice(0, 0, 5, 0), ValueError, {"slice", "step", "0"});
  EXPECT_STRATA_ERROR(x.slice(0, 0, 5, -1), ValueError, {"slice", "step", "-1"});
  EXPECT_STRATA_ERROR(x.slice(1, 0, 5), IndexError, {"slice", "dim 1"});
}

TEST(Slice, TwoDimsAndWriteThrough) {
  Tensor x = grid34();
  Tensor s = x.slice(1, 1, 4, 2);  // columns 1 and 3
  EXPECT_EQ(s.shape(), (Shape{3, 2}));
  EXPECT_EQ(vals(s), (std::vector<float>{1, 3, 5, 7, 9, 11}));
  s.fill_(0.0);
  EXPECT_EQ(vals(x), (std::vector<float>{0, 0, 2, 0, 4, 0, 6, 0, 8, 0, 10, 0}));
  Tensor rows = x.slice(0, 1, 3);
  EXPECT_TRUE(rows.is_contiguous());
  EXPECT_EQ(rows.offset(), 4);
}

TEST(Narrow, AndErrors) {
  Tensor x = grid34();
  EXPECT_EQ(vals(x.narrow(1, 1, 2)), (std::vector<float>{1, 2, 5, 6, 9, 10}));
  EXPECT_EQ(vals(x.narrow(0, -1, 1)), (std::vector<float>{8, 9, 10, 11}));
  EXPECT_EQ(x.narrow(0, 3, 0).numel(), 0);
  EXPECT_STRATA_ERROR(x.narrow(1, 3, 2), IndexError, {"narrow", "start 3", "length 2", "size 4"});
  EXPECT_STRATA_ERROR(x.narrow(1, 0, -1), IndexError, {"narrow"});
}

TEST(Select, NegativeIndexAndErrors) {
  Tensor x = grid34();
  EXPECT_EQ(vals(x.select(0, -1)), (std::vector<float>{8, 9, 10, 11}));
  EXPECT_EQ(vals(x.select(1, -4)), (std::vector<float>{0, 4, 8}));
  EXPECT_EQ(vals(x[1]), (std::vector<float>{4, 5, 6, 7}));
  EXPECT_EQ(x[2][3].dim(), 0);
  EXPECT_EQ(x[2][3].item(), 11.0);
  EXPECT_STRATA_ERROR(x.select(0, 3), IndexError, {"select: index 3 is out of range for dim 0 of size 3 (shape [3, 4])"});
  EXPECT_STRATA_ERROR(x.select(1, -5), IndexError, {"select", "index -5", "size 4"});
  EXPECT_STRATA_ERROR(x.select(2, 0), IndexError, {"select", "dim 2"});
  EXPECT_STRATA_ERROR(scalar_tensor(1.0).select(0, 0), IndexError, {"select", "0-d"});
}

TEST(Expand, StrideZeroAndErrors) {
  Tensor c = tensor({1.0f, 2.0f, 3.0f}).view({3, 1});
  Tensor e = c.expand({2, 3, 4});
  EXPECT_EQ(e.shape(), (Shape{2, 3, 4}));
  EXPECT_EQ(e.strides(), (Strides{0, 1, 0}));
  EXPECT_TRUE(e.shares_storage(c));
  EXPECT_FALSE(e.is_contiguous());
  EXPECT_EQ(vals(e.select(0, 1).select(0, 2)), (std::vector<float>{3, 3, 3, 3}));
  EXPECT_EQ(c.expand({-1, 5}).shape(), (Shape{3, 5}));
  EXPECT_EQ(c.expand({3, 0}).numel(), 0);
  EXPECT_EQ(c.expand_as(zeros({3, 2})).shape(), (Shape{3, 2}));
  EXPECT_EQ(scalar_tensor(4.0).expand({2, 2}).to_vector<float>(), (std::vector<float>{4, 4, 4, 4}));
  EXPECT_STRATA_ERROR(c.expand({4, 4}), ShapeError, {"expand", "[3, 1]", "[4, 4]", "dim 0: 3 is not 1"});
  EXPECT_STRATA_ERROR(c.expand({4}), ShapeError, {"expand", "fewer dims"});
  EXPECT_STRATA_ERROR(c.expand({-1, 3, 4}), ShapeError, {"expand", "-1"});
  EXPECT_STRATA_ERROR(c.expand({3, -2}), ShapeError, {"expand", "-2"});
}

TEST(Squeeze, AllOrOneDim) {
  Tensor x = zeros({1, 3, 1, 2});
  EXPECT_EQ(x.squeeze().shape(), (Shape{3, 2}));
  EXPECT_EQ(x.squeeze(0).shape(), (Shape{3, 1, 2}));
  EXPECT_EQ(x.squeeze(-2).shape(), (Shape{1, 3, 2}));
  EXPECT_EQ(x.squeeze(1).shape(), x.shape());  // not size 1: unchanged
  EXPECT_TRUE(x.squeeze().shares_storage(x));
  EXPECT_EQ(zeros({1, 1}).squeeze().dim(), 0);
  EXPECT_EQ(scalar_tensor(1.0).squeeze(0).dim(), 0);
  EXPECT_STRATA_ERROR(x.squeeze(4), IndexError, {"squeeze", "dim 4"});
  // Squeezing a non-contiguous tensor keeps it a view.
  Tensor t = zeros({3, 1, 4}).transpose(0, 2);
  EXPECT_TRUE(t.squeeze().shares_storage(t));
  EXPECT_EQ(t.squeeze().strides(), (Strides{1, 4}));
}

TEST(Unsqueeze, Positions) {
  Tensor x = zeros({3, 4});
  EXPECT_EQ(x.unsqueeze(0).shape(), (Shape{1, 3, 4}));
  EXPECT_EQ(x.unsqueeze(1).shape(), (Shape{3, 1, 4}));
  EXPECT_EQ(x.unsqueeze(2).shape(), (Shape{3, 4, 1}));
  EXPECT_EQ(x.unsqueeze(-1).shape(), (Shape{3, 4, 1}));
  EXPECT_EQ(x.unsqueeze(-3).shape(), (Shape{1, 3, 4}));
  EXPECT_EQ(scalar_tensor(1.0).unsqueeze(0).shape(), Shape{1});
  EXPECT_TRUE(x.unsqueeze(1).is_contiguous());
  EXPECT_TRUE(x.t().unsqueeze(0).shares_storage(x));
  EXPECT_STRATA_ERROR(x.unsqueeze(3), IndexError, {"unsqueeze", "dim 3"});
  EXPECT_STRATA_ERROR(x.unsqueeze(-4), IndexError, {"unsqueeze"});
}

TEST(Contiguous, CopiesOnlyWhenNeeded) {
  Tensor x = grid34();
  EXPECT_TRUE(x.contiguous().is_same(x));
  Tensor t = x.t();
  Tensor c = t.contiguous();
  EXPECT_FALSE(c.shares_storage(x));
  EXPECT_TRUE(c.is_contiguous());
  EXPECT_EQ(c.strides(), (Strides{3, 1}));
  EXPECT_EQ(vals(c), vals(t));
  // Size-1 dims do not affect contiguity, whatever their stride.
  Tensor odd = x.slice(0, 1, 2);  // [1, 4]
  EXPECT_TRUE(odd.transpose(0, 1).unsqueeze(0).slice(2, 0, 1).is_contiguous());
  // An empty tensor is contiguous whatever its strides.
  EXPECT_TRUE(x.slice(1, 0, 0).is_contiguous());
  EXPECT_TRUE(x.t().slice(0, 2, 2).is_contiguous());
  Tensor e = x.slice(1, 2, 2);
  EXPECT_TRUE(e.contiguous().is_same(e));
}

TEST(Alias, NewHandleSameData) {
  Tensor x = grid34();
  Tensor a = x.alias();
  EXPECT_FALSE(a.is_same(x));
  EXPECT_TRUE(a.shares_storage(x));
  EXPECT_EQ(a.strides(), x.strides());
  a.fill_(1.0);
  EXPECT_EQ(x.to_vector<float>(), std::vector<float>(12, 1.0f));
}

TEST(Views, ChainedViewsOfViews) {
  Tensor x = arange(0.0, 60.0, 1.0, {.dtype = DType::F64}).reshape({3, 4, 5});
  Tensor v = x.permute({2, 0, 1}).slice(0, 1, 5, 2).select(2, -1).unsqueeze(0);  // [1, 2, 3]
  EXPECT_EQ(v.shape(), (Shape{1, 2, 3}));
  // v[0][i][j] = x[j][3][1 + 2i]
  std::vector<double> want;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j) want.push_back(j * 20 + 3 * 5 + 1 + 2 * i);
  EXPECT_EQ(v.to_vector<double>(), want);
  v.fill_(-1.0);
  EXPECT_EQ(x.select(0, 2).select(0, 3).select(0, 3).item(), -1.0);
  EXPECT_EQ(x.select(0, 2).select(0, 3).select(0, 2).item(), 57.0);
}

TEST(Item, ChecksOneElement) {
  EXPECT_EQ(tensor<int64_t>({42}).item<int64_t>(), 42);
  EXPECT_EQ(full({1, 1}, 1.5, {.dtype = DType::BF16}).item(), 1.5);
  EXPECT_STRATA_ERROR(zeros({2}).item(), ShapeError, {"item", "[2]", "2 elements"});
  EXPECT_STRATA_ERROR(zeros({2}).data<double>(), DTypeError, {"data<f64>", "f32"});
  EXPECT_EQ(Tensor().defined(), false);
  EXPECT_STRATA_ERROR(Tensor().shape(), ValueError, {"undefined"});
}

}  // namespace
}  // namespace strata
