// Normalization layers: BatchNorm's train/eval behaviour and running statistics checked against
// hand-computed numbers, Layer/Group/Instance norm values, gradients, errors, and the NormBase
// recognition the freezing rule relies on.
#include <gtest/gtest.h>

#include <cmath>

#include "module_gradcheck.h"
#include "nn/activation.h"
#include "nn/conv.h"
#include "nn/conv_layer.h"
#include "nn/linear.h"
#include "nn/norm.h"
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

// x [2, 2, 1, 2]: channel 0 holds {1, 3, 5, 7}, channel 1 holds {2, 2, 4, 8}.
Tensor bn_input() { return tensor({1.f, 3.f, 2.f, 2.f, 5.f, 7.f, 4.f, 8.f}, {2, 2, 1, 2}); }

}  // namespace

TEST(BatchNorm2d, StartsAsIdentityAffineWithZeroMeanUnitVar) {
  nn::BatchNorm2d bn(3);
  EXPECT_EQ(bn.weight.to_vector<float>(), (std::vector<float>{1, 1, 1}));
  EXPECT_EQ(bn.bias.to_vector<float>(), (std::vector<float>{0, 0, 0}));
  EXPECT_EQ(bn.running_mean.to_vector<float>(), (std::vector<float>{0, 0, 0}));
  EXPECT_EQ(bn.running_var.to_vector<float>(), (std::vector<float>{1, 1, 1}));
  EXPECT_EQ(bn.num_batches_tracked.dtype(), DType::I64);
  EXPECT_EQ(bn.num_batches_tracked.dim(), 0);
  auto dict = bn.state_dict();
  std::vector<std::string> keys;
  for (auto& [k, v] : dict) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"bias", "num_batches_tracked", "running_mean", "running_var", "weight"}));
  EXPECT_EQ(bn.str(), "BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=true, track_running_stats=true)");
}

TEST(BatchNorm2d, TrainingNormalizesWithBatchStatsAndUpdatesRunningStats) {
  nn::BatchNorm2d bn(2);
  set_values(bn.weight, {2, 1});
  set_values(bn.bias, {0, 1});
  Tensor y = bn(bn_input());
  // Channel 0: mean 4, biased var 5, unbiased 20/3. Channel 1: mean 4, biased var 6, unbiased 8.
  const double s0 = std::sqrt(5 + 1e-5), s1 = std::sqrt(6 + 1e-5);
  expect_near(y.to_vector<double>(), {2 * -3 / s0, 2 * -1 / s0, -2 / s1 + 1, -2 / s1 + 1, 2 * 1 / s0, 2 * 3 / s0,
                                      0 / s1 + 1, 4 / s1 + 1});
  expect_near(bn.running_mean.to_vector<double>(), {0.4, 0.4});
  expect_near(bn.running_var.to_vector<double>(), {0.9 + 0.1 * 20.0 / 3.0, 0.9 + 0.1 * 8.0});
  EXPECT_EQ(bn.num_batches_tracked.item<int64_t>(), 1);
  bn(bn_input());
  expect_near(bn.running_mean.to_vector<double>(), {0.9 * 0.4 + 0.4, 0.9 * 0.4 + 0.4});
  EXPECT_EQ(bn.num_batches_tracked.item<int64_t>(), 2);
}

TEST(BatchNorm2d, EvalUsesRunningStatsAndLeavesThemAlone) {
  nn::BatchNorm2d bn(2, {.momentum = 0.5});
  set_values(bn.running_mean, {1, 2});
  set_values(bn.running_var, {4, 9});
  set_values(bn.weight, {1, 3});
  set_values(bn.bias, {0.5, 0});
  bn.eval();
  Tensor y = bn(bn_input());
  const double s0 = std::sqrt(4 + 1e-5), s1 = std::sqrt(9 + 1e-5);
  expect_near(y.to_vector<double>(), {0 / s0 + 0.5, 2 / s0 + 0.5, 0.0, 0.0, 4 / s0 + 0.5, 6 / s0 + 0.5, 3 * 2 / s1,
                                      3 * 6 / s1});
  expect_near(bn.running_mean.to_vector<double>(), {1, 2});
  EXPECT_EQ(bn.num_batches_tracked.item<int64_t>(), 0);
}

TEST(BatchNorm2d, MomentumSetsTheUpdateWeight) {
  nn::BatchNorm2d bn(2, {.momentum = 0.5});
  bn(bn_input());
  expect_near(bn.running_mean.to_vector<double>(), {2, 2});
  expect_near(bn.running_var.to_vector<double>(), {0.5 + 0.5 * 20.0 / 3.0, 0.5 + 0.5 * 8.0});
}

TEST(BatchNorm2d, WithoutRunningStatsUsesBatchStatsInBothModes) {
  nn::BatchNorm2d bn(2, {.affine = false, .track_running_stats = false});
  EXPECT_FALSE(bn.running_mean.defined());
  EXPECT_EQ(bn.state_dict().size(), 0u);
  EXPECT_EQ(bn.num_parameters(), 0);
  Tensor train_out = bn(bn_input());
  bn.eval();
  Tensor eval_out = bn(bn_input());
  expect_near(eval_out.to_vector<double>(), train_out.to_vector<double>());
  EXPECT_NEAR(train_out.to_vector<double>()[0], -3 / std::sqrt(5 + 1e-5), 1e-5);
}

