// MixUp / CutMix. Beta(a, a) is drawn as G1 / (G1 + G2) with G ~ Gamma(a, 1) from a seeded
// std::mt19937_64; permutations come from the callback's own Philox generator.
#include "train/callbacks/mixup.h"

#include <cmath>

#include "autograd/grad_mode.h"
#include "tensor/error.h"
#include "tensor/ops.h"
#include "train/learner.h"

namespace strata::train {

namespace {

// The loss while mixing: lerp of the loss against the shuffled and the true targets.
class MixedLoss : public nn::Loss {
 public:
  explicit MixedLoss(MixHandler* h) : Loss("MixedLoss"), h_(h) {}
  Tensor forward(const Tensor& pred, const Tensor& target) override {
    auto& old = *h_->old_loss;
    if (!h_->learn->training) return old(pred, target);
    Reduction red = old.reduction;
    old.reduction = Reduction::None;
    Tensor a, b;
    try {
      a = old(pred, h_->yb1[0]);
      b = old(pred, target);
    } catch (...) {
      old.reduction = red;
      throw;
    }
    old.reduction = red;
    Tensor lam = h_->lam.to(a.dtype());
    if (lam.dim() == 1 && a.dim() >= 1 && a.numel() != lam.numel()) {  // several losses per item
      a = a.reshape({lam.size(0), -1});
      b = b.reshape({lam.size(0), -1});
      lam = lam.unsqueeze(1);
    }
    Tensor l = a + lam * (b - a);
    if (red == Reduction::Mean) return mean(l);
    if (red == Reduction::Sum) return sum(l);
    return l;
  }
  using Loss::forward;
  Tensor activation(const Tensor& x) override { return h_->old_loss->activation(x); }
  Tensor decodes(const Tensor& x) override { return h_->old_loss->decodes(x); }

 private:
  MixHandler* h_;
};

bool is_class_index_loss(const nn::Loss* l) {
  return dynamic_cast<const nn::CrossEntropyLossFlat*>(l) != nullptr ||
         dynamic_cast<const nn::LabelSmoothingCrossEntropyFlat*>(l) != nullptr;
}

// Reshapes lam [bs] to broadcast against a tensor with `ndim` dims.
Tensor per_item(const Tensor& lam, int64_t ndim) {
  Shape s;
  s.push_back(lam.size(0));
  for (int64_t i = 1; i < ndim; ++i) s.push_back(1);
  return lam.reshape(s);
}

}  // namespace

MixHandler::MixHandler(std::string name, double alpha, uint64_t seed)
    : Callback(std::move(name)), rng_(seed), gen_(seed), alpha_(alpha) {
  STRATA_CHECK(alpha > 0, ValueError, "{}: alpha must be > 0, got {}", this->name(), alpha);
  run_valid = false;
}

double MixHandler::sample_beta() {
  std::gamma_distribution<double> g(alpha_, 1.0);
  double a = g(rng_), b = g(rng_);
  return a + b > 0 ? a / (a + b) : 0.5;
}

void MixHandler::before_train() {
  stack_y = is_class_index_loss(learn->loss_func.get());
  if (stack_y) {
    old_loss = learn->loss_func;
    learn->loss_func = std::make_shared<MixedLoss>(this);
  }
}

void MixHandler::after_train() {
  if (stack_y && old_loss) {
    learn->loss_func = old_loss;
    old_loss.reset();
  }
}

void MixUp::before_batch() {
  NoGradGuard g;
  auto& xb = learn->xb;
  auto& yb = learn->yb;
  STRATA_CHECK(!xb.empty() && !yb.empty(), ValueError, "MixUp: needs inputs and targets");
  int64_t bs = yb[0].size(0);
  std::vector<float> l(bs);
  for (auto& v : l) {
    double s = sample_beta();
    v = static_cast<float>(std::max(s, 1 - s));
  }
  Device dev = xb[0].device();
  lam = tensor(l).to(dev);
  shuffle = randperm(bs, {.dtype = DType::I64}, &gen_).to(dev);
  yb1.clear();
  for (auto& y : yb) yb1.push_back(index_select(y, 0, shuffle));
  for (auto& x : xb) {
    Tensor x1 = index_select(x, 0, shuffle);
    Tensor w = per_item(lam, x.dim()).to(x.dtype());
    x = x1 + w * (x - x1);
  }
  if (!stack_y) {
    for (size_t i = 0; i < yb.size(); ++i) {
      Tensor y = yb[i].is_floating_point() ? yb[i] : yb[i].to(DType::F32);
      Tensor y1 = yb1[i].to(y.dtype());
      yb[i] = y1 + per_item(lam, y.dim()).to(y.dtype()) * (y - y1);
    }
  }
}

void CutMix::before_batch() {
  NoGradGuard g;
  auto& xb = learn->xb;
  auto& yb = learn->yb;
  STRATA_CHECK(!xb.empty() && !yb.empty() && xb[0].dim() == 4, ValueError,
               "CutMix: needs image inputs [bs, c, h, w] and targets");
  int64_t bs = xb[0].size(0), H = xb[0].size(2), W = xb[0].size(3);
  double l = sample_beta();
  Device dev = xb[0].device();
  shuffle = randperm(bs, {.dtype = DType::I64}, &gen_).to(dev);
  Tensor x = xb[0];
  Tensor xs = index_select(x, 0, shuffle);
  yb1.clear();
  for (auto& y : yb) yb1.push_back(index_select(y, 0, shuffle));
  // fastai's rand_bbox
  double cut_rat = std::sqrt(1.0 - l);
  auto cut_w = static_cast<int64_t>(std::round(W * cut_rat)), cut_h = static_cast<int64_t>(std::round(H * cut_rat));
  std::uniform_int_distribution<int64_t> ux(0, W - 1), uy(0, H - 1);
  int64_t cx = ux(rng_), cy = uy(rng_);
  x1 = std::clamp<int64_t>(cx - cut_w / 2, 0, W);
  y1 = std::clamp<int64_t>(cy - cut_h / 2, 0, H);
  x2 = std::clamp<int64_t>(cx + cut_w / 2, 0, W);
  y2 = std::clamp<int64_t>(cy + cut_h / 2, 0, H);
  Tensor out = x.clone();
  if (x2 > x1 && y2 > y1) {
    Tensor dst = out.slice(2, y1, y2).slice(3, x1, x2);
    dst.copy_(xs.slice(2, y1, y2).slice(3, x1, x2));
  }
  xb[0] = out;
  double lv = 1.0 - static_cast<double>((x2 - x1) * (y2 - y1)) / static_cast<double>(W * H);
  lam = scalar_tensor(lv, {.dtype = DType::F32, .device = dev});
  if (!stack_y) {
    for (size_t i = 0; i < yb.size(); ++i) {
      Tensor y = yb[i].is_floating_point() ? yb[i] : yb[i].to(DType::F32);
      Tensor y1t = yb1[i].to(y.dtype());
      yb[i] = y1t + lv * (y - y1t);
    }
  } else {
    lam = full({bs}, lv, {.dtype = DType::F32, .device = dev});  // per item, for the mixed loss
  }
}

}  // namespace strata::train
