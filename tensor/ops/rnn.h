#pragma once
// Recurrent ops with PyTorch semantics: the LSTM cell (torch.lstm_cell / nn.LSTMCell's math) and
// the multi-layer LSTM over a whole sequence (torch.nn.LSTM's functional core).
//
//   auto [h1, c1] = strata::lstm_cell(x, h, c, w_ih, w_hh, b_ih, b_hh);
//   auto r = strata::lstm(x, {}, weights, {.num_layers = 2, .batch_first = true});  // r.output, r.h_n, r.c_n
//
// Gates follow PyTorch's order i, f, g, o: w_ih is [4H, I], w_hh [4H, H], biases [4H], and
//   gates = x w_ih^T + b_ih + h w_hh^T + b_hh,  c' = sigmoid(f) c + sigmoid(i) tanh(g),
//   h' = sigmoid(o) tanh(c').
// Inputs share one floating dtype: f32 and f64 run directly, f16 and bf16 are computed in f32 and
// rounded back. Non-contiguous inputs are accepted (copied where a kernel needs rows).
//
// Both ops are single recorded ops with their own backward: lstm_cell runs two GEMMs and one
// fused pointwise kernel each way; lstm computes the input projection of every time step with one
// GEMM per layer, keeps the activated gates, and its backward runs the time loop in reverse with
// one fused pointwise kernel and one GEMM per step, then the weight gradients as one GEMM each
// over all steps (backward through time).
#include <cstdint>
#include <vector>

#include "tensor/tensor.h"

namespace strata {

// An LSTM state: hidden and cell tensors of the same shape.
struct LSTMState {
  Tensor h;
  Tensor c;
};

// One step. x [B, I] (or unbatched [I]), h and c [B, H] (or [H]); b_ih and b_hh may be
// undefined (no bias). Returns the new (h, c).
LSTMState lstm_cell(const Tensor& x, const Tensor& h, const Tensor& c, const Tensor& w_ih, const Tensor& w_hh,
                    const Tensor& b_ih = Tensor(), const Tensor& b_hh = Tensor());

struct LSTMSequenceOptions {
  int64_t num_layers = 1;
  bool bidirectional = false;
  bool batch_first = false;  // x and output are [B, T, *] instead of [T, B, *]
};

struct LSTMSequenceOutput {
  Tensor output;  // [T, B, D * H] ([B, T, D * H] with batch_first): the last layer's h at every step
  Tensor h_n;     // [num_layers * D, B, H]: every layer's (and direction's) final h
  Tensor c_n;     // [num_layers * D, B, H]: the final cell states
};

// The whole sequence through num_layers stacked LSTMs (D = 2 directions when bidirectional, the
// reverse one reading the sequence backwards; a layer above the first reads both directions'
// outputs concatenated, D * H features).
//   x        [T, B, I] ([B, T, I] with batch_first), or unbatched [T, I]; T >= 1
//   hx       initial (h0, c0), each [num_layers * D, B, H] ([num_layers * D, H] unbatched); an
//            undefined member starts from zeros
//   weights  PyTorch's flat order: for each layer, for each direction (forward, then reverse):
//            w_ih [4H, I_layer], w_hh [4H, H], then b_ih [4H], b_hh [4H] when the LSTM has biases
//            (2 or 4 tensors per layer and direction). H is w_hh_l0's second dim.
LSTMSequenceOutput lstm(const Tensor& x, const LSTMState& hx, const std::vector<Tensor>& weights,
                        const LSTMSequenceOptions& opts = {});

}  // namespace strata
