// nn::LSTM: PyTorch's parameter names, order, shapes and counts; PyTorch's init range; forward
// equals the functional op on the module's weights; state in and out; batch_first; inter-layer
// dropout only in training mode (and gradients flow through it); dtype moves; bad options.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "nn/lstm.h"
#include "support/expect_error.h"
#include "tensor/ops.h"

using namespace strata;

namespace {

std::vector<double> vec(const Tensor& t) { return t.detach().to(DType::F64).contiguous().to_vector<double>(); }

Tensor random(const Shape& shape, uint64_t seed) {
  Generator gen(seed);
  return rand(shape, {}, &gen) * 2.0 - 1.0;
}

std::vector<std::string> names(const nn::Module& m) {
  std::vector<std::string> out;
  for (const auto& [name, t] : m.named_parameters()) out.push_back(name);
  return out;
}

TEST(LstmModule, ParameterNamesAndOrderArePyTorchs) {
  nn::LSTM lstm(3, 4, {.num_layers = 2, .bidirectional = true});
  const std::vector<std::string> want{
      "weight_ih_l0",         "weight_hh_l0",         "bias_ih_l0",         "bias_hh_l0",
      "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse",
      "weight_ih_l1",         "weight_hh_l1",         "bias_ih_l1",         "bias_hh_l1",
      "weight_ih_l1_reverse", "weight_hh_l1_reverse", "bias_ih_l1_reverse", "bias_hh_l1_reverse"};
  EXPECT_EQ(names(lstm), want);
  EXPECT_EQ(lstm.parameter("weight_ih_l0").shape(), (Shape{16, 3}));
  EXPECT_EQ(lstm.parameter("weight_ih_l1").shape(), (Shape{16, 8}));  // reads both directions
  EXPECT_EQ(lstm.parameter("weight_hh_l1_reverse").shape(), (Shape{16, 4}));
  EXPECT_EQ(lstm.parameter("bias_hh_l1_reverse").shape(), (Shape{16}));
  ASSERT_EQ(lstm.flat_weights().size(), 16u);
  EXPECT_TRUE(lstm.flat_weights()[5].is_same(lstm.parameter("weight_hh_l0_reverse")));
  EXPECT_EQ(lstm.state_dict().size(), 16u);
}

TEST(LstmModule, ParameterCountsMatchPyTorch) {
  // torch.nn.LSTM(400, 1152): 4 * 1152 * (400 + 1152 + 2) = 7,160,832
  EXPECT_EQ(nn::LSTM(400, 1152).num_parameters(), 4 * 1152 * (400 + 1152 + 2));
  EXPECT_EQ(nn::LSTM(400, 1152).num_parameters(), 7160832);
  // two layers: the second reads H features
  EXPECT_EQ(nn::LSTM(10, 20, {.num_layers = 2}).num_parameters(), 4 * 20 * (10 + 20 + 2) + 4 * 20 * (20 + 20 + 2));
  nn::LSTM no_bias(10, 20, {.bias = false});
  EXPECT_EQ(no_bias.num_parameters(), 4 * 20 * (10 + 20));
  EXPECT_EQ(names(no_bias), (std::vector<std::string>{"weight_ih_l0", "weight_hh_l0"}));
}

TEST(LstmModule, InitIsUniformWithinOneOverSqrtHidden) {
  manual_seed(3);
  nn::LSTM lstm(30, 25);
  const double bound = 1.0 / 5.0;
  for (const auto& [name, t] : lstm.named_parameters()) {
    const auto v = vec(t);
    double lo = 1, hi = -1, mean = 0;
    for (double x : v) {
      lo = std::min(lo, x);
      hi = std::max(hi, x);
      mean += x / static_cast<double>(v.size());
    }
    EXPECT_GE(lo, -bound) << name;
    EXPECT_LE(hi, bound) << name;
    EXPECT_LT(lo, -0.8 * bound) << name << ": values should fill the range";
    EXPECT_GT(hi, 0.8 * bound) << name;
    EXPECT_NEAR(mean, 0.0, 0.05) << name;
    EXPECT_TRUE(t.requires_grad()) << name;
  }
}

TEST(LstmModule, ForwardEqualsTheFunctionalOpOnItsWeights) {
  nn::LSTM lstm(3, 4, {.num_layers = 2, .batch_first = true});
  const Tensor x = random({2, 5, 3}, 1);
  const Tensor y = lstm(x);
  const auto want = strata::lstm(x, {}, lstm.flat_weights(), {.num_layers = 2, .batch_first = true});
  EXPECT_EQ(y.shape(), (Shape{2, 5, 4}));
  EXPECT_EQ(vec(y), vec(want.output));
}

TEST(LstmModule, ForwardWithStateTakesAndReturnsTheState) {
  nn::LSTM lstm(3, 4, {.num_layers = 2, .bidirectional = true});
  const Tensor x = random({5, 2, 3}, 1);
  const Tensor h0 = random({4, 2, 4}, 2), c0 = random({4, 2, 4}, 3);
  const nn::LSTMOutput r = lstm.forward_with_state(x, LSTMState{h0, c0});
  EXPECT_EQ(r.output.shape(), (Shape{5, 2, 8}));
  EXPECT_EQ(r.h_n.shape(), (Shape{4, 2, 4}));
  EXPECT_EQ(r.c_n.shape(), (Shape{4, 2, 4}));
  // the forward direction's last output is its h_n; the reverse direction's first output is its h_n
  EXPECT_EQ(vec(r.output[4].narrow(1, 0, 4)), vec(r.h_n[2]));
  EXPECT_EQ(vec(r.output[0].narrow(1, 4, 4)), vec(r.h_n[3]));
  const nn::LSTMOutput zero = lstm.forward_with_state(x);
  EXPECT_NE(vec(zero.output), vec(r.output));
  // continuing from a returned state equals running the longer sequence at once
  nn::LSTM one(3, 4);
  const Tensor long_x = random({6, 2, 3}, 4);
  const auto whole = one.forward_with_state(long_x);
  const auto first = one.forward_with_state(long_x.narrow(0, 0, 4));
  const auto rest = one.forward_with_state(long_x.narrow(0, 4, 2), LSTMState{first.h_n, first.c_n});
  const auto a = vec(whole.output.narrow(0, 4, 2)), b = vec(rest.output);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-6);
}

