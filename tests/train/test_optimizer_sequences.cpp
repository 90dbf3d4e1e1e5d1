// Every optimizer of train/optimizers.h a few steps on a tiny quadratic (optimizer_test_util.h)
// against update sequences worked out in double precision from fastai's published update rules
// (fastai/optimizer.py: debias(mom, 1-mom, step), eps outside sqrt(sqr_avg/debias2), the order
// weight decay -> stats -> step, RAdam's r > 5 switch, LARC's clip, LAMB's trust ratio capped at
// 10, Lookahead's sync every k steps). Tolerance: f32 rounding.
#include <gtest/gtest.h>

#include "optimizer_test_util.h"
#include "train/optimizers.h"

namespace strata::train {
namespace {

using testing::expect_sequence;
using testing::quad_param;

TEST(OptimizerSequence, SgdMatchesFastaiUpdateRule) {
  Tensor p = quad_param();
  auto opt = SGD{}({{p}}, 0.1);
  expect_sequence(*opt, p,
     {{0.9, -1.9, 0.4},
      {0.81, -1.805, 0.32},
      {0.729, -1.71475, 0.256}});
}

TEST(OptimizerSequence, SgdDecoupledWeightDecayScalesParamFirst) {
  Tensor p = quad_param();
  auto opt = SGD{.wd = 0.1}({{p}}, 0.1);
  expect_sequence(*opt, p,
     {{0.89, -1.88, 0.395},
      {0.7921, -1.7672, 0.31205},
      {0.704969, -1.661168, 0.2465195}});
}

TEST(OptimizerSequence, SgdL2AddsWdTimesParamToGradient) {
  Tensor p = quad_param();
  auto opt = SGD{.wd = 0.1, .decouple_wd = false}({{p}}, 0.1);
  expect_sequence(*opt, p,
     {{0.89, -1.88, 0.395},
      {0.7921, -1.7672, 0.31205},
      {0.704969, -1.661168, 0.2465195}});
}

TEST(OptimizerSequence, SgdMomentumKeepsUndampenedAverage) {
  Tensor p = quad_param();
  auto opt = SGD{.mom = 0.9, .wd = 0.01}({{p}}, 0.1);
  expect_sequence(*opt, p,
     {{0.899, -1.898, 0.3995},
      {0.718201, -1.711202, 0.2292005},
      {0.483752699, -1.4575207, 0.0302211995}});
}

TEST(OptimizerSequence, SgdMomentumWithL2) {
  Tensor p = quad_param();
  auto opt = SGD{.mom = 0.9, .wd = 0.1, .decouple_wd = false}({{p}}, 0.1);
  expect_sequence(*opt, p,
     {{0.89, -1.88, 0.395},
      {0.6931, -1.6592, 0.21755},
      {0.439649, -1.360928, 0.0121595}});
}

TEST(OptimizerSequence, RmsPropDividesBySqrtOfSquareAverage) {
  Tensor p = quad_param();
  auto opt = RMSProp{}({{p}}, 0.01);
  expect_sequence(*opt, p,
     {{0.90000001, -1.90000001, 0.40000001},
      {0.832917975, -1.83094334, 0.337339178},
      {0.779982282, -1.77534946, 0.290433226}});
}

TEST(OptimizerSequence, RmsPropWithMomentumStepsAlongGradAverage) {
  Tensor p = quad_param();
  auto opt = RMSProp{.mom = 0.9}({{p}}, 0.01);
  expect_sequence(*opt, p,
     {{0.90000001, -1.90000001, 0.40000001},
      {0.765835941, -1.76552123, 0.266845744},
      {0.61081034, -1.60909739, 0.117071754}});
}

TEST(OptimizerSequence, AdamDefaultsAreFastais) {
  Tensor p = quad_param();
  auto opt = Adam{}({{p}}, 0.1);
  expect_sequence(*opt, p,
     {{0.899001, -1.898001, 0.399501},
      {0.79849716, -1.7962628, 0.300250532},
      {0.698824303, -1.69490362, 0.203528172}});
}

TEST(OptimizerSequence, AdamWithL2) {
  Tensor p = quad_param();
  auto opt = Adam{.wd = 0.1, .decouple_wd = false}({{p}}, 0.1);
  expect_sequence(*opt, p,
     {{0.900000909, -1.90000083, 0.400000952},
      {0.800390423, -1.80015659, 0.301140278},
      {0.701500003, -1.70058286, 0.204687772}});
}

TEST(OptimizerSequence, RAdamIsSgdUntilVarianceIsTractableThenRectified) {
  Tensor p = quad_param();
  auto opt = RAdam{}({{p}}, 0.1);
  expect_sequence(*opt, p,
     {{0.9, -1.9, 0.4},
      {0.805263158, -1.80263158, 0.310526316},
      {0.715770052, -1.70793358, 0.23115168},
      {0.63148663, -1.61594024, 0.161414817},
      {0.552364195, -1.52668098, 0.100823982},
      {0.544612593, -1.5186683, 0.0940441689},
      {0.534896381, -1.50853949, 0.0859264476},
      {0.523510691, -1.49659009, 0.0768144334}});
}

TEST(OptimizerSequence, RAdamBetaSmoothsDenominatorWithSoftplus) {
  Tensor p = quad_param();
  auto opt = RAdam{.beta = 1.0}({{p}}, 0.1);
  expect_sequence(*opt, p,
     {{0.9, -1.9, 0.4},
      {0.805263158, -1.80263158, 0.310526316},
      {0.715770052, -1.70793358, 0.23115168},
      {0.63148663, -1.61594024, 0.161414817},
      {0.552364195, -1.52668098, 0.100823982},
      {0.547139937, -1.52092852, 0.0967985244},
      {0.540726688, -1.5137252, 0.0921803815},
      {0.53333982, -1.50529118, 0.0871783295}});
}

TEST(OptimizerSequence, QHAdamDefaults) {
  Tensor p = quad_param();
  auto opt = QHAdam{}({{p}}, 0.1);
  expect_sequence(*opt, p,
     {{0.900000001, -1.9, 0.400000001},
      {0.801714244, -1.80080146, 0.303923166},
      {0.705393834, -1.70246078, 0.21299162}});
}

TEST(OptimizerSequence, LarcClipsLayerLrToLr) {
  Tensor p = quad_param();
  auto opt = Larc{}({{p}}, 0.1);
  expect_sequence(*opt, p,
     {{0.997354249, -1.99735425, 0.497354249},
      {0.992327665, -1.99232416, 0.492334674},
      {0.985156718, -1.98513987, 0.485190391}});
}

TEST(OptimizerSequence, LarsDoesNotClipAndCountsWd) {
  Tensor p = quad_param();
  auto opt = Larc{.clip = false, .wd = 0.01}({{p}}, 0.1);
  expect_sequence(*opt, p,
     {{0.996391369, -1.99539137, 0.496891369},
      {0.990441602, -1.9884392, 0.491447916},
      {0.98238873, -1.97937536, 0.483919943}});
}

TEST(OptimizerSequence, LambScalesByTrustRatio) {
  Tensor p = quad_param();
  auto opt = Lamb{}({{p}}, 0.1);
  expect_sequence(*opt, p,
     {{0.867712434, -1.86771243, 0.367712434},
      {0.746563756, -1.74611853, 0.248118157},
      {0.6348631, -1.63324586, 0.141061054}});
}

TEST(OptimizerSequence, LookaheadOverSgdSyncsEveryK) {
  Tensor p = quad_param();
  auto opt = Lookahead{.inner = SGD{}, .k = 2, .alpha = 0.5}({{p}}, 0.1);
  expect_sequence(*opt, p,
     {{0.9, -1.9, 0.4},
      {0.905, -1.9025, 0.41},
      {0.8145, -1.807375, 0.328},
      {0.819025, -1.80975312, 0.3362},
      {0.7371225, -1.71926547, 0.26896}});
}

TEST(OptimizerSequence, RangerIsLookaheadOverRAdam) {
  Tensor p = quad_param();
  auto opt = ranger()({{p}}, 0.1);
  expect_sequence(*opt, p,
     {{0.899, -1.898, 0.3995},
      {0.803280487, -1.79871738, 0.309408192},
      {0.712737312, -1.70214536, 0.229156054},
      {0.627262251, -1.60827539, 0.158178957},
      {0.546743186, -1.51709723, 0.0959175879},
      {0.76915301, -1.75375099, 0.294375659},
      {0.758310833, -1.74172333, 0.284896612}});
}

}  // namespace
}  // namespace strata::train
