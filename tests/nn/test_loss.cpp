// Flat losses: values against hand-computed cross-entropies, the flattening of segmentation
// outputs, ignore_index, class weights, label smoothing (PyTorch's and fastai's), BCE with
// pos_weight, regression losses, reduction none, activation / decodes, and the errors.
#include <gtest/gtest.h>

#include <cmath>

#include "autograd/gradcheck.h"
#include "module_gradcheck.h"
#include "nn/loss.h"
#include "support/expect_error.h"
#include "tensor/ops.h"

using namespace strata;

namespace {

void expect_near(const std::vector<double>& got, const std::vector<double>& want, double tol = 1e-5) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "element " << i;
}

// -log softmax(logits)[t]
double ce(const std::vector<double>& logits, int t) {
  double s = 0;
  for (double l : logits) s += std::exp(l);
  return std::log(s) - logits[t];
}

double mean_neg_log_p(const std::vector<double>& logits) {  // mean over classes of -log p_c
  double r = 0;
  for (size_t c = 0; c < logits.size(); ++c) r += ce(logits, static_cast<int>(c));
  return r / logits.size();
}

Tensor i64(std::vector<int64_t> v, const Shape& s) { return tensor(v, s); }

double softplus(double x) { return std::log1p(std::exp(x)); }

}  // namespace

TEST(CrossEntropyLossFlat, ClassificationMatchesHandValues) {
  nn::CrossEntropyLossFlat loss;
  Tensor logits = tensor({1.f, 2.f, 3.f, 1.f, 1.f, 1.f}, {2, 3});
  Tensor y = loss(logits, i64({2, 0}, {2}));
  EXPECT_EQ(y.dim(), 0);
  EXPECT_NEAR(y.item(), (ce({1, 2, 3}, 2) + ce({1, 1, 1}, 0)) / 2, 1e-6);
  loss.reduction = Reduction::Sum;
  EXPECT_NEAR(loss(logits, i64({2, 0}, {2})).item(), ce({1, 2, 3}, 2) + ce({1, 1, 1}, 0), 1e-6);
  loss.reduction = Reduction::None;
  expect_near(loss(logits, i64({1, 2}, {2})).to_vector<double>(), {ce({1, 2, 3}, 1), ce({1, 1, 1}, 2)});
  // i32 targets work too
  loss.reduction = Reduction::Mean;
  EXPECT_NEAR(loss(logits, i64({2, 0}, {2}).to(DType::I32)).item(), (ce({1, 2, 3}, 2) + std::log(3.0)) / 2, 1e-6);
}

TEST(CrossEntropyLossFlat, SequenceOutputsFlattenOverTheLeadingDims) {
  nn::CrossEntropyLossFlat loss({.reduction = Reduction::None});
  Tensor logits = tensor({0.f, 1.f, 2.f, 0.f, 1.f, 1.f, 3.f, 0.f}, {2, 2, 2});  // [N, T, C]
  Tensor y = loss(logits, i64({1, 0, 0, 1}, {2, 2}));
  expect_near(y.to_vector<double>(), {ce({0, 1}, 1), ce({2, 0}, 0), ce({1, 1}, 0), ce({3, 0}, 1)});
}

TEST(CrossEntropyLossFlat, SegmentationWithAxisOneFlattensPixels) {
  // pred [1, 2, 2, 2]: channel 0 = [[0, 1], [2, 3]], channel 1 = all 1; target [[0, 1], [1, 0]].
  Tensor pred = tensor({0.f, 1.f, 2.f, 3.f, 1.f, 1.f, 1.f, 1.f}, {1, 2, 2, 2});
  Tensor target = i64({0, 1, 1, 0}, {1, 2, 2});
  const double p00 = ce({0, 1}, 0), p01 = ce({1, 1}, 1), p10 = ce({2, 1}, 1), p11 = ce({3, 1}, 0);
  nn::CrossEntropyLossFlat loss({.axis = 1});
  EXPECT_NEAR(loss(pred, target).item(), (p00 + p01 + p10 + p11) / 4, 1e-6);
  // Items come in fastai's order: the class axis is swapped with the last, so [N, W, H].
  loss.reduction = Reduction::None;
  expect_near(loss(pred, target).to_vector<double>(), {p00, p10, p01, p11});
  // Non-contiguous inputs give the same.
  Tensor pred_nc = pred.permute({0, 2, 3, 1}).contiguous().permute({0, 3, 1, 2});
  ASSERT_FALSE(pred_nc.is_contiguous());
  expect_near(loss(pred_nc, target).to_vector<double>(), {p00, p10, p01, p11});
}

