// Initialisers: exact fans and gains, the statistics of each draw on a large tensor, in-place
// no-grad behaviour on parameters, and reproducibility from the global seed.
#include <gtest/gtest.h>

#include <cmath>

#include "nn/init.h"
#include "support/expect_error.h"
#include "tensor/ops.h"

using namespace strata;

TEST(Init, FansFollowPyTorch) {
  EXPECT_EQ(nn::fan_in_and_fan_out(zeros({5, 7})), (std::pair<int64_t, int64_t>{7, 5}));
  EXPECT_EQ(nn::fan_in_and_fan_out(zeros({8, 4, 3, 3})), (std::pair<int64_t, int64_t>{36, 72}));
  EXPECT_EQ(nn::fan_in_and_fan_out(zeros({6, 2, 5})), (std::pair<int64_t, int64_t>{10, 30}));
  EXPECT_STRATA_ERROR(nn::fan_in_and_fan_out(zeros({5})), ShapeError, {"at least 2 dims", "[5]"});
}

TEST(Init, GainsFollowPyTorch) {
  EXPECT_DOUBLE_EQ(nn::calculate_gain(nn::Nonlinearity::Linear), 1.0);
  EXPECT_DOUBLE_EQ(nn::calculate_gain(nn::Nonlinearity::Conv2d), 1.0);
  EXPECT_DOUBLE_EQ(nn::calculate_gain(nn::Nonlinearity::Sigmoid), 1.0);
  EXPECT_DOUBLE_EQ(nn::calculate_gain(nn::Nonlinearity::Tanh), 5.0 / 3.0);
  EXPECT_DOUBLE_EQ(nn::calculate_gain(nn::Nonlinearity::ReLU), std::sqrt(2.0));
  EXPECT_DOUBLE_EQ(nn::calculate_gain(nn::Nonlinearity::LeakyReLU, 0.2), std::sqrt(2.0 / 1.04));
  EXPECT_DOUBLE_EQ(nn::calculate_gain(nn::Nonlinearity::LeakyReLU, std::sqrt(5.0)), std::sqrt(1.0 / 3.0));
  EXPECT_DOUBLE_EQ(nn::calculate_gain(nn::Nonlinearity::SELU), 0.75);
}

TEST(Init, KaimingNormalHasStdGainOverSqrtFan) {
  manual_seed(0);
  Tensor w = empty({256, 128, 3, 3});  // fan_in 1152, fan_out 2304
  nn::kaiming_normal_(w);
  EXPECT_NEAR(strata::std(w).item(), std::sqrt(2.0 / 1152), 0.01 * std::sqrt(2.0 / 1152));
  EXPECT_NEAR(mean(w).item(), 0.0, 1e-3);
  nn::kaiming_normal_(w, 0, nn::FanMode::FanOut, nn::Nonlinearity::ReLU);
  EXPECT_NEAR(strata::std(w).item(), std::sqrt(2.0 / 2304), 0.01 * std::sqrt(2.0 / 2304));
  nn::kaiming_normal_(w, 0, nn::FanMode::FanIn, nn::Nonlinearity::Linear);
  EXPECT_NEAR(strata::std(w).item(), std::sqrt(1.0 / 1152), 0.01 * std::sqrt(1.0 / 1152));
}

TEST(Init, KaimingUniformBoundIsGainTimesSqrtThreeOverFan) {
  manual_seed(1);
  Tensor w = empty({512, 300});
  nn::kaiming_uniform_(w, std::sqrt(5.0));  // PyTorch's Linear init: bound 1 / sqrt(fan_in)
  const double bound = 1.0 / std::sqrt(300.0);
  EXPECT_LE(amax(abs(w)).item(), bound);
  EXPECT_GT(amax(abs(w)).item(), 0.99 * bound);
  EXPECT_NEAR(strata::std(w).item(), bound / std::sqrt(3.0), 0.01 * bound);
}

TEST(Init, XavierUsesBothFans) {
  manual_seed(2);
  Tensor w = empty({400, 200});
  nn::xavier_normal_(w, 2.0);
  EXPECT_NEAR(strata::std(w).item(), 2.0 * std::sqrt(2.0 / 600), 0.01 * 2.0 * std::sqrt(2.0 / 600));
  nn::xavier_uniform_(w);
  const double bound = std::sqrt(6.0 / 600);
  EXPECT_LE(amax(abs(w)).item(), bound);
  EXPECT_GT(amax(abs(w)).item(), 0.99 * bound);
}

TEST(Init, SimpleFillsAndDistributions) {
  manual_seed(3);
  Tensor w = empty({100000});
  nn::normal_(w, 3.0, 0.5);
  EXPECT_NEAR(mean(w).item(), 3.0, 0.01);
  EXPECT_NEAR(strata::std(w).item(), 0.5, 0.01);
  nn::uniform_(w, -2, 4);
  EXPECT_GE(amin(w).item(), -2.0);
  EXPECT_LT(amax(w).item(), 4.0);
  EXPECT_NEAR(mean(w).item(), 1.0, 0.03);
  nn::trunc_normal_(w, 0.0, 1.0, -1.0, 1.5);
  EXPECT_GE(amin(w).item(), -1.0);
  EXPECT_LE(amax(w).item(), 1.5);
  nn::constant_(w, 0.25);
  EXPECT_EQ(amax(w).item(), 0.25);
  EXPECT_EQ(amin(w).item(), 0.25);
  nn::zeros_(w);
  EXPECT_EQ(amax(abs(w)).item(), 0.0);
  nn::ones_(w);
  EXPECT_EQ(sum(w).item(), 100000.0);
}

TEST(Init, WorksInPlaceOnParametersWithoutRecordingAGraph) {
  Tensor p = zeros({4, 3}).requires_grad_();
  Tensor alias = p;
  nn::kaiming_normal_(p);
  EXPECT_GT(amax(abs(alias)).item(), 0.0);  // same data seen through every handle
  EXPECT_TRUE(p.is_leaf());
  EXPECT_TRUE(p.requires_grad());
  nn::zeros_(p);
  EXPECT_EQ(amax(abs(alias)).item(), 0.0);
}

TEST(Init, DrawsAreReproducibleFromTheGlobalSeed) {
  Tensor a = empty({50, 20}), b = empty({50, 20});
  manual_seed(42);
  nn::kaiming_uniform_(a);
  manual_seed(42);
  nn::kaiming_uniform_(b);
  EXPECT_EQ(a.to_vector<float>(), b.to_vector<float>());
  nn::kaiming_uniform_(b);
  EXPECT_NE(a.to_vector<float>(), b.to_vector<float>());
}

TEST(Init, BadTensorsAreClearErrors) {
  EXPECT_STRATA_ERROR(nn::kaiming_normal_(zeros({5})), ShapeError, {"kaiming_normal_:", "at least 2 dims"});
  EXPECT_STRATA_ERROR(nn::normal_(zeros({5}, {.dtype = DType::I64})), DTypeError, {"normal_: tensor must be floating"});
  EXPECT_STRATA_ERROR(nn::uniform_(zeros({5}), 2, 1), ValueError, {"uniform_: low (2) must not exceed high (1)"});
}
