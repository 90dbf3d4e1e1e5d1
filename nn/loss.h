#pragma once
// Losses as modules with fastai's flattening semantics (fastai.losses: BaseLoss and the *Flat
// losses). A flat loss moves its `axis` to the end of both prediction and target
// (transpose(axis, -1)), then flattens: a class-index loss to pred [N*, C] and target [N*], an
// elementwise loss to [N*] both. So one CrossEntropyLossFlat serves classification ([N, C] vs
// [N]), sequence tagging ([N, T, C] vs [N, T]) and, with axis = 1, segmentation ([N, C, H, W] vs
// [N, H, W]). With reduction None the result is one loss per flattened item (what the Learner
// asks for to find the worst predictions).
//
//   nn::CrossEntropyLossFlat loss_func({.axis = 1, .ignore_index = 255});
//   Tensor l = loss_func(logits, masks);
//   Tensor probs = loss_func.activation(logits);  // softmax over axis
//   Tensor preds = loss_func.decodes(probs);      // argmax over axis
//
// activation and decodes follow fastai's get_preds: activation turns raw model outputs into
// probabilities, decodes turns *activated* outputs into predictions (argmax; for
// BCEWithLogitsLossFlat: probability > thresh).
#include <cstdint>
#include <span>

#include "nn/module.h"
#include "tensor/ops/loss.h"

namespace strata::nn {

// A loss: forward(pred, target) -> loss. Called as loss(pred, target) (forward hooks run).
class Loss : public Module {
 public:
  using Module::Module;
  Tensor forward(std::span<const Tensor> xs) override;  // xs = {pred, target}
  using Module::forward;
  virtual Tensor forward(const Tensor& pred, const Tensor& target) = 0;
  Tensor operator()(const Tensor& pred, const Tensor& target) { return Module::operator()({pred, target}); }
  using Module::operator();
  // Raw outputs -> what get_preds returns (default: unchanged).
  virtual Tensor activation(const Tensor& x) { return x; }
  // Activated outputs -> decoded predictions (default: unchanged).
  virtual Tensor decodes(const Tensor& x) { return x; }

  Reduction reduction = Reduction::Mean;
  // fastai's y_int: the target holds integer class indices (the cross-entropy family).
  bool y_int = false;
};

// fastai's BaseLoss transformation: pred.transpose(axis, -1) and, when the target has that dim,
// target.transpose(axis, -1); then flattened (pred to [-1, C] when is_2d, else [-1]; target to
// [-1]). Exposed for losses built elsewhere.
struct FlatPair {
  Tensor pred, target;
};
FlatPair flatten_for_loss(const char* loss, const Tensor& pred, const Tensor& target, int64_t axis, bool is_2d,
                          bool flatten = true);

struct CrossEntropyFlatOptions {
  int64_t axis = -1;             // the class axis of the prediction
  Tensor weight{};               // [C] class weights, or undefined
  int64_t ignore_index = -100;   // targets equal to it contribute nothing
  double label_smoothing = 0.0;  // PyTorch's label_smoothing of cross_entropy
  Reduction reduction = Reduction::Mean;
};

// nn.CrossEntropyLoss on flattened inputs; target: integer class indices.
class CrossEntropyLossFlat : public Loss {
 public:
  explicit CrossEntropyLossFlat(CrossEntropyFlatOptions opts = {});
  Tensor forward(const Tensor& pred, const Tensor& target) override;
  using Loss::forward;
  Tensor activation(const Tensor& x) override;  // softmax over axis
  Tensor decodes(const Tensor& x) override;     // argmax over axis
  std::string extra_repr() const override;

