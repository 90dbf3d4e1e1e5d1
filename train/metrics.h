#pragma once
// Metrics (fastai/metrics.py and learner.py's Metric/AvgMetric/AccumMetric).
//
// A Metric is reset before each phase, accumulates over the phase's batches and gives one value
// at the end. Two wrappers turn a per-batch function into a metric:
//   AvgMetric    the batch-size-weighted mean of fn(pred, targ) over the batches (accuracy, mae)
//   AccumMetric  keeps every prediction and target and computes fn on all of them at the end
//                (rmse, R2, F1, ROC AUC, Matthews: values that are not means of batch values)
//
//   LearnerOptions{.metrics = {train::accuracy(), train::error_rate(), train::F1Score({.average = "macro"})}}
//
// The per-batch functions themselves are in train::fn (fn::accuracy(pred, targ) → 0-d tensor).
// value() returns NaN where fastai returns None (e.g. Dice with an empty union).
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace strata::train {

class Learner;

class Metric {
 public:
  virtual ~Metric() = default;
  virtual std::string name() const = 0;
  virtual void reset() = 0;
  // Called after each batch. The default reads learn.pred and learn.yb.
  virtual void accumulate(const Learner& learn);
  virtual void accumulate(const Tensor& pred, std::span<const Tensor> yb) {}
  virtual double value() const = 0;
};
using MetricPtr = std::shared_ptr<Metric>;

// fn(pred, targ) → a 0-d tensor per batch.
using MetricFn = std::function<Tensor(const Tensor& pred, const Tensor& targ)>;

class AvgMetric : public Metric {
 public:
  AvgMetric(MetricFn fn, std::string name) : fn_(std::move(fn)), name_(std::move(name)) {}
  std::string name() const override { return name_; }
  void reset() override { total_ = 0; count_ = 0; }
  void accumulate(const Tensor& pred, std::span<const Tensor> yb) override;
  using Metric::accumulate;
  double value() const override;

 private:
  MetricFn fn_;
  std::string name_;
  double total_ = 0;
  int64_t count_ = 0;
};

// The mean loss over the phase, weighted by batch size (fastai's AvgLoss): valid_loss.
class AvgLoss : public Metric {
 public:
  std::string name() const override { return "loss"; }
  void reset() override { total_ = 0; count_ = 0; }
  void accumulate(const Learner& learn) override;
  void add(double mean_loss, int64_t bs);
  double value() const override;

 protected:
  double total_ = 0;
  int64_t count_ = 0;
};

// Exponentially smoothed loss with debiasing (fastai's AvgSmoothLoss): after n batches,
// val = beta * val + (1 - beta) * loss and value() = val / (1 - beta^n).
class AvgSmoothLoss : public Metric {
 public:
  explicit AvgSmoothLoss(double beta = 0.98) : beta_(beta) {}
  std::string name() const override { return "loss"; }
  void reset() override { count_ = 0; val_ = 0; }
  void accumulate(const Learner& learn) override;
  void add(double mean_loss);
  double value() const override;
  int64_t count() const { return count_; }

 private:
  double beta_;
  int64_t count_ = 0;
  double val_ = 0;
};

// What AccumMetric applies to predictions before storing them (fastai's ActivationType).
enum class Activation { None, Sigmoid, Softmax, BinarySoftmax };

struct AccumOptions {
  std::optional<int64_t> dim_argmax{};  // argmax over this dim (after no activation)
  Activation activation = Activation::None;
  std::optional<double> thresh{};       // pred >= thresh
  bool flatten = true;                  // flatten preds and targets
};

class AccumMetric : public Metric {
 public:
  using Fn = std::function<double(const Tensor& preds, const Tensor& targs)>;
  AccumMetric(Fn fn, std::string name, AccumOptions opts = {})
      : fn_(std::move(fn)), name_(std::move(name)), opts_(opts) {}
  std::string name() const override { return name_; }
  void reset() override { preds_.clear(); targs_.clear(); }
  void accumulate(const Tensor& pred, std::span<const Tensor> yb) override;
  using Metric::accumulate;
  double value() const override;

 private:
  Fn fn_;
  std::string name_;
  AccumOptions opts_;
  std::vector<Tensor> preds_, targs_;
};

// ---- per-batch functions (0-d f32 results) ----
namespace fn {
Tensor accuracy(const Tensor& pred, const Tensor& targ, int64_t axis = -1);
Tensor error_rate(const Tensor& pred, const Tensor& targ, int64_t axis = -1);
// The target's score is among the k best (ties counted in the target's favour).
Tensor top_k_accuracy(const Tensor& pred, const Tensor& targ, int64_t k = 5, int64_t axis = -1);
Tensor accuracy_multi(const Tensor& pred, const Tensor& targ, double thresh = 0.5, bool sigmoid = true);
Tensor mae(const Tensor& pred, const Tensor& targ);
Tensor mse(const Tensor& pred, const Tensor& targ);
Tensor msle(const Tensor& pred, const Tensor& targ);
}  // namespace fn

// ---- scikit-learn-style scores on whole label vectors (what the AccumMetrics compute) ----
namespace score {
// average: "binary" (the score of class pos_label), "macro", "micro", "weighted".
double fbeta(const std::vector<int64_t>& y_true, const std::vector<int64_t>& y_pred, double beta,
             const std::string& average = "binary", int64_t pos_label = 1);
double precision(const std::vector<int64_t>& y_true, const std::vector<int64_t>& y_pred,
                 const std::string& average = "binary", int64_t pos_label = 1);
double recall(const std::vector<int64_t>& y_true, const std::vector<int64_t>& y_pred,
              const std::string& average = "binary", int64_t pos_label = 1);
double matthews_corrcoef(const std::vector<int64_t>& y_true, const std::vector<int64_t>& y_pred);
double balanced_accuracy(const std::vector<int64_t>& y_true, const std::vector<int64_t>& y_pred);
// Binary ROC AUC of scores against 0/1 labels (ties share rank).
double roc_auc(const std::vector<int64_t>& y_true, const std::vector<double>& scores);
// One-vs-rest ROC AUC of probabilities [N, C], macro averaged over classes present.
double roc_auc_ovr(const std::vector<int64_t>& y_true, const std::vector<double>& probs, int64_t n_classes);
double r2(const std::vector<double>& y_true, const std::vector<double>& y_pred);
}  // namespace score

// ---- the metrics, by fastai's names ----
MetricPtr accuracy(int64_t axis = -1);
MetricPtr error_rate(int64_t axis = -1);
MetricPtr top_k_accuracy(int64_t k = 5, int64_t axis = -1);
MetricPtr accuracy_multi(double thresh = 0.5, bool sigmoid = true);
MetricPtr Dice(int64_t axis = 1);          // binary segmentation: 2 |A∩B| / (|A| + |B|)
MetricPtr JaccardCoeff(int64_t axis = 1);  // |A∩B| / |A∪B|
MetricPtr Perplexity();                    // exp of the mean loss
MetricPtr rmse();
MetricPtr mae();
MetricPtr msle();
MetricPtr R2Score();

struct ClassifOptions {
  int64_t axis = -1;                // class dim of the predictions (argmax taken over it)
  std::string average = "binary";   // binary, macro, micro, weighted
  int64_t pos_label = 1;
};
MetricPtr F1Score(ClassifOptions opts = {});
MetricPtr FBeta(double beta, ClassifOptions opts = {});
MetricPtr Precision(ClassifOptions opts = {});
MetricPtr Recall(ClassifOptions opts = {});
MetricPtr MatthewsCorrCoef(int64_t axis = -1);
MetricPtr BalancedAccuracy(int64_t axis = -1);
// Binary: the softmax probability of the last class (fastai's RocAucBinary); multi-class:
// softmax probabilities, one-vs-rest, macro average (fastai's RocAuc).
MetricPtr RocAucBinary(int64_t axis = -1);
MetricPtr RocAuc(int64_t axis = -1);

}  // namespace strata::train
