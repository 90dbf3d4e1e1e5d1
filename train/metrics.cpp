// Metrics. Batch functions are tensor ops (they run where the predictions are); the whole-phase
// scores pull labels to the CPU once and count there, the way scikit-learn defines them.
#include "train/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "autograd/grad_mode.h"
#include "tensor/error.h"
#include "tensor/ops.h"
#include "train/learner.h"

namespace strata::train {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

int64_t find_bs(std::span<const Tensor> yb) {
  if (yb.empty() || !yb[0].defined() || yb[0].dim() == 0) return 1;
  return yb[0].size(0);
}

// fastai's flatten_check: both flattened, same number of elements.
std::pair<Tensor, Tensor> flatten_check(const Tensor& a, const Tensor& b, const char* who) {
  Tensor fa = a.contiguous().flatten(), fb = b.contiguous().flatten();
  STRATA_CHECK(fa.numel() == fb.numel(), ShapeError, "{}: predictions and targets differ in size ({} and {}, shapes {} and {})",
               who, fa.numel(), fb.numel(), a.shape(), b.shape());
  return {fa, fb};
}

std::vector<int64_t> labels_of(const Tensor& t) { return t.detach().cpu().contiguous().flatten().to(DType::I64).to_vector<int64_t>(); }
std::vector<double> values_of(const Tensor& t) { return t.detach().cpu().contiguous().flatten().to(DType::F64).to_vector<double>(); }

struct Counts {
  std::vector<int64_t> labels;  // sorted union of true and predicted labels
  std::vector<double> tp, fp, fn, support;
};

Counts count_labels(const std::vector<int64_t>& y_true, const std::vector<int64_t>& y_pred) {
  STRATA_CHECK(y_true.size() == y_pred.size(), ShapeError, "score: {} targets but {} predictions", y_true.size(),
               y_pred.size());
  std::set<int64_t> all(y_true.begin(), y_true.end());
  all.insert(y_pred.begin(), y_pred.end());
  Counts c;
  c.labels.assign(all.begin(), all.end());
  std::map<int64_t, size_t> at;
  for (size_t i = 0; i < c.labels.size(); ++i) at[c.labels[i]] = i;
  size_t n = c.labels.size();
  c.tp.assign(n, 0); c.fp.assign(n, 0); c.fn.assign(n, 0); c.support.assign(n, 0);
  for (size_t i = 0; i < y_true.size(); ++i) {
    size_t t = at[y_true[i]], p = at[y_pred[i]];
    c.support[t] += 1;
    if (t == p) c.tp[t] += 1;
    else { c.fp[p] += 1; c.fn[t] += 1; }
  }
  return c;
}

double safe_div(double a, double b) { return b == 0 ? 0.0 : a / b; }

// Which statistic: 0 precision, 1 recall, 2 f-beta.
double prf(const std::vector<int64_t>& y_true, const std::vector<int64_t>& y_pred, int which, double beta,
           const std::string& average, int64_t pos_label) {
  Counts c = count_labels(y_true, y_pred);
  double b2 = beta * beta;
  auto stat = [&](double tp, double fp, double fn) {
    if (which == 0) return safe_div(tp, tp + fp);
    if (which == 1) return safe_div(tp, tp + fn);
    return safe_div((1 + b2) * tp, (1 + b2) * tp + b2 * fn + fp);
  };
  if (average == "binary") {
    for (size_t i = 0; i < c.labels.size(); ++i)
      if (c.labels[i] == pos_label) return stat(c.tp[i], c.fp[i], c.fn[i]);
    return 0.0;
  }
  if (average == "micro") {
    double tp = 0, fp = 0, fn = 0;
    for (size_t i = 0; i < c.labels.size(); ++i) { tp += c.tp[i]; fp += c.fp[i]; fn += c.fn[i]; }
    return stat(tp, fp, fn);
  }
  STRATA_CHECK(average == "macro" || average == "weighted", ValueError,
               "score: average must be binary, micro, macro or weighted, got '{}'", average);
  double sum = 0, wsum = 0;
  for (size_t i = 0; i < c.labels.size(); ++i) {
    double w = average == "macro" ? 1.0 : c.support[i];
    sum += w * stat(c.tp[i], c.fp[i], c.fn[i]);
    wsum += w;
  }
  return safe_div(sum, wsum);
}

// Predicted labels: argmax over `axis`.
std::vector<int64_t> pred_labels(const Tensor& preds) { return labels_of(preds); }

class DiceMetric : public Metric {
 public:
  DiceMetric(int64_t axis, bool jaccard) : axis_(axis), jaccard_(jaccard) {}
  std::string name() const override { return jaccard_ ? "jaccard_coeff" : "dice"; }
  void reset() override { inter_ = 0; union_ = 0; }
  void accumulate(const Tensor& pred, std::span<const Tensor> yb) override {
    NoGradGuard g;
    auto [p, t] = flatten_check(argmax(pred, axis_), yb[0], name().c_str());
    Tensor pf = p.to(DType::F64), tf = t.to(DType::F64);
    inter_ += sum(pf * tf).item();
    union_ += sum(pf + tf).item();
  }
  using Metric::accumulate;
  double value() const override {
    if (union_ <= 0) return kNaN;
    return jaccard_ ? inter_ / (union_ - inter_) : 2.0 * inter_ / union_;
  }

