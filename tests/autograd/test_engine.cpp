// The backward engine: accumulation, retain_graph, NoGradGuard, detach, leaf rules, diamonds,
// saved-tensor version checks, hooks, retain_grad, autograd::grad, broadcast and dtype handling
// of gradients, views of leaves, zero_grad, and very deep graphs (backward and destruction).
#include <gtest/gtest.h>

#include "strata.h"
#include "support/expect_error.h"

namespace strata {
namespace {

std::vector<double> dv(const Tensor& t) { return t.to_vector<double>(); }

Tensor leaf(std::vector<double> v, Shape s = {}) { return tensor<double>(v, s, {.dtype = DType::F64, .requires_grad = true}); }

TEST(Backward, SimpleChainRule) {
  Tensor x = leaf({1, 2, 3});
  Tensor y = sum(x * x * 3.0);
  EXPECT_TRUE(y.requires_grad());
  EXPECT_FALSE(y.is_leaf());
  EXPECT_TRUE(x.is_leaf());
  EXPECT_EQ(x.grad_fn(), nullptr);
  ASSERT_NE(y.grad_fn(), nullptr);
  y.backward();
  EXPECT_EQ(dv(x.grad()), (std::vector<double>{6, 12, 18}));
  EXPECT_FALSE(x.grad().requires_grad());
}

TEST(Backward, GradientsAccumulateAcrossCalls) {
  Tensor x = leaf({1, 2});
  sum(x * 2.0).backward();
  Tensor first = x.grad();
  sum(x * x).backward();
  EXPECT_EQ(dv(x.grad()), (std::vector<double>{4, 6}));
  EXPECT_EQ(dv(first), (std::vector<double>{2, 2})) << "an earlier reference to .grad() is not modified";
}

TEST(Backward, AccumulatesWhileAnEarlierGraphIsStillAlive) {
  // A training loop keeps the previous loss around while building the next graph.
  Tensor x = leaf({1, 2});
  Tensor loss1 = sum(x * 2.0);
  loss1.backward();
  Tensor loss2 = sum(x * 3.0);
  loss2.backward();
  EXPECT_EQ(dv(x.grad()), (std::vector<double>{5, 5}));
  x.zero_grad();
  Tensor loss3 = sum(x * 4.0);
  loss3.backward();
  EXPECT_EQ(dv(x.grad()), (std::vector<double>{4, 4}));
  // The old graph itself is spent.
  EXPECT_STRATA_ERROR(loss1.backward(), AutogradError, {"retain_graph"});
}

TEST(Backward, SecondBackwardNeedsRetainGraph) {
  Tensor x = leaf({1, 2});
  Tensor y = sum(exp(x));
  y.backward(Tensor(), /*retain_graph=*/true);
  y.backward();
  EXPECT_NEAR(dv(x.grad())[0], 2 * std::exp(1.0), 1e-12);
  EXPECT_STRATA_ERROR(y.backward(), AutogradError, {"retain_graph"});
  // Even when the failing node saved nothing.
  Tensor z = sum(x + 1.0);
  z.backward();
  EXPECT_STRATA_ERROR(z.backward(), AutogradError, {"retain_graph"});
}

TEST(Backward, NoGradGuardRecordsNothing) {
  Tensor x = leaf({1, 2});
  {
    NoGradGuard ng;
    EXPECT_FALSE(GradMode::is_enabled());
    Tensor y = x * 2.0 + x;
    EXPECT_FALSE(y.requires_grad());
    EXPECT_EQ(y.grad_fn(), nullptr);
    EXPECT_FALSE(x.slice(0, 0, 1).requires_grad());
    {
      EnableGradGuard eg;
      EXPECT_TRUE((x * 2.0).requires_grad());
    }
    EXPECT_FALSE(GradMode::is_enabled());
  }
  EXPECT_TRUE(GradMode::is_enabled());
  EXPECT_TRUE((x * 2.0).requires_grad());
}

TEST(Backward, DetachCutsTheGraphButSharesData) {
  Tensor x = leaf({1, 2});
  Tensor y = x * 3.0;
  Tensor d = y.detach();
  EXPECT_FALSE(d.requires_grad());
  EXPECT_TRUE(d.is_leaf());
  EXPECT_TRUE(d.shares_storage(y));
  Tensor z = sum(d * x);  // only the x factor carries gradient
  z.backward();
  EXPECT_EQ(dv(x.grad()), (std::vector<double>{3, 6}));
}

TEST(Backward, RequiresGradRules) {
  Tensor i = tensor<int64_t>({1, 2});
  EXPECT_STRATA_ERROR(i.requires_grad_(), DTypeError, {"requires_grad_", "i64"});
  Tensor b = tensor<bool>({true});
  EXPECT_STRATA_ERROR(b.requires_grad_(), DTypeError, {"bool"});
  EXPECT_FALSE(i.requires_grad());
  Tensor h = zeros({2}, {.dtype = DType::F16});
  h.requires_grad_();
  EXPECT_TRUE(h.requires_grad());
  h.requires_grad_(false);
  EXPECT_FALSE(h.requires_grad());
  Tensor x = leaf({1});
  Tensor y = x * 2.0;
  EXPECT_STRATA_ERROR(y.requires_grad_(false), AutogradError, {"non-leaf", "detach"});
  // Integer results of float inputs carry no gradient.
  Tensor cmp = x > 0.0;
  EXPECT_FALSE(cmp.requires_grad());
  EXPECT_FALSE(x.to(DType::I64).requires_grad());
  EXPECT_FALSE(floor(x).requires_grad()) << "floor is not differentiable";
}

TEST(Backward, ErrorsOnBadRoots) {
  Tensor x = leaf({1, 2});
  Tensor y = x * 2.0;
  EXPECT_STRATA_ERROR(y.backward(), AutogradError, {"backward", "non-scalar", "[2]"});
  EXPECT_STRATA_ERROR(zeros({1}).backward(), AutogradError, {"backward", "does not require grad"});
  EXPECT_STRATA_ERROR(y.backward(ones({3}, {.dtype = DType::F64})), ShapeError, {"backward", "[3]", "[2]"});
  y.backward(tensor<double>({1, 10}));
  EXPECT_EQ(dv(x.grad()), (std::vector<double>{2, 20}));
  // A one-element non-scalar gets an implicit gradient of one.
  Tensor one = leaf({4}, {1, 1});
  (one * one).backward();
  EXPECT_EQ(dv(one.grad()), std::vector<double>{8});
  // backward() of a leaf itself.
  Tensor l = leaf({5});
  l.backward();
  EXPECT_EQ(dv(l.grad()), std::vector<double>{1});
}

TEST(Backward, DiamondSumsBothPaths) {
  Tensor x = leaf({2, 3});
  Tensor a = x * 3.0;
  Tensor b = exp(x);
  Tensor y = sum(a * b);  // d/dx = 3 e^x + 3x e^x
  y.backward();
  auto g = dv(x.grad());
  for (int i = 0; i < 2; ++i) {
    const double xv = i == 0 ? 2 : 3;
    EXPECT_NEAR(g[i], 3 * std::exp(xv) * (1 + xv), 1e-9);
  }
  Tensor z = leaf({1.5});
  Tensor w = z * z + z;  // x used three times
  sum(w).backward();
  EXPECT_EQ(dv(z.grad()), std::vector<double>{4});
}

TEST(Backward, InPlaceChangeOfASavedTensorIsDetected) {
  Tensor x = leaf({1, 2});
  Tensor w = leaf({3, 4});
  Tensor y = sum(x * w);  // mul saves both inputs
  {
    NoGradGuard ng;
    mul_(w, 2.0);
  }
  EXPECT_STRATA_ERROR(y.backward(), AutogradError, {"mulBackward", "modified by an in-place operation", "[2]"});
  // Saved outputs are checked too: exp saves its result.
  Tensor e = exp(x);
  Tensor s = sum(e);
  {
    NoGradGuard ng;
    add_(e, 1.0);
  }
  EXPECT_STRATA_ERROR(s.backward(), AutogradError, {"expBackward", "in-place"});
  // An in-place change of a tensor that was not saved is harmless.
  Tensor u = leaf({1, 2});
  Tensor v = u + 1.0;  // add saves nothing
  Tensor t = sum(v * 2.0);
  {
    NoGradGuard ng;
    add_(u, 5.0);
  }
  t.backward();
  EXPECT_EQ(dv(u.grad()), (std::vector<double>{2, 2}));
}

TEST(Hooks, OnALeafCanReplaceTheGradient) {
  Tensor x = leaf({1, 2});
  int calls = 0;
  x.register_hook([&](const Tensor& g) {
    ++calls;
    return g * 2.0;
  });
  sum(x * 3.0).backward();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(dv(x.grad()), (std::vector<double>{6, 6}));
  // A hook returning an undefined tensor only observes.
  Tensor seen;
  Tensor z = leaf({1});
  z.register_hook([&](const Tensor& g) {
    seen = g;
    return Tensor();
  });
  sum(z * 5.0).backward();
  EXPECT_EQ(dv(seen), std::vector<double>{5});
  EXPECT_EQ(dv(z.grad()), std::vector<double>{5});
}

TEST(Hooks, OnANonLeafChangesWhatFlowsUpstream) {
  Tensor x = leaf({1, 2});
  Tensor h = x * 3.0;
  h.register_hook([](const Tensor& g) { return g * 2.0; });
  Tensor seen;
  h.register_hook([&](const Tensor& g) {
    seen = g;  // runs after the first hook: sees the doubled gradient
    return Tensor();
  });
  sum(h * h).backward();  // d/dh = 2h = [6, 12], doubled = [12, 24], times 3
  EXPECT_EQ(dv(seen), (std::vector<double>{12, 24}));
  EXPECT_EQ(dv(x.grad()), (std::vector<double>{36, 72}));
  EXPECT_FALSE(h.grad().defined()) << "a non-leaf keeps no grad unless asked";
  Tensor i = tensor<int64_t>({1});
  EXPECT_STRATA_ERROR(i.register_hook([](const Tensor& g) { return g; }), AutogradError, {"register_hook"});
}

TEST(Hooks, RetainGradOnANonLeaf) {
  Tensor x = leaf({1, 2});
  Tensor h = x * x;
  h.retain_grad();
  Tensor y = sum(h * 3.0);
  y.backward(Tensor(), true);
  EXPECT_EQ(dv(h.grad()), (std::vector<double>{3, 3}));
  EXPECT_EQ(dv(x.grad()), (std::vector<double>{6, 12}));
  y.backward();
  EXPECT_EQ(dv(h.grad()), (std::vector<double>{6, 6})) << "retained grads accumulate like leaf grads";
  // retain_grad reports the gradient after the tensor's hooks, whatever the order they came in.
  Tensor a = leaf({1});
  Tensor b = a * 1.0;
  b.retain_grad();
  b.register_hook([](const Tensor& g) { return g * 10.0; });
  sum(b).backward();
  EXPECT_EQ(dv(b.grad()), std::vector<double>{10});
  EXPECT_EQ(dv(a.grad()), std::vector<double>{10});
  EXPECT_STRATA_ERROR(zeros({1}).retain_grad(), AutogradError, {"retain_grad"});
}

TEST(GradFunction, ReturnsGradientsWithoutTouchingGrad) {
  Tensor x = leaf({1, 2});
  Tensor y = leaf({3});
  Tensor out = sum(x * y);
  auto g = autograd::grad({out}, {x, y}, {}, /*retain_graph=*/true);
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(dv(g[0]), (std::vector<double>{3, 3}));
  EXPECT_EQ(dv(g[1]), std::vector<double>{3});
  EXPECT_FALSE(x.grad().defined());
  EXPECT_FALSE(y.grad().defined());
  // With respect to an intermediate tensor.
  Tensor h = x * 2.0;
  Tensor o = sum(h * h);
  auto gh = autograd::grad({o}, {h});
  EXPECT_EQ(dv(gh[0]), (std::vector<double>{4, 8}));
}

TEST(GradFunction, AllowUnused) {
  Tensor x = leaf({1, 2});
  Tensor unused = leaf({7});
  Tensor out = sum(x * 2.0);
  EXPECT_STRATA_ERROR(autograd::grad({out}, {x, unused}, {}, true), AutogradError,
                      {"grad", "input 1", "allow_unused"});
  auto g = autograd::grad({out}, {x, unused}, {}, false, false, /*allow_unused=*/true);
  EXPECT_EQ(dv(g[0]), (std::vector<double>{2, 2}));
  EXPECT_FALSE(g[1].defined());
  Tensor no = zeros({1});
  EXPECT_STRATA_ERROR(autograd::grad({sum(x * 1.0)}, {no}), AutogradError, {"grad", "does not require grad"});
}

TEST(GradFunction, CreateGraphGivesSecondDerivatives) {
  Tensor x = leaf({2, 3});
  Tensor y = sum(x * x * x);
  auto g = autograd::grad({y}, {x}, {}, false, /*create_graph=*/true);
  EXPECT_EQ(dv(g[0]), (std::vector<double>{12, 27}));
  ASSERT_TRUE(g[0].requires_grad());
  sum(g[0]).backward();  // d/dx sum(3x^2) = 6x
  EXPECT_EQ(dv(x.grad()), (std::vector<double>{12, 18}));
}

TEST(GradFunction, DoubleBackwardThroughSliceAndSelect) {
  Tensor x = leaf({1, 2, 3, 4});
  Tensor y = sum(pow(x.slice(0, 1, 4, 2), 3.0));  // x1^3 + x3^3
  auto g = autograd::grad({y}, {x}, {}, false, /*create_graph=*/true);
  EXPECT_EQ(dv(g[0]), (std::vector<double>{0, 12, 0, 48}));
  ASSERT_TRUE(g[0].requires_grad());
  sum(g[0] * tensor<double>({1, 1, 1, 2})).backward();  // d/dx of 3 x1^2 + 6 x3^2
  EXPECT_EQ(dv(x.grad()), (std::vector<double>{0, 12, 0, 48}));
  Tensor m = leaf({1, 2, 3, 4}, {2, 2});
  auto gm = autograd::grad({sum(pow(m.select(1, 0), 2.0) * m.select(1, 0))}, {m}, {}, false, true);
  EXPECT_EQ(dv(gm[0]), (std::vector<double>{3, 0, 27, 0}));
  sum(gm[0]).backward();  // d/dm sum(3 m[:, 0]^2) = 6 m[:, 0]
  EXPECT_EQ(dv(m.grad()), (std::vector<double>{6, 0, 18, 0}));
}

TEST(Gradients, ReduceOverBroadcastDims) {
  Tensor a = leaf({1, 2, 3}, {3, 1});
  Tensor b = leaf({10, 20, 30, 40}, {1, 4});
  Tensor y = a + b;
  EXPECT_EQ(y.shape(), (Shape{3, 4}));
  sum(y * y).backward();
  // d/da_i = sum_j 2(a_i + b_j), d/db_j = sum_i 2(a_i + b_j)
  EXPECT_EQ(a.grad().shape(), (Shape{3, 1}));
  EXPECT_EQ(b.grad().shape(), (Shape{1, 4}));
  EXPECT_EQ(dv(a.grad()), (std::vector<double>{208, 216, 224}));
  EXPECT_EQ(dv(b.grad()), (std::vector<double>{72, 132, 192, 252}));
  Tensor c = leaf({2});  // 1-d against 0-d and leading dims
  Tensor s = scalar_tensor(3.0, {.dtype = DType::F64, .requires_grad = true});
  Tensor z = (c.expand({2, 3}) * s);
  sum(z).backward();
  EXPECT_EQ(c.grad().shape(), Shape{1});
  EXPECT_EQ(dv(c.grad()), std::vector<double>{18});
  EXPECT_EQ(s.grad().dim(), 0);
  EXPECT_EQ(dv(s.grad()), std::vector<double>{12});
}

TEST(Gradients, ConvertedToTheLeafDtype) {
  Tensor x = tensor<float>({1, 2}, {}, {.requires_grad = true});
  Tensor y = sum(x.to(DType::F64) * tensor<double>({0.5, 0.25}));
  y.backward();
  EXPECT_EQ(x.grad().dtype(), DType::F32);
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{0.5f, 0.25f}));
  // Promotion inside a binary op: f32 leaf times f64 tensor.
  Tensor w = tensor<float>({1, 2}, {}, {.requires_grad = true});
  sum(w * tensor<double>({3, 4})).backward();
  EXPECT_EQ(w.grad().dtype(), DType::F32);
  EXPECT_EQ(w.grad().to_vector<float>(), (std::vector<float>{3, 4}));
  // where and lerp promote too.
  Tensor p = tensor<float>({1, 2}, {}, {.requires_grad = true});
  Tensor q = tensor<double>({5, 6}, {}, {.dtype = DType::F64, .requires_grad = true});
  Tensor r = where(tensor<bool>({true, false}), p, q);
  EXPECT_EQ(r.dtype(), DType::F64);
  sum(r * 2.0).backward();
  EXPECT_EQ(p.grad().dtype(), DType::F32);
  EXPECT_EQ(p.grad().to_vector<float>(), (std::vector<float>{2, 0}));
  EXPECT_EQ(dv(q.grad()), (std::vector<double>{0, 2}));
  Tensor la = tensor<float>({0, 0}, {}, {.requires_grad = true});
  sum(lerp(la, tensor<double>({1, 1}), 0.25)).backward();
  EXPECT_EQ(la.grad().dtype(), DType::F32);
  EXPECT_EQ(la.grad().to_vector<float>(), (std::vector<float>{0.75f, 0.75f}));
}

