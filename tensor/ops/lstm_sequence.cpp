// The LSTM time loops, forward and backward through time, for every layer and direction.
//
// Forward, per layer and direction: one GEMM computes the input projection of all T steps
// ([T*B, I] x w_ih^T into the gates buffer), then each step adds h_{t-1} w_hh^T into its slice of
// that buffer (GEMM with beta = 1) and one pointwise kernel turns it into activated gates, c_t and
// h_t. The gates buffer, the h and c states and the layer's input are kept for backward.
//
// Backward, per layer (top first) and direction: the steps run in reverse; each is one pointwise
// kernel (gate gradients and dc_{t-1} from dh_t = dy_t + the recurrent dh, and dc_t) and one GEMM
// (the recurrent dh_{t-1} = da_t w_hh). The pre-activation gradients of all steps land in one
// [T*B, 4H] buffer, so the weight gradients are one GEMM each over all steps (da^T x inputs and
// da^T x h_{t-1}), the biases one column sum, and the layer input's gradient one GEMM (da w_ih)
// that becomes the output gradient of the layer below.
//
// Everything goes through kernels::gemm and the kernels of kernels/rnn.h on tensor views, so the
// loops run unchanged on any device that has those kernels.
#include <utility>
#include <vector>

#include "autograd/grad_mode.h"
#include "kernels/matmul.h"
#include "kernels/rnn.h"
#include "tensor/ops.h"
#include "tensor/ops/rnn_internal.h"