 private:
  int64_t axis_;
  bool jaccard_;
  double inter_ = 0, union_ = 0;
};

class PerplexityMetric : public AvgLoss {
 public:
  std::string name() const override { return "perplexity"; }
  double value() const override { return count_ == 0 ? kNaN : std::exp(total_ / count_); }
};

}  // namespace

// ---- Metric, AvgMetric, AvgLoss, AvgSmoothLoss, AccumMetric ----

void Metric::accumulate(const Learner& learn) {
  std::vector<Tensor> yb(learn.yb.begin(), learn.yb.end());
  accumulate(learn.pred, yb);
}

void AvgMetric::accumulate(const Tensor& pred, std::span<const Tensor> yb) {
  NoGradGuard g;
  STRATA_CHECK(!yb.empty(), ValueError, "{}: no target", name_);
  int64_t bs = find_bs(yb);
  total_ += fn_(pred.detach(), yb[0]).item() * bs;
  count_ += bs;
}
double AvgMetric::value() const { return count_ == 0 ? kNaN : total_ / count_; }

void AvgLoss::accumulate(const Learner& learn) {
  NoGradGuard g;
  std::vector<Tensor> yb(learn.yb.begin(), learn.yb.end());
  add(mean(learn.loss.detach()).item(), find_bs(yb));
}
void AvgLoss::add(double mean_loss, int64_t bs) {
  total_ += mean_loss * bs;
  count_ += bs;
}
double AvgLoss::value() const { return count_ == 0 ? kNaN : total_ / count_; }

void AvgSmoothLoss::accumulate(const Learner& learn) {
  NoGradGuard g;
  add(mean(learn.loss.detach()).item());
}
void AvgSmoothLoss::add(double loss) {
  ++count_;
  val_ = beta_ * val_ + (1 - beta_) * loss;  // torch.lerp(loss, val, beta)
}
double AvgSmoothLoss::value() const { return count_ == 0 ? kNaN : val_ / (1 - std::pow(beta_, count_)); }

void AccumMetric::accumulate(const Tensor& pred_in, std::span<const Tensor> yb) {
  NoGradGuard g;
  STRATA_CHECK(!yb.empty(), ValueError, "{}: no target", name_);
  Tensor pred = pred_in.detach();
  int64_t dim = opts_.dim_argmax.value_or(-1);
  switch (opts_.activation) {
    case Activation::Softmax: pred = softmax(pred, dim); break;
    case Activation::BinarySoftmax: pred = softmax(pred, dim).select(dim, pred.size(dim) - 1); break;
    case Activation::Sigmoid: pred = sigmoid(pred); break;
    case Activation::None:
      if (opts_.dim_argmax) pred = argmax(pred, *opts_.dim_argmax);
      break;
  }
  if (opts_.thresh) pred = ge(pred, *opts_.thresh);
  Tensor targ = yb[0].detach();
  if (opts_.flatten) std::tie(pred, targ) = flatten_check(pred, targ, name_.c_str());
  preds_.push_back(pred.cpu());
  targs_.push_back(targ.cpu());
}