TEST(LstmModule, DropoutBetweenLayersOnlyInTraining) {
  manual_seed(5);
  nn::LSTM lstm(3, 8, {.num_layers = 2, .dropout = 0.5});
  const Tensor x = random({4, 3, 3}, 1);
  const auto plain = strata::lstm(x, {}, lstm.flat_weights(), {.num_layers = 2});
  lstm.eval();
  EXPECT_EQ(vec(lstm(x)), vec(plain.output));
  lstm.train();
  const auto trained = lstm.forward_with_state(x);
  EXPECT_NE(vec(trained.output), vec(plain.output));
  // the first layer is untouched by dropout: its final state is the same
  EXPECT_EQ(vec(trained.h_n[0]), vec(plain.h_n[0]));
  EXPECT_NE(vec(trained.h_n[1]), vec(plain.h_n[1]));
  EXPECT_EQ(trained.h_n.shape(), (Shape{2, 3, 8}));
  // gradients reach every parameter through the layer-by-layer path
  sum(trained.output).backward();
  for (const auto& [name, t] : lstm.named_parameters()) EXPECT_TRUE(t.grad().defined()) << name;
  // one layer: no dropout to apply
  nn::LSTM single(3, 8, {.dropout = 0.5});
  EXPECT_EQ(vec(single(x)), vec(strata::lstm(x, {}, single.flat_weights(), {}).output));
}

TEST(LstmModule, MovesToFloat64InPlace) {
  nn::LSTM lstm(3, 4);
  const Tensor w = lstm.flat_weights()[0];
  lstm.to(DType::F64);
  EXPECT_EQ(w.dtype(), DType::F64);
  EXPECT_EQ(lstm(random({2, 1, 3}, 1).to(DType::F64)).dtype(), DType::F64);
}

TEST(LstmModule, PrintsItsOptions) {
  EXPECT_NE(
      nn::LSTM(3, 4, {.num_layers = 2, .batch_first = true}).str().find("LSTM(3, 4, num_layers=2, batch_first=true)"),
      std::string::npos);
}

TEST(LstmModule, BadOptionsAndInputsSayWhat) {
  EXPECT_STRATA_ERROR(nn::LSTM(3, 0), ValueError, {"LSTM:", "hidden_size positive"});
  EXPECT_STRATA_ERROR(nn::LSTM(3, 4, {.num_layers = 0}), ValueError, {"LSTM: num_layers must be at least 1"});
  EXPECT_STRATA_ERROR(nn::LSTM(3, 4, {.dropout = 1.5}), ValueError, {"LSTM: dropout must be a probability", "1.5"});
  nn::LSTM lstm(3, 4);
  EXPECT_STRATA_ERROR(lstm(zeros({5, 2, 7})), ShapeError, {"lstm: w_ih_l0 has shape [16, 3]", "input size 7"});
}

}  // namespace
