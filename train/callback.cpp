// Event names and the dispatch switch: the one place that maps an Event to its hook.
#include "train/callback.h"

#include "tensor/error.h"
#include "train/learner.h"

namespace strata::train {

std::string_view event_name(Event e) {
  switch (e) {
#define E(n) \
  case Event::n: return #n;
    E(after_create) E(before_fit) E(before_epoch) E(before_train) E(before_batch) E(after_pred) E(after_loss)
    E(before_backward) E(after_cancel_backward) E(after_backward) E(before_step) E(after_cancel_step)
    E(after_step) E(after_cancel_batch) E(after_batch) E(after_cancel_train) E(after_train)
    E(before_validate) E(after_cancel_validate) E(after_validate) E(after_cancel_epoch) E(after_epoch)
    E(after_cancel_fit) E(after_fit)
#undef E
  }
  return "?";
}

bool is_inner_loop(Event e) {
  switch (e) {
    case Event::before_batch: case Event::after_pred: case Event::after_loss: case Event::before_backward:
    case Event::after_cancel_backward: case Event::after_backward: case Event::before_step:
    case Event::after_step: case Event::after_cancel_step: case Event::after_cancel_batch:
    case Event::after_batch:
      return true;
    default:
      return false;
  }
}

void Callback::dispatch(Event e) {
  switch (e) {
#define E(n) \
  case Event::n: n(); break;
    E(after_create) E(before_fit) E(before_epoch) E(before_train) E(before_batch) E(after_pred) E(after_loss)
    E(before_backward) E(after_cancel_backward) E(after_backward) E(before_step) E(after_cancel_step)
    E(after_step) E(after_cancel_batch) E(after_batch) E(after_cancel_train) E(after_train)
    E(before_validate) E(after_cancel_validate) E(after_validate) E(after_cancel_epoch) E(after_epoch)
    E(after_cancel_fit) E(after_fit)
#undef E
  }
}

void Callback::call(Event e) {
  bool training = learn != nullptr && learn->training;
  bool should = !is_inner_loop(e) || (run_train && training) || (run_valid && !training);
  if (run && should) {
    try {
      dispatch(e);
    } catch (const CancelException&) {
      throw;
    } catch (const Error& err) {
      // Keep the kind of strata error; say where it happened.
      std::string msg = fmt::format("in callback {} at {}: {}", name_, event_name(e), err.what());
      if (dynamic_cast<const ValueError*>(&err)) throw ValueError(msg);
      if (dynamic_cast<const ShapeError*>(&err)) throw ShapeError(msg);
      if (dynamic_cast<const DTypeError*>(&err)) throw DTypeError(msg);
      if (dynamic_cast<const DeviceError*>(&err)) throw DeviceError(msg);
      if (dynamic_cast<const IndexError*>(&err)) throw IndexError(msg);
      if (dynamic_cast<const IOError*>(&err)) throw IOError(msg);
      if (dynamic_cast<const AutogradError*>(&err)) throw AutogradError(msg);
      if (dynamic_cast<const DispatchError*>(&err)) throw DispatchError(msg);
      if (dynamic_cast<const NotImplementedError*>(&err)) throw NotImplementedError(msg);
      throw Error(msg);
    }
  }
  if (e == Event::after_fit) run = true;
}

}  // namespace strata::train
