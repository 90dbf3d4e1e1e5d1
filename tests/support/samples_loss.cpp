// Samples for the loss family (kernels/defs/loss.def): softmax over inner and outer dims (the
// contiguous-row and strided-tile kernels, including a partial tile), non-contiguous and 0-d
// inputs; cross_entropy / nll_loss with every reduction, class weights, ignore_index, label
// smoothing and all of them at once, segmentation-shaped [N, C, H, W] logits, the class dim last,
// an unbatched [C] input, i32 targets and probability targets; the elementwise losses with
// weights, pos_weight, gradients w.r.t. the target and broadcasting.
// Class-index targets are i64/i32 constants; floating targets are leaves that require grad.
#include "support/op_samples.h"

namespace strata::testing {
namespace {

using TL = std::vector<Tensor>;
using Fn = std::function<Tensor(const TL&)>;

Tensor logits(const Shape& shape, DType dt, uint64_t seed) { return sample_tensor(shape, dt, seed, -2.0, 2.0); }

// A sample with one random input (seed 41) and, when `shape2` is given, a second one (seed 42).
OpSample unary(const std::string& op, const std::string& case_name, const Shape& shape, Fn fn) {
  return OpSample{op, case_name, [shape](DType dt) { return TL{logits(shape, dt, 41)}; }, std::move(fn)};
}

// Logits of `shape` and a constant class-index target.
OpSample classes(const std::string& op, const std::string& case_name, const Shape& shape, std::vector<int64_t> target,
                 const Shape& target_shape, Fn fn, DType target_dtype = DType::I64) {
  return OpSample{op, case_name,
                  [=](DType dt) {
                    return TL{logits(shape, dt, 43), tensor<int64_t>(target).reshape(target_shape).to(target_dtype)};
                  },
                  std::move(fn)};
}

// Two random leaves: input in [lo0, hi0], target in [lo1, hi1] (target requires grad when asked).
OpSample pair(const std::string& op, const std::string& case_name, const Shape& s0, const Shape& s1, Fn fn,
              double lo0 = -2.0, double hi0 = 2.0, double lo1 = 0.0, double hi1 = 1.0, bool target_grad = true) {
  return OpSample{op, case_name,
                  [=](DType dt) {
                    return TL{sample_tensor(s0, dt, 44, lo0, hi0), sample_tensor(s1, dt, 45, lo1, hi1, target_grad)};
                  },
                  std::move(fn)};
}

Tensor class_weight(const TL& in, int64_t classes) {
  return arange(1.0, 1.0 + 0.5 * static_cast<double>(classes), 0.5, {.dtype = in[0].dtype(), .device = in[0].device()});
}

std::vector<OpSample> softmax_samples() {
  std::vector<OpSample> s;
  for (const bool log : {false, true}) {
    const std::string op = log ? "log_softmax" : "softmax";
    auto f = [log](int64_t dim) {
      return Fn([log, dim](const TL& in) { return log ? log_softmax(in[0], dim) : softmax(in[0], dim); });
    };
    s.push_back(unary(op, "rows_dim1", {3, 5}, f(1)));
    s.push_back(unary(op, "strided_dim0", {4, 3}, f(0)));
    s.push_back(unary(op, "middle_dim", {2, 4, 3}, f(1)));
    s.push_back(unary(op, "negative_dim", {2, 3, 4}, f(-1)));
    s.push_back(unary(op, "partial_tile_of_lanes", {2, 3, 70}, f(1)));
    s.push_back(unary(op, "scalar", {}, f(0)));
    s.push_back(unary(op, "transposed_input", {5, 3}, [log](const TL& in) {
      return log ? log_softmax(in[0].t(), 1) : softmax(in[0].t(), 1);
    }));
  }
  return s;
}

std::vector<OpSample> cross_entropy_samples() {
  const std::vector<int64_t> t4 = {1, 0, 4, 2};
  auto ce = [](CrossEntropyOptions o) { return Fn([o](const TL& in) { return cross_entropy(in[0], in[1], o); }); };
  auto ce_weighted = [](CrossEntropyOptions o) {
    return Fn([o](const TL& in) {
      CrossEntropyOptions w = o;
      w.weight = class_weight(in, in[0].size(w.dim));
      return cross_entropy(in[0], in[1], w);
    });
  };
  return {
      classes("cross_entropy", "mean", {4, 5}, t4, {4}, ce({})),
      classes("cross_entropy", "sum", {4, 5}, t4, {4}, ce({.reduction = Reduction::Sum})),
      classes("cross_entropy", "none", {4, 5}, t4, {4}, ce({.reduction = Reduction::None})),
      classes("cross_entropy", "weight", {4, 5}, t4, {4}, ce_weighted({})),
      classes("cross_entropy", "ignore_index", {4, 5}, {1, -100, 4, 2}, {4}, ce({})),
      classes("cross_entropy", "label_smoothing", {4, 5}, t4, {4}, ce({.label_smoothing = 0.1})),
      classes("cross_entropy", "weight_ignore_smoothing_none", {4, 5}, {1, 3, 4, 3}, {4},
              ce_weighted({.ignore_index = 3, .reduction = Reduction::None, .label_smoothing = 0.25})),
      classes("cross_entropy", "weight_ignore_smoothing_mean", {4, 5}, {1, 3, 4, 3}, {4},
              ce_weighted({.ignore_index = 3, .label_smoothing = 0.25})),
      classes("cross_entropy", "segmentation_4d", {2, 3, 2, 2}, {0, 2, 1, 255, 2, 2, 0, 1}, {2, 2, 2},
              ce_weighted({.ignore_index = 255, .label_smoothing = 0.1})),
      classes("cross_entropy", "segmentation_wide_none", {2, 3, 70}, std::vector<int64_t>(140, 1), {2, 70},
              ce({.reduction = Reduction::None})),
      classes("cross_entropy", "class_dim_last", {2, 3, 4}, {0, 1, 2, 3, 3, 2}, {2, 3}, ce({.dim = -1})),
      classes("cross_entropy", "unbatched", {5}, {3}, {}, ce({.label_smoothing = 0.2})),
      classes("cross_entropy", "i32_targets", {4, 5}, t4, {4}, ce({}), DType::I32),
      classes("cross_entropy", "transposed_logits", {5, 4}, t4, {4},
              [](const TL& in) { return cross_entropy(in[0].t(), in[1], {.label_smoothing = 0.1}); }),
      pair("cross_entropy", "probability_targets", {3, 4}, {3, 4},
           [](const TL& in) { return cross_entropy(in[0], in[1], {.label_smoothing = 0.1}); }),
  };
}

std::vector<OpSample> nll_samples() {
  auto nll = [](NllLossOptions o) { return Fn([o](const TL& in) { return nll_loss(in[0], in[1], o); }); };
  return {
      classes("nll_loss", "mean", {4, 5}, {1, 0, 4, 2}, {4}, nll({})),
      classes("nll_loss", "weight_ignore_none", {4, 5}, {1, 0, 4, 2}, {4}, [](const TL& in) {
        return nll_loss(in[0], in[1], {.weight = class_weight(in, 5), .ignore_index = 0, .reduction = Reduction::None});
      }),
      classes("nll_loss", "segmentation_sum", {2, 3, 2, 2}, {0, 2, 1, 1, 2, 2, 0, 1}, {2, 2, 2},
              nll({.reduction = Reduction::Sum})),
      classes("nll_loss", "after_log_softmax", {4, 5}, {1, 0, 4, 2}, {4},
              [](const TL& in) { return nll_loss(log_softmax(in[0], 1), in[1]); }),
  };
}

std::vector<OpSample> binary_samples() {
  const char* bcel = "binary_cross_entropy_with_logits";
  return {
      pair(bcel, "mean", {3, 4}, {3, 4}, [](const TL& in) { return binary_cross_entropy_with_logits(in[0], in[1]); }),
      pair(bcel, "weight_pos_weight_none", {3, 4}, {3, 4},
           [](const TL& in) {
             Tensor pw = arange(0.5, 2.5, 0.5, {.dtype = in[0].dtype(), .device = in[0].device()});
             Tensor w = arange(1.0, 2.5, 0.5, {.dtype = in[0].dtype(), .device = in[0].device()}).view({3, 1});
             return binary_cross_entropy_with_logits(in[0], in[1],
                                                     {.weight = w, .pos_weight = pw, .reduction = Reduction::None});
           }),
      pair("binary_cross_entropy", "mean", {3, 4}, {3, 4},
           [](const TL& in) { return binary_cross_entropy(in[0], in[1]); }, 0.05, 0.95),
      pair("binary_cross_entropy", "weight_sum", {3, 4}, {3, 4},
           [](const TL& in) {
             Tensor w = arange(1.0, 3.0, 0.5, {.dtype = in[0].dtype(), .device = in[0].device()});
             return binary_cross_entropy(in[0], in[1], {.weight = w, .reduction = Reduction::Sum});
           },
           0.05, 0.95),
  };
}

std::vector<OpSample> regression_samples() {
  return {
      pair("mse_loss", "mean", {3, 4}, {3, 4}, [](const TL& in) { return mse_loss(in[0], in[1]); }),
      pair("mse_loss", "broadcast_target_none", {3, 4}, {4},
           [](const TL& in) { return mse_loss(in[0], in[1], Reduction::None); }),
      pair("l1_loss", "sum", {3, 4}, {3, 4}, [](const TL& in) { return l1_loss(in[0], in[1], Reduction::Sum); }),
      pair("smooth_l1_loss", "beta_1_mean", {3, 4}, {3, 4}, [](const TL& in) { return smooth_l1_loss(in[0], in[1]); },
           -3.0, 3.0),
      pair("smooth_l1_loss", "beta_half_none", {3, 4}, {3, 4},
           [](const TL& in) { return smooth_l1_loss(in[0], in[1], Reduction::None, 0.5); }, -3.0, 3.0),
      pair("smooth_l1_loss", "beta_0_is_l1", {3, 4}, {3, 4},
           [](const TL& in) { return smooth_l1_loss(in[0], in[1], Reduction::Mean, 0.0); }),
      pair("huber_loss", "delta_1_5_sum", {3, 4}, {3, 4},
           [](const TL& in) { return huber_loss(in[0], in[1], Reduction::Sum, 1.5); }, -3.0, 3.0),
  };
}

}  // namespace

std::vector<OpSample> samples_loss() {
  std::vector<OpSample> s = softmax_samples();
  for (auto* family : {cross_entropy_samples, nll_samples, binary_samples, regression_samples}) {
    auto more = family();
    s.insert(s.end(), more.begin(), more.end());
  }
  return s;
}

}  // namespace strata::testing
