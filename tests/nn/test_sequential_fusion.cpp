// nn::Sequential's BatchNorm -> ReLU fusion (nn/sequential.h): the fused model gives the same
// outputs, parameter gradients, running statistics and batch counts as the unfused one, in
// training and eval, for BatchNorm1d/2d/3d; the fused call is visible as a BatchNormReluBackward
// node; nothing fuses when either module has a forward hook (the hook sees the real intermediate
// output), for LeakyReLU, for a ReLU that does not directly follow the BatchNorm, or when fusion
// is switched off.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "nn/activation.h"
#include "nn/basic.h"
#include "nn/conv.h"
#include "nn/linear.h"
#include "nn/norm.h"
#include "nn/sequential.h"
#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "tensor/ops.h"

using namespace strata;

namespace {

// Restores the process-wide switch whatever a test does.
struct FusionSwitch {
  explicit FusionSwitch(bool on) : saved(nn::fusion_enabled()) { nn::set_fusion_enabled(on); }
  ~FusionSwitch() { nn::set_fusion_enabled(saved); }
  bool saved;
};

Tensor random(const Shape& shape, uint64_t seed) {
  Generator gen(seed);
  return randn(shape, {}, &gen);
}

std::vector<double> values(const Tensor& t) { return t.to(DType::F64).contiguous().to_vector<double>(); }

void expect_close(const Tensor& a, const Tensor& b, double tol, const std::string& what) {
  ASSERT_TRUE(a.defined() && b.defined()) << what;
  ASSERT_EQ(a.shape(), b.shape()) << what;
  const auto va = values(a), vb = values(b);
  for (size_t i = 0; i < va.size(); ++i) ASSERT_NEAR(va[i], vb[i], tol * (1.0 + std::abs(vb[i]))) << what << " " << i;
}

// A conv net in fastai's ConvLayer shape: conv -> BN -> ReLU twice, then a linear head.
std::shared_ptr<nn::Sequential> conv_net() {
  manual_seed(3);
  return std::make_shared<nn::Sequential>(std::vector<nn::ModulePtr>{
      std::make_shared<nn::Conv2d>(2, 4, 3, nn::ConvOptions{.padding = 1, .bias = false}),
      std::make_shared<nn::BatchNorm2d>(4), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::Conv2d>(4, 6, 3, nn::ConvOptions{.stride = 2, .padding = 1, .bias = false}),
      std::make_shared<nn::BatchNorm2d>(6), std::make_shared<nn::ReLU>(), std::make_shared<nn::Flatten>(),
      std::make_shared<nn::Linear>(6 * 4 * 4, 3)});
}

// The model's parameters' gradients and buffers (running stats, batch counts), in order.
std::vector<Tensor> grads_and_buffers(nn::Module& m) {
  std::vector<Tensor> out;
  for (const Tensor& p : m.parameters()) out.push_back(p.grad());
  for (const Tensor& b : m.buffers()) out.push_back(b);
  return out;
}

// Two training steps' forward + backward and one eval forward, fused or not, from the same
// initial state; returns every output, gradient and buffer.
std::vector<Tensor> trace(const std::shared_ptr<nn::Sequential>& model, const Tensor& x, bool fuse) {
  FusionSwitch sw(fuse);
  std::vector<Tensor> out;
  model->train();
  for (int step = 0; step < 2; ++step) {
    model->zero_grad();
    Tensor y = (*model)(x * (1.0 + step));
    sum(y * y).backward();
    out.push_back(y.detach());
    for (Tensor& t : grads_and_buffers(*model)) out.push_back(t.defined() ? t.clone() : t);
  }
  model->eval();
  out.push_back((*model)(x).detach());
  return out;
}

void expect_same_traces(const std::vector<Tensor>& fused, const std::vector<Tensor>& plain) {
  ASSERT_EQ(fused.size(), plain.size());
  for (size_t i = 0; i < fused.size(); ++i) {
    if (fused[i].dtype() == DType::I64) {
      EXPECT_EQ(values(fused[i]), values(plain[i])) << "item " << i;
      continue;
    }
    expect_close(fused[i], plain[i], 1e-5, "item " + std::to_string(i));
  }
}

std::string last_node(const Tensor& y) { return y.grad_fn() ? y.grad_fn()->name() : ""; }

}  // namespace

TEST(SequentialFusion, ConvNetGivesTheSameOutputsGradientsAndRunningStats) {
  auto fused_model = conv_net(), plain_model = conv_net();
  plain_model->load_state_dict(fused_model->state_dict());
  const Tensor x = random({5, 2, 8, 8}, 7);
  const auto fused = trace(fused_model, x, true);
  const auto plain = trace(plain_model, x, false);
  expect_same_traces(fused, plain);
  // num_batches_tracked counted both training steps in both.
  auto* bn = dynamic_cast<nn::BatchNormBase*>((*fused_model)[1].get());
  ASSERT_NE(bn, nullptr);
  EXPECT_EQ(bn->num_batches_tracked.item<int64_t>(), 2);
}

