#pragma once
// Shared by the optimizer tests: a tiny quadratic, loss = sum(a * p^2) / 2 with a = [1, 0.5, 2],
// starting from p = [1, -2, 0.5]; its gradient a*p is set directly (no autograd needed).
#include <gtest/gtest.h>

#include <vector>

#include "tensor/ops.h"
#include "train/optimizer.h"

namespace strata::train::testing {

inline Tensor quad_param() { return tensor({1.0f, -2.0f, 0.5f}).requires_grad_(); }

inline void set_quad_grad(const Tensor& p) {
  const Tensor a = tensor({1.0f, 0.5f, 2.0f});
  Tensor w = p;
  w.set_grad(mul(p.detach(), a));
}

// Runs `opt` for expected.size() steps on `p` and checks p after each step.
inline void expect_sequence(Optimizer& opt, const Tensor& p, const std::vector<std::vector<double>>& expected,
                            double tol = 2e-6) {
  for (size_t s = 0; s < expected.size(); ++s) {
    set_quad_grad(p);
    opt.step();
    const std::vector<float> got = p.detach().to_vector<float>();
    ASSERT_EQ(got.size(), expected[s].size());
    for (size_t i = 0; i < got.size(); ++i)
      EXPECT_NEAR(got[i], expected[s][i], tol * std::max(1.0, std::abs(expected[s][i])))
          << "step " << s + 1 << " element " << i;
  }
}

}  // namespace strata::train::testing
