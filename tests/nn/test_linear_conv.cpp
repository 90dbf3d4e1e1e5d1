// Linear and convolution layers: shapes, values on hand-set weights, PyTorch's init bounds,
// gradients (f64, finite differences) and the errors of bad inputs.
#include <gtest/gtest.h>

#include <cmath>

#include "module_gradcheck.h"
#include "nn/conv.h"
#include "nn/linear.h"
#include "support/expect_error.h"
#include "tensor/ops.h"

using namespace strata;
using strata::testing::module_gradcheck;
using strata::testing::set_values;

namespace {

void expect_near(const std::vector<double>& got, const std::vector<double>& want, double tol = 1e-5) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "element " << i;
}

}  // namespace

TEST(Linear, ComputesXWTransposePlusBiasOverTheLastDim) {
  nn::Linear fc(3, 2);
  set_values(fc.weight, {1, 2, 3, -1, 0, 1});
  set_values(fc.bias, {0.5, -0.5});
  Tensor x = tensor({1.f, 1.f, 1.f, 1.f, 0.f, 2.f}, {2, 3});
  Tensor y = fc(x);
  EXPECT_EQ(y.shape(), (Shape{2, 2}));
  expect_near(y.to_vector<double>(), {6.5, -0.5, 7.5, 0.5});
  EXPECT_EQ(fc(zeros({4, 5, 3})).shape(), (Shape{4, 5, 2}));
  EXPECT_EQ(fc(ones({3})).shape(), (Shape{2}));
}

TEST(Linear, WithoutBiasHasOnlyAWeight) {
  nn::Linear fc(4, 3, /*bias=*/false);
  EXPECT_FALSE(fc.bias.defined());
  EXPECT_EQ(fc.num_parameters(), 12);
  auto dict = fc.state_dict();
  EXPECT_EQ(dict.size(), 1u);
  EXPECT_EQ(dict.at("weight").shape(), (Shape{3, 4}));
  EXPECT_EQ(fc.str(), "Linear(in_features=4, out_features=3, bias=false)");
}

TEST(Linear, InitIsPyTorchsUniformWithinOneOverSqrtFanIn) {
  manual_seed(0);
  nn::Linear fc(400, 300);
  const double bound = 1.0 / std::sqrt(400.0);
  EXPECT_LE(amax(abs(fc.weight)).item(), bound);
  EXPECT_LE(amax(abs(fc.bias)).item(), bound);
  // U(-b, b) has std b / sqrt(3).
  EXPECT_NEAR(strata::std(fc.weight).item(), bound / std::sqrt(3.0), 0.01 * bound);
  EXPECT_GT(amax(abs(fc.weight)).item(), 0.95 * bound);
  EXPECT_TRUE(fc.weight.requires_grad());
  EXPECT_TRUE(fc.weight.is_leaf());
}

TEST(Linear, SameSeedSameWeights) {
  manual_seed(7);
  nn::Linear a(5, 4);
  manual_seed(7);
  nn::Linear b(5, 4);
  EXPECT_EQ(a.weight.to_vector<float>(), b.weight.to_vector<float>());
  EXPECT_EQ(a.bias.to_vector<float>(), b.bias.to_vector<float>());
}

TEST(Linear, WrongFeatureCountIsAClearError) {
  nn::Linear fc(4, 2);
  EXPECT_STRATA_ERROR(fc(zeros({3, 5})), ShapeError, {"Linear: input has 5 features but in_features is 4", "[3, 5]"});
  EXPECT_STRATA_ERROR(fc(zeros({})), ShapeError, {"Linear: input must have at least 1 dim"});
}

TEST(Linear, GradientsMatchFiniteDifferences) {
  manual_seed(1);
  nn::Linear fc(3, 4);
  EXPECT_TRUE(module_gradcheck(fc, randn({2, 3})));
  nn::Linear nobias(3, 2, false);
  EXPECT_TRUE(module_gradcheck(nobias, randn({2, 2, 3})));
}

TEST(Conv2d, OutputShapesFollowStridePaddingDilation) {
  nn::Conv2d c(3, 8, 3, {.stride = 2, .padding = 1});
  EXPECT_EQ(c.weight.shape(), (Shape{8, 3, 3, 3}));
  EXPECT_EQ(c(zeros({2, 3, 9, 9})).shape(), (Shape{2, 8, 5, 5}));
  EXPECT_EQ(c(zeros({3, 9, 9})).shape(), (Shape{8, 5, 5}));
  nn::Conv2d d(4, 6, 3, {.dilation = 2, .groups = 2, .bias = false});
  EXPECT_EQ(d.weight.shape(), (Shape{6, 2, 3, 3}));
  EXPECT_FALSE(d.bias.defined());
  EXPECT_EQ(d(zeros({1, 4, 7, 7})).shape(), (Shape{1, 6, 3, 3}));
  EXPECT_EQ(c.in_channels, 3);
  EXPECT_EQ(c.out_channels, 8);
  EXPECT_EQ(c.kernel_size, 3);
  EXPECT_EQ(c.options.stride, 2);
}

TEST(Conv2d, KnownValuesOnHandSetWeights) {
  nn::Conv2d c(1, 1, 2);
  set_values(c.weight, {1, 0, 0, -1});  // x[i, j] - x[i + 1, j + 1]
  set_values(c.bias, {0.5});
  Tensor x = arange(9, {.dtype = DType::F32}).reshape({1, 1, 3, 3});
  expect_near(c(x).to_vector<double>(), {-3.5, -3.5, -3.5, -3.5});
  nn::Conv2d p(1, 1, 3, {.padding = 1, .bias = false});
  set_values(p.weight, {0, 0, 0, 0, 1, 0, 0, 0, 0});  // identity kernel
  expect_near(p(x).to_vector<double>(), x.to_vector<double>());
}