TEST(BatchNorm2d, MovesToF64ButKeepsTheCounterI64) {
  nn::BatchNorm2d bn(2);
  bn.to(DType::F64);
  EXPECT_EQ(bn.running_var.dtype(), DType::F64);
  EXPECT_EQ(bn.num_batches_tracked.dtype(), DType::I64);
  bn(bn_input().to(DType::F64));
  EXPECT_EQ(bn.num_batches_tracked.item<int64_t>(), 1);
}

TEST(BatchNorm2d, BadInputsAreClearErrors) {
  nn::BatchNorm2d bn(3);
  EXPECT_STRATA_ERROR(bn(zeros({2, 3, 4})), ShapeError, {"BatchNorm2d: expected a 4-d input", "[2, 3, 4]"});
  EXPECT_STRATA_ERROR(bn(zeros({2, 4, 2, 2})), ShapeError, {"BatchNorm2d: input has 4 channels but num_features is 3"});
  EXPECT_STRATA_ERROR(nn::BatchNorm2d(0), ValueError, {"BatchNorm2d: num_features must be > 0"});
}

TEST(BatchNorm2d, GradientsMatchFiniteDifferencesInTrainAndEval) {
  manual_seed(11);
  nn::BatchNorm2d bn(3);
  set_values(bn.weight, {1.5, -0.5, 2});
  set_values(bn.bias, {0.1, 0.2, 0.3});
  EXPECT_TRUE(module_gradcheck(bn, randn({2, 3, 2, 2})));
  bn.eval();
  EXPECT_TRUE(module_gradcheck(bn, randn({2, 3, 2, 2})));
}

TEST(BatchNorm1d, TakesNCAndNCLInputs) {
  nn::BatchNorm1d bn(2);
  Tensor y = bn(tensor({1.f, 10.f, 3.f, 20.f}, {2, 2}));
  expect_near(y.to_vector<double>(), {-1 / std::sqrt(1 + 1e-5), -5 / std::sqrt(25 + 1e-5), 1 / std::sqrt(1 + 1e-5),
                                      5 / std::sqrt(25 + 1e-5)});
  expect_near(bn.running_var.to_vector<double>(), {0.9 + 0.1 * 2, 0.9 + 0.1 * 50});
  EXPECT_EQ(bn(randn({4, 2, 5})).shape(), (Shape{4, 2, 5}));
  EXPECT_STRATA_ERROR(bn(zeros({2, 2, 2, 2})), ShapeError, {"BatchNorm1d: expected a 2-d or 3-d input"});
  manual_seed(12);
  nn::BatchNorm1d g(3);
  EXPECT_TRUE(module_gradcheck(g, randn({4, 3})));
}

TEST(NormBase, RecognisesEveryNormLayerAndOnlyThem) {
  EXPECT_TRUE(nn::is_norm_layer(nn::BatchNorm1d(2)));
  EXPECT_TRUE(nn::is_norm_layer(nn::BatchNorm2d(2)));
  EXPECT_TRUE(nn::is_norm_layer(nn::LayerNorm({4})));
  EXPECT_TRUE(nn::is_norm_layer(nn::GroupNorm(2, 4)));
  EXPECT_TRUE(nn::is_norm_layer(nn::InstanceNorm2d(4)));
  EXPECT_FALSE(nn::is_norm_layer(nn::Linear(2, 2)));
  EXPECT_FALSE(nn::is_norm_layer(nn::Conv2d(2, 2, 1)));
  EXPECT_FALSE(nn::is_norm_layer(nn::ReLU()));
  EXPECT_TRUE(nn::is_batch_norm(nn::BatchNorm2d(2)));
  EXPECT_FALSE(nn::is_batch_norm(nn::LayerNorm({4})));
}

TEST(LayerNorm, NormalizesTheTrailingDims) {
  nn::LayerNorm ln({3});
  Tensor y = ln(tensor({1.f, 2.f, 3.f, 0.f, 0.f, 6.f}, {2, 3}));
  const double s0 = std::sqrt(2.0 / 3.0 + 1e-5), s1 = std::sqrt(8.0 + 1e-5);
  expect_near(y.to_vector<double>(), {-1 / s0, 0, 1 / s0, -2 / s1, -2 / s1, 4 / s1});
  set_values(ln.weight, {1, 2, 3});
  set_values(ln.bias, {1, 1, 1});
  expect_near(ln(tensor({1.f, 2.f, 3.f}, {3})).to_vector<double>(), {1 - 1 / s0, 1, 1 + 3 / s0});
  nn::LayerNorm two({2, 3}, 1e-6, /*elementwise_affine=*/false);
  EXPECT_EQ(two.num_parameters(), 0);
  EXPECT_EQ(two(randn({4, 2, 3})).shape(), (Shape{4, 2, 3}));
  EXPECT_STRATA_ERROR(two(zeros({4, 3, 2})), ShapeError,
                      {"LayerNorm: input shape [4, 3, 2] does not end with normalized_shape [2, 3]"});
  EXPECT_EQ(ln.str(), "LayerNorm((3), eps=1e-05, elementwise_affine=true)");
  manual_seed(13);
  nn::LayerNorm g({2, 3});
  set_values(g.weight, {1, 2, 3, -1, 0.5, 1});
  EXPECT_TRUE(module_gradcheck(g, randn({2, 2, 3})));
}

