#pragma once
// nn::LSTM: a multi-layer (optionally bidirectional) LSTM over a sequence, PyTorch's nn.LSTM
// (what fastai's AWD-LSTM builds on). Parameters have PyTorch's names and shapes, so state dicts
// move between the two: weight_ih_l{k} [4H, I_k], weight_hh_l{k} [4H, H], bias_ih_l{k} and
// bias_hh_l{k} [4H] (when bias), with a _reverse copy of each for the second direction; gates in
// the order i, f, g, o. Every parameter starts uniform in [-1/sqrt(H), 1/sqrt(H)], like PyTorch.
//
//   nn::LSTM lstm(400, 1152, {.num_layers = 2, .batch_first = true, .dropout = 0.3});
//   Tensor y = lstm(x);                                   // x [B, T, 400] -> y [B, T, 1152]
//   auto [out, h_n, c_n] = lstm.forward_with_state(x, LSTMState{h0, c0});
//
// The whole sequence runs as one op (strata::lstm, tensor/ops/rnn.h) with its own backward
// through time. With dropout > 0 in training mode, the layers run one at a time with dropout
// (tensor/ops/dropout.h) applied to every layer's output except the last, as in PyTorch.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nn/module.h"
#include "tensor/ops/rnn.h"

namespace strata::nn {

struct LSTMOptions {
  int64_t num_layers = 1;
  bool bias = true;
  bool batch_first = false;  // x and output are [B, T, *] instead of [T, B, *]
  double dropout = 0.0;      // on the outputs of all layers but the last, in training mode
  bool bidirectional = false;
};

// output [T, B, D * H] ([B, T, D * H] with batch_first), h_n and c_n [num_layers * D, B, H].
using LSTMOutput = LSTMSequenceOutput;

class LSTM : public Module {
 public:
  LSTM(int64_t input_size, int64_t hidden_size, LSTMOptions options = {});

  // The output sequence, from a zero initial state.
  Tensor forward(const Tensor& x) override;
  using Module::forward;
  // Output and final state; hx = (h0, c0), each [num_layers * D, B, H] (zeros when absent).
  LSTMOutput forward_with_state(const Tensor& x, const std::optional<LSTMState>& hx = std::nullopt);
  // The same with other weights in place of the parameters (PyTorch's flat order, as
  // flat_weights() returns them): for weight-dropped copies (AWD-LSTM's WeightDropout).
  LSTMOutput forward_with_weights(const Tensor& x, const std::optional<LSTMState>& hx,
                                  const std::vector<Tensor>& weights);

  // The parameters in PyTorch's flat order (per layer, per direction: weight_ih, weight_hh,
  // bias_ih, bias_hh).
  const std::vector<Tensor>& flat_weights() const { return weights_; }
  int64_t input_size() const { return input_size_; }
  int64_t hidden_size() const { return hidden_size_; }
  const LSTMOptions& options() const { return options_; }
  std::string extra_repr() const override;

 private:
  int64_t input_size_, hidden_size_;
  LSTMOptions options_;
  std::vector<Tensor> weights_;
};

}  // namespace strata::nn
