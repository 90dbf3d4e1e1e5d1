// Metric values against hand-computed results (the scikit-learn definitions for the scores).
#include <gtest/gtest.h>

#include <cmath>

#include "learner_fixture.h"
#include "support/expect_error.h"

using namespace strata;
using namespace strata::train;
using namespace strata::train::testing;

namespace {

double run(const MetricPtr& m, const std::vector<std::pair<Tensor, Tensor>>& batches) {
  m->reset();
  for (auto& [p, t] : batches) {
    std::vector<Tensor> yb{t};
    m->accumulate(p, yb);
  }
  return m->value();
}

// Two-class logits whose argmax is `labels` (class 1 gets score s when the label is 1).
Tensor logits_for(const std::vector<int64_t>& labels) {
  std::vector<float> v;
  for (auto l : labels) {
    v.push_back(l == 0 ? 1.f : 0.f);
    v.push_back(l == 1 ? 1.f : 0.f);
  }
  return tensor(v, {static_cast<int64_t>(labels.size()), 2});
}

const std::vector<int64_t> kTrue{1, 0, 1, 1, 0, 1, 0, 0};
const std::vector<int64_t> kPred{1, 0, 0, 1, 1, 1, 0, 1};  // tp 3, fn 1, fp 2, tn 2

}  // namespace

TEST(Metrics, AccuracyAndErrorRate) {
  Tensor p = tensor({0.1f, 0.9f, 0.8f, 0.2f, 0.3f, 0.7f}, {3, 2});
  Tensor t = tensor<int64_t>({1, 1, 1});
  EXPECT_NEAR(fn::accuracy(p, t).item(), 2.0 / 3, 1e-6);
  EXPECT_NEAR(fn::error_rate(p, t).item(), 1.0 / 3, 1e-6);
  EXPECT_STRATA_ERROR(fn::accuracy(p, tensor<int64_t>({1, 1})), ShapeError, {"accuracy", "3", "2"});
}

TEST(Metrics, AvgMetricWeightsBatchesBySize) {
  // batch 1: 2 of 3 right; batch 2: 0 of 1 right → 2 / 4.
  Tensor p1 = tensor({0.1f, 0.9f, 0.8f, 0.2f, 0.3f, 0.7f}, {3, 2});
  Tensor p2 = tensor({0.9f, 0.1f}, {1, 2});
  auto acc = accuracy();
  EXPECT_NEAR(run(acc, {{p1, tensor<int64_t>({1, 1, 1})}, {p2, tensor<int64_t>({1})}}), 0.5, 1e-7);  // f32 batch means
  EXPECT_EQ(acc->name(), "accuracy");
  EXPECT_TRUE(std::isnan(run(acc, {})));
}

TEST(Metrics, TopKAccuracy) {
  Tensor p = tensor({0.1f, 0.5f, 0.4f, 0.6f, 0.3f, 0.1f, 0.2f, 0.2f, 0.6f}, {3, 3});
  Tensor t = tensor<int64_t>({2, 2, 0});
  EXPECT_NEAR(fn::top_k_accuracy(p, t, 2).item(), 2.0 / 3, 1e-6);
  EXPECT_NEAR(fn::top_k_accuracy(p, t, 1).item(), 0.0, 1e-6);
  EXPECT_NEAR(fn::top_k_accuracy(p, t, 3).item(), 1.0, 1e-6);
}

TEST(Metrics, AccuracyMulti) {
  Tensor p = tensor({2.f, -1.f, 0.5f, -3.f}, {2, 2});
  Tensor t = tensor({1.f, 0.f, 0.f, 0.f}, {2, 2});
  EXPECT_NEAR(fn::accuracy_multi(p, t).item(), 0.75, 1e-6);
  EXPECT_NEAR(fn::accuracy_multi(p, t, 0.5, /*sigmoid=*/false).item(), 1.0, 1e-6);  // raw 2 > .5, .5 not > .5
}

TEST(Metrics, DiceAndJaccard) {
  // argmax over dim 1 gives the mask [[1, 0], [1, 1]]; the target is [[1, 1], [0, 1]].
  Tensor p = tensor({0.f, 1.f, 0.f, 0.f,   // class 0 scores
                     1.f, 0.f, 1.f, 1.f},  // class 1 scores
                    {1, 2, 2, 2});
  Tensor t = tensor<int64_t>({1, 1, 0, 1}, {1, 2, 2});
  EXPECT_NEAR(run(Dice(), {{p, t}}), 4.0 / 6, 1e-12);
  EXPECT_NEAR(run(JaccardCoeff(), {{p, t}}), 0.5, 1e-12);
  EXPECT_TRUE(std::isnan(run(Dice(), {{tensor({1.f, 0.f}, {1, 2, 1, 1}), tensor<int64_t>({0}, {1, 1, 1})}})));
}

TEST(Metrics, RegressionMetrics) {
  Tensor y = tensor({3.f, -0.5f, 2.f, 7.f}), p = tensor({2.5f, 0.f, 2.f, 8.f});
  EXPECT_NEAR(run(rmse(), {{p.slice(0, 0, 2), y.slice(0, 0, 2)}, {p.slice(0, 2, 4), y.slice(0, 2, 4)}}),
              std::sqrt(1.5 / 4), 1e-6);
  EXPECT_NEAR(run(mae(), {{p, y}}), 0.5, 1e-6);
  EXPECT_NEAR(run(R2Score(), {{p, y}}), 1 - 1.5 / 29.1875, 1e-6);
  Tensor yp = tensor({3.f, 0.5f, 2.f, 7.f});
  double msle = 0;
  std::vector<double> a{3, 0.5, 2, 7}, b{2.5, 0, 2, 8};
  for (int i = 0; i < 4; ++i) msle += std::pow(std::log1p(b[i]) - std::log1p(a[i]), 2) / 4;
  EXPECT_NEAR(run(train::msle(), {{p, yp}}), msle, 1e-6);
}

