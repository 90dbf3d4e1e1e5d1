// Samples for the norm family (kernels/defs/norm.def): batch norm in training and eval mode, with
// and without affine parameters, [N, C] (column path) and [N, C, *] inputs with long runs (run
// path), non-contiguous inputs; layer norm over one and two dims; group norm with several group
// counts; instance norm. Running statistics are a side effect, so training samples either pass
// none or build fresh ones inside the sample function: every call then computes the same thing.
#include "support/op_samples.h"

namespace strata::testing {
namespace {

using TL = std::vector<Tensor>;
using Fn = std::function<Tensor(const TL&)>;

// Random leaves of `shapes` (seeds 41, 42, ...); the last `stats` of them are running statistics
// (no grad; the variance positive).
OpSample sample(const std::string& op, const std::string& case_name, std::vector<Shape> shapes, Fn fn,
                size_t stats = 0) {
  return OpSample{op, case_name,
                  [shapes, stats](DType dt) {
                    TL in;
                    const size_t first_stat = shapes.size() - stats;
                    for (size_t i = 0; i < shapes.size(); ++i) {
                      const bool stat = i >= first_stat;
                      const bool var = stat && i == shapes.size() - 1;
                      in.push_back(sample_tensor(shapes[i], dt, 41 + i, var ? 0.5 : -1.0, var ? 1.5 : 1.0, !stat));
                    }
                    return in;
                  },
                  std::move(fn)};
}

BatchNormOptions train() { return {.training = true}; }

std::vector<OpSample> batch_norm_samples() {
  // in = {x, weight, bias} (training) or {x, weight, bias, running_mean, running_var} (eval).
  auto bn_train = [](const TL& in) { return batch_norm(in[0], Tensor(), Tensor(), in[1], in[2], train()); };
  auto bn_eval = [](const TL& in) { return batch_norm(in[0], in[3], in[4], in[1], in[2]); };
  return {
      sample("batch_norm", "train_2d_affine", {{5, 3}, {3}, {3}}, bn_train),
      sample("batch_norm", "train_3d_short_runs_affine", {{2, 3, 4}, {3}, {3}}, bn_train),
      sample("batch_norm", "train_4d_long_runs_affine", {{2, 2, 4, 5}, {2}, {2}}, bn_train),
      sample("batch_norm", "train_no_affine", {{3, 2, 4, 4}},
             [](const TL& in) { return batch_norm(in[0], Tensor(), Tensor(), Tensor(), Tensor(), train()); }),
      sample("batch_norm", "train_weight_only", {{4, 3, 2}, {3}},
             [](const TL& in) { return batch_norm(in[0], Tensor(), Tensor(), in[1], Tensor(), train()); }),
      sample("batch_norm", "train_fresh_running_stats", {{4, 3, 5}, {3}, {3}},
             [](const TL& in) {
               const TensorOptions o{.dtype = in[0].dtype(), .device = in[0].device()};
               return batch_norm(in[0], zeros({3}, o), ones({3}, o), in[1], in[2], {.training = true, .momentum = 0.3});
             }),
      sample("batch_norm", "train_permuted_input", {{4, 3, 2}, {3}, {3}},
             [](const TL& in) { return batch_norm(in[0].permute({2, 1, 0}), Tensor(), Tensor(), in[1], in[2], train()); }),
      sample("batch_norm", "eval_4d_affine", {{2, 3, 2, 2}, {3}, {3}, {3}, {3}}, bn_eval, 2),
      sample("batch_norm", "eval_2d_affine", {{4, 3}, {3}, {3}, {3}, {3}}, bn_eval, 2),
      sample("batch_norm", "eval_long_runs_no_affine", {{2, 2, 17}, {2}, {2}},
             [](const TL& in) { return batch_norm(in[0], in[1], in[2]); }, 2),
  };
}

// batch_norm_relu: the same layouts (column path [N, C], run path [N, C, H, W]), both modes, with
// and without affine parameters; the ReLU zeroes about half of each output.
std::vector<OpSample> batch_norm_relu_samples() {
  auto train_fn = [](const TL& in) { return batch_norm_relu(in[0], Tensor(), Tensor(), in[1], in[2], train()); };
  return {
      sample("batch_norm_relu", "train_2d_affine", {{6, 3}, {3}, {3}}, train_fn),
      sample("batch_norm_relu", "train_4d_long_runs_affine", {{2, 2, 4, 5}, {2}, {2}}, train_fn),
      sample("batch_norm_relu", "train_no_affine", {{3, 2, 4, 4}},
             [](const TL& in) { return batch_norm_relu(in[0], Tensor(), Tensor(), Tensor(), Tensor(), train()); }),
      sample("batch_norm_relu", "train_fresh_running_stats_permuted", {{4, 3, 5}, {3}, {3}},
             [](const TL& in) {
               const TensorOptions o{.dtype = in[0].dtype(), .device = in[0].device()};
               return batch_norm_relu(in[0].permute({2, 1, 0}), zeros({3}, o), ones({3}, o), in[1], in[2],
                                      {.training = true, .momentum = 0.3});
             }),
      sample("batch_norm_relu", "eval_4d_affine", {{2, 3, 2, 2}, {3}, {3}, {3}, {3}},
             [](const TL& in) { return batch_norm_relu(in[0], in[3], in[4], in[1], in[2]); }, 2),
  };
}

std::vector<OpSample> layer_norm_samples() {
  return {
      sample("layer_norm", "last_dim_affine", {{3, 5}, {5}, {5}},
             [](const TL& in) { return layer_norm(in[0], {5}, in[1], in[2]); }),
      sample("layer_norm", "last_two_dims_affine", {{2, 3, 4}, {3, 4}, {3, 4}},
             [](const TL& in) { return layer_norm(in[0], {3, 4}, in[1], in[2]); }),
      sample("layer_norm", "no_affine", {{4, 6}}, [](const TL& in) { return layer_norm(in[0], {6}); }),
      sample("layer_norm", "whole_1d_input", {{5}, {5}, {5}},
             [](const TL& in) { return layer_norm(in[0], {5}, in[1], in[2], 1e-3); }),
      sample("layer_norm", "transposed_input", {{5, 3}, {5}, {5}},
             [](const TL& in) { return layer_norm(in[0].t(), {5}, in[1], in[2]); }),
  };
}

std::vector<OpSample> group_norm_samples() {
  return {
      sample("group_norm", "two_groups_affine", {{2, 4, 3}, {4}, {4}},
             [](const TL& in) { return group_norm(in[0], 2, in[1], in[2]); }),
      sample("group_norm", "one_group_4d", {{2, 3, 2, 2}, {3}, {3}},
             [](const TL& in) { return group_norm(in[0], 1, in[1], in[2]); }),
      sample("group_norm", "group_per_channel_no_affine", {{2, 4, 3}},
             [](const TL& in) { return group_norm(in[0], 4); }),
      sample("group_norm", "2d_input", {{3, 4}, {4}, {4}}, [](const TL& in) { return group_norm(in[0], 2, in[1], in[2]); }),
      sample("group_norm", "permuted_input", {{3, 4, 2}, {4}, {4}},
             [](const TL& in) { return group_norm(in[0].permute({2, 1, 0}), 2, in[1], in[2]); }),
      sample("instance_norm", "3d_affine", {{2, 3, 4}, {3}, {3}},
             [](const TL& in) { return instance_norm(in[0], in[1], in[2]); }),
      sample("instance_norm", "4d_no_affine", {{2, 2, 3, 3}}, [](const TL& in) { return instance_norm(in[0]); }),
  };
}

}  // namespace

std::vector<OpSample> samples_norm() {
  std::vector<OpSample> s = batch_norm_samples();
  for (auto* family : {batch_norm_relu_samples, layer_norm_samples, group_norm_samples}) {
    auto more = family();
    s.insert(s.end(), more.begin(), more.end());
  }
  return s;
}

}  // namespace strata::testing
