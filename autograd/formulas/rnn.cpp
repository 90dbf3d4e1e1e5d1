// Backward nodes of the rnn family. Each holds what its forward kept as SavedTensors (so an
// in-place change to an input, a weight or an output before backward is caught) and calls the
// family's backward functions (tensor/ops/rnn_internal.h), which run the fused pointwise kernel
// and the GEMMs. They are not recorded themselves: no double backward through an LSTM.
#include "autograd/formulas/rnn.h"

#include "autograd/record.h"

namespace strata::autograd {
namespace {

// Saved without history (is_output): backward needs the values only, and a kept tensor may be
// the very handle an output is (lstm_cell's c' in f32), which would otherwise form a cycle
// output -> node -> output and leak the graph.
std::vector<SavedTensor> save_all(const std::vector<Tensor>& ts) {
  std::vector<SavedTensor> out(ts.size());
  for (size_t i = 0; i < ts.size(); ++i) out[i].save(ts[i], /*is_output=*/true);
  return out;
}
std::vector<Tensor> get_all(const std::vector<SavedTensor>& ss, const Node* node) {
  std::vector<Tensor> out;
  out.reserve(ss.size());
  for (const SavedTensor& s : ss) out.push_back(s.get(node));
  return out;
}
void reset_all(std::vector<SavedTensor>& ss) {
  for (SavedTensor& s : ss) s.reset();
}

struct LstmCellBackward final : Node {
  SavedTensor x, h, c, w_ih, w_hh, gates, c_new;
  detail::RnnLayout layout;
  std::string name() const override { return "LstmCellBackward"; }
  void release_saved() override {
    for (SavedTensor* s : {&x, &h, &c, &w_ih, &w_hh, &gates, &c_new}) s->reset();
  }
  TensorList apply(TensorList&& grads) override {
    const detail::LSTMCellSaved saved{x.get(this),    h.get(this),     c.get(this),    w_ih.get(this),
                                      w_hh.get(this), gates.get(this), c_new.get(this)};
    std::vector<bool> needs(7);
    for (size_t i = 0; i < 7; ++i) needs[i] = needs_input_grad(i);
    return detail::lstm_cell_backward(saved, layout, grads[0], grads[1], needs);
  }
};

struct LstmBackward final : Node {
  std::vector<SavedTensor> layer_inputs, gates, h_store, c_store, weights;
  detail::LSTMGeometry geometry;
  detail::RnnLayout layout;
  std::string name() const override { return "LstmBackward"; }
  void release_saved() override {
    for (auto* v : {&layer_inputs, &gates, &h_store, &c_store, &weights}) reset_all(*v);
  }
  TensorList apply(TensorList&& grads) override {
    detail::LSTMSequenceSaved saved;
    saved.layer_inputs = get_all(layer_inputs, this);
    saved.gates = get_all(gates, this);
    saved.h_store = get_all(h_store, this);
    saved.c_store = get_all(c_store, this);
    detail::LSTMSequenceNeeds needs;
    needs.x = needs_input_grad(0);
    needs.h0 = needs_input_grad(1);
    needs.c0 = needs_input_grad(2);
    needs.weights.resize(weights.size());
    for (size_t i = 0; i < weights.size(); ++i) needs.weights[i] = needs_input_grad(3 + i);
    auto g = detail::lstm_sequence_backward(saved, get_all(weights, this), geometry, layout, grads[0], grads[1],
                                            grads[2], needs);
    TensorList out{g.x, g.h0, g.c0};
    out.insert(out.end(), g.weights.begin(), g.weights.end());
    return out;
  }
};

}  // namespace

void record_lstm_cell(std::initializer_list<const Tensor*> inputs, detail::LSTMCellSaved saved,
                      const detail::RnnLayout& layout, const Tensor& h_out, const Tensor& c_out) {
  auto node = make_node<LstmCellBackward>(inputs);
  node->layout = layout;
  const std::pair<SavedTensor*, const Tensor*> kept[] = {
      {&node->x, &saved.x},       {&node->h, &saved.h},         {&node->c, &saved.c},        {&node->w_ih, &saved.w_ih},
      {&node->w_hh, &saved.w_hh}, {&node->gates, &saved.gates}, {&node->c_new, &saved.c_new}};
  for (const auto& [slot, t] : kept) slot->save(*t, /*is_output=*/true);  // values only (see save_all)
  set_history(TensorList{h_out, c_out}, node);
}

void record_lstm(const TensorList& inputs, detail::LSTMSequenceSaved saved, std::vector<Tensor> weights,
                 const detail::LSTMGeometry& geometry, const detail::RnnLayout& layout, const LSTMSequenceOutput& out) {
  auto node = make_node_list<LstmBackward>(inputs);
  node->geometry = geometry;
  node->layout = layout;
  node->layer_inputs = save_all(saved.layer_inputs);
  node->gates = save_all(saved.gates);
  node->h_store = save_all(saved.h_store);
  node->c_store = save_all(saved.c_store);
  node->weights = save_all(weights);
  set_history(TensorList{out.output, out.h_n, out.c_n}, node);
}

}  // namespace strata::autograd