TEST(Gradients, ViewsOfLeaves) {
  Tensor x = leaf({1, 2, 3, 4, 5, 6}, {2, 3});
  sum(x.slice(1, 1, 3) * 2.0).backward();
  EXPECT_EQ(dv(x.grad()), (std::vector<double>{0, 2, 2, 0, 2, 2}));
  x.zero_grad();
  EXPECT_FALSE(x.grad().defined());
  sum(x.select(0, -1)).backward();
  EXPECT_EQ(dv(x.grad()), (std::vector<double>{0, 0, 0, 1, 1, 1}));
  x.zero_grad();
  sum(x.t().slice(0, 0, 3, 2) * tensor<double>({1, 10}, {1, 2})).backward();  // x[:, 0::2]^T
  EXPECT_EQ(dv(x.grad()), (std::vector<double>{1, 0, 1, 10, 0, 10}));
  x.zero_grad();
  Tensor y = x.view({3, 2}).permute({1, 0}).reshape({6}).unsqueeze(0).squeeze().flatten();
  sum(y * arange(0.0, 6.0, 1.0, {.dtype = DType::F64})).backward();
  // y[k] = x.view(3,2)[k % 3][k / 3]: x flat index 2*(k%3) + k/3 gets k.
  EXPECT_EQ(dv(x.grad()), (std::vector<double>{0, 3, 1, 4, 2, 5}));
  x.zero_grad();
  sum(x.slice(0, 1, 1)).backward();  // an empty slice still reaches x with zeros
  EXPECT_EQ(dv(x.grad()), std::vector<double>(6, 0.0));
  x.zero_grad();
  sum(x.narrow(1, 2, 1).expand({2, 4})).backward();
  EXPECT_EQ(dv(x.grad()), (std::vector<double>{0, 0, 4, 0, 0, 4}));
}

