// The fused kernels (kernels/optim.h) against the generic stats/steppers path: the same
// composition wrapped in lambdas is not recognised, so it runs the reference path. Shapes mix
// tiny, empty and multi-chunk tensors (the CPU kernel splits a group's elements into 64K chunks).
#include <gtest/gtest.h>

#include <cmath>

#include "kernels/cpu/parallel.h"
#include "tensor/ops.h"
#include "train/optimizers.h"
#include "train/steppers.h"

namespace strata::train {
namespace {

std::vector<Tensor> make_params(uint64_t seed) {
  Generator gen(seed);
  std::vector<Tensor> ps;
  for (const Shape& s : {Shape{3}, Shape{0}, Shape{17, 5}, Shape{200000}, Shape{64, 3, 3, 3}})
    ps.push_back(randn(s, {}, &gen).requires_grad_());
  return ps;
}

std::vector<Tensor> clone_params(const std::vector<Tensor>& ps) {
  std::vector<Tensor> out;
  for (const Tensor& p : ps) out.push_back(p.detach().clone().requires_grad_());
  return out;
}

void set_grads(const std::vector<Tensor>& ps, uint64_t seed) {
  Generator gen(seed);
  for (const Tensor& p : ps) {
    Tensor w = p;
    w.set_grad(randn(p.shape(), {}, &gen) + p.detach() * 0.1);
  }
}

// The same callbacks as `opt_func` builds, but hidden in lambdas: generic path only.
std::unique_ptr<Optimizer> generic_copy(const Optimizer& like, std::vector<Stepper> fns, std::vector<Tensor> ps) {
  std::vector<Stepper> wrapped;
  for (Stepper f : fns) wrapped.push_back([f](const Tensor& p, ParamState& s, const Hypers& h) { f(p, s, h); });
  return std::make_unique<Optimizer>(std::vector<std::vector<Tensor>>{std::move(ps)}, wrapped,
                                     like.param_groups()[0].hypers);
}

void expect_close(const std::vector<Tensor>& a, const std::vector<Tensor>& b, double tol) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t t = 0; t < a.size(); ++t) {
    const auto x = a[t].detach().to_vector<float>();
    const auto y = b[t].detach().to_vector<float>();
    ASSERT_EQ(x.size(), y.size());
    double worst = 0;
    for (size_t i = 0; i < x.size(); ++i)
      worst = std::max(worst, std::abs(double(x[i]) - y[i]) / std::max(1.0, std::abs(double(y[i]))));
    EXPECT_LE(worst, tol) << "tensor " << t;
  }
}

struct Case {
  const char* name;
  OptFunc opt_func;
  std::vector<Stepper> fns;
};

std::vector<Case> cases() {
  return {
      {"sgd", SGD{}, {&weight_decay, &sgd_step}},
      {"sgd_wd", SGD{.wd = 0.1}, {&weight_decay, &sgd_step}},
      {"sgd_l2", SGD{.wd = 0.1, .decouple_wd = false}, {&l2_reg, &sgd_step}},
      {"momentum", SGD{.mom = 0.9, .wd = 0.01}, {&weight_decay, &average_grad, &momentum_step}},
      {"momentum_l2", SGD{.mom = 0.9, .wd = 0.01, .decouple_wd = false}, {&l2_reg, &average_grad, &momentum_step}},
      {"adamw", Adam{}, {&weight_decay, &average_grad_dampened, &average_sqr_grad, &step_stat, &adam_step}},
      {"adam_l2", Adam{.wd = 0.1, .decouple_wd = false},
       {&l2_reg, &average_grad_dampened, &average_sqr_grad, &step_stat, &adam_step}},
  };
}

TEST(OptimizerFused, StandardCompositionsAreRecognised) {
  for (const Case& c : cases()) {
    auto opt = c.opt_func({make_params(1)}, 1e-2);
    EXPECT_TRUE(opt->has_fused_path()) << c.name;
    auto generic = generic_copy(*opt, c.fns, make_params(1));
    EXPECT_FALSE(generic->has_fused_path()) << c.name;
  }
  EXPECT_FALSE(RAdam{}({make_params(1)}, 1e-2)->has_fused_path());
  // Decoupled weight decay after the stats commutes with them: still Adam.
  Optimizer late_wd({make_params(1)}, {&weight_decay, &adam_step}, {{"lr", 1e-3}, {"mom", 0.9}, {"sqr_mom", 0.99},
                                                                   {"eps", 1e-5}, {"wd", 0.01}},
                    {&average_grad_dampened, &average_sqr_grad, &step_stat});
  EXPECT_TRUE(late_wd.has_fused_path());
  // l2_reg after the stats does not commute: generic.
  Optimizer late_l2({make_params(1)}, {&l2_reg, &adam_step}, {{"lr", 1e-3}, {"mom", 0.9}, {"sqr_mom", 0.99},
                                                              {"eps", 1e-5}, {"wd", 0.01}},
                    {&average_grad_dampened, &average_sqr_grad, &step_stat});
  EXPECT_FALSE(late_l2.has_fused_path());
}

