// Structural layers (Flatten, Identity, Dropout, Dropout2d, Embedding, pools): shapes, values,
// train/eval behaviour, gradients; and the module_gradcheck helper itself.
#include <gtest/gtest.h>

#include <cmath>

#include "autograd/grad_mode.h"
#include "module_gradcheck.h"
#include "nn/basic.h"
#include "support/expect_error.h"
#include "tensor/ops.h"

using namespace strata;
using strata::testing::module_gradcheck;
using strata::testing::set_values;

namespace {

// A module whose weight gradient is cut: the checker must catch it.
class BrokenScale : public nn::Module {
 public:
  BrokenScale() : Module("BrokenScale") { w = register_parameter("w", full({3}, 2.0)); }
  Tensor forward(const Tensor& x) override { return x * w.detach() + w * 0.0; }
  using Module::forward;
  Tensor w;
};

}  // namespace

TEST(ModuleGradcheck, CatchesAWrongParameterGradient) {
  BrokenScale m;
  EXPECT_FALSE(module_gradcheck(m, ones({3}), /*check_input=*/false));
}

TEST(Flatten, FlattensTheRequestedDims) {
  nn::Flatten f;
  EXPECT_EQ(f(zeros({2, 3, 4, 5})).shape(), (Shape{2, 60}));
  nn::Flatten g(1, 2);
  EXPECT_EQ(g(zeros({2, 3, 4, 5})).shape(), (Shape{2, 12, 5}));
  nn::Flatten all(0);
  EXPECT_EQ(all(arange(6, {.dtype = DType::F32}).reshape({2, 3})).to_vector<float>(),
            (std::vector<float>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(f(zeros({2, 0, 3})).shape(), (Shape{2, 0}));
}

TEST(Identity, ReturnsItsInput) {
  nn::Identity id;
  Tensor x = randn({2, 3});
  EXPECT_TRUE(id(x).is_same(x));
}

TEST(Dropout, ZeroesAboutPInTrainingAndScalesSurvivors) {
  manual_seed(0);
  nn::Dropout d(0.25);
  Tensor y = d(ones({100000}));
  auto v = y.to_vector<float>();
  int64_t zeros_seen = 0;
  for (float e : v) {
    if (e == 0) ++zeros_seen;
    else EXPECT_FLOAT_EQ(e, 1.0f / 0.75f);
  }
  EXPECT_NEAR(zeros_seen / 100000.0, 0.25, 0.01);
}

TEST(Dropout, IsTheIdentityInEvalAndAtPZero) {
  nn::Dropout d(0.5);
  d.eval();
  Tensor x = randn({10, 10});
  EXPECT_EQ(d(x).to_vector<float>(), x.to_vector<float>());
  nn::Dropout none(0.0);
  EXPECT_EQ(none(x).to_vector<float>(), x.to_vector<float>());
  EXPECT_STRATA_ERROR(nn::Dropout(1.5), ValueError, {"Dropout: p must be in [0, 1], got 1.5"});
}

TEST(Dropout2d, DropsWholeChannels) {
  manual_seed(1);
  nn::Dropout2d d(0.5);
  Tensor y = d(ones({8, 16, 3, 3}));
  Tensor per_channel = amax(y, {2, 3});
  Tensor per_channel_min = amin(y, {2, 3});
  EXPECT_EQ(per_channel.to_vector<float>(), per_channel_min.to_vector<float>());  // constant over H, W
  double kept = sum(gt(per_channel, 0.0).to(DType::F32)).item();
  EXPECT_GT(kept, 30);
  EXPECT_LT(kept, 98);
  d.eval();
  EXPECT_EQ(sum(d(ones({2, 3, 2, 2}))).item(), 24);
  EXPECT_STRATA_ERROR(d(ones({3})), ShapeError, {"Dropout2d: input must have at least 2 dims"});
}

TEST(Embedding, LooksUpRowsAndInitsFromAStandardNormal) {
  manual_seed(2);
  nn::Embedding e(1000, 64);
  EXPECT_NEAR(mean(e.weight).item(), 0.0, 0.01);
  EXPECT_NEAR(strata::std(e.weight).item(), 1.0, 0.01);
  Tensor idx = tensor(std::vector<int64_t>{3, 0, 999, 3}, {2, 2});
  Tensor y = e(idx);
  EXPECT_EQ(y.shape(), (Shape{2, 2, 64}));
  EXPECT_EQ(y[1][0].to_vector<float>(), e.weight[999].to_vector<float>());
  EXPECT_EQ(y[0][0].to_vector<float>(), y[1][1].to_vector<float>());
  EXPECT_EQ(e(idx.to(DType::I32)).shape(), (Shape{2, 2, 64}));
  EXPECT_STRATA_ERROR(e(idx.to(DType::F32)), DTypeError, {"Embedding: indices must be i64 or i32, got f32"});
  EXPECT_EQ(e.str(), "Embedding(1000, 64)");
}

TEST(Embedding, PaddingRowIsZeroAndGetsNoGradient) {
  nn::Embedding e(5, 3, /*padding_idx=*/-1);  // counts from the end: row 4
  ASSERT_TRUE(e.padding_idx.has_value());
  EXPECT_EQ(*e.padding_idx, 4);
  EXPECT_EQ(e.weight[4].to_vector<float>(), (std::vector<float>{0, 0, 0}));
  Tensor idx = tensor(std::vector<int64_t>{4, 1, 4, 1, 2});
  sum(e(idx)).backward();
  auto g = e.weight.grad().to_vector<float>();
  EXPECT_EQ(std::vector<float>(g.begin() + 12, g.end()), (std::vector<float>{0, 0, 0}));
  EXPECT_EQ(std::vector<float>(g.begin() + 3, g.begin() + 6), (std::vector<float>{2, 2, 2}));
  EXPECT_EQ(e.str(), "Embedding(5, 3, padding_idx=4)");
  EXPECT_STRATA_ERROR(nn::Embedding(5, 3, 5), IndexError, {"Embedding: padding_idx 5 is out of range"});
}

TEST(Embedding, GradientMatchesFiniteDifferences) {
  manual_seed(3);
  nn::Embedding e(4, 2);  // (the padding row's gradient is zero by design, not by differences)
  EXPECT_TRUE(module_gradcheck(e, tensor(std::vector<int64_t>{0, 2, 2, 3, 1}), /*check_input=*/false));
}

TEST(Pooling, ShapesAndValues) {
  Tensor x = arange(16, {.dtype = DType::F32}).reshape({1, 1, 4, 4});
  nn::MaxPool2d mp(2);
  EXPECT_EQ(mp(x).to_vector<float>(), (std::vector<float>{5, 7, 13, 15}));
  nn::MaxPool2d mp3(3, 2, 1);
  EXPECT_EQ(mp3(zeros({2, 3, 8, 8})).shape(), (Shape{2, 3, 4, 4}));
  EXPECT_EQ(mp3.str(), "MaxPool2d(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=false)");
  nn::AvgPool2d ap(2);
  EXPECT_EQ(ap(x).to_vector<float>(), (std::vector<float>{2.5, 4.5, 10.5, 12.5}));
  nn::AvgPool2d ceil(2, {}, 0, /*ceil_mode=*/true);
  EXPECT_EQ(ceil(zeros({1, 1, 5, 5})).shape(), (Shape{1, 1, 3, 3}));
  nn::AdaptiveAvgPool2d gap(1);
  EXPECT_EQ(gap(x).to_vector<float>(), (std::vector<float>{7.5}));
  EXPECT_EQ(gap(zeros({2, 5, 7, 3})).shape(), (Shape{2, 5, 1, 1}));
  nn::AdaptiveMaxPool2d gmp(Int2{1, 2});
  EXPECT_EQ(gmp(x).to_vector<float>(), (std::vector<float>{13, 15}));
  nn::MaxPool2d opts({.kernel_size = 2, .stride = 1});
  EXPECT_EQ(opts(x).shape(), (Shape{1, 1, 3, 3}));
  EXPECT_STRATA_ERROR(nn::MaxPool2d(0), ValueError, {"MaxPool2d: kernel_size must be > 0"});
}

TEST(Pooling, GradientsMatchFiniteDifferences) {
  manual_seed(4);
  Tensor x = randn({1, 2, 4, 4});
  nn::MaxPool2d mp(2);
  EXPECT_TRUE(module_gradcheck(mp, x));
  nn::AvgPool2d ap(3, 1, 1, false, false);
  EXPECT_TRUE(module_gradcheck(ap, x));
  nn::AdaptiveAvgPool2d gap(Int2{2, 3});
  EXPECT_TRUE(module_gradcheck(gap, x));
}

TEST(PixelShuffle, MovesChannelsIntoSpace) {
  nn::PixelShuffle ps(2);
  Tensor x = arange(8, {.dtype = DType::F32}).reshape({1, 4, 1, 2});
  Tensor y = ps(x);
  EXPECT_EQ(y.shape(), (Shape{1, 1, 2, 4}));
  // out[0, 0, i, 2 w + j] = x[0, 2 i + j, 0, w]
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{0, 2, 1, 3, 4, 6, 5, 7}));
  EXPECT_STRATA_ERROR(nn::PixelShuffle(0), ValueError, {"PixelShuffle: upscale_factor must be > 0"});
}

TEST(Upsample, NearestAndBilinear) {
  Tensor x = tensor({1.f, 2.f, 3.f, 4.f}, {1, 1, 2, 2});
  nn::Upsample near({.scale_factor = 2.0});
  Tensor y = near(x);
  EXPECT_EQ(y.shape(), (Shape{1, 1, 4, 4}));
  EXPECT_EQ(y.to_vector<float>()[0], 1.f);
  EXPECT_EQ(y.to_vector<float>()[3], 2.f);
  nn::Upsample bil({.size = 3, .mode = nn::UpsampleMode::Bilinear, .align_corners = true});
  auto v = bil(x).to_vector<float>();
  ASSERT_EQ(v.size(), 9u);
  EXPECT_FLOAT_EQ(v[4], 2.5f);  // the centre averages all four
  EXPECT_EQ(near.str(), "Upsample(scale_factor=2, mode='nearest')");
  EXPECT_STRATA_ERROR(nn::Upsample({}), ValueError, {"Upsample: give exactly one of size and scale_factor"});
  manual_seed(9);
  nn::Upsample g({.scale_factor = 2.0, .mode = nn::UpsampleMode::Bilinear});
  EXPECT_TRUE(module_gradcheck(g, randn({1, 2, 3, 3})));
}
