#pragma once
// Learner: fastai's training loop (fastai/learner.py). It holds the model, the data, the loss,
// the optimizer factory, metrics and callbacks, and runs
//
//   fit → epoch → train (batches) → validate (batches)
//
// firing every Event of train/callback.h on the way. Its state is public and mutable, like
// fastai's: a callback may read or replace xb, yb, pred, loss_grad, loss, opt, model, lr...
//
//   train::Learner learn(dls, model, {.loss_func = std::make_shared<nn::CrossEntropyLossFlat>(),
//                                     .metrics = {train::accuracy()}});
//   learn.fit_one_cycle(5, {.lr_max = 3e-3});
//   learn.save("stage1");                       // models/stage1.safetensors: model + optimizer
//   auto [lr_valley] = learn.lr_find().valley;
//
// Default loss (when .loss_func is not given): chosen at the first fit from the train loader's
// one_batch() (or, in validate/get_preds before any fit, the first batch), by the rule of
// fastai's blocks: a TensorMultiCategory target, or a floating 2-d target whose values are all 0
// or 1, gets BCEWithLogitsLossFlat; a TensorCategory or integer target gets CrossEntropyLossFlat;
// any other floating target gets MSELossFlat.
//
// The loss is loss_func(pred, yb[0]); a batch with no target trains nothing (fastai's rule).
#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nn/loss.h"
#include "nn/module.h"
#include "train/callback.h"
#include "train/loader.h"
#include "train/metrics.h"
#include "train/optimizer.h"
#include "train/optimizers.h"
#include "train/schedule.h"

namespace strata::train {

// Parameter groups of a model (fastai's splitter); the default puts every parameter in one group.
using Splitter = std::function<std::vector<std::vector<Tensor>>(nn::Module& model)>;
std::vector<std::vector<Tensor>> trainable_params(nn::Module& model);

// One row of the per-epoch table, already formatted: epoch, losses, metrics, time.
using Logger = std::function<void(const std::vector<std::string>& row)>;

// A learning rate: one value for every group, or fastai's slice: slice(hi) gives hi to the last
// group and hi/10 to the others; slice(lo, hi) spreads lo..hi geometrically over the groups.
struct LR {
  LR(double v) : lo(v), hi(v) {}  // NOLINT: implicit, so fit(1, 1e-3) reads naturally
  double lo, hi;
  enum Kind { One, Stop, Range } kind = One;
  std::vector<double> per_group(size_t n_groups) const;
};
LR slice(double hi);
LR slice(double lo, double hi);

struct LearnerOptions {
  std::shared_ptr<nn::Loss> loss_func{};  // default: from the targets (see the file comment)
  OptFunc opt_func = Adam{};
  double lr = 1e-3;
  Splitter splitter{};                    // default: one group of every parameter
  std::vector<CallbackPtr> cbs{};
  std::vector<MetricPtr> metrics{};
  std::optional<double> wd{};             // default: the optimizer's own
  bool wd_bn_bias = false;                // weight decay on norm layers and biases
  bool train_bn = true;                   // norm layers stay trainable when frozen
  std::array<double, 3> moms = {0.95, 0.85, 0.95};
  std::filesystem::path path = ".";
  std::filesystem::path model_dir = "models";
  bool progress = true;                   // add the Progress callback (bar and table)
};

struct OneCycleOptions {
  std::optional<LR> lr_max{};  // default: learn.lr
  double div = 25.0;
  double div_final = 1e5;
  double pct_start = 0.25;
  std::optional<double> wd{};
  std::optional<std::array<double, 3>> moms{};  // default: learn.moms
  std::vector<CallbackPtr> cbs{};
};
struct FlatCosOptions {
  std::optional<LR> lr{};
  double div_final = 1e5;
  double pct_start = 0.75;
  std::optional<double> wd{};
  std::vector<CallbackPtr> cbs{};
};
struct SgdrOptions {
  std::optional<double> lr_max{};
  int cycle_mult = 2;
  std::optional<double> wd{};
  std::vector<CallbackPtr> cbs{};
};
struct FineTuneOptions {
  double base_lr = 2e-3;
  int freeze_epochs = 1;
  double lr_mult = 100;
  double pct_start = 0.3;
  double div = 5.0;
  std::optional<double> wd{};
  std::vector<CallbackPtr> cbs{};
};
struct LRFindOptions {
  double start_lr = 1e-7;
  double end_lr = 10;
  int num_it = 100;
  bool stop_div = true;
  std::filesystem::path plot{};  // when set, the loss-vs-lr plot is written there (PNG)
};
struct LRFindResult {
  double valley = 0, slide = 0, minimum = 0, steep = 0;  // suggested learning rates
  std::vector<double> lrs, losses;  // the sweep (smoothed losses), as recorded
};

struct GetPredsOptions {
  Loader* dl = nullptr;   // default: the validation loader
  bool with_input = false;
  bool with_decoded = false;
  bool with_loss = false;  // per-item losses (the loss with Reduction::None)
  std::function<Tensor(const Tensor&)> act{};  // default: loss_func->activation
};
struct Preds {
  Tensor preds;    // activated predictions
  Tensor targets;  // yb[0], concatenated
  Tensor inputs;   // xb[0] when with_input
  Tensor decoded;  // loss_func->decodes(preds) when with_decoded
  Tensor losses;   // per item when with_loss
};

class Recorder;

class Learner {
 public:
  Learner(DataLoaders dls, nn::ModulePtr model, LearnerOptions opts = {});
  ~Learner();
  Learner(const Learner&) = delete;
  Learner& operator=(const Learner&) = delete;