double AccumMetric::value() const {
  if (preds_.empty()) return kNaN;
  return fn_(cat(preds_, 0), cat(targs_, 0));
}

// ---- batch functions ----
namespace fn {
Tensor accuracy(const Tensor& pred, const Tensor& targ, int64_t axis) {
  auto [p, t] = flatten_check(argmax(pred, axis), targ, "accuracy");
  return mean(eq(p, t.to(p.dtype())).to(DType::F32));
}
Tensor error_rate(const Tensor& pred, const Tensor& targ, int64_t axis) {
  return 1.0 - accuracy(pred, targ, axis);
}
Tensor top_k_accuracy(const Tensor& pred, const Tensor& targ, int64_t k, int64_t axis) {
  int64_t ax = axis < 0 ? axis + pred.dim() : axis;
  Tensor idx = targ.to(DType::I64).unsqueeze(ax);
  Tensor target_score = gather(pred, ax, idx);
  Tensor better = sum(gt(pred, target_score), {ax});  // classes scored above the target's
  return mean(lt(better, static_cast<double>(k)).to(DType::F32));
}
Tensor accuracy_multi(const Tensor& pred, const Tensor& targ, double thresh, bool sig) {
  auto [p, t] = flatten_check(sig ? sigmoid(pred) : pred, targ, "accuracy_multi");
  return mean(eq(gt(p, thresh), ne(t, 0.0)).to(DType::F32));
}
Tensor mae(const Tensor& pred, const Tensor& targ) {
  auto [p, t] = flatten_check(pred, targ, "mae");
  return mean(abs(p - t.to(p.dtype())));
}
Tensor mse(const Tensor& pred, const Tensor& targ) {
  auto [p, t] = flatten_check(pred, targ, "mse");
  return mean(square(p - t.to(p.dtype())));
}
Tensor msle(const Tensor& pred, const Tensor& targ) {
  auto [p, t] = flatten_check(pred, targ, "msle");
  return mean(square(log1p(p) - log1p(t.to(p.dtype()))));
}
}  // namespace fn

