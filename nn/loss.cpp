// Flat losses: one shared flattening step (fastai's BaseLoss.__call__) in front of the fused loss
// ops of tensor/ops/loss.h. Label smoothing in fastai's own form is composed from log_softmax,
// sum and nll_loss.
#include "nn/loss.h"

#include <fmt/format.h>

#include "tensor/error.h"
#include "tensor/ops.h"

namespace strata::nn {

namespace {

const char* reduction_name(Reduction r) {
  switch (r) {
    case Reduction::None: return "none";
    case Reduction::Mean: return "mean";
    case Reduction::Sum: return "sum";
  }
  return "?";
}

void check_class_target(const char* loss, const Tensor& target) {
  STRATA_CHECK(target.dtype() == DType::I64 || target.dtype() == DType::I32, DTypeError,
               "{}: the target must hold integer class indices (i64 or i32), got {}", loss, target.dtype());
}

}  // namespace

Tensor Loss::forward(std::span<const Tensor> xs) {
  STRATA_CHECK(xs.size() == 2, ValueError, "{}: forward takes (prediction, target), got {} input(s)", type_name(),
               xs.size());
  return forward(xs[0], xs[1]);
}

FlatPair flatten_for_loss(const char* loss, const Tensor& pred, const Tensor& target, int64_t axis, bool is_2d,
                          bool flatten) {
  STRATA_CHECK(pred.defined() && target.defined(), ValueError, "{}: prediction or target is undefined", loss);
  STRATA_CHECK(pred.dim() >= 1, ShapeError, "{}: the prediction must have at least 1 dim, got shape {}", loss,
               pred.shape());
  STRATA_CHECK(axis >= -pred.dim() && axis < pred.dim(), IndexError,
               "{}: axis {} is out of range for a prediction of shape {}", loss, axis, pred.shape());
  const int64_t ax = axis < 0 ? axis + pred.dim() : axis;
  Tensor p = pred.transpose(ax, -1);
  // The same (non-negative) axis on the target when it has it, so both keep their item order.
  Tensor t = ax < target.dim() ? target.transpose(ax, -1) : target;
  if (!flatten) return {p.contiguous(), t.contiguous()};
  if (is_2d) {
    const int64_t c = p.size(-1);
    const int64_t items = c == 0 ? 0 : p.numel() / c;
    STRATA_CHECK(t.numel() == items, ShapeError,
                 "{}: the prediction {} has {} items of {} classes (class axis {}) but the target {} has {} elements",
                 loss, pred.shape(), items, c, axis, target.shape(), t.numel());
    return {p.reshape({items, c}), t.reshape({-1})};
  }
  STRATA_CHECK(t.numel() == p.numel(), ShapeError,
               "{}: the prediction {} has {} elements but the target {} has {}", loss, pred.shape(), p.numel(),
               target.shape(), t.numel());
  return {p.reshape({-1}), t.reshape({-1})};
}

// ---- CrossEntropyLossFlat ----

CrossEntropyLossFlat::CrossEntropyLossFlat(CrossEntropyFlatOptions o)
    : Loss("CrossEntropyLossFlat"), axis(o.axis), weight(o.weight), ignore_index(o.ignore_index),
      label_smoothing(o.label_smoothing) {
  STRATA_CHECK(label_smoothing >= 0 && label_smoothing <= 1, ValueError,
               "CrossEntropyLossFlat: label_smoothing must be in [0, 1], got {}", label_smoothing);
  reduction = o.reduction;
  y_int = true;
}

Tensor CrossEntropyLossFlat::forward(const Tensor& pred, const Tensor& target) {
  check_class_target("CrossEntropyLossFlat", target);
  auto [p, t] = flatten_for_loss("CrossEntropyLossFlat", pred, target, axis, /*is_2d=*/true);
  return cross_entropy(p, t,
                       {.weight = weight.defined() ? weight.to(p.dtype()) : Tensor(), .ignore_index = ignore_index,
                        .reduction = reduction, .label_smoothing = label_smoothing, .dim = 1});
}

Tensor CrossEntropyLossFlat::activation(const Tensor& x) { return softmax(x, axis); }
Tensor CrossEntropyLossFlat::decodes(const Tensor& x) { return argmax(x, axis); }

std::string CrossEntropyLossFlat::extra_repr() const {
  return fmt::format("axis={}, ignore_index={}, label_smoothing={}, reduction={}", axis, ignore_index,
                     label_smoothing, reduction_name(reduction));
}

// ---- LabelSmoothingCrossEntropyFlat ----

LabelSmoothingCrossEntropyFlat::LabelSmoothingCrossEntropyFlat(LabelSmoothingOptions o)
    : Loss("LabelSmoothingCrossEntropyFlat"), eps(o.eps), axis(o.axis), weight(o.weight) {
  STRATA_CHECK(eps >= 0 && eps <= 1, ValueError, "LabelSmoothingCrossEntropyFlat: eps must be in [0, 1], got {}",
               eps);
  reduction = o.reduction;
  y_int = true;
}

Tensor LabelSmoothingCrossEntropyFlat::forward(const Tensor& pred, const Tensor& target) {
  check_class_target("LabelSmoothingCrossEntropyFlat", target);
  auto [p, t] = flatten_for_loss("LabelSmoothingCrossEntropyFlat", pred, target, axis, /*is_2d=*/true);
  const double c = static_cast<double>(p.size(1));
  Tensor log_preds = log_softmax(p, 1);
  Tensor smooth;
  if (reduction == Reduction::Sum) {
    smooth = -sum(log_preds);
  } else {
    smooth = -sum(log_preds, {1});
    if (reduction == Reduction::Mean) smooth = mean(smooth);
  }
  Tensor nll = nll_loss(log_preds, t,
                        {.weight = weight.defined() ? weight.to(p.dtype()) : Tensor(), .reduction = reduction});
  return smooth * (eps / c) + nll * (1.0 - eps);
}

Tensor LabelSmoothingCrossEntropyFlat::activation(const Tensor& x) { return softmax(x, axis); }
Tensor LabelSmoothingCrossEntropyFlat::decodes(const Tensor& x) { return argmax(x, axis); }

std::string LabelSmoothingCrossEntropyFlat::extra_repr() const {
  return fmt::format("eps={}, axis={}, reduction={}", eps, axis, reduction_name(reduction));
}

// ---- BCEWithLogitsLossFlat ----

BCEWithLogitsLossFlat::BCEWithLogitsLossFlat(BCEWithLogitsFlatOptions o)
    : Loss("BCEWithLogitsLossFlat"), axis(o.axis), weight(o.weight), pos_weight(o.pos_weight), thresh(o.thresh) {
  reduction = o.reduction;
}

Tensor BCEWithLogitsLossFlat::forward(const Tensor& pred, const Tensor& target) {
  STRATA_CHECK(pred.is_floating_point(), DTypeError, "BCEWithLogitsLossFlat: the prediction must be floating, got {}",
               pred.dtype());
  // fastai: with pos_weight ([C], on the last axis) the inputs keep their shape.
  const bool flatten = !pos_weight.defined();
  auto [p, t] = flatten_for_loss("BCEWithLogitsLossFlat", pred, target.to(pred.dtype()), axis, /*is_2d=*/false,
                                 flatten);
  STRATA_CHECK(p.shape() == t.shape(), ShapeError,
               "BCEWithLogitsLossFlat: the prediction {} and the target {} must have the same shape", pred.shape(),
               target.shape());
  return binary_cross_entropy_with_logits(
      p, t,
      {.weight = weight.defined() ? weight.to(p.dtype()) : Tensor(),
       .pos_weight = pos_weight.defined() ? pos_weight.to(p.dtype()) : Tensor(), .reduction = reduction});
}

Tensor BCEWithLogitsLossFlat::activation(const Tensor& x) { return sigmoid(x); }
Tensor BCEWithLogitsLossFlat::decodes(const Tensor& x) { return gt(x, thresh); }

std::string BCEWithLogitsLossFlat::extra_repr() const {
  return fmt::format("axis={}, thresh={}, reduction={}", axis, thresh, reduction_name(reduction));
}

// ---- FocalLossFlat ----

FocalLossFlat::FocalLossFlat(FocalLossFlatOptions o)
    : Loss("FocalLossFlat"), gamma(o.gamma), axis(o.axis), weight(o.weight) {
  STRATA_CHECK(gamma >= 0, ValueError, "FocalLossFlat: gamma must be >= 0, got {}", gamma);
  reduction = o.reduction;
  y_int = true;
}

Tensor FocalLossFlat::forward(const Tensor& pred, const Tensor& target) {
  check_class_target("FocalLossFlat", target);
  auto [p, t] = flatten_for_loss("FocalLossFlat", pred, target, axis, /*is_2d=*/true);
  Tensor ce = cross_entropy(
      p, t, {.weight = weight.defined() ? weight.to(p.dtype()) : Tensor(), .reduction = Reduction::None, .dim = 1});
  Tensor p_t = exp(-ce);
  Tensor loss = pow(1.0 - p_t, gamma) * ce;
  if (reduction == Reduction::Mean) return mean(loss);
  if (reduction == Reduction::Sum) return sum(loss);
  return loss;
}

Tensor FocalLossFlat::activation(const Tensor& x) { return softmax(x, axis); }
Tensor FocalLossFlat::decodes(const Tensor& x) { return argmax(x, axis); }

std::string FocalLossFlat::extra_repr() const {
  return fmt::format("gamma={}, axis={}, reduction={}", gamma, axis, reduction_name(reduction));
}

// ---- BCELossFlat ----

BCELossFlat::BCELossFlat(BCEFlatOptions o) : Loss("BCELossFlat"), axis(o.axis), weight(o.weight), thresh(o.thresh) {
  reduction = o.reduction;
}

Tensor BCELossFlat::forward(const Tensor& pred, const Tensor& target) {
  STRATA_CHECK(pred.is_floating_point(), DTypeError, "BCELossFlat: the prediction must be floating, got {}",
               pred.dtype());
  auto [p, t] = flatten_for_loss("BCELossFlat", pred, target.to(pred.dtype()), axis, /*is_2d=*/false);
  return binary_cross_entropy(p, t, {.weight = weight.defined() ? weight.to(p.dtype()) : Tensor(), .reduction = reduction});
}

Tensor BCELossFlat::decodes(const Tensor& x) { return gt(x, thresh); }

std::string BCELossFlat::extra_repr() const {
  return fmt::format("axis={}, thresh={}, reduction={}", axis, thresh, reduction_name(reduction));
}

// ---- MSELossFlat, L1LossFlat ----

MSELossFlat::MSELossFlat(FlatOptions o) : Loss("MSELossFlat"), axis(o.axis) { reduction = o.reduction; }

Tensor MSELossFlat::forward(const Tensor& pred, const Tensor& target) {
  STRATA_CHECK(pred.is_floating_point(), DTypeError, "MSELossFlat: the prediction must be floating, got {}",
               pred.dtype());
  auto [p, t] = flatten_for_loss("MSELossFlat", pred, target.to(pred.dtype()), axis, /*is_2d=*/false);
  return mse_loss(p, t, reduction);
}

L1LossFlat::L1LossFlat(FlatOptions o) : Loss("L1LossFlat"), axis(o.axis) { reduction = o.reduction; }

Tensor L1LossFlat::forward(const Tensor& pred, const Tensor& target) {
  STRATA_CHECK(pred.is_floating_point(), DTypeError, "L1LossFlat: the prediction must be floating, got {}",
               pred.dtype());
  auto [p, t] = flatten_for_loss("L1LossFlat", pred, target.to(pred.dtype()), axis, /*is_2d=*/false);
  return l1_loss(p, t, reduction);
}

}  // namespace strata::nn
