// The fused unary backward kernels (kernels/defs/unary_backward.def) against the composite
// formulas they replace. A plain backward (grad mode off while it runs) takes the fused kernel;
// autograd::grad with create_graph = true records the backward, so it runs the composite formula.
// Both must agree for every op in the list, in f64 and f32, on contiguous and transposed inputs.
// (The op list's gradcheck, tests/autograd/test_op_list.cpp, covers the fused path against
// finite differences as well.)
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "kernels/elementwise.h"
#include "strata.h"

namespace strata {
namespace {

struct FusedCase {
  kernels::UnaryOp op;
  std::string name;
  std::function<Tensor(const Tensor&)> fn;
  bool positive_domain;  // sqrt, log1p, ...: inputs in [0.25, 1.75]; else also negative
};

std::vector<FusedCase> fused_cases() {
  using kernels::UnaryOp;
  return {
      {UnaryOp::abs, "abs", [](const Tensor& x) { return abs(x); }, false},
      {UnaryOp::log1p, "log1p", [](const Tensor& x) { return log1p(x); }, true},
      {UnaryOp::expm1, "expm1", [](const Tensor& x) { return expm1(x); }, false},
      {UnaryOp::sqrt, "sqrt", [](const Tensor& x) { return sqrt(x); }, true},
      {UnaryOp::rsqrt, "rsqrt", [](const Tensor& x) { return rsqrt(x); }, true},
      {UnaryOp::square, "square", [](const Tensor& x) { return square(x); }, false},
      {UnaryOp::reciprocal, "reciprocal", [](const Tensor& x) { return reciprocal(x); }, true},
      {UnaryOp::erf, "erf", [](const Tensor& x) { return erf(x); }, false},
      {UnaryOp::sin, "sin", [](const Tensor& x) { return sin(x); }, false},
      {UnaryOp::cos, "cos", [](const Tensor& x) { return cos(x); }, false},
      {UnaryOp::tanh, "tanh", [](const Tensor& x) { return tanh(x); }, false},
      {UnaryOp::sigmoid, "sigmoid", [](const Tensor& x) { return sigmoid(x); }, false},
      {UnaryOp::relu, "relu", [](const Tensor& x) { return relu(x); }, false},
      {UnaryOp::gelu, "gelu", [](const Tensor& x) { return gelu(x); }, false},
      {UnaryOp::silu, "silu", [](const Tensor& x) { return silu(x); }, false},
      {UnaryOp::softplus, "softplus", [](const Tensor& x) { return softplus(x); }, false},
      {UnaryOp::mish, "mish", [](const Tensor& x) { return mish(x); }, false},
      {UnaryOp::leaky_relu, "leaky_relu", [](const Tensor& x) { return leaky_relu(x, 0.2); }, false},
      {UnaryOp::clamp, "clamp", [](const Tensor& x) { return clamp(x, -0.5, 0.6); }, false},
      {UnaryOp::clamp, "clamp_min_only", [](const Tensor& x) { return clamp_min(x, 0.1); }, false},
      {UnaryOp::pow_scalar, "pow_scalar", [](const Tensor& x) { return pow(x, 2.5); }, true},
      {UnaryOp::pow_scalar, "pow_scalar_zero", [](const Tensor& x) { return pow(x, 0.0); }, true},
      {UnaryOp::rpow_scalar, "rpow_scalar", [](const Tensor& x) { return pow(1.7, x); }, false},
  };
}

Tensor make_input(bool positive, DType dtype, uint64_t seed) {
  Generator gen(seed);
  Tensor u = rand({4, 3}, {.dtype = DType::F64}, &gen);
  Tensor x = positive ? u * 1.5 + 0.25 : u * 4.0 - 2.0;
  return x.to(dtype);
}

// The gradient of sum(fn(x) * g) for the leaf x, by a plain backward (fused) or by
// autograd::grad with create_graph (composite).
Tensor gradient(const FusedCase& c, const Tensor& leaf_value, bool transposed, const Tensor& g, bool composite) {
  Tensor leaf = leaf_value.detach().clone().requires_grad_();
  Tensor x = transposed ? leaf.t() : leaf;
  Tensor y = c.fn(x);
  Tensor seed = transposed ? g.t() : g;
  if (composite) {
    return autograd::grad({y}, {leaf}, {seed}, /*retain_graph=*/false, /*create_graph=*/true)[0].detach();
  }
  y.backward(seed);
  return leaf.grad();
}

TEST(FusedUnaryBackward, EveryListedOpHasACpuKernel) {
  for (const FusedCase& c : fused_cases())
    EXPECT_TRUE(kernels::has_unary_backward(c.op, Device::cpu())) << c.name;
  EXPECT_FALSE(kernels::has_unary_backward(kernels::UnaryOp::neg, Device::cpu()));
  EXPECT_TRUE(kernels::unary_backward_reads_output(kernels::UnaryOp::tanh));
  EXPECT_FALSE(kernels::unary_backward_reads_output(kernels::UnaryOp::gelu));
}

TEST(FusedUnaryBackward, MatchesTheCompositeFormula) {
  for (DType dtype : {DType::F64, DType::F32}) {
    const double tol = dtype == DType::F64 ? 1e-12 : 2e-6;
    for (const FusedCase& c : fused_cases()) {
      for (bool transposed : {false, true}) {
        Tensor x = make_input(c.positive_domain, dtype, 11);
        Generator gen(12);
        Tensor g = randn({4, 3}, {.dtype = dtype}, &gen);
        const std::vector<double> fused = gradient(c, x, transposed, g, false).to_vector<double>();
        const std::vector<double> composite = gradient(c, x, transposed, g, true).to_vector<double>();
        ASSERT_EQ(fused.size(), composite.size());
        for (size_t i = 0; i < fused.size(); ++i) {
          EXPECT_NEAR(fused[i], composite[i], tol * (1.0 + std::abs(composite[i])))
              << c.name << " " << dtype_name(dtype) << (transposed ? " transposed" : "") << " element " << i;
        }
      }
    }
  }
}

TEST(FusedUnaryBackward, TanhGradientIsOneMinusOutputSquared) {
  // Hand-computed: d tanh(x)/dx = 1 - tanh(x)^2.
  Tensor x = tensor({-1.0f, 0.0f, 0.5f, 3.0f}).requires_grad_();
  sum(tanh(x)).backward();
  const std::vector<float> g = x.grad().to_vector<float>();
  const std::vector<float> xs = {-1.0f, 0.0f, 0.5f, 3.0f};
  for (size_t i = 0; i < xs.size(); ++i) {
    const double t = std::tanh(static_cast<double>(xs[i]));
    EXPECT_NEAR(g[i], 1.0 - t * t, 1e-6) << "x = " << xs[i];
  }
}

TEST(FusedUnaryBackward, ReluAndClampPassTheGradientOnlyInside) {
  Tensor x = tensor({-1.0f, 0.0f, 0.3f, 2.0f}).requires_grad_();
  sum(relu(x) * 2.0 + clamp(x, 0.0, 1.0)).backward();
  // relu: 2 where x > 0; clamp: 1 where 0 <= x <= 1.
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{0.0f, 1.0f, 3.0f, 2.0f}));
}

TEST(FusedUnaryBackward, DoubleBackwardStillDifferentiatesTheFormula) {
  // d/dx (d sin/dx) = d/dx cos(x) = -sin(x): needs the composite (recorded) backward; the fused
  // kernel is not differentiable.
  Tensor x = tensor(std::vector<double>{0.3, -0.7}).requires_grad_();
  Tensor d = autograd::grad({sum(sin(x))}, {x}, {}, true, /*create_graph=*/true)[0];
  ASSERT_TRUE(d.requires_grad());
  sum(d).backward();
  const std::vector<double> g = x.grad().to_vector<double>();
  EXPECT_NEAR(g[0], -std::sin(0.3), 1e-12);
  EXPECT_NEAR(g[1], -std::sin(-0.7), 1e-12);
}

}  // namespace
}  // namespace strata
