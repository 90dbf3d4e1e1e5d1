#pragma once
// The pieces of the rnn family's forward and backward passes that the autograd formulas
// (autograd/formulas/rnn.cpp) call: what each forward keeps, and the backward functions that turn
// it and the output gradients into input gradients. Not part of the public API (tensor/ops/rnn.h);
// nothing here is recorded on the autograd graph.
//
// Tensors kept here are in the compute dtype (f32 for f16/bf16 inputs), contiguous and batched;
// the backward functions take and return gradients in the user's shapes and dtype.
#include <cstdint>
#include <vector>

#include "tensor/ops/rnn.h"

namespace strata::detail {

// How the user's tensors relate to the batched, time-major compute-dtype ones.
struct RnnLayout {
  DType dtype = DType::F32;  // of the user's tensors
  bool unbatched = false;    // a unit batch dim was added (x without a batch dim)
  bool batch_first = false;  // x and output are [B, T, *]
};

// ---- lstm_cell ----

struct LSTMCellSaved {
  Tensor x, h, c;     // the step's inputs [B, I], [B, H], [B, H]
  Tensor w_ih, w_hh;  // weights
  Tensor gates;       // activated gates [B, 4H]
  Tensor c_new;       // the new cell state [B, H]
};

// Gradients of (x, h, c, w_ih, w_hh, b_ih, b_hh) given those of the outputs (h', c'; either may
// be undefined = zero). needs[i] says which to compute; the others come back undefined.
std::vector<Tensor> lstm_cell_backward(const LSTMCellSaved& saved, const RnnLayout& layout, const Tensor& grad_h,
                                       const Tensor& grad_c, const std::vector<bool>& needs);

// ---- lstm over a sequence ----

struct LSTMGeometry {
  int64_t num_layers = 1;
  int64_t directions = 1;  // 2 when bidirectional
  int64_t hidden = 0;
  bool has_bias = true;
  int64_t per_cell() const { return has_bias ? 4 : 2; }  // weight tensors per layer and direction
  // Index into the flat weight list: k = 0 w_ih, 1 w_hh, 2 b_ih, 3 b_hh.
  int64_t weight_index(int64_t layer, int64_t dir, int64_t k) const {
    return (layer * directions + dir) * per_cell() + k;
  }
};

// What the forward keeps for backward through time. cell = layer * directions + direction.
struct LSTMSequenceSaved {
  std::vector<Tensor> layer_inputs;  // per layer: its input [T, B, I_layer], time-major
  std::vector<Tensor> gates;         // per cell: activated gates [T, B, 4H]
  // per cell: states [T + 1, B, H]. The forward direction keeps h_t at slot t + 1 (the initial
  // state at 0), the reverse one h_t at slot t (the initial state at T): the state a step at time
  // t reads is at slot t (forward) or t + 1 (reverse), so all of them form one contiguous block.
  std::vector<Tensor> h_store, c_store;
};

// The forward in the compute dtype: x [T, B, I] time-major contiguous; h0 and c0
// [num_layers * D, B, H] or undefined (zeros); weights in the flat order, contiguous. Returns
// output [T, B, D * H] (time-major), h_n, c_n; fills *saved when it is not null.
LSTMSequenceOutput lstm_sequence_forward(const Tensor& x, const Tensor& h0, const Tensor& c0,
                                         const std::vector<Tensor>& weights, const LSTMGeometry& geometry,
                                         LSTMSequenceSaved* saved);

// Which gradients lstm_sequence_backward computes.
struct LSTMSequenceNeeds {
  bool x = false, h0 = false, c0 = false;
  std::vector<bool> weights;  // one per flat weight
};

struct LSTMSequenceGrads {
  Tensor x, h0, c0;
  std::vector<Tensor> weights;
};

// Backward through time. grad_output, grad_h_n and grad_c_n are in the user's shapes and dtype
// (any may be undefined = zero); weights are the compute-dtype tensors the forward used.
LSTMSequenceGrads lstm_sequence_backward(const LSTMSequenceSaved& saved, const std::vector<Tensor>& weights,
                                         const LSTMGeometry& geometry, const RnnLayout& layout,
                                         const Tensor& grad_output, const Tensor& grad_h_n, const Tensor& grad_c_n,
                                         const LSTMSequenceNeeds& needs);

}  // namespace strata::detail
