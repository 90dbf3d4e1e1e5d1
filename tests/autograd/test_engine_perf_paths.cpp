// The engine's fast paths (autograd/engine.cpp) and leaf accumulation (autograd/node.cpp):
// scratch space reused from one backward to the next, a backward started from inside another
// (which must take its own scratch), a huge graph followed by small ones, a backward that fails
// half way and the one after it, nodes reached by several edges into different outputs, and
// AccumulateGrad adding in place only when nothing else can see .grad().
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

#include "strata.h"

namespace strata {
namespace {

std::vector<double> values(const Tensor& t) { return t.to_vector<double>(); }

TEST(EnginePaths, RepeatedBackwardsReuseScratchAndStayCorrect) {
  Tensor x = tensor(std::vector<double>{0.5, -1.0}).requires_grad_();
  for (int i = 1; i <= 50; ++i) {
    sum(tanh(x * 2.0) + x * x).backward();
    const std::vector<double> g = values(x.grad());
    for (size_t k = 0; k < 2; ++k) {
      const double xv = k == 0 ? 0.5 : -1.0, t = std::tanh(2 * xv);
      EXPECT_NEAR(g[k], i * (2 * (1 - t * t) + 2 * xv), 1e-9 * i) << "after " << i << " backwards";
    }
  }
}

TEST(EnginePaths, BackwardInsideAHookGetsItsOwnScratch) {
  Tensor x = tensor(std::vector<double>{1.0, 2.0}).requires_grad_();
  Tensor w = tensor(std::vector<double>{3.0}).requires_grad_();
  Tensor y = x * 3.0;
  double inner_grad = 0;
  y.register_hook([&](const Tensor& g) {
    // An unrelated backward while the outer one is running (hooks run with grad mode off).
    EnableGradGuard enable;
    Tensor v = w * w;
    sum(v).backward();
    inner_grad = w.grad().item<double>();
    return g * 2.0;
  });
  sum(y * y).backward();
  EXPECT_DOUBLE_EQ(inner_grad, 6.0);
  // d/dx sum((3x)^2) = 18x, doubled by the hook.
  EXPECT_EQ(values(x.grad()), (std::vector<double>{36.0, 72.0}));
}

TEST(EnginePaths, HugeGraphThenSmallGraphs) {
  Tensor x = tensor(std::vector<double>{0.1}).requires_grad_();
  Tensor z = x;
  for (int i = 0; i < 20000; ++i) z = z + 0.0;  // 20001 nodes: the node table grows large
  sum(z).backward();
  EXPECT_DOUBLE_EQ(x.grad().item<double>(), 1.0);
  for (int i = 0; i < 5; ++i) {
    x.zero_grad();
    sum(x * 4.0).backward();
    EXPECT_DOUBLE_EQ(x.grad().item<double>(), 4.0);
  }
}

TEST(EnginePaths, AFailedBackwardLeavesNothingBehindForTheNext) {
  Tensor x = tensor(std::vector<double>{1.0, 2.0}).requires_grad_();
  Tensor y = x * 5.0;
  y.register_hook([](const Tensor&) -> Tensor { throw std::runtime_error("hook failed"); });
  EXPECT_THROW(sum(y * 1.0).backward(), std::runtime_error);
  EXPECT_FALSE(x.grad().defined());
  Tensor a = tensor(std::vector<double>{3.0}).requires_grad_();
  sum(a * a * 2.0).backward();
  EXPECT_DOUBLE_EQ(a.grad().item<double>(), 12.0);
}

TEST(EnginePaths, GradientsFromSeveralEdgesAreSummed) {
  // x feeds three ops; their gradients meet in x's accumulator buffer.
  Tensor x = tensor(std::vector<double>{2.0}).requires_grad_();
  Tensor y = x * 3.0 + exp(x) + x * x;
  y.backward();
  EXPECT_NEAR(x.grad().item<double>(), 3.0 + std::exp(2.0) + 4.0, 1e-12);
}

TEST(EnginePaths, AccumulateGradAddsInPlaceOnlyWhenTheGradIsUnshared) {
  Tensor x = tensor(std::vector<double>{1.0, 1.0}).requires_grad_();
  sum(x * 2.0).backward();
  Tensor held = x.grad();  // someone keeps the first gradient
  sum(x * 3.0).backward();
  EXPECT_EQ(values(held), (std::vector<double>{2.0, 2.0}));  // not changed under them
  EXPECT_EQ(values(x.grad()), (std::vector<double>{5.0, 5.0}));
  held = Tensor();
  const void* before = x.grad().raw_data();
  sum(x * 4.0).backward();  // unshared now: accumulated into the same buffer
  EXPECT_EQ(x.grad().raw_data(), before);
  EXPECT_EQ(values(x.grad()), (std::vector<double>{9.0, 9.0}));
}

TEST(EnginePaths, FirstGradientIsNotAliasedWithTheIncomingOne) {
  // The first gradient of a leaf may be stolen only when nothing else holds it: here the
  // incoming gradient is also y's retained grad, so the leaf must get a copy.
  Tensor x = tensor(std::vector<double>{1.0, 2.0}).requires_grad_();
  Tensor y = x * 1.0;
  y.retain_grad();
  sum(y).backward();
  EXPECT_EQ(values(x.grad()), (std::vector<double>{1.0, 1.0}));
  if (y.grad().defined()) {
    EXPECT_NE(x.grad().raw_data(), y.grad().raw_data());
  }
}

}  // namespace
}  // namespace strata
