// Samples for the index family (kernels/defs/index.def). Index, mask and label tensors are i64 /
// bool constants built in make_inputs and never require grad. Results are multiplied by a ramp so
// the gradient reaching each element differs; multi-output ops (split, chunk, unbind) are joined
// back with a different weight per piece. scatter samples use indices that are unique along the
// scatter dim (with duplicates the overwritten value, and its gradient, is an arbitrary choice).
#include "support/op_samples.h"

namespace strata::testing {
namespace {

using TL = std::vector<Tensor>;

Tensor ramp_weighted(const Tensor& y) {
  if (!is_floating(y.dtype())) return y;
  Tensor w = arange(0.0, static_cast<double>(y.numel()), 1.0, {.dtype = y.dtype(), .device = y.device()}).reshape(y.shape());
  return y * (w * 0.25 + 1.0);
}

Tensor idx(const std::vector<int64_t>& values, const Shape& shape = {}) { return tensor<int64_t>(values, shape); }

Tensor pieces_joined(const std::vector<Tensor>& pieces, int64_t dim) {
  std::vector<Tensor> weighted;
  for (size_t i = 0; i < pieces.size(); ++i) weighted.push_back(pieces[i] * (1.0 + static_cast<double>(i)));
  return ramp_weighted(cat(weighted, dim));
}

// A sample whose inputs are: floating tensors of `shapes` (requiring grad), then `constants`.
OpSample sample(const std::string& op, const std::string& case_name, std::vector<Shape> shapes, TL constants,
                std::function<Tensor(const TL&)> fn) {
  return OpSample{op, case_name,
                  [=](DType dt) {
                    TL in;
                    uint64_t seed = 31;
                    for (const Shape& s : shapes) in.push_back(sample_tensor(s, dt, seed++));
                    for (const Tensor& c : constants) in.push_back(c);
                    return in;
                  },
                  [fn](const TL& in) { return ramp_weighted(fn(in)); }};
}

}  // namespace

std::vector<OpSample> samples_index() {
  std::vector<OpSample> s;
  // ---- index_select ----
  s.push_back(sample("index_select", "rows_with_repeats", {{5, 3}}, {idx({4, 0, 4, 2})},
                     [](const TL& in) { return index_select(in[0], 0, in[1]); }));
  s.push_back(sample("index_select", "neg_dim", {{3, 5}}, {idx({1, 3, 1})},
                     [](const TL& in) { return index_select(in[0], -1, in[1]); }));
  s.push_back(sample("index_select", "transposed_i32", {{4, 3}}, {idx({2, 0}).to(DType::I32)},
                     [](const TL& in) { return index_select(in[0].t(), 0, in[1]); }));
  s.push_back(sample("index_select", "middle_dim_3d", {{2, 4, 3}}, {idx({3, 3, 0})},
                     [](const TL& in) { return index_select(in[0], 1, in[1]); }));
  // ---- gather ----
  s.push_back(sample("gather", "last_dim", {{3, 4}}, {idx({3, 0, 1, 1, 2, 2}, {3, 2})},
                     [](const TL& in) { return gather(in[0], 1, in[1]); }));
  s.push_back(sample("gather", "dim0_index_smaller", {{4, 3}}, {idx({3, 0, 1, 0}, {2, 2})},
                     [](const TL& in) { return gather(in[0], 0, in[1]); }));
  s.push_back(sample("gather", "neg_dim_transposed", {{4, 3}}, {idx({2, 2, 0, 1, 3, 1}, {3, 2})},
                     [](const TL& in) { return gather(in[0].t(), -1, in[1]); }));
  // ---- scatter (unique indices along dim) ----
  s.push_back(sample("scatter", "dim0_src_larger", {{3, 4}, {2, 5}}, {idx({0, 2, 1, 0, 2, 0, 0, 1}, {2, 4})},
                     [](const TL& in) { return scatter(in[0], 0, in[2], in[1]); }));
  s.push_back(sample("scatter", "neg_dim", {{2, 5}, {2, 3}}, {idx({4, 1, 0, 3}, {2, 2})},
                     [](const TL& in) { return scatter(in[0], -1, in[2], in[1]); }));
  // ---- scatter_add (duplicates accumulate) ----
  s.push_back(sample("scatter_add", "dim0_repeats", {{3, 4}, {4, 4}},
                     {idx({0, 1, 2, 0, 0, 1, 2, 2, 1, 1, 0, 0, 0, 2, 1, 2}, {4, 4})},
                     [](const TL& in) { return scatter_add(in[0], 0, in[2], in[1]); }));
  s.push_back(sample("scatter_add", "dim1_index_smaller", {{2, 3}, {3, 4}}, {idx({2, 2, 0, 1, 1, 1}, {2, 3})},
                     [](const TL& in) { return scatter_add(in[0], 1, in[2], in[1]); }));
  // ---- index_add ----
  s.push_back(sample("index_add", "rows_with_repeats", {{5, 3}, {4, 3}}, {idx({1, 4, 1, 0})},
                     [](const TL& in) { return index_add(in[0], 0, in[2], in[1]); }));
  s.push_back(sample("index_add", "neg_dim", {{2, 4}, {2, 3}}, {idx({3, 0, 3})},
                     [](const TL& in) { return index_add(in[0], -1, in[2], in[1]); }));
  // ---- masks ----
  s.push_back(sample("masked_fill", "row_mask_broadcast", {{3, 4}}, {tensor<bool>({true, false, false, true})},
                     [](const TL& in) { return masked_fill(in[0], in[1], 0.5); }));
  s.push_back(sample("masked_fill", "u8_mask", {{2, 3}}, {tensor<uint8_t>({1, 0, 0, 0, 1, 1}, {2, 3})},
                     [](const TL& in) { return masked_fill(in[0], in[1], -2.0); }));
  s.push_back(sample("masked_select", "same_shape", {{3, 4}},
                     {tensor<bool>({true, false, true, true, false, false, true, false, true, true, true, false}, {3, 4})},
                     [](const TL& in) { return masked_select(in[0], in[1]); }));
  s.push_back(sample("masked_select", "input_broadcast", {{3, 1}},
                     {tensor<bool>({true, false, true, true, false, true, false, true}, {2, 1, 4})},
                     [](const TL& in) { return masked_select(in[0], in[1]); }));
  s.push_back(sample("nonzero", "with_zeros", {{3, 4}}, {},
                     [](const TL& in) { return nonzero(where(in[0] > 0.2, in[0], 0.0)); }));
  // ---- joining ----
  s.push_back(sample("cat", "dim0_three", {{2, 3}, {4, 3}, {1, 3}}, {},
                     [](const TL& in) { return cat({in[0], in[1], in[2]}, 0); }));
  s.push_back(sample("cat", "neg_dim_transposed", {{2, 1}, {3, 2}}, {},
                     [](const TL& in) { return cat({in[0], in[1].t()}, -1); }));
  s.push_back(sample("cat", "with_constant", {{2, 2, 3}}, {ones({2, 1, 3}, {.dtype = DType::F32})},
                     [](const TL& in) { return cat({in[1], in[0]}, 1); }));
  s.push_back(sample("stack", "dim1", {{2, 3}, {2, 3}, {2, 3}}, {},
                     [](const TL& in) { return stack({in[0], in[1], in[2]}, 1); }));
  s.push_back(sample("stack", "neg_dim", {{3}, {3}}, {}, [](const TL& in) { return stack({in[0], in[1]}, -1); }));
  // ---- splitting ----
  s.push_back(sample("split", "size_uneven", {{7, 2}}, {},
                     [](const TL& in) { return pieces_joined(split(in[0], 3, 0), 0); }));
  s.push_back(sample("split", "sizes_neg_dim", {{2, 6}}, {},
                     [](const TL& in) { return pieces_joined(split(in[0], std::vector<int64_t>{1, 0, 5}, -1), -1); }));
  s.push_back(sample("chunk", "dim1", {{2, 7}}, {}, [](const TL& in) { return pieces_joined(chunk(in[0], 3, 1), 1); }));
  s.push_back(sample("unbind", "dim1", {{2, 3, 2}}, {}, [](const TL& in) {
    auto parts = unbind(in[0], 1);
    for (size_t i = 0; i < parts.size(); ++i) parts[i] = parts[i] * (1.0 + static_cast<double>(i));
    return stack(parts, 0);
  }));
  s.push_back(sample("one_hot", "2d_labels", {}, {idx({0, 3, 2, 2, 1, 0}, {2, 3})},
                     [](const TL& in) { return one_hot(in[0], 4); }));
  return s;
}

}  // namespace strata::testing