TEST(Metrics, PrecisionRecallF1Binary) {
  Tensor p = logits_for(kPred), t = tensor<int64_t>(kTrue);
  EXPECT_NEAR(run(Precision(), {{p, t}}), 0.6, 1e-12);
  EXPECT_NEAR(run(Recall(), {{p, t}}), 0.75, 1e-12);
  EXPECT_NEAR(run(F1Score(), {{p, t}}), 2.0 / 3, 1e-12);
  EXPECT_NEAR(run(FBeta(2.0), {{p, t}}), 15.0 / 21, 1e-12);
  EXPECT_NEAR(run(F1Score({.pos_label = 0}), {{p, t}}), 4.0 / 7, 1e-12);
}

TEST(Metrics, F1Averages) {
  EXPECT_NEAR(score::fbeta(kTrue, kPred, 1, "macro"), (4.0 / 7 + 2.0 / 3) / 2, 1e-12);
  EXPECT_NEAR(score::fbeta(kTrue, kPred, 1, "weighted"), (4.0 / 7 + 2.0 / 3) / 2, 1e-12);  // supports 4 and 4
  EXPECT_NEAR(score::fbeta(kTrue, kPred, 1, "micro"), 5.0 / 8, 1e-12);
  // Unequal supports: y_true [0, 0, 0, 1], y_pred [0, 0, 1, 1]: F1_0 = 0.8, F1_1 = 2/3.
  std::vector<int64_t> t{0, 0, 0, 1}, p{0, 0, 1, 1};
  EXPECT_NEAR(score::fbeta(t, p, 1, "weighted"), (3 * 0.8 + 1 * 2.0 / 3) / 4, 1e-12);
  EXPECT_NEAR(score::precision(t, p, "macro"), (1.0 + 0.5) / 2, 1e-12);
  EXPECT_NEAR(score::recall(t, p, "macro"), (2.0 / 3 + 1.0) / 2, 1e-12);
  EXPECT_STRATA_ERROR(score::fbeta(t, p, 1, "samples"), ValueError, {"average"});
}

TEST(Metrics, MatthewsAndBalancedAccuracy) {
  Tensor p = logits_for(kPred), t = tensor<int64_t>(kTrue);
  EXPECT_NEAR(run(MatthewsCorrCoef(), {{p, t}}), 4 / std::sqrt(240.0), 1e-12);
  EXPECT_NEAR(run(BalancedAccuracy(), {{p, t}}), 0.625, 1e-12);
  std::vector<int64_t> t3{0, 1, 2, 0, 1, 2}, p3{0, 1, 1, 0, 0, 2};
  EXPECT_NEAR(score::matthews_corrcoef(t3, p3), 12 / std::sqrt(528.0), 1e-12);
  EXPECT_NEAR(score::balanced_accuracy(t3, p3), 2.0 / 3, 1e-12);
  EXPECT_DOUBLE_EQ(score::matthews_corrcoef({1, 1}, {1, 1}), 0.0);
}

TEST(Metrics, RocAuc) {
  EXPECT_NEAR(score::roc_auc({0, 0, 1, 1}, {0.1, 0.4, 0.35, 0.8}), 0.75, 1e-12);
  EXPECT_NEAR(score::roc_auc({0, 1, 0, 1}, {0.5, 0.5, 0.2, 0.9}), 0.875, 1e-12);  // a tie counts half
  EXPECT_STRATA_ERROR(score::roc_auc({1, 1}, {0.1, 0.2}), ValueError, {"roc_auc", "one class"});
  // RocAucBinary: the softmax probability of class 1, monotone in its logit.
  Tensor logits = tensor({0.f, 0.1f, 0.f, 0.4f, 0.f, 0.35f, 0.f, 0.8f}, {4, 2});
  EXPECT_NEAR(run(RocAucBinary(), {{logits, tensor<int64_t>({0, 0, 1, 1})}}), 0.75, 1e-9);
  // One-vs-rest over 3 classes: class AUCs 1, 2/3, 1.
  std::vector<float> probs{0.7f, 0.2f, 0.1f, 0.2f, 0.5f, 0.3f, 0.1f, 0.3f, 0.6f, 0.4f, 0.55f, 0.05f};
  Tensor lp = log(tensor(probs, {4, 3}));
  EXPECT_NEAR(run(RocAuc(), {{lp, tensor<int64_t>({0, 1, 2, 0})}}), (1 + 2.0 / 3 + 1) / 3, 1e-6);
}

TEST(Metrics, MetricsRunInsideTheLearnerAndNameTheColumns) {
  auto l = quiet_learner(regression_dls(32, 20, 8), affine_model(), {.metrics = {mae(), rmse(), Perplexity()}});
  l->fit(1, 1e-3);
  const auto& rec = l->recorder();
  EXPECT_EQ(rec.metric_names,
            (std::vector<std::string>{"epoch", "train_loss", "valid_loss", "mae", "rmse", "perplexity", "time"}));
  auto p = l->get_preds();
  auto v = l->validate();
  ASSERT_EQ(v.size(), 4u);
  EXPECT_NEAR(v[1], fn::mae(p.preds, p.targets).item(), 1e-6);
  EXPECT_NEAR(v[2], std::sqrt(fn::mse(p.preds, p.targets).item()), 1e-6);
  EXPECT_NEAR(v[3], std::exp(v[0]), 1e-9 * std::exp(v[0]));
}
