// Samples for the embedding family (kernels/defs/embedding.def). Index and offset tensors are
// i64/i32 constants and never require grad. Results are multiplied by a ramp so each element's
// gradient differs. Dropout samples build a fresh Generator with a fixed seed inside fn, so every
// evaluation (forward, each gradcheck perturbation) draws the same mask.
#include "support/op_samples.h"

namespace strata::testing {
namespace {

using TL = std::vector<Tensor>;

Tensor ramp_weighted(const Tensor& y) {
  Tensor w = arange(0.0, static_cast<double>(y.numel()), 1.0, {.dtype = y.dtype(), .device = y.device()}).reshape(y.shape());
  return y * (w * 0.25 + 1.0);
}

Tensor idx(const std::vector<int64_t>& values, const Shape& shape = {}) { return tensor<int64_t>(values, shape); }

OpSample sample(const std::string& op, const std::string& case_name, const Shape& shape, TL constants,
                std::function<Tensor(const TL&)> fn) {
  return OpSample{op, case_name,
                  [=](DType dt) {
                    TL in{sample_tensor(shape, dt, 41)};
                    for (const Tensor& c : constants) in.push_back(c);
                    return in;
                  },
                  [fn](const TL& in) { return ramp_weighted(fn(in)); }};
}

Tensor seeded_dropout(const Tensor& x, double p) {
  Generator gen(1234);
  return dropout(x, p, true, &gen);
}

Tensor seeded_dropout2d(const Tensor& x, double p) {
  Generator gen(99);
  return dropout2d(x, p, true, &gen);
}

}  // namespace

std::vector<OpSample> samples_embedding() {
  std::vector<OpSample> s;
  // ---- embedding ----
  s.push_back(sample("embedding", "2d_indices_repeats", {5, 3}, {idx({4, 0, 4, 2, 1, 4}, {2, 3})},
                     [](const TL& in) { return embedding(in[0], in[1]); }));
  s.push_back(sample("embedding", "padding_idx", {4, 2}, {idx({1, 3, 1, 0})},
                     [](const TL& in) {
                       // The padding row gets no gradient by definition; mask it out of the
                       // output so finite differences agree.
                       Tensor keep = (in[1] != 1.0).unsqueeze(1).to(in[0].dtype());
                       return embedding(in[0], in[1], {.padding_idx = 1}) * keep;
                     }));
  s.push_back(sample("embedding", "transposed_weight_i32", {3, 4}, {idx({3, 0, 3}).to(DType::I32)},
                     [](const TL& in) { return embedding(in[0].t(), in[1]); }));
  s.push_back(sample("embedding", "0d_index", {4, 3}, {idx({2}).reshape({})},
                     [](const TL& in) { return embedding(in[0], in[1]); }));
  // ---- embedding_bag ----
  s.push_back(sample("embedding_bag", "sum_offsets_empty_bag", {5, 3}, {idx({0, 4, 4, 2, 1}), idx({0, 2, 2})},
                     [](const TL& in) {
                       return embedding_bag(in[0], in[1], in[2], {.mode = EmbeddingBagMode::Sum});
                     }));
  s.push_back(sample("embedding_bag", "mean_padding", {5, 2}, {idx({0, 3, 3, 2, 1, 3}), idx({0, 3})},
                     [](const TL& in) {
                       return embedding_bag(in[0], in[1], in[2], {.mode = EmbeddingBagMode::Mean, .padding_idx = 3});
                     }));
  s.push_back(sample("embedding_bag", "max_fixed_bags", {6, 3}, {idx({0, 5, 2, 1, 1, 4}, {2, 3})},
                     [](const TL& in) {
                       return embedding_bag(in[0], in[1], Tensor(), {.mode = EmbeddingBagMode::Max});
                     }));
  // ---- dropout ----
  s.push_back(sample("dropout", "p0.3", {4, 5}, {}, [](const TL& in) { return seeded_dropout(in[0], 0.3); }));
  s.push_back(sample("dropout", "transposed_p0.5", {3, 6}, {},
                     [](const TL& in) { return seeded_dropout(in[0].t(), 0.5); }));
  s.push_back(sample("dropout2d", "nchw_p0.4", {2, 3, 2, 2}, {},
                     [](const TL& in) { return seeded_dropout2d(in[0], 0.4); }));
  return s;
}

}  // namespace strata::testing
