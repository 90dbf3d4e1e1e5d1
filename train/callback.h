#pragma once
// Callbacks: fastai's two-way callback system (fastai/callback/core.py). The Learner fires an
// Event at each step of training; every callback gets it in `order` and may read or replace
// anything on the Learner (xb, yb, pred, loss, gradients, the optimizer, hypers, the model).
//
// Events are an enum, so a misspelt event fails to compile. A callback overrides the named hooks
// it needs:
//
//   struct PrintLoss : train::Callback {
//     PrintLoss() : Callback("PrintLoss") {}
//     void after_batch() override { if (learn->training) fmt::print("{}\n", learn->loss.item()); }
//   };
//   learn.fit(1, 1e-3, {std::make_shared<PrintLoss>()});
//
// Control flow (fastai's `_with_events`): each stage X of fit → epoch → train/validate → batch,
// and backward and step inside a batch, runs  before_X, body, after_X. A Cancel<X>Exception
// thrown by a callback in before_X or inside the body is caught at that stage: the rest of the
// stage is skipped, after_cancel_X fires, then after_X fires as usual and training continues
// with what follows the stage. Any other exception propagates out of fit without after_X.
//
//   CancelBatchException     skips the rest of the batch (also the optimizer step and zero_grad)
//   CancelBackwardException  skips backward                (after_cancel_backward, after_backward)
//   CancelStepException      skips the optimizer step; zero_grad still runs
//   CancelTrainException     skips the rest of the training phase; validation still runs
//   CancelValidException     skips the rest of the validation phase
//   CancelEpochException     skips the rest of the epoch; the next epoch runs
//   CancelFitException       stops training (after_cancel_fit, after_fit)
#include <exception>
#include <memory>
#include <string>
#include <string_view>

namespace strata::train {

class Learner;

// fastai's `_events`, in its order.
enum class Event {
  after_create,
  before_fit,
  before_epoch,
  before_train,
  before_batch,
  after_pred,
  after_loss,
  before_backward,
  after_cancel_backward,
  after_backward,
  before_step,
  after_cancel_step,
  after_step,
  after_cancel_batch,
  after_batch,
  after_cancel_train,
  after_train,
  before_validate,
  after_cancel_validate,
  after_validate,
  after_cancel_epoch,
  after_epoch,
  after_cancel_fit,
  after_fit,
};
inline constexpr int kNumEvents = static_cast<int>(Event::after_fit) + 1;

std::string_view event_name(Event e);  // "before_fit", ...
// The events of the batch loop (fastai's _inner_loop): run_train / run_valid apply to these only.
bool is_inner_loop(Event e);

// ---- cancel exceptions (not strata::Error: `catch (const Error&)` does not swallow them) ----
struct CancelException : std::exception {};
struct CancelBatchException : CancelException {
  const char* what() const noexcept override { return "CancelBatchException"; }
};
struct CancelBackwardException : CancelException {
  const char* what() const noexcept override { return "CancelBackwardException"; }
};
struct CancelStepException : CancelException {
  const char* what() const noexcept override { return "CancelStepException"; }
};
struct CancelTrainException : CancelException {
  const char* what() const noexcept override { return "CancelTrainException"; }
};
struct CancelValidException : CancelException {
  const char* what() const noexcept override { return "CancelValidException"; }
};
struct CancelEpochException : CancelException {
  const char* what() const noexcept override { return "CancelEpochException"; }
};
struct CancelFitException : CancelException {
  const char* what() const noexcept override { return "CancelFitException"; }
};

class Callback {
 public:
  explicit Callback(std::string name) : name_(std::move(name)) {}
  virtual ~Callback() = default;

  const std::string& name() const { return name_; }

  int order = 0;          // callbacks run in increasing order (stable for equal orders)
  bool run_train = true;  // receive batch-loop events while training
  bool run_valid = true;  // receive batch-loop events while validating
  bool run = true;        // false: receive nothing until the end of this fit (reset after after_fit)
  Learner* learn = nullptr;  // set when added to a Learner

  // Dispatches `e` to its hook, honouring run / run_train / run_valid like fastai's
  // Callback.__call__. Other exceptions get the callback's and the event's names prepended.
  void call(Event e);

  // ---- hooks: override the ones you need ----
  virtual void after_create() {}
  virtual void before_fit() {}
  virtual void before_epoch() {}
  virtual void before_train() {}
  virtual void before_batch() {}
  virtual void after_pred() {}
  virtual void after_loss() {}
  virtual void before_backward() {}
  virtual void after_cancel_backward() {}
  virtual void after_backward() {}
  virtual void before_step() {}
  virtual void after_cancel_step() {}
  virtual void after_step() {}
  virtual void after_cancel_batch() {}
  virtual void after_batch() {}
  virtual void after_cancel_train() {}
  virtual void after_train() {}
  virtual void before_validate() {}
  virtual void after_cancel_validate() {}
  virtual void after_validate() {}
  virtual void after_cancel_epoch() {}
  virtual void after_epoch() {}
  virtual void after_cancel_fit() {}
  virtual void after_fit() {}

 protected:
  void dispatch(Event e);

 private:
  std::string name_;
};

using CallbackPtr = std::shared_ptr<Callback>;

}  // namespace strata::train
