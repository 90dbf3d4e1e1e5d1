// The training loop, shaped exactly like fastai's Learner: each stage is `with_events(body,
// before, after_cancel, after)`, nested fit → epoch → train/validate → batch → backward/step, so
// the cancel exceptions skip what fastai skips. The fit recipes (one cycle, lr_find, ...) are in
// train/fit_recipes.cpp; persistence and predictions in train/learner_io.cpp.
#include "train/learner.h"

#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/core.h>

#include "autograd/grad_mode.h"
#include "nn/norm.h"
#include "tensor/error.h"
#include "tensor/ops.h"
#include "tensor/semantic.h"
#include "train/callbacks/progress.h"
#include "train/callbacks/recorder.h"
#include "train/callbacks/train_eval.h"

namespace strata::train {

namespace {

// fastai's _with_events: before, body; on Ex: after_cancel; then after.
template <class Ex, class F>
void with_events(Learner& learn, F&& body, Event before, Event after_cancel, Event after) {
  try {
    learn(before);
    body();
  } catch (const Ex&) {
    learn(after_cancel);
  }
  learn(after);
}

// Removes the callbacks added for one fit, whatever happens.
struct AddedCbs {
  Learner& learn;
  std::vector<CallbackPtr> cbs;
  AddedCbs(Learner& l, std::vector<CallbackPtr> c) : learn(l), cbs(std::move(c)) { learn.add_cbs(cbs); }
  ~AddedCbs() {
    for (auto& c : cbs) learn.remove_cb(c);
  }
};

void default_logger(const std::vector<std::string>& row) {
  std::string line;
  for (const auto& v : row) line += (line.empty() ? "" : " ") + v;
  fmt::print("{}\n", line);
}

}  // namespace

// ---- LR ----
std::vector<double> LR::per_group(size_t n) const {
  STRATA_CHECK(n > 0, ValueError, "LR: no parameter groups");
  switch (kind) {
    case One: return std::vector<double>(n, hi);
    case Stop: {
      std::vector<double> v(n, hi / 10);
      v.back() = hi;
      return v;
    }
    case Range: return spread_lrs(lo, hi, n);
  }
  return {};
}
LR slice(double hi) {
  LR r(hi);
  r.kind = LR::Stop;
  return r;
}
LR slice(double lo, double hi) {
  LR r(hi);
  r.lo = lo;
  r.kind = LR::Range;
  return r;
}

// ---- construction ----
std::vector<std::vector<Tensor>> trainable_params(nn::Module& model) { return {model.parameters()}; }

std::vector<Tensor> norm_bias_params(nn::Module& m, bool with_bias) {
  if (nn::is_norm_layer(m)) return m.parameters();
  std::vector<Tensor> res;
  for (auto& c : m.children()) {
    auto sub = norm_bias_params(*c, with_bias);
    res.insert(res.end(), sub.begin(), sub.end());
  }
  if (with_bias && m.has_parameter("bias")) {
    Tensor b = m.parameter("bias");
    if (b.defined()) res.push_back(b);
  }
  return res;
}

std::shared_ptr<nn::Loss> default_loss_for(const Tensor& t) {
  if (is_a(t, &semantic_types::TensorMultiCategory)) return std::make_shared<nn::BCEWithLogitsLossFlat>();
  if (is_a(t, &semantic_types::TensorCategory) || !t.is_floating_point())
    return std::make_shared<nn::CrossEntropyLossFlat>();
  if (t.dim() == 2) {
    NoGradGuard g;
    Tensor f = t.detach();
    bool multi_hot = f.numel() > 0 && all(logical_or(eq(f, 0.0), eq(f, 1.0))).item() != 0;
    if (multi_hot) return std::make_shared<nn::BCEWithLogitsLossFlat>();
  }
  return std::make_shared<nn::MSELossFlat>();
}

Learner::Learner(DataLoaders d, nn::ModulePtr m, LearnerOptions o)
    : dls(std::move(d)),
      model(std::move(m)),
      loss_func(std::move(o.loss_func)),
      opt_func(std::move(o.opt_func)),
      lr(o.lr),
      splitter(o.splitter ? std::move(o.splitter) : Splitter(trainable_params)),
      metrics(std::move(o.metrics)),
      wd(o.wd),
      wd_bn_bias(o.wd_bn_bias),
      train_bn(o.train_bn),
      moms(o.moms),
      path(std::move(o.path)),
      model_dir(std::move(o.model_dir)),
      logger(default_logger) {
  STRATA_CHECK(model != nullptr, ValueError, "Learner: the model is null");
  STRATA_CHECK(dls.train != nullptr, ValueError, "Learner: DataLoaders has no train loader");
  STRATA_CHECK(opt_func != nullptr, ValueError, "Learner: opt_func is empty");
  add_cb(std::make_shared<TrainEvalCallback>());
  add_cb(std::make_shared<Recorder>());
  if (o.progress) add_cb(std::make_shared<ProgressCallback>());
  add_cbs(o.cbs);
  (*this)(Event::after_create);
}

Learner::~Learner() {
  for (auto& c : cbs_) c->learn = nullptr;  // a callback may outlive its Learner
}

// ---- callbacks ----
void Learner::add_cb(CallbackPtr cb) {
  STRATA_CHECK(cb != nullptr, ValueError, "Learner.add_cb: null callback");
  cb->learn = this;
  cbs_.push_back(std::move(cb));
  dirty_ = true;
}
void Learner::add_cbs(const std::vector<CallbackPtr>& cbs) {
  for (auto& c : cbs) add_cb(c);
}
void Learner::remove_cb(const CallbackPtr& cb) {
  auto it = std::find(cbs_.begin(), cbs_.end(), cb);
  if (it == cbs_.end()) return;
  (*it)->learn = nullptr;
  cbs_.erase(it);
  dirty_ = true;
}
void Learner::throw_no_cb(const char* type) {
  STRATA_THROW(ValueError, "Learner.cb: no callback of type {}", type);
}
Recorder& Learner::recorder() const { return cb<Recorder>(); }

std::vector<CallbackPtr> Learner::sorted_cbs() {
  if (dirty_) {
    sorted_ = cbs_;
    std::stable_sort(sorted_.begin(), sorted_.end(), [](const CallbackPtr& a, const CallbackPtr& b) {
      return a->order < b->order;
    });
    dirty_ = false;
  }
  return sorted_;  // a copy: callbacks may add or remove callbacks while an event runs
}

void Learner::operator()(Event e) {
  for (auto& c : sorted_cbs())
    if (c->learn == this) c->call(e);
}

// ---- optimizer ----
void Learner::create_opt() {
  opt = opt_func(splitter(*model), lr);
  STRATA_CHECK(opt != nullptr, ValueError, "Learner.create_opt: opt_func returned null");
  // Only parameters the splitter gave the optimizer (a splitter may leave some out).
  std::set<const TensorImpl*> owned;
  for (auto& g : opt->param_groups())
    for (auto& p : g.params) owned.insert(p.impl_ptr().get());
  auto mine = [&](std::vector<Tensor> ps) {
    std::erase_if(ps, [&](const Tensor& p) { return !owned.count(p.impl_ptr().get()); });
    return ps;
  };
  if (!wd_bn_bias) opt->set_no_weight_decay(mine(norm_bias_params(*model, true)));
  if (train_bn) opt->set_force_train(mine(norm_bias_params(*model, false)));
}

void Learner::freeze_to(int n) {
  if (!opt) create_opt();
  opt->freeze_to(n);
}

// ---- the loop ----
void Learner::ensure_loss(const Tensor& target) {
  if (!loss_func) loss_func = default_loss_for(target);
}

void Learner::do_one_batch() {
  if (xb.size() == 1) pred = (*model)(xb[0]);
  else pred = (*model)(std::span<const Tensor>(xb.data(), xb.size()));
  (*this)(Event::after_pred);
  if (!yb.empty()) {
    ensure_loss(yb[0]);
    loss_grad = (*loss_func)(pred, yb[0]);
    loss = loss_grad.detach();
  }
  (*this)(Event::after_loss);
  if (!training || yb.empty()) return;
  do_grad_opt();
}

void Learner::do_grad_opt() {
  with_events<CancelBackwardException>(*this, [&] { loss_grad.backward(); }, Event::before_backward,
                                       Event::after_cancel_backward, Event::after_backward);
  with_events<CancelStepException>(*this, [&] { opt->step(); }, Event::before_step, Event::after_cancel_step,
                                   Event::after_step);
  opt->zero_grad();
}

void Learner::one_batch(int64_t i, Batch b) {
  iter = i;
  if (dls.device) {
    for (auto& t : b)
      if (t.defined() && t.device() != *dls.device) t = t.to(*dls.device);
  }
  int n_inp = dl ? dl->n_inp() : 1;
  n_inp = std::min<int>(n_inp, static_cast<int>(b.size()));
  xb.assign(b.begin(), b.begin() + n_inp);
  yb.assign(b.begin() + n_inp, b.end());
  with_events<CancelBatchException>(*this, [&] { do_one_batch(); }, Event::before_batch, Event::after_cancel_batch,
                                    Event::after_batch);
}

void Learner::all_batches() {
  n_iter = dl->size();
  auto it = dl->epoch();
  Batch b;
  int64_t i = 0;
  while (it->next(b)) one_batch(i++, std::move(b));
}

void Learner::do_epoch_train() {
  dl = dls.train.get();
  with_events<CancelTrainException>(*this, [&] { all_batches(); }, Event::before_train, Event::after_cancel_train,
                                    Event::after_train);
}

void Learner::do_epoch_validate(Loader* d) {
  if (!d) d = dls.valid.get();
  if (!d) return;  // no validation set: nothing to validate
  dl = d;
  NoGradGuard no_grad;
  with_events<CancelValidException>(*this, [&] { all_batches(); }, Event::before_validate,
                                    Event::after_cancel_validate, Event::after_validate);
}

void Learner::do_epoch() {
  do_epoch_train();
  do_epoch_validate();
}

void Learner::do_fit() {
  for (int e = 0; e < n_epoch; ++e) {
    epoch = e;
    with_events<CancelEpochException>(*this, [&] { do_epoch(); }, Event::before_epoch, Event::after_cancel_epoch,
                                      Event::after_epoch);
  }
}

void Learner::fit(int n, std::optional<LR> lr_opt, std::vector<CallbackPtr> cbs, std::optional<double> wd_opt,
                  bool reset_opt) {
  STRATA_CHECK(n >= 0, ValueError, "Learner.fit: n_epoch must be >= 0, got {}", n);
  AddedCbs added(*this, std::move(cbs));
  // Callbacks that wrap the logger (Progress, CSVLogger) may unwind in any order: restore it here.
  struct KeepLogger {
    Logger& ref;
    Logger saved;
    ~KeepLogger() { ref = saved; }
  } keep{logger, logger};
  if (!loss_func) {  // the default loss, known before any callback looks at it (MixUp does)
    Batch b = dls.train->one_batch();
    auto n_inp = static_cast<size_t>(dls.train->n_inp());
    if (b.size() > n_inp) ensure_loss(b[n_inp]);
  }
  if (reset_opt || !opt) create_opt();
  std::optional<double> w = wd_opt ? wd_opt : wd;
  if (w) opt->set_hyper("wd", *w);
  auto lrs = lr_opt.value_or(LR(lr)).per_group(opt->n_groups());
  opt->set_hypers("lr", lrs);
  n_epoch = n;
  with_events<CancelFitException>(*this, [&] { do_fit(); }, Event::before_fit, Event::after_cancel_fit,
                                  Event::after_fit);
  // fastai's _end_cleanup
  dl = nullptr;
  xb.clear();
  yb.clear();
  pred = Tensor();
  loss_grad = Tensor();
  loss = Tensor();
}

}  // namespace strata::train
