// Front ends of the rnn family: argument checks whose messages name the op, the argument and the
// shapes it needed; dtype handling (f16/bf16 computed in f32); unbatched inputs (a unit batch dim
// added and removed); then the step (lstm_cell, here) or the time loops (lstm_sequence.cpp) and
// the recording of one autograd node per call. lstm_cell's backward is here too: one pointwise
// kernel and four GEMMs.
#include "tensor/ops/rnn.h"

#include <string>

#include "autograd/formulas/rnn.h"
#include "autograd/grad_mode.h"
#include "autograd/record.h"
#include "kernels/matmul.h"
#include "kernels/rnn.h"
#include "tensor/ops.h"
#include "tensor/ops/check.h"
#include "tensor/ops/rnn_internal.h"
#include "tensor/semantic.h"

namespace strata {
namespace {

DType compute_dtype(DType dt) { return dt == DType::F64 ? DType::F64 : DType::F32; }

// Contiguous, in the compute dtype (undefined stays undefined); call under NoGradGuard.
Tensor prepared(const Tensor& t, DType ct) {
  if (!t.defined()) return t;
  return t.to(ct).contiguous();
}

void check_like_input(const char* op, const Tensor& x, const Tensor& t, const std::string& name) {
  check_same_device(op, x, t);
  STRATA_CHECK(t.dtype() == x.dtype(), DTypeError, "{}: {} has dtype {} but input has {} ({} {}, input {})", op, name,
               t.dtype(), x.dtype(), name, t.shape(), x.shape());
}

void check_shape(const char* op, const Tensor& t, const std::string& name, const Shape& want, int64_t in_size,
                 int64_t hidden) {
  STRATA_CHECK(t.shape() == want, ShapeError, "{}: {} has shape {} but input size {} and hidden size {} need {}", op,
               name, t.shape(), in_size, hidden, want);
}

}  // namespace

// ---- lstm_cell ----

LSTMState lstm_cell(const Tensor& x, const Tensor& h, const Tensor& c, const Tensor& w_ih, const Tensor& w_hh,
                    const Tensor& b_ih, const Tensor& b_hh) {
  const char* op = "lstm_cell";
  check_defined(op, x, "input");
  check_defined(op, h, "h");
  check_defined(op, c, "c");
  check_defined(op, w_ih, "w_ih");
  check_defined(op, w_hh, "w_hh");
  STRATA_CHECK(is_floating(x.dtype()), DTypeError,
               "{}: {} inputs are not supported (input {}); convert to a floating dtype first", op, x.dtype(),
               x.shape());
  STRATA_CHECK(x.dim() == 2 || x.dim() == 1, ShapeError, "{}: expected input [B, I] or an unbatched [I], got shape {}",
               op, x.shape());
  const Tensor* named[] = {&h, &c, &w_ih, &w_hh, &b_ih, &b_hh};
  const char* names[] = {"h", "c", "w_ih", "w_hh", "b_ih", "b_hh"};
  for (int i = 0; i < 6; ++i)
    if (named[i]->defined()) check_like_input(op, x, *named[i], names[i]);
  STRATA_CHECK(w_hh.dim() == 2 && w_hh.size(0) == 4 * w_hh.size(1) && w_hh.size(1) > 0, ShapeError,
               "{}: w_hh must be [4H, H] with H > 0, got shape {}", op, w_hh.shape());
  const bool unbatched = x.dim() == 1;
  const int64_t hidden = w_hh.size(1), in_size = x.size(-1), batch = unbatched ? 1 : x.size(0);
  const Shape state = unbatched ? Shape{hidden} : Shape{batch, hidden};
  check_shape(op, w_ih, "w_ih", {4 * hidden, in_size}, in_size, hidden);
  check_shape(op, h, "h", state, in_size, hidden);
  check_shape(op, c, "c", state, in_size, hidden);
  if (b_ih.defined()) check_shape(op, b_ih, "b_ih", {4 * hidden}, in_size, hidden);
  if (b_hh.defined()) check_shape(op, b_hh, "b_hh", {4 * hidden}, in_size, hidden);

  const DType ct = compute_dtype(x.dtype());
  const detail::RnnLayout layout{.dtype = x.dtype(), .unbatched = unbatched};
  const bool record = autograd::needs_grad({&x, &h, &c, &w_ih, &w_hh, &b_ih, &b_hh});
  detail::LSTMCellSaved saved;
  Tensor h_out, c_out;
  {
    NoGradGuard no_grad;
    auto batched = [&](const Tensor& t) { return prepared(unbatched ? t.unsqueeze(0) : t, ct); };
    saved.x = batched(x);
    saved.h = batched(h);
    saved.c = batched(c);
    saved.w_ih = prepared(w_ih, ct);
    saved.w_hh = prepared(w_hh, ct);
    Tensor bias = b_ih.defined() && b_hh.defined() ? prepared(b_ih, ct) + prepared(b_hh, ct)
                  : b_ih.defined()                 ? prepared(b_ih, ct)
                                                   : prepared(b_hh, ct);
    const TensorOptions opts{.dtype = ct, .device = x.device()};
    saved.gates = empty({batch, 4 * hidden}, opts);
    kernels::gemm(saved.x, saved.w_ih.t(), saved.gates, 1.0, 0.0);
    kernels::gemm(saved.h, saved.w_hh.t(), saved.gates, 1.0, 1.0);
    saved.c_new = empty({batch, hidden}, opts);
    Tensor h_new = empty({batch, hidden}, opts);
    kernels::lstm_cell_forward(saved.gates, bias, saved.c, saved.c_new, h_new);
    h_out = unbatched ? h_new.squeeze(0) : h_new;
    c_out = unbatched ? saved.c_new.squeeze(0) : saved.c_new;
    if (ct != x.dtype()) {
      h_out = h_out.to(x.dtype());
      c_out = c_out.to(x.dtype());
    }
  }
  if (record)
    autograd::record_lstm_cell({&x, &h, &c, &w_ih, &w_hh, &b_ih, &b_hh}, std::move(saved), layout, h_out, c_out);
  propagate_semantics(h_out, {&x});
  propagate_semantics(c_out, {&x});
  return {h_out, c_out};
}

namespace detail {

std::vector<Tensor> lstm_cell_backward(const LSTMCellSaved& saved, const RnnLayout& layout, const Tensor& grad_h,
                                       const Tensor& grad_c, const std::vector<bool>& needs) {
  NoGradGuard no_grad;
  const DType ct = saved.gates.dtype();
  const int64_t batch = saved.c.size(0), hidden = saved.c.size(1);
  auto incoming = [&](const Tensor& g) {
    if (!g.defined()) return zeros({batch, hidden}, {.dtype = ct, .device = saved.c.device()});
    Tensor r = (layout.unbatched ? g.unsqueeze(0) : g).to(ct);
    return r.stride(1) == 1 ? r : r.contiguous();
  };
  const Tensor dh = incoming(grad_h), dc = incoming(grad_c);
  Tensor da = empty({batch, 4 * hidden}, {.dtype = ct, .device = dh.device()});
  Tensor dc_prev = empty({batch, hidden}, {.dtype = ct, .device = dh.device()});
  kernels::lstm_cell_backward(saved.gates, saved.c, saved.c_new, dh, Tensor(), dc, da, dc_prev);

  std::vector<Tensor> g(7);
  if (needs[0]) g[0] = mm(da, saved.w_ih);
  if (needs[1]) g[1] = mm(da, saved.w_hh);
  if (needs[2]) g[2] = dc_prev;
  if (needs[3]) g[3] = mm(da.t(), saved.x);
  if (needs[4]) g[4] = mm(da.t(), saved.h);
  if (needs[5] || needs[6]) {
    const Tensor db = sum(da, {0});
    if (needs[5]) g[5] = db;
    if (needs[6]) g[6] = needs[5] ? db.clone() : db;
  }
  for (int i = 0; i < 7; ++i) {
    if (!g[i].defined()) continue;
    if (i < 3 && layout.unbatched) g[i] = g[i].squeeze(0);
    if (g[i].dtype() != layout.dtype) g[i] = g[i].to(layout.dtype);
  }
  return g;
}

}  // namespace detail

// ---- lstm over a sequence ----

namespace {

std::string weight_name(int64_t k, int64_t layer, bool reverse) {
  static const char* base[] = {"w_ih", "w_hh", "b_ih", "b_hh"};
  return std::string(base[k]) + "_l" + std::to_string(layer) + (reverse ? "_reverse" : "");
}

// Checks the flat weight list and returns the geometry it describes.
detail::LSTMGeometry check_weights(const Tensor& x, const std::vector<Tensor>& weights, const LSTMSequenceOptions& o,
                                   int64_t in_size) {
  const char* op = "lstm";
  detail::LSTMGeometry geo;
  geo.num_layers = o.num_layers;
  geo.directions = o.bidirectional ? 2 : 1;
  const int64_t cells = geo.num_layers * geo.directions;
  const int64_t n = static_cast<int64_t>(weights.size());
  STRATA_CHECK(n == 4 * cells || n == 2 * cells, ValueError,
               "lstm: expected 4 weight tensors per layer and direction (w_ih, w_hh, b_ih, b_hh), or 2 without "
               "biases: {} layer(s) x {} direction(s) need {} or {}, got {}",
               geo.num_layers, geo.directions, 4 * cells, 2 * cells, n);
  geo.has_bias = n == 4 * cells;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t k = i % geo.per_cell(), cell = i / geo.per_cell();
    const std::string name = weight_name(k, cell / geo.directions, cell % geo.directions == 1);
    check_defined(op, weights[i], name.c_str());
    check_like_input(op, x, weights[i], name);
  }
  const Tensor& w_hh0 = weights[1];
  STRATA_CHECK(w_hh0.dim() == 2 && w_hh0.size(1) > 0, ShapeError,
               "lstm: w_hh_l0 must be [4H, H] with hidden size H > 0, got shape {}", w_hh0.shape());
  geo.hidden = w_hh0.size(1);
  const int64_t hidden = geo.hidden;
  for (int64_t layer = 0; layer < geo.num_layers; ++layer) {
    const int64_t layer_in = layer == 0 ? in_size : geo.directions * hidden;
    for (int64_t d = 0; d < geo.directions; ++d) {
      const Shape want[] = {{4 * hidden, layer_in}, {4 * hidden, hidden}, {4 * hidden}, {4 * hidden}};
      for (int64_t k = 0; k < geo.per_cell(); ++k)
        check_shape(op, weights[geo.weight_index(layer, d, k)], weight_name(k, layer, d == 1), want[k], layer_in,
                    hidden);
    }
  }
  return geo;
}

}  // namespace