  // ---- configuration (mutable) ----
  DataLoaders dls;
  nn::ModulePtr model;
  std::shared_ptr<nn::Loss> loss_func;
  OptFunc opt_func;
  double lr;
  Splitter splitter;
  std::vector<MetricPtr> metrics;
  std::optional<double> wd;
  bool wd_bn_bias, train_bn;
  std::array<double, 3> moms;
  std::filesystem::path path, model_dir;
  Logger logger;       // receives each epoch's row; default prints it
  bool create_mbar = true;  // false during validate/get_preds: no table

  // ---- training state (fastai's attributes) ----
  std::unique_ptr<Optimizer> opt;
  Loader* dl = nullptr;  // the loader being iterated
  Batch xb, yb;          // inputs and targets of the current batch
  Tensor pred, loss_grad, loss;  // loss_grad is what backward runs on; loss its detached value
  int epoch = 0, n_epoch = 1;
  int64_t iter = 0, n_iter = 0, train_iter = 0;
  double pct_train = 0;
  bool training = false;
  double smooth_loss = 0;
  std::vector<double> final_record;  // the last epoch's values (losses then metrics)

  // ---- training ----
  // fastai's fit: creates the optimizer when there is none (or reset_opt), sets wd (when given
  // here or in the options) and lr (per group; default learn.lr), adds `cbs` for this fit only,
  // then runs n_epoch epochs. The recipes below add a ParamScheduler and call fit.
  void fit(int n_epoch, std::optional<LR> lr = {}, std::vector<CallbackPtr> cbs = {},
           std::optional<double> wd = {}, bool reset_opt = false);
  void fit_one_cycle(int n_epoch, OneCycleOptions opts = {});
  void fit_flat_cos(int n_epoch, FlatCosOptions opts = {});
  void fit_sgdr(int n_cycles, int cycle_len, SgdrOptions opts = {});
  void fine_tune(int epochs, FineTuneOptions opts = {});
  LRFindResult lr_find(LRFindOptions opts = {});

  // ---- inference ----
  // Both run fastai's validation_context: before_fit, before_epoch, the validation batches,
  // after_epoch, after_fit, without logging or table. As in fastai, that restarts the Recorder
  // (its per-fit records are cleared): plot before validating.
  Preds get_preds(GetPredsOptions opts = {});
  // Runs the validation loader (or `dl`); returns [valid_loss, metrics...].
  std::vector<double> validate(Loader* dl = nullptr);

  // ---- optimizer, freezing ----
  void create_opt();
  void freeze_to(int n);
  void freeze() { freeze_to(-1); }
  void unfreeze() { freeze_to(0); }

  // ---- persistence: <path>/<model_dir>/<name>.safetensors, written atomically ----
  std::filesystem::path save(const std::string& name, bool with_opt = true);
  void load(const std::string& name, bool with_opt = true, bool strict = true);

  // ---- callbacks ----
  void add_cb(CallbackPtr cb);
  void add_cbs(const std::vector<CallbackPtr>& cbs);
  void remove_cb(const CallbackPtr& cb);
  template <class T>
  void remove_cb() {
    for (auto& c : cbs_)
      if (std::dynamic_pointer_cast<T>(c)) { remove_cb(CallbackPtr(c)); return; }
  }
  // The first callback of type T; throws ValueError when there is none (see find_cb).
  template <class T>
  T& cb() const {
    T* t = find_cb<T>();
    if (!t) throw_no_cb(typeid(T).name());
    return *t;
  }
  template <class T>
  T* find_cb() const {
    for (auto& c : cbs_)
      if (auto* t = dynamic_cast<T*>(c.get())) return t;
    return nullptr;
  }
  const std::vector<CallbackPtr>& cbs() const { return cbs_; }
  Recorder& recorder() const;

  // Fires `e` on every callback, in order.
  void operator()(Event e);

  // The batch loop pieces (fastai's one_batch, _do_epoch_train, _do_epoch_validate).
  void one_batch(int64_t i, Batch b);
  void do_epoch_train();
  void do_epoch_validate(Loader* dl = nullptr);

 private:
  void all_batches();
  void do_one_batch();
  void do_grad_opt();
  void do_fit();
  void do_epoch();
  void ensure_loss(const Tensor& target);
  [[noreturn]] static void throw_no_cb(const char* type);
  std::vector<CallbackPtr> sorted_cbs();

  std::vector<CallbackPtr> cbs_;
  std::vector<CallbackPtr> sorted_;
  bool dirty_ = true;
};

// The default loss for a target, by the rule in the file comment.
std::shared_ptr<nn::Loss> default_loss_for(const Tensor& target);

// Parameters of norm layers, and biases when with_bias (fastai's norm_bias_params).
std::vector<Tensor> norm_bias_params(nn::Module& model, bool with_bias = true);

}  // namespace strata::train
