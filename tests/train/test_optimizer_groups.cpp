// Optimizer groups: per-group hypers, fastai's freezing rule (force_train params stay
// trainable), discriminative learning rates, weight-decay exemptions, and bad-argument errors.
#include <gtest/gtest.h>

#include "support/expect_error.h"
#include "tensor/ops.h"
#include "train/optimizers.h"
#include "train/steppers.h"

namespace strata::train {
namespace {

std::vector<std::vector<Tensor>> three_groups() {
  return {{ones({2}).requires_grad_(), ones({3}).requires_grad_()},
          {ones({4}).requires_grad_()},
          {ones({5}).requires_grad_()}};
}

void set_unit_grads(Optimizer& opt) {
  for (ParamGroup& g : opt.param_groups())
    for (Tensor& p : g.params) p.set_grad(ones(p.shape()));
}

TEST(OptimizerGroups, DefaultsGoToEveryGroupAndSetHypersIsPerGroup) {
  auto opt = Adam{}(three_groups(), 1e-3);
  ASSERT_EQ(opt->n_groups(), 3u);
  for (size_t g = 0; g < 3; ++g) {
    EXPECT_EQ(opt->hyper("lr", g), 1e-3);
    EXPECT_EQ(opt->hyper("mom", g), 0.9);
    EXPECT_EQ(opt->hyper("sqr_mom", g), 0.99);
    EXPECT_EQ(opt->hyper("eps", g), 1e-5);
    EXPECT_EQ(opt->hyper("wd", g), 0.01);
  }
  const std::vector<double> moms{0.95, 0.9, 0.85};
  opt->set_hypers("mom", moms);
  EXPECT_EQ(opt->hyper("mom", 0), 0.95);
  EXPECT_EQ(opt->hyper("mom", 2), 0.85);
  const std::vector<double> one{0.5};
  opt->set_hypers("wd", one);
  for (size_t g = 0; g < 3; ++g) EXPECT_EQ(opt->hyper("wd", g), 0.5);
  opt->set_hyper("lr", 0.25);
  for (size_t g = 0; g < 3; ++g) EXPECT_EQ(opt->hyper("lr", g), 0.25);
  opt->set_hyper("my_extra", 3.0);  // a new name becomes a hyper of every group, like fastai
  EXPECT_EQ(opt->hyper("my_extra", 1), 3.0);
}

TEST(OptimizerGroups, PerGroupLrChangesOnlyItsGroup) {
  auto opt = SGD{}(three_groups(), 0.1);
  const std::vector<double> lrs{0.0, 0.1, 0.5};
  opt->set_hypers("lr", lrs);
  set_unit_grads(*opt);
  opt->step();
  EXPECT_FLOAT_EQ(opt->param_groups()[0].params[1].detach().to_vector<float>()[0], 1.0f);
  EXPECT_FLOAT_EQ(opt->param_groups()[1].params[0].detach().to_vector<float>()[0], 0.9f);
  EXPECT_FLOAT_EQ(opt->param_groups()[2].params[0].detach().to_vector<float>()[0], 0.5f);
}

TEST(OptimizerGroups, SpreadLrsIsGeometricLikeEvenMults) {
  const std::vector<double> lrs = spread_lrs(1e-5, 1e-3, 3);
  ASSERT_EQ(lrs.size(), 3u);
  EXPECT_DOUBLE_EQ(lrs[0], 1e-5);
  EXPECT_NEAR(lrs[1], 1e-4, 1e-18);
  EXPECT_DOUBLE_EQ(lrs[2], 1e-3);
  EXPECT_EQ(spread_lrs(1e-5, 1e-3, 1), std::vector<double>{1e-3});
  const std::vector<double> four = spread_lrs(1e-6, 1e-3, 4);
  EXPECT_NEAR(four[1], 1e-5, 1e-19);
  EXPECT_NEAR(four[2], 1e-4, 1e-18);
  EXPECT_STRATA_ERROR(spread_lrs(0.0, 1e-3, 3), ValueError, {"spread_lrs:", "positive"});
  EXPECT_STRATA_ERROR(spread_lrs(1e-5, 1e-3, 0), ValueError, {"spread_lrs:", "no parameter groups"});
}

TEST(OptimizerGroups, DiscriminativeLrsLandOnTheRightGroups) {
  auto opt = SGD{}(three_groups(), 1e-3);
  opt->set_hypers("lr", spread_lrs(1e-3, 1e-1, 3));
  set_unit_grads(*opt);
  opt->step();
  // p = 1 - lr * 1: the earliest group (the body) moves least.
  EXPECT_FLOAT_EQ(opt->param_groups()[0].params[0].detach().to_vector<float>()[0], 1.0f - 1e-3f);
  EXPECT_FLOAT_EQ(opt->param_groups()[1].params[0].detach().to_vector<float>()[0], 1.0f - 1e-2f);
  EXPECT_FLOAT_EQ(opt->param_groups()[2].params[0].detach().to_vector<float>()[0], 1.0f - 1e-1f);
}

TEST(OptimizerGroups, FreezeToStopsEarlierGroupsButKeepsForceTrainParams) {
  auto opt = SGD{}(three_groups(), 0.1);
  const Tensor bn_weight = opt->param_groups()[0].params[1];
  opt->set_force_train({bn_weight});
  opt->freeze_to(2);
  EXPECT_EQ(opt->frozen_idx(), 2);
  EXPECT_FALSE(opt->param_groups()[0].params[0].requires_grad());
  EXPECT_TRUE(opt->param_groups()[0].params[1].requires_grad());  // force_train
  EXPECT_FALSE(opt->param_groups()[1].params[0].requires_grad());
  EXPECT_TRUE(opt->param_groups()[2].params[0].requires_grad());

  opt->freeze();  // freeze_to(-1): all but the last group
  EXPECT_EQ(opt->frozen_idx(), 2);
  opt->freeze_to(-2);
  EXPECT_EQ(opt->frozen_idx(), 1);
  EXPECT_TRUE(opt->param_groups()[1].params[0].requires_grad());
  EXPECT_FALSE(opt->param_groups()[0].params[0].requires_grad());

  opt->unfreeze();
  for (const ParamGroup& g : opt->param_groups())
    for (const Tensor& p : g.params) EXPECT_TRUE(p.requires_grad());

  // A frozen step leaves frozen params alone and moves force_train ones.
  opt->freeze();
  set_unit_grads(*opt);
  opt->step();
  EXPECT_FLOAT_EQ(opt->param_groups()[0].params[0].detach().to_vector<float>()[0], 1.0f);
  EXPECT_FLOAT_EQ(opt->param_groups()[0].params[1].detach().to_vector<float>()[0], 0.9f);
  EXPECT_FLOAT_EQ(opt->param_groups()[2].params[0].detach().to_vector<float>()[0], 0.9f);
}

TEST(OptimizerGroups, FreezeNeedsTwoGroups) {
  auto opt = SGD{}({{ones({2}).requires_grad_()}}, 0.1);
  EXPECT_STRATA_ERROR(opt->freeze(), ValueError, {"optimizer:", "freeze()", "2 parameter groups"});
}

TEST(OptimizerGroups, NoWeightDecayIsHonouredOnBothPaths) {
  for (bool decouple : {true, false}) {
    // Fused (SGD recognised) and generic (RAdam) alike.
    auto groups = three_groups();
    const Tensor bias = groups[0][1];
    auto opt = SGD{.wd = 0.5, .decouple_wd = decouple}(groups, 0.1);
    opt->set_no_weight_decay({bias});
    EXPECT_FALSE(opt->state(bias).do_wd);
    for (ParamGroup& g : opt->param_groups())
      for (Tensor& p : g.params) p.set_grad(zeros(p.shape()));
    opt->step();
    EXPECT_FLOAT_EQ(bias.detach().to_vector<float>()[0], 1.0f);
    EXPECT_FLOAT_EQ(groups[0][0].detach().to_vector<float>()[0], 0.95f);  // 1 - 0.1 * 0.5
  }
  auto groups = three_groups();
  auto radam = RAdam{.wd = 0.5}(groups, 0.1);
  radam->set_no_weight_decay({groups[1][0]});
  for (ParamGroup& g : radam->param_groups())
    for (Tensor& p : g.params) p.set_grad(zeros(p.shape()));
  radam->step();
  EXPECT_FLOAT_EQ(groups[1][0].detach().to_vector<float>()[0], 1.0f);
  EXPECT_FLOAT_EQ(groups[2][0].detach().to_vector<float>()[0], 0.95f);
}

TEST(OptimizerGroups, ZeroGradMakesGradsUndefined) {
  auto opt = SGD{}(three_groups(), 0.1);
  set_unit_grads(*opt);
  opt->zero_grad();
  for (const ParamGroup& g : opt->param_groups())
    for (const Tensor& p : g.params) EXPECT_FALSE(p.grad().defined());
  opt->step();  // nothing to do, no error
  EXPECT_FLOAT_EQ(opt->param_groups()[0].params[0].detach().to_vector<float>()[0], 1.0f);
}

TEST(OptimizerGroups, BadHypersAndArgumentsThrowNamingTheProblem) {
  auto opt = Adam{}(three_groups(), 1e-3);
  EXPECT_STRATA_ERROR(opt->set_hyper("lr", -1e-3), ValueError, {"optimizer:", "'lr'", ">= 0"});
  EXPECT_STRATA_ERROR(opt->set_hyper("mom", 1.0), ValueError, {"optimizer:", "'mom'", "[0, 1)"});
  EXPECT_STRATA_ERROR(opt->set_hyper("eps", std::nan("")), ValueError, {"optimizer:", "'eps'", "finite"});
  const std::vector<double> two{0.1, 0.2};
  EXPECT_STRATA_ERROR(opt->set_hypers("lr", two), ValueError, {"optimizer:", "2 values", "3 parameter groups"});
  EXPECT_STRATA_ERROR(opt->hyper("learning_rate"), ValueError, {"optimizer:", "'learning_rate'", "lr"});
  EXPECT_STRATA_ERROR(opt->hyper("lr", 3), IndexError, {"optimizer:", "group 3", "3 groups"});
  EXPECT_EQ(opt->hyper("lr"), 1e-3);  // the failed calls changed nothing
  EXPECT_STRATA_ERROR(opt->state(ones({2})), ValueError, {"optimizer:", "not a parameter", "[2]"});
  EXPECT_STRATA_ERROR(Adam{}(three_groups(), -1.0), ValueError, {"'lr'", ">= 0"});

  const Tensor p = ones({2}).requires_grad_();
  EXPECT_STRATA_ERROR(SGD{}({{p}, {p}}, 0.1), ValueError, {"optimizer:", "also parameter 0 of group 0"});
  EXPECT_STRATA_ERROR(SGD{}({{Tensor()}}, 0.1), ValueError, {"optimizer:", "undefined"});
  EXPECT_STRATA_ERROR(SGD{}({{ones({2}, {.dtype = DType::I64})}}, 0.1), DTypeError, {"optimizer:", "i64"});
  EXPECT_STRATA_ERROR(Optimizer({{p}}, {}, {{"lr", 0.1}}), ValueError, {"optimizer:", "no steppers"});
  EXPECT_STRATA_ERROR(Lookahead({.inner = SGD{}, .k = 0})({{p}}, 0.1), ValueError, {"Lookahead:", "k must be"});

  // A stepper whose hyper is missing says which.
  Optimizer bare({{p}}, {&adam_step}, {{"lr", 0.1}}, {&step_stat});
  Tensor w = p;
  w.set_grad(ones({2}));
  EXPECT_STRATA_ERROR(bare.step(), ValueError, {"optimizer:", "'mom'", "lr"});
}

}  // namespace
}  // namespace strata::train

