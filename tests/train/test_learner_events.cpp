// The batch loop fires fastai's events in fastai's order, and each cancel exception skips what
// fastai skips and fires its after_cancel event.
#include <gtest/gtest.h>

#include "learner_fixture.h"
#include "support/expect_error.h"

using namespace strata;
using namespace strata::train;
using namespace strata::train::testing;

namespace {

std::vector<std::string> train_batch() {
  return {"before_batch", "after_pred", "after_loss", "before_backward", "after_backward", "before_step",
          "after_step", "after_batch"};
}
std::vector<std::string> valid_batch() { return {"before_batch", "after_pred", "after_loss", "after_batch"}; }

void append(std::vector<std::string>& v, const std::vector<std::string>& w) { v.insert(v.end(), w.begin(), w.end()); }

// 2 train batches (32 items, bs 16), 1 valid batch (16 items).
std::vector<std::string> expected_epoch() {
  std::vector<std::string> e{"before_epoch", "before_train"};
  append(e, train_batch());
  append(e, train_batch());
  append(e, {"after_train", "before_validate"});
  append(e, valid_batch());
  append(e, {"after_validate", "after_epoch"});
  return e;
}

struct FitRun {
  std::unique_ptr<Learner> learn;
  std::shared_ptr<EventLog> cb = std::make_shared<EventLog>();
  FitRun() { learn = quiet_learner(regression_dls(), affine_model(), {.opt_func = SGD{}}); }
  std::vector<std::string> fit(int n = 2) {
    learn->fit(n, 0.1, {cb});
    return cb->log;
  }
};

// Throws Ex at the first occurrence of `when` while training (or validating when !train).
template <class Ex>
std::function<void(Event)> throw_at(Learner* l, Event when, int epoch = 0, bool train = true) {
  auto done = std::make_shared<bool>(false);
  return [=](Event e) {
    if (*done || e != when || l->epoch != epoch) return;
    if (is_inner_loop(e) && l->training != train) return;
    *done = true;
    throw Ex();
  };
}

}  // namespace

TEST(LearnerEvents, TwoEpochFitFiresEveryEventInFastaiOrder) {
  FitRun r;
  std::vector<std::string> expected{"before_fit"};
  append(expected, expected_epoch());
  append(expected, expected_epoch());
  expected.push_back("after_fit");
  EXPECT_EQ(r.fit(2), expected);
}

TEST(LearnerEvents, AfterCreateFiresForConstructorCallbacks) {
  auto cb = std::make_shared<EventLog>();
  auto l = quiet_learner(regression_dls(), affine_model(), {.cbs = {cb}});
  EXPECT_EQ(cb->log, (std::vector<std::string>{"after_create"}));
  EXPECT_EQ(l->n_epoch, 1);
}

TEST(LearnerEvents, FitOnlyCallbacksAreRemovedAfterTheFit) {
  FitRun r;
  r.fit(1);
  EXPECT_EQ(r.learn->find_cb<EventLog>(), nullptr);
  EXPECT_EQ(r.cb->learn, nullptr);
  size_t n = r.cb->log.size();
  r.learn->fit(1, 0.1);
  EXPECT_EQ(r.cb->log.size(), n);
}

TEST(LearnerEvents, CancelBatchSkipsTheRestOfTheBatchIncludingTheStep) {
  FitRun r;
  r.cb->on_event = throw_at<CancelBatchException>(r.learn.get(), Event::after_pred);
  auto log = r.fit(1);
  std::vector<std::string> expected{"before_fit", "before_epoch", "before_train", "before_batch", "after_pred",
                                    "after_cancel_batch", "after_batch"};
  append(expected, train_batch());
  append(expected, {"after_train", "before_validate"});
  append(expected, valid_batch());
  append(expected, {"after_validate", "after_epoch", "after_fit"});
  EXPECT_EQ(log, expected);
}

TEST(LearnerEvents, CancelBackwardSkipsBackwardButStillSteps) {
  FitRun r;
  r.cb->on_event = throw_at<CancelBackwardException>(r.learn.get(), Event::before_backward);
  auto log = r.fit(1);
  std::vector<std::string> first{"before_batch", "after_pred", "after_loss", "before_backward",
                                 "after_cancel_backward", "after_backward", "before_step", "after_step", "after_batch"};
  EXPECT_EQ(std::vector<std::string>(log.begin() + 3, log.begin() + 3 + first.size()), first);
}

