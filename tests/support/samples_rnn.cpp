// Samples for the rnn family (kernels/defs/rnn.def), small enough for gradcheck: B = 2, T = 3,
// I = 3, H = 2. Multi-output ops are joined into one tensor (each output flattened, then a ramp
// weight per element), so gradcheck sees every output and every element with its own weight.
// lstm samples: one layer from a given state, two layers batch_first from zeros, no biases,
// bidirectional two layers with a given state, a non-contiguous input, and an unbatched input.
// lstm_cell samples: with and without biases, an unbatched step and a transposed input.
#include "support/op_samples.h"

namespace strata::testing {
namespace {

using TL = std::vector<Tensor>;

Tensor joined(const std::vector<Tensor>& outs) {
  std::vector<Tensor> flat;
  for (const Tensor& t : outs) flat.push_back(t.flatten());
  const Tensor all = cat(flat, 0);
  const Tensor ramp = arange(0.0, static_cast<double>(all.numel()), 1.0, {.dtype = all.dtype(), .device = all.device()});
  return all * (ramp * 0.1 + 1.0);
}

// Inputs of `shapes`, uniform in [-1, 1), all requiring grad.
OpSample sample(const std::string& op, const std::string& case_name, std::vector<Shape> shapes,
                std::function<Tensor(const TL&)> fn) {
  return OpSample{op, case_name,
                  [shapes](DType dt) {
                    TL in;
                    uint64_t seed = 71;
                    for (const Shape& s : shapes) in.push_back(sample_tensor(s, dt, seed++));
                    return in;
                  },
                  std::move(fn)};
}

// The weight shapes of an LSTM in PyTorch's flat order.
std::vector<Shape> lstm_weight_shapes(int64_t in, int64_t hidden, int64_t layers, int64_t dirs, bool bias) {
  std::vector<Shape> s;
  for (int64_t l = 0; l < layers; ++l) {
    for (int64_t d = 0; d < dirs; ++d) {
      const int64_t layer_in = l == 0 ? in : dirs * hidden;
      s.push_back({4 * hidden, layer_in});
      s.push_back({4 * hidden, hidden});
      if (bias) {
        s.push_back({4 * hidden});
        s.push_back({4 * hidden});
      }
    }
  }
  return s;
}

std::vector<Shape> concat(std::vector<Shape> a, const std::vector<Shape>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// in = {x, [h0, c0], weights...}
std::function<Tensor(const TL&)> lstm_fn(LSTMSequenceOptions o, bool with_state,
                                         std::function<Tensor(const Tensor&)> x_view = nullptr) {
  return [o, with_state, x_view](const TL& in) {
    const size_t first_w = with_state ? 3 : 1;
    const std::vector<Tensor> w(in.begin() + static_cast<std::ptrdiff_t>(first_w), in.end());
    const LSTMState hx = with_state ? LSTMState{in[1], in[2]} : LSTMState{};
    const Tensor x = x_view ? x_view(in[0]) : in[0];
    const LSTMSequenceOutput r = lstm(x, hx, w, o);
    return joined({r.output, r.h_n, r.c_n});
  };
}

std::function<Tensor(const TL&)> cell_fn(bool bias, std::function<Tensor(const Tensor&)> x_view = nullptr) {
  return [bias, x_view](const TL& in) {
    const Tensor x = x_view ? x_view(in[0]) : in[0];
    const LSTMState r =
        bias ? lstm_cell(x, in[1], in[2], in[3], in[4], in[5], in[6]) : lstm_cell(x, in[1], in[2], in[3], in[4]);
    return joined({r.h, r.c});
  };
}

}  // namespace

std::vector<OpSample> samples_rnn() {
  const int64_t B = 2, T = 3, I = 3, H = 2;
  return {
      sample("lstm_cell", "bias", {{B, I}, {B, H}, {B, H}, {4 * H, I}, {4 * H, H}, {4 * H}, {4 * H}}, cell_fn(true)),
      sample("lstm_cell", "no_bias", {{B, I}, {B, H}, {B, H}, {4 * H, I}, {4 * H, H}}, cell_fn(false)),
      sample("lstm_cell", "unbatched", {{I}, {H}, {H}, {4 * H, I}, {4 * H, H}, {4 * H}, {4 * H}}, cell_fn(true)),
      sample("lstm_cell", "transposed_input", {{I, B}, {B, H}, {B, H}, {4 * H, I}, {4 * H, H}, {4 * H}, {4 * H}},
             cell_fn(true, [](const Tensor& x) { return x.t(); })),
      sample("lstm", "one_layer_state", concat({{T, B, I}, {1, B, H}, {1, B, H}}, lstm_weight_shapes(I, H, 1, 1, true)),
             lstm_fn({}, true)),
      sample("lstm", "two_layers_batch_first_zero_state", concat({{B, T, I}}, lstm_weight_shapes(I, H, 2, 1, true)),
             lstm_fn({.num_layers = 2, .batch_first = true}, false)),
      sample("lstm", "two_layers_no_bias_state",
             concat({{T, B, I}, {2, B, H}, {2, B, H}}, lstm_weight_shapes(I, H, 2, 1, false)),
             lstm_fn({.num_layers = 2}, true)),
      sample("lstm", "bidirectional_two_layers_state",
             concat({{T, B, I}, {4, B, H}, {4, B, H}}, lstm_weight_shapes(I, H, 2, 2, true)),
             lstm_fn({.num_layers = 2, .bidirectional = true}, true)),
      sample("lstm", "bidirectional_batch_first_zero_state", concat({{B, T, I}}, lstm_weight_shapes(I, H, 1, 2, true)),
             lstm_fn({.bidirectional = true, .batch_first = true}, false)),
      sample("lstm", "transposed_input", concat({{I, B, T}}, lstm_weight_shapes(I, H, 1, 1, true)),
             lstm_fn({}, false,
                     [](const Tensor& x) {
                       return x.permute({2, 1, 0});
                     })),
      sample("lstm", "unbatched_state", concat({{T, I}, {2, H}, {2, H}}, lstm_weight_shapes(I, H, 2, 1, true)),
             lstm_fn({.num_layers = 2}, true)),
  };
}

}  // namespace strata::testing