namespace strata::train {
namespace {

// fastai's default hyper-parameters, factory by factory.
TEST(OptimizerDefaults, FactoriesUseFastaisDefaults) {
  auto p = [] { return std::vector<std::vector<Tensor>>{{ones({2}).requires_grad_()}}; };
  auto expect = [](const Optimizer& o, const Hypers& want) {
    EXPECT_EQ(o.param_groups()[0].hypers, want);
  };
  expect(*SGD{}(p(), 0.1), {{"lr", 0.1}, {"mom", 0.0}, {"wd", 0.0}});
  expect(*RMSProp{}(p(), 0.1), {{"lr", 0.1}, {"mom", 0.0}, {"sqr_mom", 0.99}, {"eps", 1e-8}, {"wd", 0.0}});
  expect(*Adam{}(p(), 0.1), {{"lr", 0.1}, {"mom", 0.9}, {"sqr_mom", 0.99}, {"eps", 1e-5}, {"wd", 0.01}});
  expect(*RAdam{}(p(), 0.1),
         {{"lr", 0.1}, {"mom", 0.9}, {"sqr_mom", 0.99}, {"eps", 1e-5}, {"wd", 0.0}, {"beta", 0.0}});
  expect(*QHAdam{}(p(), 0.1), {{"lr", 0.1},
                                {"mom", 0.999},
                                {"sqr_mom", 0.999},
                                {"nu_1", 0.7},
                                {"nu_2", 1.0},
                                {"eps", 1e-8},
                                {"wd", 0.0}});
  expect(*Larc{}(p(), 0.1), {{"lr", 0.1}, {"mom", 0.9}, {"trust_coeff", 0.02}, {"eps", 1e-8}, {"wd", 0.0}});
  expect(*Lamb{}(p(), 0.1), {{"lr", 0.1}, {"mom", 0.9}, {"sqr_mom", 0.99}, {"eps", 1e-5}, {"wd", 0.0}});
  auto r = ranger()(p(), 0.1);
  expect(*r, {{"lr", 0.1}, {"mom", 0.95}, {"sqr_mom", 0.99}, {"eps", 1e-6}, {"wd", 0.01}, {"beta", 0.0}});
  const auto* look = dynamic_cast<const LookaheadOptimizer*>(r.get());
  ASSERT_NE(look, nullptr);
  EXPECT_EQ(look->k(), 6);
  EXPECT_EQ(look->alpha(), 0.5);
}

TEST(OptimizerDefaults, LookaheadSharesHypersAndFreezingWithItsInnerComposition) {
  std::vector<std::vector<Tensor>> groups{{ones({2}).requires_grad_()}, {ones({2}).requires_grad_()}};
  auto opt = Lookahead{.inner = SGD{}, .k = 3}(groups, 0.1);
  opt->set_hyper("lr", 0.5);
  opt->freeze();
  for (auto& g : opt->param_groups())
    for (auto& p : g.params) p.set_grad(ones({2}));
  opt->step();  // step 1 of 3: fast weights only
  EXPECT_FLOAT_EQ(groups[0][0].detach().to_vector<float>()[0], 1.0f);
  EXPECT_FLOAT_EQ(groups[1][0].detach().to_vector<float>()[0], 0.5f);
  opt->step();
  EXPECT_FLOAT_EQ(groups[1][0].detach().to_vector<float>()[0], 0.0f);
  opt->step();  // sync: slow = 1 + 0.5 * (-0.5 - 1) = 0.25
  EXPECT_FLOAT_EQ(groups[1][0].detach().to_vector<float>()[0], 0.25f);
  EXPECT_FLOAT_EQ(groups[0][0].detach().to_vector<float>()[0], 1.0f);  // frozen, stays
}

}  // namespace
}  // namespace strata::train