TEST(Conv2d, InitBoundsUseTheWeightsFanIn) {
  manual_seed(3);
  nn::Conv2d c(16, 32, 3, {.groups = 4});
  const double bound = 1.0 / std::sqrt(4.0 * 9.0);  // fan_in = in / groups * k * k
  EXPECT_LE(amax(abs(c.weight)).item(), bound);
  EXPECT_GT(amax(abs(c.weight)).item(), 0.9 * bound);
  EXPECT_LE(amax(abs(c.bias)).item(), bound);
}

TEST(Conv2d, BadArgumentsAndInputsAreClearErrors) {
  EXPECT_STRATA_ERROR(nn::Conv2d(3, 8, 3, {.groups = 2}), ValueError,
                      {"Conv2d: groups (2) must divide in_channels (3) and out_channels (8)"});
  EXPECT_STRATA_ERROR(nn::Conv2d(3, 8, 0), ValueError, {"Conv2d:", "kernel_size (0)"});
  nn::Conv2d c(4, 2, 3);
  EXPECT_STRATA_ERROR(c(zeros({1, 3, 5, 5})), ShapeError,
                      {"Conv2d: input has 3 channels but in_channels is 4", "[1, 3, 5, 5]"});
  EXPECT_STRATA_ERROR(c(zeros({4, 5})), ShapeError, {"Conv2d: input must have 4 dims"});
}

TEST(Conv2d, PrintsLikePyTorch) {
  EXPECT_EQ(nn::Conv2d(3, 8, 3, {.stride = 2, .padding = 1}).str(),
            "Conv2d(3, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))");
  EXPECT_EQ(nn::Conv2d(4, 4, 1, {.groups = 2, .bias = false}).str(),
            "Conv2d(4, 4, kernel_size=(1, 1), stride=(1, 1), groups=2, bias=false)");
}

TEST(Conv2d, GradientsMatchFiniteDifferences) {
  manual_seed(2);
  nn::Conv2d c(4, 2, 3, {.stride = 2, .padding = 1, .groups = 2});
  EXPECT_TRUE(module_gradcheck(c, randn({2, 4, 5, 5})));
  nn::Conv2d d(2, 3, 2, {.dilation = 2});
  EXPECT_TRUE(module_gradcheck(d, randn({1, 2, 5, 4})));
}

TEST(Conv1d, ShapesValuesAndGradients) {
  nn::Conv1d c(2, 3, 3, {.padding = 1});
  EXPECT_EQ(c.weight.shape(), (Shape{3, 2, 3}));
  EXPECT_EQ(c(zeros({4, 2, 10})).shape(), (Shape{4, 3, 10}));
  EXPECT_EQ(c(zeros({2, 10})).shape(), (Shape{3, 10}));
  nn::Conv1d s(1, 1, 2, {.bias = false});
  set_values(s.weight, {1, 1});  // moving sum of 2
  expect_near(s(tensor({1.f, 2.f, 3.f, 4.f}, {1, 1, 4})).to_vector<double>(), {3, 5, 7});
  EXPECT_STRATA_ERROR(c(zeros({4, 3, 10})), ShapeError, {"Conv1d: input has 3 channels but in_channels is 2"});
  manual_seed(4);
  nn::Conv1d g(2, 4, 3, {.stride = 2, .groups = 2});
  EXPECT_TRUE(module_gradcheck(g, randn({2, 2, 7})));
  EXPECT_EQ(g.str(), "Conv1d(2, 4, kernel_size=(3,), stride=(2,), groups=2)");
}

TEST(ConvTranspose2d, ShapesValuesAndGradients) {
  nn::ConvTranspose2d up(4, 2, 3, {.stride = 2, .padding = 1, .output_padding = 1});
  EXPECT_EQ(up.weight.shape(), (Shape{4, 2, 3, 3}));
  EXPECT_EQ(up(zeros({1, 4, 5, 5})).shape(), (Shape{1, 2, 10, 10}));
  nn::ConvTranspose2d t(1, 1, 2);
  set_values(t.weight, {1, 2, 3, 4});
  set_values(t.bias, {1});
  // A single input pixel of value 2 stamps 2 * kernel (+ bias).
  expect_near(t(full({1, 1, 1, 1}, 2.0)).to_vector<double>(), {3, 5, 7, 9});
  EXPECT_STRATA_ERROR(nn::ConvTranspose2d(2, 2, 3, {.stride = 1, .output_padding = 1}), ValueError,
                      {"ConvTranspose2d: output_padding (1)"});
  EXPECT_STRATA_ERROR(up(zeros({1, 2, 5, 5})), ShapeError, {"ConvTranspose2d: input has 2 channels"});
  manual_seed(5);
  nn::ConvTranspose2d g(2, 4, 3, {.stride = 2, .padding = 1, .output_padding = 1, .groups = 2});
  EXPECT_TRUE(module_gradcheck(g, randn({1, 2, 3, 3})));
}

TEST(ConvTranspose2d, InitBoundUsesOutChannelsOverGroupsAsFanIn) {
  manual_seed(6);
  nn::ConvTranspose2d t(64, 8, 2);
  const double bound = 1.0 / std::sqrt(8.0 * 4.0);  // PyTorch: fan_in of the [in, out, k, k] weight
  EXPECT_LE(amax(abs(t.weight)).item(), bound);
  EXPECT_GT(amax(abs(t.weight)).item(), 0.9 * bound);
}