namespace strata::detail {
namespace {

// The user's view of a time-major [T, B, F] tensor and back.
Tensor to_user(const Tensor& t, const RnnLayout& layout) {
  Tensor r = layout.batch_first && !layout.unbatched ? t.transpose(0, 1) : t;
  if (layout.unbatched) r = r.squeeze(1);
  return r.dtype() == layout.dtype ? r : r.to(layout.dtype);
}
Tensor from_user(const Tensor& t, const RnnLayout& layout, DType compute) {
  if (!t.defined()) return t;
  Tensor r = layout.unbatched ? t.unsqueeze(1) : t;
  if (layout.batch_first && !layout.unbatched) r = r.transpose(0, 1);
  return r.dtype() == compute ? r : r.to(compute);
}
// A state tensor [L * D, B, H] to and from the user's shape.
Tensor state_to_user(const Tensor& t, const RnnLayout& layout) {
  Tensor r = layout.unbatched ? t.squeeze(1) : t;
  return r.dtype() == layout.dtype ? r : r.to(layout.dtype);
}
Tensor state_from_user(const Tensor& t, const RnnLayout& layout, DType compute) {
  if (!t.defined()) return t;
  Tensor r = layout.unbatched ? t.unsqueeze(1) : t;
  return r.dtype() == compute ? r : r.to(compute);
}

// dst = states[cell], or zeros when states is undefined (no initial state / no gradient).
void copy_or_zero(Tensor dst, const Tensor& states, int64_t cell) {
  if (states.defined())
    dst.copy_(states[cell]);
  else
    dst.zero_();
}

// The slots of a step at time t in a [T + 1, B, H] state store (see LSTMSequenceSaved).
struct Slots {
  int64_t prev, cur;
};
Slots slots(bool reverse, int64_t t) { return reverse ? Slots{t + 1, t} : Slots{t, t + 1}; }
// Time of the k-th step in processing order.
int64_t time_of(bool reverse, int64_t steps, int64_t k) { return reverse ? steps - 1 - k : k; }

}  // namespace

LSTMSequenceOutput lstm_sequence_forward(const Tensor& x, const Tensor& h0, const Tensor& c0,
                                         const std::vector<Tensor>& weights, const LSTMGeometry& geo,
                                         LSTMSequenceSaved* saved) {
  NoGradGuard no_grad;
  const int64_t steps = x.size(0), batch = x.size(1), hidden = geo.hidden, dirs = geo.directions;
  const TensorOptions opts{.dtype = x.dtype(), .device = x.device()};
  Tensor h_n = empty({geo.num_layers * dirs, batch, hidden}, opts);
  Tensor c_n = empty({geo.num_layers * dirs, batch, hidden}, opts);
  Tensor input = x;
  for (int64_t layer = 0; layer < geo.num_layers; ++layer) {
    const int64_t in_size = input.size(2);
    std::vector<Tensor> outputs;
    for (int64_t d = 0; d < dirs; ++d) {
      const bool reverse = d == 1;
      const int64_t cell = layer * dirs + d;
      const Tensor& w_ih = weights[geo.weight_index(layer, d, 0)];
      const Tensor& w_hh = weights[geo.weight_index(layer, d, 1)];
      const Tensor bias =
          geo.has_bias ? weights[geo.weight_index(layer, d, 2)] + weights[geo.weight_index(layer, d, 3)] : Tensor();
      Tensor gates = empty({steps, batch, 4 * hidden}, opts);
      kernels::gemm(input.view({steps * batch, in_size}), w_ih.t(), gates.view({steps * batch, 4 * hidden}), 1.0, 0.0);
      Tensor hs = empty({steps + 1, batch, hidden}, opts);
      Tensor cs = empty({steps + 1, batch, hidden}, opts);
      const int64_t first = reverse ? steps : 0, last = reverse ? 0 : steps;
      copy_or_zero(hs[first], h0, cell);
      copy_or_zero(cs[first], c0, cell);
      const Tensor w_hh_t = w_hh.t();
      for (int64_t k = 0; k < steps; ++k) {
        const int64_t t = time_of(reverse, steps, k);
        const Slots s = slots(reverse, t);
        const Tensor g = gates[t];
        kernels::gemm(hs[s.prev], w_hh_t, g, 1.0, 1.0);
        kernels::lstm_cell_forward(g, bias, cs[s.prev], cs[s.cur], hs[s.cur]);
      }
      outputs.push_back(hs.narrow(0, reverse ? 0 : 1, steps));
      h_n[cell].copy_(hs[last]);
      c_n[cell].copy_(cs[last]);
      if (saved) {
        saved->gates.push_back(gates);
        saved->h_store.push_back(hs);
        saved->c_store.push_back(cs);
      }
    }
    if (saved) saved->layer_inputs.push_back(input);
    input = dirs == 1 ? outputs[0] : cat(outputs, 2);
  }
  return {input, h_n, c_n};
}

LSTMSequenceGrads lstm_sequence_backward(const LSTMSequenceSaved& saved, const std::vector<Tensor>& weights,
                                         const LSTMGeometry& geo, const RnnLayout& layout, const Tensor& grad_output,
                                         const Tensor& grad_h_n, const Tensor& grad_c_n,
                                         const LSTMSequenceNeeds& needs) {
  NoGradGuard no_grad;
  const Tensor& x = saved.layer_inputs[0];
  const DType ct = x.dtype();
  const int64_t steps = x.size(0), batch = x.size(1), hidden = geo.hidden, dirs = geo.directions;
  const TensorOptions opts{.dtype = ct, .device = x.device()};

  // The output gradient, time-major; the kernels need unit-stride rows.
  Tensor dy = from_user(grad_output, layout, ct);
  if (dy.defined() && dy.stride(2) != 1) dy = dy.contiguous();
  const Tensor g_hn = state_from_user(grad_h_n, layout, ct), g_cn = state_from_user(grad_c_n, layout, ct);

  LSTMSequenceGrads grads;
  grads.weights.resize(weights.size());
  Tensor dh0, dc0;
  if (needs.h0) dh0 = empty({geo.num_layers * dirs, batch, hidden}, opts);
  if (needs.c0) dc0 = empty({geo.num_layers * dirs, batch, hidden}, opts);
  // dc ping-pongs between two buffers: the kernel's dc and dc_prev must not overlap.
  Tensor dh = empty({batch, hidden}, opts), dc = empty({batch, hidden}, opts), dc_next = empty({batch, hidden}, opts);

  for (int64_t layer = geo.num_layers - 1; layer >= 0; --layer) {
    const Tensor& input = saved.layer_inputs[layer];
    const int64_t in_size = input.size(2);
    const bool need_dinput = layer > 0 || needs.x;
    Tensor dinput = need_dinput ? empty({steps, batch, in_size}, opts) : Tensor();
    for (int64_t d = 0; d < dirs; ++d) {
      const bool reverse = d == 1;
      const int64_t cell = layer * dirs + d;
      const Tensor& gates = saved.gates[cell];
      const Tensor& hs = saved.h_store[cell];
      const Tensor& cs = saved.c_store[cell];
      const Tensor& w_ih = weights[geo.weight_index(layer, d, 0)];
      const Tensor& w_hh = weights[geo.weight_index(layer, d, 1)];
      const Tensor dy_d = !dy.defined() ? Tensor() : dirs == 1 ? dy : dy.narrow(2, d * hidden, hidden);
      copy_or_zero(dh, g_hn, cell);
      copy_or_zero(dc, g_cn, cell);

      Tensor dgates = empty({steps, batch, 4 * hidden}, opts);
      for (int64_t k = steps - 1; k >= 0; --k) {
        const int64_t t = time_of(reverse, steps, k);
        const Slots s = slots(reverse, t);
        const Tensor dg = dgates[t];
        kernels::lstm_cell_backward(gates[t], cs[s.prev], cs[s.cur], dh, dy_d.defined() ? dy_d[t] : Tensor(), dc, dg,
                                    dc_next);
        std::swap(dc, dc_next);
        if (k > 0 || needs.h0) kernels::gemm(dg, w_hh, dh, 1.0, 0.0);
      }
      if (needs.h0) dh0[cell].copy_(dh);
      if (needs.c0) dc0[cell].copy_(dc);

      const Tensor da = dgates.view({steps * batch, 4 * hidden});
      const int64_t i_ih = geo.weight_index(layer, d, 0), i_hh = geo.weight_index(layer, d, 1);
      if (needs.weights[i_ih]) {
        Tensor gw = empty({4 * hidden, in_size}, opts);
        kernels::gemm(da.t(), input.view({steps * batch, in_size}), gw, 1.0, 0.0);
        grads.weights[i_ih] = gw;
      }
      if (needs.weights[i_hh]) {
        Tensor gw = empty({4 * hidden, hidden}, opts);
        const Tensor h_prev = hs.narrow(0, reverse ? 1 : 0, steps).view({steps * batch, hidden});
        kernels::gemm(da.t(), h_prev, gw, 1.0, 0.0);
        grads.weights[i_hh] = gw;
      }
      if (geo.has_bias) {
        const int64_t i_bih = geo.weight_index(layer, d, 2), i_bhh = geo.weight_index(layer, d, 3);
        if (needs.weights[i_bih] || needs.weights[i_bhh]) {
          const Tensor db = sum(da, {0});
          if (needs.weights[i_bih]) grads.weights[i_bih] = db;
          if (needs.weights[i_bhh]) grads.weights[i_bhh] = needs.weights[i_bih] ? db.clone() : db;
        }
      }
      if (need_dinput) kernels::gemm(da, w_ih, dinput.view({steps * batch, in_size}), 1.0, d == 0 ? 0.0 : 1.0);
    }
    dy = dinput;
  }

  if (needs.x) grads.x = to_user(dy, layout);
  if (needs.h0) grads.h0 = state_to_user(dh0, layout);
  if (needs.c0) grads.c0 = state_to_user(dc0, layout);
  for (Tensor& g : grads.weights)
    if (g.defined() && g.dtype() != layout.dtype) g = g.to(layout.dtype);
  return grads;
}

}  // namespace strata::detail
