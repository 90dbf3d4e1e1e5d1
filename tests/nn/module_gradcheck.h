#pragma once
// module_gradcheck: checks a module's backward in f64 against central finite differences, for the
// input and every parameter. gradcheck (autograd/gradcheck.h) perturbs fresh copies of its
// inputs, which cannot reach a module's own parameters, so this perturbs the module's tensors in
// place instead: s = sum(w * m(x)) with fixed random w, ds/dt from one backward, and
// (s(t + eps e_i) - s(t - eps e_i)) / (2 eps) for every element i of every tensor t.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "autograd/grad_mode.h"
#include "nn/module.h"
#include "tensor/ops.h"

namespace strata::testing {

inline ::testing::AssertionResult module_gradcheck(nn::Module& m, Tensor x, bool check_input = true,
                                                   double atol = 1e-5, double rtol = 1e-3) {
  const double eps = 1e-6;
  m.to(DType::F64);
  m.zero_grad();
  x = x.detach().contiguous().clone();
  if (x.is_floating_point()) x = x.to(DType::F64);
  if (check_input && x.is_floating_point()) x.requires_grad_(true);
  Tensor y = m(x);
  Generator gen(99);
  Tensor w = rand(y.shape(), {.dtype = DType::F64}, &gen) + 0.5;
  sum(y * w).backward();

  std::vector<std::pair<std::string, Tensor>> targets;
  if (x.requires_grad()) targets.emplace_back("input", x);
  for (auto& p : m.named_parameters())
    if (p.second.requires_grad()) targets.push_back(p);
  auto scalar = [&] {
    NoGradGuard g;
    return sum(m(x) * w).item();
  };
  for (auto& [name, t] : targets) {
    if (!t.is_contiguous()) return ::testing::AssertionFailure() << name << " is not contiguous";
    std::vector<double> analytic =
        t.grad().defined() ? t.grad().to_vector<double>() : std::vector<double>(t.numel(), 0.0);
    double* p = t.data<double>();
    for (int64_t e = 0; e < t.numel(); ++e) {
      const double orig = p[e];
      p[e] = orig + eps;
      const double plus = scalar();
      p[e] = orig - eps;
      const double minus = scalar();
      p[e] = orig;
      const double numeric = (plus - minus) / (2 * eps);
      if (std::abs(numeric - analytic[e]) > atol + rtol * std::abs(numeric))
        return ::testing::AssertionFailure() << fmt::format("{} of {}: element {}: autograd {:.8g}, numeric {:.8g}",
                                                            name, m.type_name(), e, analytic[e], numeric);
    }
  }
  return ::testing::AssertionSuccess();
}

// Copies values into a parameter (or buffer) in place, outside autograd.
inline void set_values(const Tensor& t, const std::vector<double>& values) {
  NoGradGuard g;
  Tensor(t).copy_(tensor(values, t.shape()).to(t.dtype()));
}

}  // namespace strata::testing