TEST(SequentialFusion, FusedCallShowsAsOneBatchNormReluNode) {
  for (bool on : {true, false}) {
    FusionSwitch sw(on);
    nn::Sequential seq({std::make_shared<nn::BatchNorm1d>(3), std::make_shared<nn::ReLU>()});
    Tensor x = random({6, 3}, 1).requires_grad_();
    Tensor y = seq(x);
    EXPECT_EQ(last_node(y), on ? "BatchNormReluBackward" : "reluBackward") << "fusion " << on;
    EXPECT_GE(values(y)[0], 0.0);
  }
}

TEST(SequentialFusion, BatchNorm1dAnd3dFuseToo) {
  FusionSwitch sw(true);
  struct Case {
    nn::ModulePtr bn;
    Shape x;
  };
  const Case cases[] = {{std::make_shared<nn::BatchNorm1d>(3), {4, 3, 5}},
                        {std::make_shared<nn::BatchNorm3d>(3), {2, 3, 2, 3, 4}}};
  for (const Case& c : cases) {
    nn::Sequential seq({c.bn, std::make_shared<nn::ReLU>()});
    Tensor x = random(c.x, 2).requires_grad_();
    Tensor y = seq(x);
    EXPECT_EQ(last_node(y), "BatchNormReluBackward") << c.bn->type_name();
    auto* bn = dynamic_cast<nn::BatchNormBase*>(c.bn.get());
    Tensor rm = bn->running_mean.clone(), rv = bn->running_var.clone();
    // Reference on the same input with the BN's state before the call: reset and redo unfused.
    NoGradGuard no_grad;
    bn->reset_running_stats();
    Tensor ref = relu((*c.bn)(x.detach()));
    expect_close(y.detach(), ref, 1e-6, c.bn->type_name() + " out");
    expect_close(rm, bn->running_mean, 0, c.bn->type_name() + " running_mean");
    expect_close(rv, bn->running_var, 0, c.bn->type_name() + " running_var");
  }
}

TEST(SequentialFusion, AHookOnTheReluSeesItsOutputAndStopsTheFusion) {
  FusionSwitch sw(true);
  auto bn = std::make_shared<nn::BatchNorm2d>(3);
  auto act = std::make_shared<nn::ReLU>();
  nn::Sequential seq({bn, act});
  Tensor seen_in, seen_out;
  act->register_forward_hook([&](nn::Module&, std::span<const Tensor> in, const Tensor& out) {
    seen_in = in[0];
    seen_out = out;
  });
  Tensor x = random({2, 3, 4, 4}, 5).requires_grad_();
  Tensor y = seq(x);
  ASSERT_TRUE(seen_out.defined());
  EXPECT_EQ(last_node(y), "reluBackward");
  expect_close(seen_out, y, 0, "hook output");
  // The hook saw the batch norm's output: it has negative values, the ReLU's has none.
  const auto in = values(seen_in);
  EXPECT_LT(*std::min_element(in.begin(), in.end()), 0.0);
}

TEST(SequentialFusion, AHookOnTheBatchNormSeesItsOutputAndStopsTheFusion) {
  FusionSwitch sw(true);
  auto bn = std::make_shared<nn::BatchNorm2d>(3);
  nn::Sequential seq({bn, std::make_shared<nn::ReLU>()});
  int calls = 0;
  Tensor seen;
  const int64_t id = bn->register_forward_hook([&](nn::Module&, std::span<const Tensor>, const Tensor& out) {
    ++calls;
    seen = out;
  });
  Tensor y = seq(random({2, 3, 4, 4}, 6));
  EXPECT_EQ(calls, 1);
  const auto v = values(seen);
  EXPECT_LT(*std::min_element(v.begin(), v.end()), 0.0);  // before the ReLU
  // Without the hook, the pair fuses again.
  bn->remove_forward_hook(id);
  Tensor y2 = seq(random({2, 3, 4, 4}, 6).requires_grad_());
  EXPECT_EQ(last_node(y2), "BatchNormReluBackward");
  EXPECT_EQ(calls, 1);
}

TEST(SequentialFusion, OnlyAReluRightAfterTheBatchNormFuses) {
  FusionSwitch sw(true);
  Tensor x = random({4, 3}, 8).requires_grad_();
  {
    nn::Sequential seq({std::make_shared<nn::BatchNorm1d>(3), std::make_shared<nn::LeakyReLU>(0.1)});
    EXPECT_NE(last_node(seq(x)), "BatchNormReluBackward");
  }
  {
    nn::Sequential seq({std::make_shared<nn::BatchNorm1d>(3), std::make_shared<nn::Identity>(),
                        std::make_shared<nn::ReLU>()});
    EXPECT_EQ(last_node(seq(x)), "reluBackward");
  }
  {
    // A ReLU before the BatchNorm, and a BatchNorm as the last child: nothing to fuse.
    nn::Sequential seq({std::make_shared<nn::ReLU>(), std::make_shared<nn::BatchNorm1d>(3)});
    EXPECT_EQ(last_node(seq(x)), "BatchNormBackward");
  }
}
