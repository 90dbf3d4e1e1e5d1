// GradientClip and GradientAccumulation, as in fastai.
#include "train/callbacks/gradient.h"

#include <cmath>

#include "autograd/grad_mode.h"
#include "tensor/error.h"
#include "tensor/ops.h"
#include "train/learner.h"

namespace strata::train {

double clip_grad_norm(const std::vector<Tensor>& params, double max_norm, double p) {
  NoGradGuard g;
  std::vector<Tensor> grads;
  for (const Tensor& t : params)
    if (t.defined() && t.grad().defined()) grads.push_back(t.grad());
  if (grads.empty()) return 0.0;
  double total = 0;
  if (std::isinf(p)) {
    for (auto& gr : grads) total = std::max(total, amax(abs(gr)).item());
  } else {
    for (auto& gr : grads) total += std::pow(norm(gr.to(DType::F64), p).item(), p);
    total = std::pow(total, 1.0 / p);
  }
  double coef = max_norm / (total + 1e-6);
  if (coef < 1) {
    for (auto& gr : grads) {
      Tensor h = gr;
      mul_(h, coef);
    }
  }
  return total;
}

GradientClip::GradientClip(double max_norm, double norm_type)
    : Callback("GradientClip"), max_norm_(max_norm), norm_type_(norm_type) {
  STRATA_CHECK(max_norm > 0 && norm_type > 0, ValueError, "GradientClip: max_norm {} and norm_type {} must be > 0",
               max_norm, norm_type);
}

void GradientClip::before_step() { last_norm = clip_grad_norm(learn->model->parameters(), max_norm_, norm_type_); }

GradientAccumulation::GradientAccumulation(int64_t n_acc) : Callback("GradientAccumulation"), n_acc_(n_acc) {
  STRATA_CHECK(n_acc > 0, ValueError, "GradientAccumulation: n_acc must be > 0, got {}", n_acc);
  order = 6;
  run_valid = false;
}

namespace {
int64_t batch_size(const Learner& l) {
  if (!l.yb.empty() && l.yb[0].defined() && l.yb[0].dim() > 0) return l.yb[0].size(0);
  return 1;
}
}  // namespace

void GradientAccumulation::after_loss() {
  learn->loss_grad = learn->loss_grad / (static_cast<double>(n_acc_) / batch_size(*learn));
}

void GradientAccumulation::before_step() {
  count_ += batch_size(*learn);
  if (count_ < n_acc_) throw CancelBatchException();  // skips the step and zero_grad
  count_ = 0;
}

}  // namespace strata::train