LSTMSequenceOutput lstm(const Tensor& x, const LSTMState& hx, const std::vector<Tensor>& weights,
                        const LSTMSequenceOptions& o) {
  const char* op = "lstm";
  check_defined(op, x, "input");
  STRATA_CHECK(is_floating(x.dtype()), DTypeError,
               "{}: {} inputs are not supported (input {}); convert to a floating dtype first", op, x.dtype(),
               x.shape());
  STRATA_CHECK(x.dim() == 3 || x.dim() == 2, ShapeError,
               "{}: expected input [T, B, I] ([B, T, I] with batch_first) or an unbatched [T, I], got shape {}", op,
               x.shape());
  STRATA_CHECK(o.num_layers >= 1, ValueError, "{}: num_layers must be at least 1, got {}", op, o.num_layers);
  const bool unbatched = x.dim() == 2;
  const bool batch_first = o.batch_first && !unbatched;
  const int64_t steps = batch_first ? x.size(1) : x.size(0);
  const int64_t batch = unbatched ? 1 : (batch_first ? x.size(0) : x.size(1));
  const int64_t in_size = x.size(-1);
  STRATA_CHECK(steps >= 1, ShapeError, "{}: the sequence is empty (input {}, batch_first {}); need at least one step",
               op, x.shape(), o.batch_first);
  const detail::LSTMGeometry geo = check_weights(x, weights, o, in_size);
  const int64_t cells = geo.num_layers * geo.directions;
  const Shape state = unbatched ? Shape{cells, geo.hidden} : Shape{cells, batch, geo.hidden};
  for (const auto& [t, name] : {std::pair{&hx.h, "h0"}, std::pair{&hx.c, "c0"}}) {
    if (!t->defined()) continue;
    check_like_input(op, x, *t, name);
    STRATA_CHECK(
        t->shape() == state, ShapeError,
        "{}: {} has shape {} but {} layer(s) x {} direction(s), batch {} and hidden size {} need {} (input {})", op,
        name, t->shape(), geo.num_layers, geo.directions, batch, geo.hidden, state, x.shape());
  }

  const DType ct = compute_dtype(x.dtype());
  const detail::RnnLayout layout{.dtype = x.dtype(), .unbatched = unbatched, .batch_first = batch_first};
  autograd::TensorList inputs{x, hx.h, hx.c};
  inputs.insert(inputs.end(), weights.begin(), weights.end());
  const bool record = autograd::needs_grad(inputs);
  detail::LSTMSequenceSaved saved;
  std::vector<Tensor> cw;
  LSTMSequenceOutput out;
  {
    NoGradGuard no_grad;
    Tensor xt = unbatched ? x.unsqueeze(1) : x;
    if (batch_first) xt = xt.transpose(0, 1);
    auto state_in = [&](const Tensor& t) { return prepared(unbatched && t.defined() ? t.unsqueeze(1) : t, ct); };
    cw.reserve(weights.size());
    for (const Tensor& w : weights) cw.push_back(prepared(w, ct));
    out = detail::lstm_sequence_forward(prepared(xt, ct), state_in(hx.h), state_in(hx.c), cw, geo,
                                        record ? &saved : nullptr);
    if (batch_first) out.output = out.output.transpose(0, 1);
    if (unbatched) {
      out.output = out.output.squeeze(1);
      out.h_n = out.h_n.squeeze(1);
      out.c_n = out.c_n.squeeze(1);
    }
    if (ct != x.dtype()) {
      out.output = out.output.to(x.dtype());
      out.h_n = out.h_n.to(x.dtype());
      out.c_n = out.c_n.to(x.dtype());
    }
  }
  if (record) autograd::record_lstm(inputs, std::move(saved), std::move(cw), geo, layout, out);
  propagate_semantics(out.output, {&x});
  return out;
}

}  // namespace strata
