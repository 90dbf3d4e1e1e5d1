#pragma once
// Gradient callbacks (fastai/callback/training.py): GradientClip clips the global norm of the
// gradients before each optimizer step (torch.nn.utils.clip_grad_norm_); GradientAccumulation
// steps only once `n_acc` items have been seen, scaling each batch's loss by bs / n_acc so the
// accumulated gradient is that of one big batch.
#include <cstdint>
#include <vector>

#include "tensor/tensor.h"
#include "train/callback.h"

namespace strata::train {

// Scales the gradients of `params` so their global p-norm is at most max_norm; returns the norm
// before clipping (torch's clip_grad_norm_: coefficient max_norm / (norm + 1e-6), applied when < 1).
double clip_grad_norm(const std::vector<Tensor>& params, double max_norm, double norm_type = 2.0);

class GradientClip : public Callback {
 public:
  explicit GradientClip(double max_norm = 1.0, double norm_type = 2.0);
  void before_step() override;
  double last_norm = 0;  // the norm before clipping, at the last step

 private:
  double max_norm_, norm_type_;
};

class GradientAccumulation : public Callback {
 public:
  explicit GradientAccumulation(int64_t n_acc = 32);
  void before_fit() override { count_ = 0; }
  void after_loss() override;
  void before_step() override;

 private:
  int64_t n_acc_;
  int64_t count_ = 0;
};

}  // namespace strata::train