TEST(GroupNorm, NormalizesPerSampleAndGroup) {
  nn::GroupNorm gn(2, 4);
  // One sample, 4 channels of 1 value: groups {1, 3} and {10, 30}.
  Tensor y = gn(tensor({1.f, 3.f, 10.f, 30.f}, {1, 4, 1}));
  expect_near(y.to_vector<double>(), {-1 / std::sqrt(1 + 1e-5), 1 / std::sqrt(1 + 1e-5),
                                      -10 / std::sqrt(100 + 1e-5), 10 / std::sqrt(100 + 1e-5)});
  EXPECT_STRATA_ERROR(nn::GroupNorm(3, 4), ValueError, {"GroupNorm: num_groups (3) must divide num_channels (4)"});
  EXPECT_STRATA_ERROR(gn(zeros({1, 6, 2})), ShapeError, {"GroupNorm: input has 6 channels but num_channels is 4"});
  manual_seed(14);
  nn::GroupNorm g(2, 4);
  set_values(g.weight, {1, 2, -1, 0.5});
  set_values(g.bias, {0, 1, 2, 3});
  EXPECT_TRUE(module_gradcheck(g, randn({2, 4, 3})));
}

// Volumes and sequences: BatchNorm3d over [N, C, D, H, W], InstanceNorm1d / 3d over [N, C, *].
TEST(NormLayers, OneAndThreeSpatialDims) {
  manual_seed(16);
  nn::BatchNorm3d bn(3);
  Tensor v = randn({2, 3, 2, 3, 4}) * 2 + 1;
  Tensor y = bn(v);
  // Training mode: each channel of the output has mean 0 and (biased) variance 1.
  for (int64_t c = 0; c < 3; ++c) {
    Tensor yc = y.select(1, c);
    EXPECT_NEAR(mean(yc).item(), 0.0, 1e-5);
    EXPECT_NEAR(mean(yc * yc).item(), 1.0, 1e-3);
  }
  EXPECT_STRATA_ERROR(bn(zeros({2, 3, 4, 4})), ShapeError, {"BatchNorm3d", "5-d"});
  nn::InstanceNorm1d in1(2);
  Tensor s = tensor({1.f, 3.f, 2.f, 6.f}, {1, 2, 2});  // [N, C, L]: each (sample, channel) normalized alone
  const double s0 = std::sqrt(1 + 1e-5), s1 = std::sqrt(4 + 1e-5);
  expect_near(in1(s).to_vector<double>(), {-1 / s0, 1 / s0, -2 / s1, 2 / s1});
  EXPECT_EQ(in1(s.squeeze(0)).shape(), (Shape{2, 2}));  // unbatched [C, L]
  EXPECT_STRATA_ERROR(in1(zeros({1, 2, 2, 2})), ShapeError, {"InstanceNorm1d", "2-d or 3-d"});
  nn::InstanceNorm3d in3(3, 1e-5, /*affine=*/true);
  set_values(in3.weight, {2, -1, 0.5});
  EXPECT_TRUE(module_gradcheck(in3, randn({2, 3, 2, 2, 2})));
  // fastai's BatchNorm / InstanceNorm factories take ndim 3 now.
  EXPECT_EQ(nn::batch_norm_layer(4, 3)->type_name(), "BatchNorm3d");
  EXPECT_EQ(nn::instance_norm_layer(4, 1)->type_name(), "InstanceNorm1d");
  EXPECT_STRATA_ERROR(nn::batch_norm_layer(4, 4), ValueError, {"BatchNorm", "ndim", "4"});
}

TEST(InstanceNorm2d, NormalizesEachChannelOfEachSample) {
  nn::InstanceNorm2d in(2);
  EXPECT_EQ(in.num_parameters(), 0);
  Tensor y = in(tensor({1.f, 3.f, 2.f, 6.f}, {2, 1, 2}));  // unbatched [C, H, W]
  const double s0 = std::sqrt(1 + 1e-5), s1 = std::sqrt(4 + 1e-5);
  expect_near(y.to_vector<double>(), {-1 / s0, 1 / s0, -2 / s1, 2 / s1});
  EXPECT_EQ(in(randn({3, 2, 2, 2})).shape(), (Shape{3, 2, 2, 2}));
  EXPECT_STRATA_ERROR(in(zeros({1, 3, 2, 2})), ShapeError, {"InstanceNorm2d: input has 3 channels"});
  manual_seed(15);
  nn::InstanceNorm2d g(2, 1e-5, /*affine=*/true);
  set_values(g.weight, {2, -1});
  EXPECT_TRUE(module_gradcheck(g, randn({2, 2, 2, 3})));
}
