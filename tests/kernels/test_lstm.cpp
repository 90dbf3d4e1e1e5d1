// The rnn family's ops: lstm_cell against hand-computed numbers (1x1), and lstm against the same
// LSTM unrolled with core ops (matmul, sigmoid, tanh, narrow, stack) for the forward AND the
// gradients of every input and weight (the fused op's single node vs autograd through the
// unrolled graph): one layer, two layers, batch_first, bidirectional, no biases, given vs zero
// initial state, non-contiguous inputs, unbatched inputs, f32 / f64 / f16 / bf16. Also: results do
// not depend on the thread count; an in-place change to an output before backward is caught;
// backward twice with retain_graph accumulates; an empty batch; the messages of bad calls.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "kernels/cpu/parallel.h"
#include "strata.h"
#include "support/expect_error.h"

namespace strata {
namespace {

using TL = std::vector<Tensor>;

Tensor random(const Shape& shape, DType dt, uint64_t seed, bool grad = true) {
  Generator gen(seed);
  Tensor t = (rand(shape, {.dtype = DType::F64}, &gen) * 2.0 - 1.0).to(dt);
  if (grad) t.requires_grad_(true);
  return t;
}

std::vector<double> vec(const Tensor& t) { return t.detach().to(DType::F64).contiguous().to_vector<double>(); }

void expect_close(const Tensor& got, const Tensor& want, double tol, const std::string& what) {
  ASSERT_TRUE(got.defined()) << what;
  ASSERT_EQ(got.shape(), want.shape()) << what;
  const auto g = vec(got), w = vec(want);
  for (size_t i = 0; i < g.size(); ++i)
    ASSERT_NEAR(g[i], w[i], tol * (1.0 + std::abs(w[i]))) << what << " element " << i;
}

// ---- the reference: the LSTM unrolled with core ops ----

struct Config {
  int64_t batch = 2, steps = 3, in = 3, hidden = 2, layers = 1;
  bool bidirectional = false, batch_first = false, bias = true, with_state = false;
};

std::vector<Shape> weight_shapes(const Config& c) {
  std::vector<Shape> s;
  const int64_t dirs = c.bidirectional ? 2 : 1;
  for (int64_t l = 0; l < c.layers; ++l)
    for (int64_t d = 0; d < dirs; ++d) {
      const int64_t layer_in = l == 0 ? c.in : dirs * c.hidden;
      s.push_back({4 * c.hidden, layer_in});
      s.push_back({4 * c.hidden, c.hidden});
      if (c.bias) {
        s.push_back({4 * c.hidden});
        s.push_back({4 * c.hidden});
      }
    }
  return s;
}

LSTMSequenceOutput unrolled(const Tensor& x_user, const LSTMState& hx, const TL& w, const Config& c) {
  const int64_t dirs = c.bidirectional ? 2 : 1, per = c.bias ? 4 : 2, hidden = c.hidden;
  const Tensor x = c.batch_first ? x_user.transpose(0, 1) : x_user;
  const int64_t steps = x.size(0), batch = x.size(1);
  Tensor input = x;
  TL h_n, c_n;
  for (int64_t l = 0; l < c.layers; ++l) {
    TL dir_outputs;
    for (int64_t d = 0; d < dirs; ++d) {
      const int64_t cell = l * dirs + d, base = cell * per;
      Tensor h = hx.h.defined() ? hx.h[cell] : zeros({batch, hidden}, {.dtype = x.dtype()});
      Tensor cs = hx.c.defined() ? hx.c[cell] : zeros({batch, hidden}, {.dtype = x.dtype()});
      TL outs(static_cast<size_t>(steps));
      for (int64_t k = 0; k < steps; ++k) {
        const int64_t t = d == 1 ? steps - 1 - k : k;
        Tensor g = matmul(input[t], w[base].t()) + matmul(h, w[base + 1].t());
        if (c.bias) g = g + w[base + 2] + w[base + 3];
        const Tensor i = sigmoid(g.narrow(1, 0, hidden)), f = sigmoid(g.narrow(1, hidden, hidden));
        const Tensor gg = tanh(g.narrow(1, 2 * hidden, hidden)), o = sigmoid(g.narrow(1, 3 * hidden, hidden));
        cs = f * cs + i * gg;
        h = o * tanh(cs);
        outs[static_cast<size_t>(t)] = h;
      }
      h_n.push_back(h);
      c_n.push_back(cs);
      dir_outputs.push_back(stack(outs, 0));
    }
    input = dirs == 1 ? dir_outputs[0] : cat(dir_outputs, 2);
  }
  return {c.batch_first ? input.transpose(0, 1) : input, stack(h_n, 0), stack(c_n, 0)};
}

// Runs the fused op and the reference on the same inputs; compares outputs and the gradients of
// x, h0, c0 and every weight for a loss that weights each output element differently.
void compare_with_unrolled(const Config& c, DType dt = DType::F64, double tol = 1e-10) {
  const int64_t dirs = c.bidirectional ? 2 : 1;
  const Shape x_shape = c.batch_first ? Shape{c.batch, c.steps, c.in} : Shape{c.steps, c.batch, c.in};
  TL inputs{random(x_shape, dt, 1)};
  LSTMState hx;
  if (c.with_state) {
    hx = {random({c.layers * dirs, c.batch, c.hidden}, dt, 2), random({c.layers * dirs, c.batch, c.hidden}, dt, 3)};
    inputs.push_back(hx.h);
    inputs.push_back(hx.c);
  }
  TL w;
  uint64_t seed = 10;
  for (const Shape& s : weight_shapes(c)) w.push_back(random(s, dt, seed++));
  inputs.insert(inputs.end(), w.begin(), w.end());

  const LSTMSequenceOptions o{.num_layers = c.layers, .bidirectional = c.bidirectional, .batch_first = c.batch_first};
  const LSTMSequenceOutput got = lstm(inputs[0], hx, w, o);
  const LSTMSequenceOutput want = unrolled(inputs[0], hx, w, c);
  expect_close(got.output, want.output, tol, "output");
  expect_close(got.h_n, want.h_n, tol, "h_n");
  expect_close(got.c_n, want.c_n, tol, "c_n");

  const Tensor r_out = random(want.output.shape(), dt, 91, false), r_h = random(want.h_n.shape(), dt, 92, false),
               r_c = random(want.c_n.shape(), dt, 93, false);
  auto loss = [&](const LSTMSequenceOutput& r) { return sum(r.output * r_out) + sum(r.h_n * r_h) + sum(r.c_n * r_c); };
  const TL g_got = autograd::grad({loss(got)}, inputs);
  const TL g_want = autograd::grad({loss(want)}, inputs);
  for (size_t i = 0; i < inputs.size(); ++i)
    expect_close(g_got[i], g_want[i], tol, "gradient of input " + std::to_string(i));
}

// ---- lstm_cell ----

TEST(LstmCell, OneByOneMatchesHandComputedValuesAndGradients) {
  // gates = [0.1, 0.2, 0.3, 0.4] * 0.5 + [0.5, -0.6, 0.7, -0.8] * -0.3 + b_ih + b_hh
  //       = [-0.14, 0.36, -0.1, 0.56];  c' = sigmoid(0.36) * 0.2 + sigmoid(-0.14) * tanh(-0.1),
  //       h' = sigmoid(0.56) * tanh(c')
  for (DType dt : {DType::F64, DType::F32}) {
    Tensor x = tensor<double>({0.5}, {1, 1}).to(dt).requires_grad_();
    Tensor h = tensor<double>({-0.3}, {1, 1}).to(dt).requires_grad_();
    Tensor c = tensor<double>({0.2}, {1, 1}).to(dt).requires_grad_();
    Tensor w_ih = tensor<double>({0.1, 0.2, 0.3, 0.4}, {4, 1}).to(dt).requires_grad_();
    Tensor w_hh = tensor<double>({0.5, -0.6, 0.7, -0.8}, {4, 1}).to(dt).requires_grad_();
    Tensor b_ih = tensor<double>({0.01, 0.02, 0.03, 0.04}).to(dt).requires_grad_();
    Tensor b_hh = tensor<double>({-0.05, 0.06, -0.07, 0.08}).to(dt).requires_grad_();
    const LSTMState r = lstm_cell(x, h, c, w_ih, w_hh, b_ih, b_hh);
    const double tol = dt == DType::F64 ? 1e-11 : 1e-6;
    EXPECT_EQ(r.h.dtype(), dt);
    EXPECT_NEAR(r.c.item(), 0.071456782769, tol);
    EXPECT_NEAR(r.h.item(), 0.045401602592, tol);
    sum(r.h + r.c).backward();
    EXPECT_NEAR(c.grad().item(), 0.962028964702, tol);
    EXPECT_NEAR(x.grad().item(), 0.243964624050, tol);
    const std::vector<double> want_whh{0.0121488093454796, -0.02372130034540538, -0.22559777201920864,
                                       -0.00495169118679197};
    const auto got_whh = vec(w_hh.grad());
    for (int k = 0; k < 4; ++k) EXPECT_NEAR(got_whh[k], want_whh[k], tol) << "gate " << k;
    // d/db_ih = d/db_hh = the pre-activation gradient = w_hh's gradient / h
    const auto got_b = vec(b_hh.grad());
    for (int k = 0; k < 4; ++k) EXPECT_NEAR(got_b[k], want_whh[k] / -0.3, tol) << "gate " << k;
    EXPECT_EQ(vec(b_ih.grad()), got_b);
  }
}

TEST(LstmCell, MatchesOneStepOfTheUnrolledReference) {
  const Tensor x = random({3, 4}, DType::F64, 1), h = random({3, 5}, DType::F64, 2), c = random({3, 5}, DType::F64, 3);
  const Tensor w_ih = random({20, 4}, DType::F64, 4), w_hh = random({20, 5}, DType::F64, 5);
  const LSTMState r = lstm_cell(x, h, c, w_ih, w_hh);
  const Config cfg{.batch = 3, .steps = 1, .in = 4, .hidden = 5, .bias = false};
  const LSTMSequenceOutput want = unrolled(x.unsqueeze(0), {h.unsqueeze(0), c.unsqueeze(0)}, {w_ih, w_hh}, cfg);
  expect_close(r.h, want.h_n[0], 1e-12, "h");
  expect_close(r.c, want.c_n[0], 1e-12, "c");
  const TL got = autograd::grad({sum(r.h * 1.5) + sum(r.c * r.c)}, {x, h, c, w_ih, w_hh});
  const TL ref = autograd::grad({sum(want.h_n * 1.5) + sum(want.c_n * want.c_n)}, {x, h, c, w_ih, w_hh});
  for (size_t i = 0; i < got.size(); ++i) expect_close(got[i], ref[i], 1e-11, "gradient " + std::to_string(i));
}

TEST(LstmCell, GraphIsFreedWithItsOutputs) {
  // The node keeps c' for backward; it must not keep the output handle alive (a cycle would leak).
  const Tensor x = random({2, 3}, DType::F32, 1), h = random({2, 4}, DType::F32, 2), c = random({2, 4}, DType::F32, 3);
  const Tensor w_ih = random({16, 3}, DType::F32, 4), w_hh = random({16, 4}, DType::F32, 5);
  std::weak_ptr<autograd::Node> node;
  {
    const LSTMState r = lstm_cell(x, h, c, w_ih, w_hh);
    node = r.c.grad_fn();
    ASSERT_FALSE(node.expired());
    EXPECT_EQ(node.lock()->name(), "LstmCellBackward");
  }
  EXPECT_TRUE(node.expired());
}

TEST(LstmCell, HalfAndBFloat16ComputeInFloat) {
  for (DType dt : {DType::F16, DType::BF16}) {
    const Tensor x = random({2, 3}, DType::F32, 1, false), h = random({2, 4}, DType::F32, 2, false),
                 c = random({2, 4}, DType::F32, 3, false), w_ih = random({16, 3}, DType::F32, 4, false),
                 w_hh = random({16, 4}, DType::F32, 5, false);
    const LSTMState want = lstm_cell(x.to(dt).to(DType::F32), h.to(dt).to(DType::F32), c.to(dt).to(DType::F32),
                                     w_ih.to(dt).to(DType::F32), w_hh.to(dt).to(DType::F32));
    const LSTMState got = lstm_cell(x.to(dt), h.to(dt), c.to(dt), w_ih.to(dt), w_hh.to(dt));
    EXPECT_EQ(got.h.dtype(), dt);
    EXPECT_EQ(got.c.dtype(), dt);
    expect_close(got.h, want.h.to(dt), 1e-6, "h");
    expect_close(got.c, want.c.to(dt), 1e-6, "c");
  }
}

TEST(LstmCell, BadCallsNameTheOpAndShapes) {
  const Tensor x = zeros({2, 3}), h = zeros({2, 4}), c = zeros({2, 4}), w_ih = zeros({16, 3}), w_hh = zeros({16, 4});
  EXPECT_STRATA_ERROR(lstm_cell(x, h, c, zeros({16, 5}), w_hh), ShapeError,
                      {"lstm_cell: w_ih has shape [16, 5] but input size 3 and hidden size 4 need [16, 3]"});
  EXPECT_STRATA_ERROR(lstm_cell(x, zeros({3, 4}), c, w_ih, w_hh), ShapeError,
                      {"lstm_cell: h has shape [3, 4]", "[2, 4]"});
  EXPECT_STRATA_ERROR(lstm_cell(x, h, c, w_ih, zeros({12, 4})), ShapeError,
                      {"lstm_cell: w_hh must be [4H, H]", "[12, 4]"});
  EXPECT_STRATA_ERROR(lstm_cell(x, h, c, w_ih, w_hh, zeros({15})), ShapeError,
                      {"lstm_cell: b_ih has shape [15]", "[16]"});
  EXPECT_STRATA_ERROR(lstm_cell(x, h.to(DType::F64), c, w_ih, w_hh), DTypeError, {"lstm_cell: h has dtype f64"});
  EXPECT_STRATA_ERROR(lstm_cell(zeros({2, 3, 1}), h, c, w_ih, w_hh), ShapeError, {"lstm_cell:", "[2, 3, 1]"});
  EXPECT_STRATA_ERROR(lstm_cell(zeros({2, 3}, {.dtype = DType::I64}), h, c, w_ih, w_hh), DTypeError,
                      {"lstm_cell:", "i64"});
  EXPECT_STRATA_ERROR(lstm_cell(x, Tensor(), c, w_ih, w_hh), ValueError, {"lstm_cell: h is an undefined tensor"});
}

// ---- lstm over a sequence ----

TEST(Lstm, OneLayerWithStateMatchesUnrolled) { compare_with_unrolled({.with_state = true}); }
TEST(Lstm, OneLayerZeroStateMatchesUnrolled) { compare_with_unrolled({.batch = 3, .steps = 5, .in = 4, .hidden = 3}); }
TEST(Lstm, TwoLayersMatchesUnrolled) { compare_with_unrolled({.layers = 2, .with_state = true}); }
TEST(Lstm, BatchFirstMatchesUnrolled) { compare_with_unrolled({.steps = 4, .layers = 2, .batch_first = true}); }
TEST(Lstm, NoBiasMatchesUnrolled) { compare_with_unrolled({.layers = 2, .bias = false, .with_state = true}); }
TEST(Lstm, BidirectionalMatchesUnrolled) {
  compare_with_unrolled({.steps = 4, .layers = 2, .bidirectional = true, .with_state = true});
  compare_with_unrolled({.layers = 1, .bidirectional = true, .batch_first = true});
}
TEST(Lstm, ThreeLayersFloat32MatchesUnrolled) {
  compare_with_unrolled({.batch = 4, .steps = 6, .in = 5, .hidden = 7, .layers = 3, .with_state = true}, DType::F32,
                        2e-5);
}

TEST(Lstm, GivenZeroStateEqualsNoStateAndAGivenStateMatters) {
  const Tensor x = random({3, 2, 3}, DType::F64, 1, false);
  TL w;
  for (const Shape& s : weight_shapes({.layers = 2})) w.push_back(random(s, DType::F64, 20 + w.size(), false));
  const LSTMSequenceOptions o{.num_layers = 2};
  const auto none = lstm(x, {}, w, o);
  const auto zero = lstm(x, {zeros({2, 2, 2}, {.dtype = DType::F64}), zeros({2, 2, 2}, {.dtype = DType::F64})}, w, o);
  expect_close(zero.output, none.output, 0, "output");
  expect_close(zero.c_n, none.c_n, 0, "c_n");
  const auto only_c = lstm(x, {Tensor(), full({2, 2, 2}, 0.5, {.dtype = DType::F64})}, w, o);
  EXPECT_GT(std::abs(vec(only_c.output)[0] - vec(none.output)[0]), 1e-3);
}

TEST(Lstm, NonContiguousInputsMatchContiguous) {
  const Config c{.steps = 4, .layers = 2, .with_state = true};
  const Tensor x = random({3, 2, 4}, DType::F64, 1, false);  // [I, B, T] -> permuted to [T, B, I]
  const Tensor h0 = random({2, 2, 2}, DType::F64, 2, false).transpose(1, 2).contiguous().transpose(1, 2);
  TL w;
  for (const Shape& s : weight_shapes(c)) w.push_back(random(s, DType::F64, 30 + w.size(), false));
  TL w_strided = w;
  w_strided[0] = w[0].t().contiguous().t();  // same values, column-major
  const auto got = lstm(x.permute({2, 1, 0}), {h0, Tensor()}, w_strided, {.num_layers = 2});
  const auto want = lstm(x.permute({2, 1, 0}).contiguous(), {h0.contiguous(), Tensor()}, w, {.num_layers = 2});
  expect_close(got.output, want.output, 0, "output");
  expect_close(got.h_n, want.h_n, 0, "h_n");
}

TEST(Lstm, UnbatchedInputDropsTheBatchDim) {
  const Tensor x = random({4, 3}, DType::F64, 1);
  const Tensor h0 = random({2, 2}, DType::F64, 2), c0 = random({2, 2}, DType::F64, 3);
  TL w;
  for (const Shape& s : weight_shapes({.layers = 2})) w.push_back(random(s, DType::F64, 40 + w.size()));
  const auto got = lstm(x, {h0, c0}, w, {.num_layers = 2, .batch_first = true});  // batch_first ignored
  const auto want = lstm(x.unsqueeze(1), {h0.unsqueeze(1), c0.unsqueeze(1)}, w, {.num_layers = 2});
  EXPECT_EQ(got.output.shape(), (Shape{4, 2}));
  EXPECT_EQ(got.h_n.shape(), (Shape{2, 2}));
  expect_close(got.output, want.output.squeeze(1), 0, "output");
  expect_close(got.c_n, want.c_n.squeeze(1), 0, "c_n");
  const TL g = autograd::grad({sum(got.output) + sum(got.c_n)}, {x, h0});
  EXPECT_EQ(g[0].shape(), x.shape());
  EXPECT_EQ(g[1].shape(), h0.shape());
}

TEST(Lstm, HalfAndBFloat16ComputeInFloat) {
  for (DType dt : {DType::F16, DType::BF16}) {
    const Tensor x = random({3, 2, 3}, dt, 1);
    TL w;
    for (const Shape& s : weight_shapes({})) w.push_back(random(s, dt, 50 + w.size()));
    TL w32;
    for (const Tensor& t : w) w32.push_back(t.detach().to(DType::F32));
    const auto got = lstm(x, {}, w, {});
    const auto want = lstm(x.detach().to(DType::F32), {}, w32, {});
    EXPECT_EQ(got.output.dtype(), dt);
    EXPECT_EQ(got.h_n.dtype(), dt);
    expect_close(got.output, want.output.to(dt), 1e-6, "output");
    sum(got.output).backward();
    EXPECT_EQ(x.grad().dtype(), dt);
    EXPECT_EQ(w[1].grad().dtype(), dt);
  }
}

TEST(Lstm, ResultsDoNotDependOnTheThreadCount) {
  const Tensor x = random({5, 8, 6}, DType::F32, 1);
  TL w;
  for (const Shape& s : weight_shapes({.in = 6, .hidden = 40})) w.push_back(random(s, DType::F32, 60 + w.size()));
  const int before = get_num_threads();
  TL results;
  for (int threads : {1, 2, 3}) {
    set_num_threads(threads);
    const auto r = lstm(x, {}, w, {});
    const TL g = autograd::grad({sum(r.output * r.output)}, {x, w[1]});
    results.push_back(r.output.detach());
    results.push_back(g[0]);
    results.push_back(g[1]);
  }
  set_num_threads(before);
  for (size_t i = 3; i < results.size(); ++i) EXPECT_EQ(vec(results[i]), vec(results[i % 3])) << "result " << i;
}

TEST(Lstm, InPlaceChangeOfAnOutputBeforeBackwardIsCaught) {
  const Tensor x = random({3, 2, 3}, DType::F32, 1);
  TL w;
  for (const Shape& s : weight_shapes({})) w.push_back(random(s, DType::F32, 70 + w.size()));
  auto r = lstm(x, {}, w, {});
  const Tensor loss = sum(r.output * 1.0);
  {
    NoGradGuard no_grad;
    mul_(r.output, 2.0);
  }
  EXPECT_STRATA_ERROR(loss.backward(), AutogradError, {"LstmBackward"});
}

TEST(Lstm, GraphIsFreedWithItsOutputs) {
  const Tensor x = random({3, 2, 3}, DType::F32, 1);
  TL w;
  for (const Shape& s : weight_shapes({.layers = 2})) w.push_back(random(s, DType::F32, 75 + w.size()));
  std::weak_ptr<autograd::Node> node;
  {
    const auto r = lstm(x, {}, w, {.num_layers = 2});
    node = r.output.grad_fn();
    ASSERT_FALSE(node.expired());
    EXPECT_EQ(node.lock()->name(), "LstmBackward");
    EXPECT_EQ(r.h_n.grad_fn(), node.lock());
  }
  EXPECT_TRUE(node.expired());
}

TEST(Lstm, BackwardTwiceWithRetainGraphAccumulates) {
  const Tensor x = random({3, 2, 3}, DType::F64, 1);
  TL w;
  for (const Shape& s : weight_shapes({})) w.push_back(random(s, DType::F64, 80 + w.size()));
  const Tensor loss = sum(lstm(x, {}, w, {}).h_n);
  loss.backward({}, true);
  const auto once = vec(w[1].grad());
  loss.backward();
  const auto twice = vec(w[1].grad());
  for (size_t i = 0; i < once.size(); ++i) EXPECT_NEAR(twice[i], 2 * once[i], 1e-12);
}

TEST(Lstm, EmptyBatchGivesEmptyOutputsAndZeroWeightGradients) {
  const Tensor x = random({3, 0, 3}, DType::F32, 1);
  TL w;
  for (const Shape& s : weight_shapes({})) w.push_back(random(s, DType::F32, 90 + w.size()));
  const auto r = lstm(x, {}, w, {});
  EXPECT_EQ(r.output.shape(), (Shape{3, 0, 2}));
  EXPECT_EQ(r.h_n.shape(), (Shape{1, 0, 2}));
  sum(r.output).backward();
  for (double v : vec(w[0].grad())) EXPECT_EQ(v, 0.0);
  EXPECT_EQ(x.grad().shape(), x.shape());
}

TEST(Lstm, BadCallsNameTheOpAndShapes) {
  const Tensor x = zeros({5, 2, 3});
  const TL w{zeros({16, 3}), zeros({16, 4}), zeros({16}), zeros({16})};
  EXPECT_STRATA_ERROR(lstm(x, {}, {zeros({16, 4}), w[1], w[2], w[3]}, {}), ShapeError,
                      {"lstm: w_ih_l0 has shape [16, 4] but input size 3 and hidden size 4 need [16, 3]"});
  EXPECT_STRATA_ERROR(lstm(x, {}, {w[0], w[1], w[2], zeros({12})}, {}), ShapeError,
                      {"lstm: b_hh_l0 has shape [12]", "need [16]"});
  EXPECT_STRATA_ERROR(lstm(x, {}, {w[0], w[1], w[2]}, {}), ValueError,
                      {"lstm: expected 4 weight tensors per layer", "need 4 or 2, got 3"});
  EXPECT_STRATA_ERROR(lstm(x, {}, {w[0], w[1], w[0], w[1], w[2]}, {.num_layers = 2}), ValueError,
                      {"lstm:", "2 layer(s) x 1 direction(s) need 8 or 4, got 5"});
  // 4 tensors for 2 layers read as 2 layers without biases: b_ih_l0 stands where w_ih_l1 should.
  EXPECT_STRATA_ERROR(lstm(x, {}, w, {.num_layers = 2}), ShapeError, {"lstm: w_ih_l1 has shape [16]", "need [16, 4]"});
  EXPECT_STRATA_ERROR(lstm(x, {}, {w[0], w[1], w[2], w[3], zeros({16, 3}), w[1], w[2], w[3]}, {.num_layers = 2}),
                      ShapeError, {"lstm: w_ih_l1 has shape [16, 3] but input size 4 and hidden size 4 need [16, 4]"});
  EXPECT_STRATA_ERROR(lstm(x, {}, {w[0], w[1], w[2], w[3], w[0], zeros({16, 3}), w[2], w[3]}, {.bidirectional = true}),
                      ShapeError, {"lstm: w_hh_l0_reverse has shape [16, 3]", "need [16, 4]"});
  EXPECT_STRATA_ERROR(lstm(x, {zeros({1, 3, 4}), Tensor()}, w, {}), ShapeError,
                      {"lstm: h0 has shape [1, 3, 4]", "batch 2 and hidden size 4 need [1, 2, 4]"});
  EXPECT_STRATA_ERROR(lstm(x, {Tensor(), zeros({2, 2, 4})}, w, {}), ShapeError, {"lstm: c0 has shape [2, 2, 4]"});
  EXPECT_STRATA_ERROR(lstm(x, {}, {w[0].to(DType::F64), w[1], w[2], w[3]}, {}), DTypeError,
                      {"lstm: w_ih_l0 has dtype f64 but input has f32"});
  EXPECT_STRATA_ERROR(lstm(zeros({0, 2, 3}), {}, w, {}), ShapeError, {"lstm: the sequence is empty", "[0, 2, 3]"});
  EXPECT_STRATA_ERROR(lstm(zeros({2, 0, 3}), {}, w, {.batch_first = true}), ShapeError,
                      {"lstm: the sequence is empty"});
  EXPECT_STRATA_ERROR(lstm(zeros({5}), {}, w, {}), ShapeError, {"lstm: expected input [T, B, I]", "[5]"});
  EXPECT_STRATA_ERROR(lstm(x, {}, w, {.num_layers = 0}), ValueError, {"lstm: num_layers must be at least 1, got 0"});
  EXPECT_STRATA_ERROR(lstm(x, {}, {w[0], Tensor(), w[2], w[3]}, {}), ValueError,
                      {"lstm: w_hh_l0 is an undefined tensor"});
}

}  // namespace
}  // namespace strata
