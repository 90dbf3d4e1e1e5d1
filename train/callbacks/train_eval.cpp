// fastai's TrainEvalCallback, line for line.
#include "train/callbacks/train_eval.h"

#include "tensor/ops.h"
#include "train/learner.h"

namespace strata::train {

void TrainEvalCallback::after_create() { learn->n_epoch = 1; }

void TrainEvalCallback::before_fit() {
  learn->epoch = 0;
  learn->loss = scalar_tensor(0.0);  // fastai: tensor(0.), what a batch cancelled before its loss reports
  learn->train_iter = 0;
  learn->pct_train = 0;
  if (learn->dls.device) learn->model->to(*learn->dls.device);
}

void TrainEvalCallback::after_batch() {
  learn->pct_train += 1.0 / (static_cast<double>(learn->n_iter) * learn->n_epoch);
  learn->train_iter += 1;
}

void TrainEvalCallback::before_train() {
  learn->pct_train = static_cast<double>(learn->epoch) / learn->n_epoch;
  learn->model->train();
  learn->training = true;
}

void TrainEvalCallback::before_validate() {
  learn->model->eval();
  learn->training = false;
}

}  // namespace strata::train
