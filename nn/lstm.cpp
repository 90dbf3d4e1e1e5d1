// nn::LSTM: parameters registered under PyTorch's names and handed to strata::lstm in its flat
// order. Inter-layer dropout needs the layers run one at a time (dropout sits between them), so
// that path calls the op once per layer and joins the final states; otherwise it is one call.
#include "nn/lstm.h"

#include <cmath>

#include "tensor/ops.h"

namespace strata::nn {

LSTM::LSTM(int64_t input_size, int64_t hidden_size, LSTMOptions options)
    : Module("LSTM"), input_size_(input_size), hidden_size_(hidden_size), options_(options) {
  STRATA_CHECK(input_size >= 0 && hidden_size > 0, ValueError,
               "LSTM: input_size must be non-negative and hidden_size positive, got {} and {}", input_size,
               hidden_size);
  STRATA_CHECK(options.num_layers >= 1, ValueError, "LSTM: num_layers must be at least 1, got {}", options.num_layers);
  STRATA_CHECK(options.dropout >= 0.0 && options.dropout <= 1.0, ValueError,
               "LSTM: dropout must be a probability in [0, 1], got {}", options.dropout);
  const int64_t dirs = options.bidirectional ? 2 : 1;
  const double bound = 1.0 / std::sqrt(static_cast<double>(hidden_size));
  for (int64_t layer = 0; layer < options.num_layers; ++layer) {
    const int64_t layer_in = layer == 0 ? input_size : dirs * hidden_size;
    for (int64_t d = 0; d < dirs; ++d) {
      const std::string suffix = "_l" + std::to_string(layer) + (d == 1 ? "_reverse" : "");
      std::vector<std::pair<std::string, Shape>> params = {{"weight_ih" + suffix, {4 * hidden_size, layer_in}},
                                                           {"weight_hh" + suffix, {4 * hidden_size, hidden_size}}};
      if (options.bias) {
        params.push_back({"bias_ih" + suffix, {4 * hidden_size}});
        params.push_back({"bias_hh" + suffix, {4 * hidden_size}});
      }
      for (auto& [name, shape] : params) {
        Tensor t = empty(shape);
        uniform_(t, -bound, bound);
        weights_.push_back(register_parameter(name, t));
      }
    }
  }
}

Tensor LSTM::forward(const Tensor& x) { return forward_with_state(x).output; }

LSTMOutput LSTM::forward_with_state(const Tensor& x, const std::optional<LSTMState>& hx) {
  return forward_with_weights(x, hx, weights_);
}

LSTMOutput LSTM::forward_with_weights(const Tensor& x, const std::optional<LSTMState>& hx,
                                      const std::vector<Tensor>& weights) {
  const LSTMState state = hx.value_or(LSTMState{});
  const LSTMSequenceOptions o{
      .num_layers = options_.num_layers, .bidirectional = options_.bidirectional, .batch_first = options_.batch_first};
  const bool drop = options_.dropout > 0.0 && is_training() && options_.num_layers > 1;
  if (!drop) return lstm(x, state, weights, o);

  // One layer at a time, dropout on every output but the last. State dims: [L * D, (B,) H].
  const int64_t dirs = options_.bidirectional ? 2 : 1;
  const int64_t per_layer = static_cast<int64_t>(weights.size()) / options_.num_layers;
  LSTMSequenceOptions one = o;
  one.num_layers = 1;
  Tensor input = x;
  std::vector<Tensor> h_n, c_n;
  for (int64_t layer = 0; layer < options_.num_layers; ++layer) {
    const std::vector<Tensor> w(weights.begin() + layer * per_layer, weights.begin() + (layer + 1) * per_layer);
    LSTMState s;
    if (state.h.defined()) s.h = state.h.narrow(0, layer * dirs, dirs);
    if (state.c.defined()) s.c = state.c.narrow(0, layer * dirs, dirs);
    LSTMOutput r = lstm(input, s, w, one);
    h_n.push_back(r.h_n);
    c_n.push_back(r.c_n);
    input = layer + 1 < options_.num_layers ? dropout(r.output, options_.dropout, true) : r.output;
  }
  return {input, cat(h_n, 0), cat(c_n, 0)};
}

std::string LSTM::extra_repr() const {
  std::string s = std::to_string(input_size_) + ", " + std::to_string(hidden_size_);
  if (options_.num_layers != 1) s += ", num_layers=" + std::to_string(options_.num_layers);
  if (!options_.bias) s += ", bias=false";
  if (options_.batch_first) s += ", batch_first=true";
  if (options_.dropout != 0.0) s += fmt::format(", dropout={}", options_.dropout);
  if (options_.bidirectional) s += ", bidirectional=true";
  return s;
}

}  // namespace strata::nn