TEST(LearnerEvents, CancelStepSkipsTheStepAndStillZeroesGradients) {
  FitRun r;
  Tensor w0 = r.learn->model->parameter("weight").clone();
  std::vector<bool> grad_after;
  r.cb->on_event = [&](Event e) {
    if (e == Event::before_step) throw CancelStepException();
    if (e == Event::after_batch && r.learn->training)
      grad_after.push_back(r.learn->model->parameter("weight").grad().defined());
  };
  auto log = r.fit(1);
  std::vector<std::string> first{"before_batch", "after_pred", "after_loss", "before_backward", "after_backward",
                                 "before_step", "after_cancel_step", "after_step", "after_batch"};
  EXPECT_EQ(std::vector<std::string>(log.begin() + 3, log.begin() + 3 + first.size()), first);
  EXPECT_EQ(r.learn->model->parameter("weight").to_vector<float>(), w0.to_vector<float>());
  EXPECT_EQ(grad_after, (std::vector<bool>{false, false}));
}

TEST(LearnerEvents, CancelTrainSkipsTheRestOfTrainingButValidates) {
  FitRun r;
  r.cb->on_event = throw_at<CancelTrainException>(r.learn.get(), Event::after_batch);
  auto log = r.fit(1);
  std::vector<std::string> expected{"before_fit", "before_epoch", "before_train"};
  append(expected, train_batch());
  append(expected, {"after_cancel_train", "after_train", "before_validate"});
  append(expected, valid_batch());
  append(expected, {"after_validate", "after_epoch", "after_fit"});
  EXPECT_EQ(log, expected);
}

TEST(LearnerEvents, CancelValidSkipsValidation) {
  FitRun r;
  r.cb->on_event = throw_at<CancelValidException>(r.learn.get(), Event::before_validate);
  auto log = r.fit(1);
  std::vector<std::string> tail{"after_train", "before_validate", "after_cancel_validate", "after_validate",
                                "after_epoch", "after_fit"};
  EXPECT_EQ(std::vector<std::string>(log.end() - tail.size(), log.end()), tail);
}

TEST(LearnerEvents, CancelEpochSkipsTheRestOfTheEpochAndGoesOn) {
  FitRun r;
  r.cb->on_event = throw_at<CancelEpochException>(r.learn.get(), Event::after_train);
  auto log = r.fit(2);
  std::vector<std::string> expected{"before_fit", "before_epoch", "before_train"};
  append(expected, train_batch());
  append(expected, train_batch());
  append(expected, {"after_train", "after_cancel_epoch", "after_epoch"});
  append(expected, expected_epoch());
  expected.push_back("after_fit");
  EXPECT_EQ(log, expected);
}

TEST(LearnerEvents, CancelFitStopsTraining) {
  FitRun r;
  r.cb->on_event = throw_at<CancelFitException>(r.learn.get(), Event::before_epoch, 1);
  auto log = r.fit(3);
  std::vector<std::string> expected{"before_fit"};
  append(expected, expected_epoch());
  append(expected, {"before_epoch", "after_cancel_fit", "after_fit"});
  EXPECT_EQ(log, expected);
  EXPECT_EQ(r.learn->epoch, 1);
}

TEST(LearnerEvents, OtherExceptionsPropagateWithTheCallbackNamed) {
  FitRun r;
  r.cb->on_event = [](Event e) {
    if (e == Event::after_loss) STRATA_THROW(ValueError, "boom");
  };
  EXPECT_STRATA_ERROR(r.fit(1), ValueError, {"EventLog", "after_loss", "boom"});
  EXPECT_EQ(r.learn->find_cb<EventLog>(), nullptr);  // the fit-only callback is still removed
}

TEST(LearnerEvents, RunTrainAndRunValidFilterBatchEventsOnly) {
  FitRun r;
  r.cb->run_valid = false;
  auto log = r.fit(1);
  std::vector<std::string> expected{"before_fit", "before_epoch", "before_train"};
  append(expected, train_batch());
  append(expected, train_batch());
  append(expected, {"after_train", "before_validate", "after_validate", "after_epoch", "after_fit"});
  EXPECT_EQ(log, expected);
}

TEST(LearnerEvents, CallbacksRunInOrderAndAreFoundByType) {
  struct Tag : Callback {
    Tag(std::string n, int o, std::vector<std::string>* out) : Callback(n), out_(out) { order = o; }
    void before_fit() override { out_->push_back(name()); }
    std::vector<std::string>* out_;
  };
  std::vector<std::string> seen;
  auto l = quiet_learner(regression_dls(), affine_model());
  l->add_cb(std::make_shared<Tag>("c", 5, &seen));
  l->add_cb(std::make_shared<Tag>("a", -50, &seen));
  l->add_cb(std::make_shared<Tag>("b", 5, &seen));
  l->fit(1, 1e-3);
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "c", "b"}));
  EXPECT_EQ(l->cb<Tag>().name(), "c");
  EXPECT_NO_THROW(l->cb<Recorder>());
  l->remove_cb<Tag>();
  EXPECT_EQ(l->cb<Tag>().name(), "a");
  EXPECT_STRATA_ERROR(l->cb<EventLog>(), ValueError, {"no callback of type"});
}