  int64_t axis;
  Tensor weight;
  int64_t ignore_index;
  double label_smoothing;
};

struct LabelSmoothingOptions {
  double eps = 0.1;
  int64_t axis = -1;
  Tensor weight{};  // [C] class weights for the nll term, or undefined
  Reduction reduction = Reduction::Mean;
};

// fastai's LabelSmoothingCrossEntropy on flattened inputs:
//   eps / C * (-sum_c log p_c) + (1 - eps) * nll(log p, target)
// with the first term summed per item and reduced like the second.
class LabelSmoothingCrossEntropyFlat : public Loss {
 public:
  explicit LabelSmoothingCrossEntropyFlat(LabelSmoothingOptions opts = {});
  explicit LabelSmoothingCrossEntropyFlat(double eps) : LabelSmoothingCrossEntropyFlat(LabelSmoothingOptions{.eps = eps}) {}
  Tensor forward(const Tensor& pred, const Tensor& target) override;
  using Loss::forward;
  Tensor activation(const Tensor& x) override;  // softmax over axis
  Tensor decodes(const Tensor& x) override;     // argmax over axis
  std::string extra_repr() const override;

  double eps;
  int64_t axis;
  Tensor weight;
};

struct BCEWithLogitsFlatOptions {
  int64_t axis = -1;
  Tensor weight{};      // per-element weights (broadcast to the flattened input), or undefined
  Tensor pos_weight{};  // [C] positive weights; when given the inputs are not flattened (fastai)
  double thresh = 0.5;  // decodes: activated output > thresh
  Reduction reduction = Reduction::Mean;
};

// nn.BCEWithLogitsLoss on flattened inputs; the target is converted to the prediction's dtype.
class BCEWithLogitsLossFlat : public Loss {
 public:
  explicit BCEWithLogitsLossFlat(BCEWithLogitsFlatOptions opts = {});
  Tensor forward(const Tensor& pred, const Tensor& target) override;
  using Loss::forward;
  Tensor activation(const Tensor& x) override;  // sigmoid
  Tensor decodes(const Tensor& x) override;     // x > thresh (bool)
  std::string extra_repr() const override;

  int64_t axis;
  Tensor weight, pos_weight;
  double thresh;
};

struct FocalLossFlatOptions {
  double gamma = 2.0;
  int64_t axis = -1;
  Tensor weight{};  // [C] class weights of the cross-entropy term, or undefined
  Reduction reduction = Reduction::Mean;
};

// fastai's FocalLoss on flattened inputs: (1 - p_t)^gamma * ce with ce the per-item
// cross-entropy and p_t = exp(-ce), then reduced. gamma = 0 is plain cross-entropy.
class FocalLossFlat : public Loss {
 public:
  explicit FocalLossFlat(FocalLossFlatOptions opts = {});
  Tensor forward(const Tensor& pred, const Tensor& target) override;
  using Loss::forward;
  Tensor activation(const Tensor& x) override;  // softmax over axis
  Tensor decodes(const Tensor& x) override;     // argmax over axis
  std::string extra_repr() const override;

  double gamma;
  int64_t axis;
  Tensor weight;
};

struct BCEFlatOptions {
  int64_t axis = -1;
  Tensor weight{};  // per-element weights, or undefined
  double thresh = 0.5;
  Reduction reduction = Reduction::Mean;
};

// nn.BCELoss (on probabilities) on inputs flattened to [N*]; decodes: x > thresh.
class BCELossFlat : public Loss {
 public:
  explicit BCELossFlat(BCEFlatOptions opts = {});
  Tensor forward(const Tensor& pred, const Tensor& target) override;
  using Loss::forward;
  Tensor decodes(const Tensor& x) override;
  std::string extra_repr() const override;

  int64_t axis;
  Tensor weight;
  double thresh;
};

struct FlatOptions {
  int64_t axis = -1;
  Reduction reduction = Reduction::Mean;
};

// nn.MSELoss / nn.L1Loss on inputs flattened to [N*]; the target is converted to the
// prediction's dtype.
class MSELossFlat : public Loss {
 public:
  explicit MSELossFlat(FlatOptions opts = {});
  Tensor forward(const Tensor& pred, const Tensor& target) override;
  using Loss::forward;
  int64_t axis;
};

class L1LossFlat : public Loss {
 public:
  explicit L1LossFlat(FlatOptions opts = {});
  Tensor forward(const Tensor& pred, const Tensor& target) override;
  using Loss::forward;
  int64_t axis;
};

}  // namespace strata::nn
