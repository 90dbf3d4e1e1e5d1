#pragma once
// Recording of the rnn family on the autograd graph (formulas in rnn.cpp). The front ends
// (tensor/ops/rnn.cpp) call these only when an input requires grad; each records one node with
// several outputs and hands it what the forward kept (tensor/ops/rnn_internal.h).
#include <initializer_list>

#include "autograd/node.h"
#include "tensor/ops/rnn_internal.h"

namespace strata::autograd {

// inputs: x, h, c, w_ih, w_hh, b_ih, b_hh (biases may be undefined); outputs (h', c').
void record_lstm_cell(std::initializer_list<const Tensor*> inputs, detail::LSTMCellSaved saved,
                      const detail::RnnLayout& layout, const Tensor& h_out, const Tensor& c_out);

// inputs: x, h0, c0 (may be undefined), then the flat weights; `weights` are their
// compute-dtype versions the forward used; outputs (output, h_n, c_n).
void record_lstm(const TensorList& inputs, detail::LSTMSequenceSaved saved, std::vector<Tensor> weights,
                 const detail::LSTMGeometry& geometry, const detail::RnnLayout& layout, const LSTMSequenceOutput& out);

}  // namespace strata::autograd