// ---- scores ----
namespace score {
double fbeta(const std::vector<int64_t>& y_true, const std::vector<int64_t>& y_pred, double beta,
             const std::string& average, int64_t pos_label) {
  return prf(y_true, y_pred, 2, beta, average, pos_label);
}
double precision(const std::vector<int64_t>& y_true, const std::vector<int64_t>& y_pred, const std::string& average,
                 int64_t pos_label) {
  return prf(y_true, y_pred, 0, 1.0, average, pos_label);
}
double recall(const std::vector<int64_t>& y_true, const std::vector<int64_t>& y_pred, const std::string& average,
              int64_t pos_label) {
  return prf(y_true, y_pred, 1, 1.0, average, pos_label);
}

double matthews_corrcoef(const std::vector<int64_t>& y_true, const std::vector<int64_t>& y_pred) {
  Counts c = count_labels(y_true, y_pred);
  double s = static_cast<double>(y_true.size()), correct = 0, tp_sum = 0, pp2 = 0, tt2 = 0;
  for (size_t i = 0; i < c.labels.size(); ++i) {
    double t = c.support[i], p = c.tp[i] + c.fp[i];
    correct += c.tp[i];
    tp_sum += t * p;
    pp2 += p * p;
    tt2 += t * t;
  }
  double den = std::sqrt((s * s - pp2) * (s * s - tt2));
  return den == 0 ? 0.0 : (correct * s - tp_sum) / den;
}

double balanced_accuracy(const std::vector<int64_t>& y_true, const std::vector<int64_t>& y_pred) {
  Counts c = count_labels(y_true, y_pred);
  double sum = 0;
  int n = 0;
  for (size_t i = 0; i < c.labels.size(); ++i)
    if (c.support[i] > 0) { sum += c.tp[i] / c.support[i]; ++n; }
  return n == 0 ? kNaN : sum / n;
}

double roc_auc(const std::vector<int64_t>& y_true, const std::vector<double>& scores) {
  STRATA_CHECK(y_true.size() == scores.size(), ShapeError, "roc_auc: {} targets but {} scores", y_true.size(),
               scores.size());
  size_t n = scores.size();
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  std::vector<double> rank(n);
  for (size_t i = 0; i < n;) {  // average ranks over ties (1-based)
    size_t j = i;
    while (j + 1 < n && scores[order[j + 1]] == scores[order[i]]) ++j;
    for (size_t k = i; k <= j; ++k) rank[order[k]] = (i + j) / 2.0 + 1;
    i = j + 1;
  }
  double pos = 0, rank_sum = 0;
  for (size_t i = 0; i < n; ++i)
    if (y_true[i] != 0) { pos += 1; rank_sum += rank[i]; }
  double neg = n - pos;
  STRATA_CHECK(pos > 0 && neg > 0, ValueError,
               "roc_auc: only one class present in the targets ({} positive, {} negative); AUC is undefined", pos, neg);
  return (rank_sum - pos * (pos + 1) / 2) / (pos * neg);
}

double roc_auc_ovr(const std::vector<int64_t>& y_true, const std::vector<double>& probs, int64_t n_classes) {
  size_t n = y_true.size();
  STRATA_CHECK(probs.size() == n * n_classes, ShapeError, "roc_auc: {} probabilities for {} items of {} classes",
               probs.size(), n, n_classes);
  double sum = 0;
  int used = 0;
  for (int64_t c = 0; c < n_classes; ++c) {
    std::vector<int64_t> yc(n);
    std::vector<double> sc(n);
    bool any_pos = false, any_neg = false;
    for (size_t i = 0; i < n; ++i) {
      yc[i] = y_true[i] == c;
      sc[i] = probs[i * n_classes + c];
      (yc[i] ? any_pos : any_neg) = true;
    }
    if (!any_pos || !any_neg) continue;
    sum += roc_auc(yc, sc);
    ++used;
  }
  STRATA_CHECK(used > 0, ValueError, "roc_auc: no class has both positive and negative items");
  return sum / used;
}

double r2(const std::vector<double>& y_true, const std::vector<double>& y_pred) {
  STRATA_CHECK(y_true.size() == y_pred.size() && !y_true.empty(), ShapeError, "r2_score: {} targets, {} predictions",
               y_true.size(), y_pred.size());
  double m = 0;
  for (double v : y_true) m += v;
  m /= y_true.size();
  double ss_res = 0, ss_tot = 0;
  for (size_t i = 0; i < y_true.size(); ++i) {
    ss_res += (y_true[i] - y_pred[i]) * (y_true[i] - y_pred[i]);
    ss_tot += (y_true[i] - m) * (y_true[i] - m);
  }
  if (ss_tot == 0) return ss_res == 0 ? 1.0 : 0.0;
  return 1 - ss_res / ss_tot;
}
}  // namespace score

