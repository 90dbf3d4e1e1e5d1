#pragma once
// TrainEvalCallback (fastai): keeps the Learner's progress counters and switches the model
// between training and evaluation mode. Added to every Learner; order -10 so it runs first.
#include "train/callback.h"

namespace strata::train {

class TrainEvalCallback : public Callback {
 public:
  TrainEvalCallback() : Callback("TrainEvalCallback") {
    order = -10;
    run_valid = false;
  }
  void after_create() override;
  void before_fit() override;
  void after_batch() override;
  void before_train() override;
  void before_validate() override;
};

}  // namespace strata::train
