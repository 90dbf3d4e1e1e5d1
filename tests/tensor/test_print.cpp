// Tensor print-out: exact strings, each what PyTorch prints for the same tensor (with Strata's
// dtype names), covering every element format, layout rule and suffix.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "strata.h"

namespace strata {
namespace {

TEST(Print, IntegersHaveNoDecimalsAndAlignRight) {
  EXPECT_EQ(arange(5).str(), "tensor([0, 1, 2, 3, 4])");
  EXPECT_EQ(tensor<int32_t>({1, -20, 3}).str(), "tensor([  1, -20,   3], dtype=i32)");
  EXPECT_EQ(tensor<uint8_t>({255, 0}).str(), "tensor([255,   0], dtype=u8)");
  EXPECT_EQ(tensor<int64_t>({INT64_MIN}).str(), "tensor([-9223372036854775808])");
}

TEST(Print, FloatsUseFourDecimalsSharedByTheTensor) {
  EXPECT_EQ(tensor({1.f, 2.5f, 3.f, 4.f}, {2, 2}).str(),
            "tensor([[1.0000, 2.5000],\n"
            "        [3.0000, 4.0000]])");
  EXPECT_EQ(tensor({-0.25f, 10.125f}).str(), "tensor([-0.2500, 10.1250])");
  EXPECT_EQ(tensor<double>({1.0 / 3.0}).str(), "tensor([0.3333], dtype=f64)");
}

TEST(Print, WholeFloatsPrintWithATrailingPoint) {
  EXPECT_EQ(tensor({1.f, 2.f, -3.f}).str(), "tensor([ 1.,  2., -3.])");
  EXPECT_EQ(tensor({0.f, INFINITY}).str(), "tensor([0., inf])");
  EXPECT_EQ(zeros({2}).str(), "tensor([0., 0.])");
}

TEST(Print, ScientificWhenTheRangeIsWideOrExtreme) {
  EXPECT_EQ(tensor({1e-5f, 1.f}).str(), "tensor([1.0000e-05, 1.0000e+00])");
  EXPECT_EQ(tensor({1.f, 1e9f}).str(), "tensor([1.0000e+00, 1.0000e+09])");  // whole, but > 1e8
  EXPECT_EQ(tensor({0.5f, 400.f}).str(), "tensor([  0.5000, 400.0000])");      // ratio 800: fixed
  EXPECT_EQ(tensor({0.1f, 200.5f}).str(), "tensor([1.0000e-01, 2.0050e+02])");  // ratio > 1000
  PrintOptions fixed;
  fixed.sci_mode = false;
  EXPECT_EQ(format_tensor(tensor({1e-5f, 1.f}), fixed), "tensor([0.0000, 1.0000])");
  PrintOptions sci;
  sci.sci_mode = true;
  EXPECT_EQ(format_tensor(tensor({1.f, 2.f}), sci), "tensor([1.0000e+00, 2.0000e+00])");
}

TEST(Print, NanAndInfinityTakeTheColumnWidth) {
  EXPECT_EQ(tensor({1.5f, NAN, -INFINITY}).str(), "tensor([1.5000,    nan,   -inf])");
  EXPECT_EQ(tensor({-NAN}).str(), "tensor([nan])");
}

TEST(Print, Bools) {
  EXPECT_EQ(tensor<bool>({true, false}).str(), "tensor([ True, False])");
  EXPECT_EQ(tensor<bool>({true}).reshape({}).str(), "tensor(True)");
}

TEST(Print, ZeroDimensional) {
  EXPECT_EQ(scalar_tensor(3.5).str(), "tensor(3.5000)");
  EXPECT_EQ(scalar_tensor(2.0).str(), "tensor(2.)");
  EXPECT_EQ(scalar_tensor(7.0, {.dtype = DType::I64}).str(), "tensor(7)");
  EXPECT_EQ(scalar_tensor(1.25, {.dtype = DType::F64}).str(), "tensor(1.2500, dtype=f64)");
  EXPECT_EQ(scalar_tensor(-0.5, {.dtype = DType::BF16}).str(), "tensor(-0.5000, dtype=bf16)");
}

TEST(Print, EmptyTensorsShowShapeAndAnyNonF32DType) {
  EXPECT_EQ(empty({0}).str(), "tensor([])");
  EXPECT_EQ(empty({2, 0}).str(), "tensor([], shape=[2, 0])");
  EXPECT_EQ(empty({0}, {.dtype = DType::I64}).str(), "tensor([], dtype=i64)");
  EXPECT_EQ(empty({0, 3}, {.dtype = DType::Bool}).str(), "tensor([], shape=[0, 3], dtype=bool)");
}

TEST(Print, ThreeDimensionsSeparateBlocksWithABlankLine) {
  EXPECT_EQ(arange(8).reshape({2, 2, 2}).str(),
            "tensor([[[0, 1],\n"
            "         [2, 3]],\n"
            "\n"
            "        [[4, 5],\n"
            "         [6, 7]]])");
}

TEST(Print, NonContiguousViewsPrintTheirLogicalOrder) {
  const Tensor m = arange(6).reshape({2, 3});
  EXPECT_EQ(m.t().str(),
            "tensor([[0, 3],\n"
            "        [1, 4],\n"
            "        [2, 5]])");
  EXPECT_EQ(m.select(1, 2).str(), "tensor([2, 5])");
  EXPECT_EQ(m[1][1].str(), "tensor(4)");
  EXPECT_EQ(arange(3).reshape({1, 3}).expand({2, 3}).str(),
            "tensor([[0, 1, 2],\n"
            "        [0, 1, 2]])");
}

TEST(Print, LongRowsWrapAtEightyColumns) {
  EXPECT_EQ(arange(30).str(),
            "tensor([ 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15, 16, 17,\n"
            "        18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29])");
}

TEST(Print, SuffixMovesToItsOwnLineWhenTheLineIsFull) {
  const Tensor t = arange(0.5, 9.0, 1.0, {.dtype = DType::F64});  // 9 values: a 79-character line
  EXPECT_EQ(t.str(),
            "tensor([0.5000, 1.5000, 2.5000, 3.5000, 4.5000, 5.5000, 6.5000, 7.5000, 8.5000],\n"
            "       dtype=f64)");
}

TEST(Print, BigTensorsAreSummarized) {
  EXPECT_EQ(arange(2000).str(), "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])");
  EXPECT_EQ(arange(2000).reshape({40, 50}).str(),
            "tensor([[   0,    1,    2,  ...,   47,   48,   49],\n"
            "        [  50,   51,   52,  ...,   97,   98,   99],\n"
            "        [ 100,  101,  102,  ...,  147,  148,  149],\n"
            "        ...,\n"
            "        [1850, 1851, 1852,  ..., 1897, 1898, 1899],\n"
            "        [1900, 1901, 1902,  ..., 1947, 1948, 1949],\n"
            "        [1950, 1951, 1952,  ..., 1997, 1998, 1999]])");
  // The format is chosen from the shown elements only: the hidden 0.5 does not force decimals.
  Tensor f = arange(0.0, 1001.0, 1.0, {.dtype = DType::F32});
  f.select(0, 500).fill_(0.5);
  EXPECT_EQ(f.str(), "tensor([   0.,    1.,    2.,  ...,  998.,  999., 1000.])");
}

TEST(Print, OptionsControlSummaryAndPrecision) {
  PrintOptions o;
  o.threshold = 4;
  o.edgeitems = 1;
  o.precision = 2;
  EXPECT_EQ(format_tensor(tensor({0.125f, 2.f, 3.f, 4.f, 5.5f}), o), "tensor([0.12,  ..., 5.50])");
  EXPECT_EQ(format_tensor(arange(9).reshape({3, 3}), o),
            "tensor([[0,  ..., 2],\n"
            "        ...,\n"
            "        [6,  ..., 8]])");
}

TEST(Print, HalfPrecision) {
  EXPECT_EQ(tensor(std::vector<Half>{Half(1.5f), Half(-2.f)}).str(), "tensor([ 1.5000, -2.0000], dtype=f16)");
  EXPECT_EQ(tensor(std::vector<BFloat16>{BFloat16(3.f)}).str(), "tensor([3.], dtype=bf16)");
}

TEST(Print, AutogradSuffixes) {
  const Tensor w = tensor({1.f, 2.f}).requires_grad_();
  EXPECT_EQ(w.str(), "tensor([1., 2.], requires_grad=True)");
  const Tensor y = w * w;
  ASSERT_NE(y.grad_fn(), nullptr);
  EXPECT_EQ(y.str(), "tensor([1., 4.], grad_fn=<" + y.grad_fn()->name() + ">)");
  EXPECT_EQ(w.detach().str(), "tensor([1., 2.])");
  EXPECT_EQ(w.grad_fn(), nullptr) << "printing must not record a graph";
}

TEST(Print, SemanticTypeNamesThePrefixAndIndent) {
  static const SemanticType kImage{"TensorImage", nullptr};
  const Tensor t = tensor({1.f, 2.f, 3.f, 4.f}, {2, 2});
  t.set_semantic(&kImage);
  EXPECT_EQ(t.str(),
            "TensorImage([[1., 2.],\n"
            "             [3., 4.]])");
}

TEST(Print, StreamAndFmtGiveTheSameText) {
  const Tensor t = tensor<int32_t>({3, 4});
  std::ostringstream os;
  os << t;
  EXPECT_EQ(os.str(), "tensor([3, 4], dtype=i32)");
  EXPECT_EQ(fmt::format("{}", t), "tensor([3, 4], dtype=i32)");
  EXPECT_EQ(fmt::format("x = {}", arange(2)), "x = tensor([0, 1])");
  EXPECT_EQ(Tensor().str(), "tensor(undefined)");
}

TEST(Print, CudaTensorsShowTheirDevice) {
  if (!cuda_is_available()) GTEST_SKIP() << "no CUDA device";
  EXPECT_EQ(tensor({1.5f}).cuda().str(), "tensor([1.5000], device='cuda:0')");
}

}  // namespace
}  // namespace strata