// ---- factories ----
MetricPtr accuracy(int64_t axis) {
  return std::make_shared<AvgMetric>([axis](const Tensor& p, const Tensor& t) { return fn::accuracy(p, t, axis); },
                                     "accuracy");
}
MetricPtr error_rate(int64_t axis) {
  return std::make_shared<AvgMetric>([axis](const Tensor& p, const Tensor& t) { return fn::error_rate(p, t, axis); },
                                     "error_rate");
}
MetricPtr top_k_accuracy(int64_t k, int64_t axis) {
  return std::make_shared<AvgMetric>(
      [k, axis](const Tensor& p, const Tensor& t) { return fn::top_k_accuracy(p, t, k, axis); }, "top_k_accuracy");
}
MetricPtr accuracy_multi(double thresh, bool sig) {
  return std::make_shared<AvgMetric>(
      [thresh, sig](const Tensor& p, const Tensor& t) { return fn::accuracy_multi(p, t, thresh, sig); },
      "accuracy_multi");
}
MetricPtr Dice(int64_t axis) { return std::make_shared<DiceMetric>(axis, false); }
MetricPtr JaccardCoeff(int64_t axis) { return std::make_shared<DiceMetric>(axis, true); }
MetricPtr Perplexity() { return std::make_shared<PerplexityMetric>(); }
MetricPtr rmse() {
  return std::make_shared<AccumMetric>(
      [](const Tensor& p, const Tensor& t) { return std::sqrt(fn::mse(p.to(DType::F64), t.to(DType::F64)).item()); },
      "rmse");
}
MetricPtr mae() { return std::make_shared<AvgMetric>(fn::mae, "mae"); }
MetricPtr msle() { return std::make_shared<AvgMetric>(fn::msle, "msle"); }
MetricPtr R2Score() {
  return std::make_shared<AccumMetric>(
      [](const Tensor& p, const Tensor& t) { return score::r2(values_of(t), values_of(p)); }, "r2_score");
}

namespace {
MetricPtr label_metric(std::string name, int64_t axis,
                       std::function<double(const std::vector<int64_t>&, const std::vector<int64_t>&)> f) {
  return std::make_shared<AccumMetric>(
      [f](const Tensor& p, const Tensor& t) { return f(labels_of(t), pred_labels(p)); }, std::move(name),
      AccumOptions{.dim_argmax = axis});
}
}  // namespace

MetricPtr F1Score(ClassifOptions o) {
  return label_metric("f1_score", o.axis, [o](const auto& t, const auto& p) {
    return score::fbeta(t, p, 1.0, o.average, o.pos_label);
  });
}
MetricPtr FBeta(double beta, ClassifOptions o) {
  return label_metric("fbeta_score", o.axis, [beta, o](const auto& t, const auto& p) {
    return score::fbeta(t, p, beta, o.average, o.pos_label);
  });
}
MetricPtr Precision(ClassifOptions o) {
  return label_metric("precision_score", o.axis,
                      [o](const auto& t, const auto& p) { return score::precision(t, p, o.average, o.pos_label); });
}
MetricPtr Recall(ClassifOptions o) {
  return label_metric("recall_score", o.axis,
                      [o](const auto& t, const auto& p) { return score::recall(t, p, o.average, o.pos_label); });
}
MetricPtr MatthewsCorrCoef(int64_t axis) {
  return label_metric("matthews_corrcoef", axis,
                      [](const auto& t, const auto& p) { return score::matthews_corrcoef(t, p); });
}
MetricPtr BalancedAccuracy(int64_t axis) {
  return label_metric("balanced_accuracy_score", axis,
                      [](const auto& t, const auto& p) { return score::balanced_accuracy(t, p); });
}
MetricPtr RocAucBinary(int64_t axis) {
  return std::make_shared<AccumMetric>(
      [](const Tensor& p, const Tensor& t) { return score::roc_auc(labels_of(t), values_of(p)); }, "roc_auc_score",
      AccumOptions{.dim_argmax = axis, .activation = Activation::BinarySoftmax});
}
MetricPtr RocAuc(int64_t axis) {
  return std::make_shared<AccumMetric>(
      [](const Tensor& p, const Tensor& t) {
        return score::roc_auc_ovr(labels_of(t), values_of(p), p.size(-1));
      },
      "roc_auc_score", AccumOptions{.dim_argmax = axis, .activation = Activation::Softmax, .flatten = false});
}

}  // namespace strata::train