TEST(CrossEntropyLossFlat, IgnoreIndexAndClassWeights) {
  Tensor logits = tensor({1.f, 2.f, 3.f, 1.f, 1.f, 1.f, 0.f, 0.f, 5.f}, {3, 3});
  nn::CrossEntropyLossFlat ignoring({.ignore_index = 255});
  EXPECT_NEAR(ignoring(logits, i64({2, 255, 0}, {3})).item(), (ce({1, 2, 3}, 2) + ce({0, 0, 5}, 0)) / 2, 1e-6);
  nn::CrossEntropyLossFlat weighted({.weight = tensor({1.f, 2.f, 4.f})});
  const double want = (4 * ce({1, 2, 3}, 2) + 2 * ce({1, 1, 1}, 1) + 1 * ce({0, 0, 5}, 0)) / 7;
  EXPECT_NEAR(weighted(logits, i64({2, 1, 0}, {3})).item(), want, 1e-6);
}

TEST(CrossEntropyLossFlat, LabelSmoothingMixesInTheUniformTarget) {
  Tensor logits = tensor({1.f, 2.f, 3.f, 0.f, 2.f, 0.f}, {2, 3});
  nn::CrossEntropyLossFlat loss({.label_smoothing = 0.2});
  const double l0 = 0.8 * ce({1, 2, 3}, 0) + 0.2 * mean_neg_log_p({1, 2, 3});
  const double l1 = 0.8 * ce({0, 2, 0}, 1) + 0.2 * mean_neg_log_p({0, 2, 0});
  EXPECT_NEAR(loss(logits, i64({0, 1}, {2})).item(), (l0 + l1) / 2, 1e-6);
  EXPECT_STRATA_ERROR(nn::CrossEntropyLossFlat({.label_smoothing = 1.5}), ValueError,
                      {"CrossEntropyLossFlat: label_smoothing must be in [0, 1]"});
}

TEST(CrossEntropyLossFlat, ActivationIsSoftmaxAndDecodesIsArgmaxOverTheAxis) {
  nn::CrossEntropyLossFlat loss;
  Tensor logits = tensor({0.f, std::log(3.f), 5.f, 1.f}, {2, 2});
  Tensor probs = loss.activation(logits);
  expect_near(probs.to_vector<double>(), {0.25, 0.75, 1 / (1 + std::exp(-4.0)), 1 / (1 + std::exp(4.0))});
  EXPECT_EQ(loss.decodes(probs).to_vector<int64_t>(), (std::vector<int64_t>{1, 0}));
  nn::CrossEntropyLossFlat seg({.axis = 1});
  Tensor masks = seg.decodes(seg.activation(randn({2, 3, 4, 5})));
  EXPECT_EQ(masks.shape(), (Shape{2, 4, 5}));
}

