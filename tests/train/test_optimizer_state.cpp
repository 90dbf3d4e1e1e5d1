// Optimizer state for resuming: 4 steps in one go and 2 steps + save + load into a fresh
// optimizer + 2 steps give bitwise-equal parameters (fused Adam, generic RAdam/Larc, Lookahead).
#include <gtest/gtest.h>

#include <filesystem>

#include "support/expect_error.h"
#include "tensor/ops.h"
#include "tensor/safetensors.h"
#include "train/optimizers.h"

namespace strata::train {
namespace {

std::vector<std::vector<Tensor>> fresh_groups() {
  Generator gen(11);
  return {{randn({3, 4}, {}, &gen).requires_grad_(), randn({4}, {}, &gen).requires_grad_()},
          {randn({70000}, {}, &gen).requires_grad_()}};
}

void set_grads(Optimizer& opt, int step) {
  Generator gen(1000 + step);
  for (ParamGroup& g : opt.param_groups())
    for (Tensor& p : g.params) p.set_grad(randn(p.shape(), {}, &gen) + p.detach());
}

std::vector<std::vector<float>> values(const Optimizer& opt) {
  std::vector<std::vector<float>> out;
  for (const ParamGroup& g : opt.param_groups())
    for (const Tensor& p : g.params) out.push_back(p.detach().to_vector<float>());
  return out;
}

std::filesystem::path temp_file(const std::string& name) {
  return std::filesystem::temp_directory_path() / ("strata_test_optimizer_" + name + ".safetensors");
}

void expect_resume_is_exact(const std::string& name, const OptFunc& opt_func) {
  SCOPED_TRACE(name);
  auto straight = opt_func(fresh_groups(), 1e-2);
  straight->set_no_weight_decay({straight->param_groups()[0].params[1]});
  const std::vector<double> lrs{1e-3, 1e-2};
  straight->set_hypers("lr", lrs);
  for (int s = 0; s < 4; ++s) {
    set_grads(*straight, s);
    straight->step();
  }

  auto first = opt_func(fresh_groups(), 1e-2);
  first->set_no_weight_decay({first->param_groups()[0].params[1]});
  first->set_hypers("lr", lrs);
  for (int s = 0; s < 2; ++s) {
    set_grads(*first, s);
    first->step();
  }
  const auto path = temp_file(name);
  first->save(path);
  // A new optimizer (other lr, no flags) over copies of the parameters reached so far.
  std::vector<std::vector<Tensor>> groups;
  for (const ParamGroup& g : first->param_groups()) {
    groups.emplace_back();
    for (const Tensor& p : g.params) groups.back().push_back(p.detach().clone().requires_grad_());
  }
  auto resumed = opt_func(groups, 0.5);
  resumed->load(path);
  std::filesystem::remove(path);
  EXPECT_EQ(resumed->hyper("lr", 0), 1e-3);
  EXPECT_FALSE(resumed->state(resumed->param_groups()[0].params[1]).do_wd);
  for (int s = 2; s < 4; ++s) {
    set_grads(*resumed, s);
    resumed->step();
  }
  EXPECT_EQ(values(*resumed), values(*straight));
}

TEST(OptimizerState, ResumeIsBitwiseExact) {
  expect_resume_is_exact("adamw_fused", Adam{});
  expect_resume_is_exact("sgd_momentum_fused", SGD{.mom = 0.9, .wd = 0.01});
  expect_resume_is_exact("radam_generic", RAdam{.wd = 0.01});
  expect_resume_is_exact("larc_generic", Larc{});
  expect_resume_is_exact("lookahead_k3", Lookahead{.inner = Adam{}, .k = 3});
  expect_resume_is_exact("ranger", ranger({.k = 3}));
}

TEST(OptimizerState, StateDictNamesGroupIndexAndKind) {
  auto opt = Adam{}(fresh_groups(), 1e-3);
  set_grads(*opt, 0);
  opt->step();
  const auto sd = opt->state_dict();
  ASSERT_TRUE(sd.count("0.1.grad_avg"));
  EXPECT_EQ(sd.at("0.1.grad_avg").shape(), Shape({4}));
  ASSERT_TRUE(sd.count("1.0.sqr_avg"));
  EXPECT_EQ(sd.at("1.0.scalar.step").item(), 1.0);
  EXPECT_EQ(sd.at("0.0.flag.do_wd").item(), 1.0);
  EXPECT_EQ(sd.at("hyper.1.wd").item(), 0.01);
  EXPECT_EQ(sd.at("hyper.0.lr").dtype(), DType::F64);
}

TEST(OptimizerState, LookaheadStateCarriesCountAndSlowWeights) {
  auto opt = Lookahead{.inner = SGD{}, .k = 4}(fresh_groups(), 0.1);
  set_grads(*opt, 0);
  opt->step();
  const auto sd = opt->state_dict();
  EXPECT_EQ(sd.at("lookahead.count").item(), 1.0);
  ASSERT_TRUE(sd.count("lookahead.slow.1.0"));
  EXPECT_EQ(sd.at("lookahead.slow.0.0").shape(), Shape({3, 4}));
}

TEST(OptimizerState, LoadRejectsMalformedOrMismatchedState) {
  auto opt = Adam{}(fresh_groups(), 1e-3);
  EXPECT_STRATA_ERROR(opt->load_state_dict({{"0.0.grad_avg", zeros({5})}}), ShapeError,
                      {"load_state_dict", "'0.0.grad_avg'", "[5]", "[3, 4]"});
  EXPECT_STRATA_ERROR(opt->load_state_dict({{"grad_avg", zeros({5})}}), ValueError,
                      {"load_state_dict", "malformed key 'grad_avg'"});
  EXPECT_STRATA_ERROR(opt->load_state_dict({{"2.0.grad_avg", zeros({5})}}), ValueError,
                      {"load_state_dict", "parameter 0 of group 2"});
  EXPECT_STRATA_ERROR(opt->load_state_dict({{"hyper.7.lr", scalar_tensor(1.0)}}), ValueError,
                      {"load_state_dict", "group 7"});
  EXPECT_STRATA_ERROR(opt->load_state_dict({{"0.0.scalar.step", zeros({2})}}), ValueError,
                      {"load_state_dict", "one value"});
}

}  // namespace
}  // namespace strata::train

namespace strata::train {
namespace {

TEST(OptimizerState, ClearStateForgetsAveragesButKeepsFlags) {
  auto groups = fresh_groups();
  auto opt = Lookahead{.inner = Adam{}, .k = 2}(groups, 1e-2);
  opt->set_no_weight_decay({groups[0][1]});
  opt->set_force_train({groups[0][0]});
  set_grads(*opt, 0);
  opt->step();
  ASSERT_TRUE(opt->state(groups[1][0]).tensors.count("grad_avg"));
  opt->clear_state();
  EXPECT_TRUE(opt->state(groups[1][0]).tensors.empty());
  EXPECT_TRUE(opt->state(groups[1][0]).scalars.empty());
  EXPECT_FALSE(opt->state(groups[0][1]).do_wd);
  EXPECT_TRUE(opt->state(groups[0][0]).force_train);
  EXPECT_EQ(dynamic_cast<LookaheadOptimizer&>(*opt).count(), 0);
  EXPECT_EQ(opt->state_dict().count("lookahead.slow.0.0"), 0u);
  // The next step starts Adam afresh: step count 1.
  set_grads(*opt, 1);
  opt->step();
  EXPECT_EQ(opt->state(groups[1][0]).scalars.at("step"), 1.0);
}

}  // namespace
}  // namespace strata::train
