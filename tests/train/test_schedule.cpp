// Schedules against their closed forms; fit_one_cycle's lr and momentum at chosen iterations;
// flat-cos, SGDR and fine_tune; the Recorder's smoothed loss.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "learner_fixture.h"
#include "support/expect_error.h"
#include "train/callbacks/param_scheduler.h"

using namespace strata;
using namespace strata::train;
using namespace strata::train::testing;

namespace {
double cos_interp(double start, double end, double pos) {
  return start + (1 + std::cos(std::numbers::pi * (1 - pos))) * (end - start) / 2;
}
// fastai's one-cycle value at training share p.
double one_cycle(double p, double pct, double start, double mid, double end) {
  return p < pct ? cos_interp(start, mid, p / pct) : cos_interp(mid, end, (p - pct) / (1 - pct));
}
}  // namespace

TEST(Schedule, BasicSchedulesMatchTheirFormulas) {
  EXPECT_DOUBLE_EQ(SchedLin(1, 3)(0.25), 1.5);
  EXPECT_DOUBLE_EQ(SchedCos(1, 3)(0.0), 1.0);
  EXPECT_DOUBLE_EQ(SchedCos(1, 3)(0.5), 2.0);
  EXPECT_DOUBLE_EQ(SchedCos(1, 3)(1.0), 3.0);
  EXPECT_NEAR(SchedCos(0, 1)(0.25), (1 - std::cos(std::numbers::pi / 4)) / 2, 1e-12);
  EXPECT_DOUBLE_EQ(SchedNo(2, 5)(0.7), 2.0);
  EXPECT_NEAR(SchedExp(1e-4, 1e-2)(0.5), 1e-3, 1e-15);
  EXPECT_DOUBLE_EQ(SchedPoly(1, 3, 2)(0.5), 1.5);
  EXPECT_STRATA_ERROR(SchedExp(0, 1), ValueError, {"SchedExp"});
}

TEST(Schedule, CombineSchedsRunsEachOverItsShare) {
  auto s = combine_scheds({0.3, 0.7}, {SchedLin(0, 1), SchedLin(1, 0)});
  EXPECT_DOUBLE_EQ(s(0.0), 0.0);
  EXPECT_NEAR(s(0.15), 0.5, 1e-12);
  EXPECT_NEAR(s(0.3), 1.0, 1e-12);
  EXPECT_NEAR(s(0.65), 0.5, 1e-12);
  EXPECT_NEAR(s(1.0), 0.0, 1e-12);
  EXPECT_STRATA_ERROR(combine_scheds({0.3, 0.3}, {SchedNo(0, 0), SchedNo(0, 0)}), ValueError, {"sum"});
  EXPECT_STRATA_ERROR(combine_scheds({1.0}, {}), ValueError, {"combine_scheds"});
}

TEST(Schedule, OneCycleLrAndMomAtChosenIterationsMatchTheClosedForm) {
  // 4 epochs of 2 batches: 8 iterations; pct_train before batch i is i / 8.
  auto l = quiet_learner(regression_dls(32, 16, 16), affine_model());
  l->fit_one_cycle(4, {.lr_max = 1e-2});
  const auto& rec = l->recorder();
  ASSERT_EQ(rec.lrs.size(), 8u);
  ASSERT_EQ(rec.moms.size(), 8u);
  for (int i : {0, 1, 2, 3, 5, 7}) {
    double p = i / 8.0;
    EXPECT_NEAR(rec.lrs[i], one_cycle(p, 0.25, 1e-2 / 25, 1e-2, 1e-2 / 1e5), 1e-12) << i;
    EXPECT_NEAR(rec.moms[i], one_cycle(p, 0.25, 0.95, 0.85, 0.95), 1e-12) << i;
  }
  EXPECT_NEAR(rec.lrs[0], 4e-4, 1e-15);  // lr_max / div
  EXPECT_NEAR(rec.lrs[2], 1e-2, 1e-15);  // the peak at pct_start
  EXPECT_NEAR(rec.moms[2], 0.85, 1e-15);
  ASSERT_EQ(rec.hps.at("lr").size(), 8u);  // ParamScheduler hands its record to the Recorder
  EXPECT_EQ(rec.hps.at("lr"), rec.lrs);
}

TEST(Schedule, OneCycleWithDiscriminativeLrsSchedulesEachGroup) {
  auto model = std::make_shared<nn::Sequential>(
      std::vector<nn::ModulePtr>{affine_model(), affine_model()});
  Splitter split = [](nn::Module& m) {
    return std::vector<std::vector<Tensor>>{m.child("0")->parameters(), m.child("1")->parameters()};
  };
  auto l = quiet_learner(regression_dls(), model, {.splitter = split});
  std::vector<double> g0;
  struct Peek : Callback {
    std::vector<double>* out;
    explicit Peek(std::vector<double>* o) : Callback("Peek"), out(o) { order = 70; }
    void before_batch() override { if (learn->training) out->push_back(learn->opt->hyper("lr", 0)); }
  };
  l->fit_one_cycle(1, {.lr_max = slice(1e-3, 1e-1), .cbs = {std::make_shared<Peek>(&g0)}});
  ASSERT_EQ(g0.size(), 2u);
  EXPECT_NEAR(g0[0], 1e-3 / 25, 1e-15);
  EXPECT_NEAR(l->recorder().lrs[0], 1e-1 / 25, 1e-15);
}