TEST(Gradients, ZeroGradAndSetGrad) {
  Tensor x = leaf({1, 2});
  sum(x * 2.0).backward();
  x.zero_grad();
  EXPECT_FALSE(x.grad().defined());
  sum(x * 3.0).backward();
  EXPECT_EQ(dv(x.grad()), (std::vector<double>{3, 3}));
  x.set_grad(tensor<double>({1, 1}));
  sum(x).backward();
  EXPECT_EQ(dv(x.grad()), (std::vector<double>{2, 2}));
  EXPECT_STRATA_ERROR(x.set_grad(zeros({3}, {.dtype = DType::F64})), ShapeError, {"set_grad", "[3]", "[2]"});
}

TEST(Gradients, LeafGradIsNotAliasedWithOtherGradients) {
  Tensor a = leaf({1, 2});
  Tensor b = leaf({3, 4});
  sum(a + b).backward();
  EXPECT_FALSE(a.grad().shares_storage(b.grad()));
  {
    NoGradGuard ng;
    Tensor ga = a.grad();
    mul_(ga, 5.0);
  }
  EXPECT_EQ(dv(b.grad()), (std::vector<double>{1, 1}));
  Tensor seed = tensor<double>({1, 1});
  Tensor c = leaf({0, 0});
  (c * 1.0).backward(seed);
  EXPECT_FALSE(c.grad().shares_storage(seed));
}

TEST(Deep, LongChainsDoNotOverflowTheStack) {
  Tensor x = leaf({1.0});
  Tensor y = x;
  for (int i = 0; i < 20000; ++i) y = y * 1.0001 + 0.0;
  y.backward();
  EXPECT_NEAR(dv(x.grad())[0], std::pow(1.0001, 20000), 1e-6);
  // Destroying a long graph that was never run backward.
  {
    Tensor z = x;
    for (int i = 0; i < 100000; ++i) z = exp(z * 0.0);
  }
  // And one that was run with retain_graph (saved tensors still alive).
  {
    Tensor z = x;
    for (int i = 0; i < 100000; ++i) z = z * x;
    Tensor s = sum(z);
    (void)s;
  }
  SUCCEED();
}

TEST(Deep, LongChainsOfViews) {
  Tensor x = leaf({1, 2, 3});
  Tensor y = x;
  for (int i = 0; i < 50000; ++i) y = y.unsqueeze(0).squeeze(0);
  sum(y).backward();
  EXPECT_EQ(dv(x.grad()), (std::vector<double>{1, 1, 1}));
}

}  // namespace
}  // namespace strata