TEST(CrossEntropyLossFlat, GradientMatchesFiniteDifferences) {
  manual_seed(5);
  Tensor logits = randn({2, 3, 2, 2}).to(DType::F64).requires_grad_();
  Tensor target = randint(0, 3, {2, 2, 2});
  auto r = gradcheck(
      [&](const autograd::TensorList& in) {
        nn::CrossEntropyLossFlat loss({.axis = 1, .label_smoothing = 0.1});
        return loss(in[0], target);
      },
      {logits});
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(CrossEntropyLossFlat, BadInputsAreClearErrors) {
  nn::CrossEntropyLossFlat loss;
  EXPECT_STRATA_ERROR(loss(zeros({4, 3}), i64({0, 1, 2}, {3})), ShapeError,
                      {"CrossEntropyLossFlat:", "[4, 3] has 4 items of 3 classes", "target [3] has 3 elements"});
  EXPECT_STRATA_ERROR(loss(zeros({4, 3}), zeros({4})), DTypeError,
                      {"CrossEntropyLossFlat: the target must hold integer class indices", "f32"});
  nn::CrossEntropyLossFlat far({.axis = 3});
  EXPECT_STRATA_ERROR(far(zeros({4, 3}), i64({0, 1, 2, 0}, {4})), IndexError, {"axis 3 is out of range", "[4, 3]"});
  EXPECT_STRATA_ERROR(loss(zeros({4, 3})), ValueError,
                      {"CrossEntropyLossFlat: forward takes (prediction, target), got 1 input"});
}

TEST(Loss, CallsRunForwardHooksWithBothInputs) {
  nn::CrossEntropyLossFlat loss;
  size_t seen = 0;
  loss.register_forward_hook([&](nn::Module&, std::span<const Tensor> in, const Tensor&) { seen = in.size(); });
  loss(zeros({2, 3}), i64({0, 1}, {2}));
  EXPECT_EQ(seen, 2u);
}

TEST(LabelSmoothingCrossEntropyFlat, MatchesFastaisFormula) {
  Tensor logits = tensor({1.f, 2.f, 3.f, 0.f, 2.f, 0.f}, {2, 3});
  Tensor target = i64({0, 1}, {2});
  nn::LabelSmoothingCrossEntropyFlat loss;  // eps 0.1
  const double l0 = 0.1 * mean_neg_log_p({1, 2, 3}) + 0.9 * ce({1, 2, 3}, 0);
  const double l1 = 0.1 * mean_neg_log_p({0, 2, 0}) + 0.9 * ce({0, 2, 0}, 1);
  EXPECT_NEAR(loss(logits, target).item(), (l0 + l1) / 2, 1e-6);
  loss.reduction = Reduction::None;
  expect_near(loss(logits, target).to_vector<double>(), {l0, l1});
  loss.reduction = Reduction::Sum;
  EXPECT_NEAR(loss(logits, target).item(), l0 + l1, 1e-5);
  // Unweighted, it equals PyTorch's label smoothing with the same eps.
  nn::LabelSmoothingCrossEntropyFlat eps3(0.3);
  nn::CrossEntropyLossFlat torch_ls({.label_smoothing = 0.3});
  EXPECT_NEAR(eps3(logits, target).item(), torch_ls(logits, target).item(), 1e-6);
  EXPECT_EQ(loss.decodes(loss.activation(logits)).to_vector<int64_t>(), (std::vector<int64_t>{2, 1}));
}

TEST(BCEWithLogitsLossFlat, MatchesHandValuesAndFlattens) {
  nn::BCEWithLogitsLossFlat loss;
  Tensor x = tensor({1.f, -2.f, 0.5f, 3.f}, {2, 2});
  Tensor t = tensor({1.f, 0.f, 0.f, 1.f}, {2, 2});
  const std::vector<double> want = {softplus(-1), softplus(-2), softplus(0.5), softplus(-3)};
  EXPECT_NEAR(loss(x, t).item(), (want[0] + want[1] + want[2] + want[3]) / 4, 1e-6);
  loss.reduction = Reduction::None;
  Tensor per = loss(x, t);
  EXPECT_EQ(per.shape(), (Shape{4}));
  expect_near(per.to_vector<double>(), want);
  // Integer targets are converted to the prediction's dtype.
  expect_near(loss(x, i64({1, 0, 0, 1}, {2, 2})).to_vector<double>(), want);
}

TEST(BCEWithLogitsLossFlat, PosWeightKeepsTheShape) {
  nn::BCEWithLogitsLossFlat loss({.pos_weight = tensor({2.f, 1.f}), .reduction = Reduction::None});
  Tensor x = tensor({1.f, -2.f, 0.5f, 3.f}, {2, 2});
  Tensor t = tensor({1.f, 1.f, 0.f, 1.f}, {2, 2});
  Tensor y = loss(x, t);
  EXPECT_EQ(y.shape(), (Shape{2, 2}));
  expect_near(y.to_vector<double>(), {2 * softplus(-1), softplus(2), softplus(0.5), softplus(-3)});
}

TEST(BCEWithLogitsLossFlat, ActivationIsSigmoidAndDecodesThresholds) {
  nn::BCEWithLogitsLossFlat loss({.thresh = 0.7});
  Tensor x = tensor({0.f, 1.f, 2.f, -3.f});
  Tensor p = loss.activation(x);
  expect_near(p.to_vector<double>(), {0.5, 1 / (1 + std::exp(-1.0)), 1 / (1 + std::exp(-2.0)), 1 / (1 + std::exp(3.0))});
  EXPECT_EQ(loss.decodes(p).to_vector<bool>(), (std::vector<bool>{false, true, true, false}));
  EXPECT_STRATA_ERROR(loss(zeros({2, 3}), zeros({2, 2})), ShapeError, {"BCEWithLogitsLossFlat:", "[2, 3]", "[2, 2]"});
}

TEST(RegressionLossesFlat, FlattenPredictionAndTarget) {
  nn::MSELossFlat mse;
  Tensor pred = tensor({1.f, 2.f, 4.f}, {3, 1});
  Tensor target = tensor({0.f, 2.f, 1.f}, {3});  // [3] against [3, 1]: no broadcasting to [3, 3]
  EXPECT_NEAR(mse(pred, target).item(), (1 + 0 + 9) / 3.0, 1e-6);
  nn::L1LossFlat l1({.reduction = Reduction::None});
  expect_near(l1(pred, target).to_vector<double>(), {1, 0, 3});
  EXPECT_NEAR(sum(l1(pred, i64({0, 2, 1}, {3}))).item(), 4, 1e-6);
  EXPECT_STRATA_ERROR(mse(pred, zeros({4})), ShapeError, {"MSELossFlat:", "has 3 elements but the target [4] has 4"});
  EXPECT_EQ(mse.activation(pred).to_vector<float>(), pred.to_vector<float>());
}

TEST(FocalLossFlat, DownWeightsEasyItems) {
  Tensor logits = tensor({1.f, 2.f, 3.f, 1.f, 1.f, 1.f}, {2, 3});
  Tensor target = i64({2, 0}, {2});
  const double c0 = ce({1, 2, 3}, 2), c1 = ce({1, 1, 1}, 0);
  auto focal = [](double c, double g) { return std::pow(1 - std::exp(-c), g) * c; };
  nn::FocalLossFlat loss;  // gamma 2
  EXPECT_TRUE(loss.y_int);
  EXPECT_NEAR(loss(logits, target).item(), (focal(c0, 2) + focal(c1, 2)) / 2, 1e-6);
  loss.reduction = Reduction::None;
  expect_near(loss(logits, target).to_vector<double>(), {focal(c0, 2), focal(c1, 2)});
  nn::FocalLossFlat plain({.gamma = 0});
  EXPECT_NEAR(plain(logits, target).item(), (c0 + c1) / 2, 1e-6);
  EXPECT_EQ(loss.decodes(loss.activation(logits)).to_vector<int64_t>(), (std::vector<int64_t>{2, 0}));
}

TEST(BCELossFlat, TakesProbabilities) {
  nn::BCELossFlat loss;
  EXPECT_FALSE(loss.y_int);
  Tensor p = tensor({0.8f, 0.25f}, {2, 1});
  Tensor t = tensor({1.f, 0.f}, {2});
  EXPECT_NEAR(loss(p, t).item(), -(std::log(0.8) + std::log(0.75)) / 2, 1e-6);
  EXPECT_EQ(loss.decodes(p).to_vector<bool>(), (std::vector<bool>{true, false}));
}