TEST(OptimizerFused, FusedAndGenericPathsAgreeOverSeveralSteps) {
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    const std::vector<Tensor> fused_ps = make_params(7);
    const std::vector<Tensor> generic_ps = clone_params(fused_ps);
    auto fused = c.opt_func({fused_ps}, 1e-2);
    auto generic = generic_copy(*fused, c.fns, generic_ps);
    // Weight decay off for one tensor (fastai's wd_bn_bias = False).
    fused->set_no_weight_decay({fused_ps[2]});
    generic->set_no_weight_decay({generic_ps[2]});
    for (int s = 0; s < 5; ++s) {
      set_grads(fused_ps, 100 + s);
      set_grads(generic_ps, 100 + s);
      fused->step();
      generic->step();
      // l2_reg writes the regularised gradient back, on both paths.
      expect_close({fused_ps[3].grad()}, {generic_ps[3].grad()}, 1e-6);
    }
    expect_close(fused_ps, generic_ps, 2e-6);
    if (fused->param_groups()[0].hypers.count("sqr_mom")) {
      expect_close({fused->state(fused_ps[4]).tensors.at("sqr_avg")},
                   {generic->state(generic_ps[4]).tensors.at("sqr_avg")}, 2e-6);
      EXPECT_EQ(fused->state(fused_ps[4]).scalars.at("step"), 5.0);
    }
  }
}

TEST(OptimizerFused, ResultDoesNotDependOnThreadCount) {
  const int threads = get_num_threads();
  std::vector<std::vector<float>> runs;
  for (int n : {1, 2, 3}) {
    set_num_threads(n);
    const std::vector<Tensor> ps = make_params(3);
    auto opt = Adam{}({ps}, 1e-2);
    for (int s = 0; s < 3; ++s) {
      set_grads(ps, 50 + s);
      opt->step();
    }
    runs.push_back(ps[3].detach().to_vector<float>());
  }
  set_num_threads(threads);
  EXPECT_EQ(runs[0], runs[1]);
  EXPECT_EQ(runs[0], runs[2]);
}

TEST(OptimizerFused, NonContiguousOrF64ParamsTakeTheGenericPathWithTheSameResult) {
  Generator gen(5);
  const Tensor base = randn({4, 6}, {}, &gen);
  Tensor contiguous = base.t().contiguous().requires_grad_();
  Tensor strided = base.detach().clone().t().requires_grad_();  // a transposed leaf: not contiguous
  ASSERT_FALSE(strided.is_contiguous());
  Tensor as_f64 = base.t().contiguous().to(DType::F64).requires_grad_();
  auto a = Adam{}({{contiguous}}, 1e-2);
  auto b = Adam{}({{strided}}, 1e-2);
  auto c = Adam{}({{as_f64}}, 1e-2);
  for (int s = 0; s < 3; ++s) {
    const Tensor g = randn({6, 4}, {}, &gen);
    contiguous.set_grad(g.clone());
    strided.set_grad(g.clone());
    as_f64.set_grad(g.to(DType::F64));
    a->step();
    b->step();
    c->step();
  }
  expect_close({contiguous}, {strided.contiguous()}, 2e-6);
  expect_close({contiguous}, {as_f64.detach().to(DType::F32)}, 2e-6);
}

TEST(OptimizerFused, ParamsWithoutGradOrFrozenAreSkipped) {
  std::vector<Tensor> ps = make_params(9);
  const std::vector<Tensor> before = clone_params(ps);
  auto opt = Adam{}({ps}, 1e-2);
  set_grads(ps, 1);
  ps[0].zero_grad();          // no gradient
  ps[2].requires_grad_(false);  // frozen (its stale grad must not be used)
  opt->step();
  EXPECT_EQ(ps[0].detach().to_vector<float>(), before[0].detach().to_vector<float>());
  EXPECT_EQ(ps[2].detach().to_vector<float>(), before[2].detach().to_vector<float>());
  EXPECT_NE(ps[3].detach().to_vector<float>(), before[3].detach().to_vector<float>());
  EXPECT_EQ(opt->state(ps[0]).tensors.count("grad_avg"), 0u);
  EXPECT_EQ(opt->state(ps[3]).scalars.at("step"), 1.0);
}

}  // namespace
}  // namespace strata::train