TEST(Schedule, FlatCosKeepsTheLrFlatThenAnneals) {
  auto l = quiet_learner(regression_dls(), affine_model());
  l->fit_flat_cos(4, {.lr = 1e-2});
  const auto& lrs = l->recorder().lrs;
  ASSERT_EQ(lrs.size(), 8u);
  for (int i = 0; i < 6; ++i) EXPECT_NEAR(lrs[i], 1e-2, 1e-15) << i;
  EXPECT_NEAR(lrs[7], cos_interp(1e-2, 1e-7, (7 / 8.0 - 0.75) / 0.25), 1e-12);
}

TEST(Schedule, SgdrRestartsEachCycle) {
  auto l = quiet_learner(regression_dls(), affine_model());
  l->fit_sgdr(2, 1, {.lr_max = 1e-2});  // cycles of 1 and 2 epochs: 3 epochs, 6 batches
  const auto& lrs = l->recorder().lrs;
  ASSERT_EQ(lrs.size(), 6u);
  EXPECT_NEAR(lrs[0], 1e-2, 1e-15);
  EXPECT_NEAR(lrs[1], cos_interp(1e-2, 0, 0.5), 1e-12);
  EXPECT_NEAR(lrs[2], 1e-2, 1e-15);  // restart
  EXPECT_NEAR(lrs[3], cos_interp(1e-2, 0, 0.25), 1e-12);
}

TEST(Schedule, FineTuneFreezesThenTrainsEverything) {
  auto model = std::make_shared<nn::Sequential>(std::vector<nn::ModulePtr>{affine_model(), affine_model()});
  Splitter split = [](nn::Module& m) {
    return std::vector<std::vector<Tensor>>{m.child("0")->parameters(), m.child("1")->parameters()};
  };
  auto l = quiet_learner(regression_dls(), model, {.splitter = split});
  std::vector<bool> frozen;
  struct Peek : Callback {
    std::vector<bool>* out;
    explicit Peek(std::vector<bool>* o) : Callback("Peek"), out(o) {}
    void before_fit() override { out->push_back(!learn->model->child("0")->parameter("weight").requires_grad()); }
  };
  l->fine_tune(1, {.cbs = {std::make_shared<Peek>(&frozen)}});
  EXPECT_EQ(frozen, (std::vector<bool>{true, false}));
  // The second stage: slice(base_lr / 2 / 100, base_lr / 2) with div 5, peak at pct 0.3.
  EXPECT_NEAR(l->recorder().lrs[0], 1e-3 / 5, 1e-15);
  EXPECT_NEAR(l->opt->hyper("lr", 0) / l->opt->hyper("lr", 1), 0.01, 1e-9);
}

TEST(Recorder, SmoothedLossIsTheDebiasedExponentialAverage) {
  std::vector<double> raw{4.0, 2.0, 3.0, 1.0, 5.0, 0.5};
  struct SetLoss : Callback {
    std::vector<double> vals;
    size_t i = 0;
    explicit SetLoss(std::vector<double> v) : Callback("SetLoss"), vals(std::move(v)) { order = 10; }
    void after_loss() override {
      if (learn->training) learn->loss = scalar_tensor(vals[i++ % vals.size()]);
    }
  };
  auto l = quiet_learner(regression_dls(), affine_model());
  l->fit(3, 1e-3, {std::make_shared<SetLoss>(raw)});
  const auto& rec = l->recorder();
  ASSERT_EQ(rec.losses.size(), 6u);
  double val = 0;
  for (size_t n = 0; n < raw.size(); ++n) {
    val = 0.98 * val + 0.02 * raw[n];
    EXPECT_NEAR(rec.losses[n], val / (1 - std::pow(0.98, n + 1)), 1e-9) << n;
    EXPECT_DOUBLE_EQ(rec.raw_losses[n], raw[n]);
  }
  EXPECT_DOUBLE_EQ(rec.losses[0], 4.0);  // debiasing: the first value is the first loss
  EXPECT_EQ(rec.iters, (std::vector<int64_t>{2, 4, 6}));
  ASSERT_EQ(rec.values.size(), 3u);
  // train_loss of an epoch is the smoothed loss at its end.
  EXPECT_NEAR(rec.values[0][0], rec.losses[1], 1e-9);
  EXPECT_EQ(rec.metric_names, (std::vector<std::string>{"epoch", "train_loss", "valid_loss", "time"}));
}

TEST(Recorder, ValidLossIsTheBatchSizeWeightedMean) {
  auto dls = regression_dls(32, 20, 8);  // valid batches of 8, 8, 4
  auto l = quiet_learner(dls, affine_model());
  auto v = l->validate();
  auto p = l->get_preds({.with_loss = true});
  EXPECT_NEAR(v[0], mean(p.losses).item(), 1e-6);
}
