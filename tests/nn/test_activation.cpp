// Activation layers: values against the formulas evaluated in double, gradients, names.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <memory>

#include "module_gradcheck.h"
#include "nn/activation.h"
#include "support/expect_error.h"
#include "tensor/ops.h"

using namespace strata;
using strata::testing::module_gradcheck;

namespace {

const std::vector<double> kPoints = {-3.0, -1.0, -0.25, 0.0, 0.5, 2.0};

void expect_formula(nn::Module& m, const std::function<double(double)>& f) {
  Tensor y = m(tensor(kPoints).to(DType::F32));
  auto got = y.to_vector<double>();
  ASSERT_EQ(got.size(), kPoints.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], f(kPoints[i]), 1e-6) << m.type_name() << " at " << kPoints[i];
}

double sig(double x) { return 1 / (1 + std::exp(-x)); }
double softplus(double x) { return std::log1p(std::exp(x)); }

}  // namespace

TEST(Activation, ValuesMatchTheirFormulas) {
  nn::ReLU relu;
  expect_formula(relu, [](double x) { return x > 0 ? x : 0; });
  nn::LeakyReLU leaky(0.1);
  expect_formula(leaky, [](double x) { return x > 0 ? x : 0.1 * x; });
  nn::LeakyReLU leaky_default;
  expect_formula(leaky_default, [](double x) { return x > 0 ? x : 0.01 * x; });
  nn::GELU gelu;
  expect_formula(gelu, [](double x) { return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))); });
  nn::GELU gelu_tanh(/*tanh_approximation=*/true);
  expect_formula(gelu_tanh, [](double x) {
    return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
  });
  nn::Softplus sp;
  expect_formula(sp, [](double x) { return softplus(x); });
  nn::SiLU silu;
  expect_formula(silu, [](double x) { return x * sig(x); });
  nn::Mish mish;
  expect_formula(mish, [](double x) { return x * std::tanh(softplus(x)); });
  nn::Sigmoid sigmoid;
  expect_formula(sigmoid, sig);
  nn::Tanh tanh_layer;
  expect_formula(tanh_layer, [](double x) { return std::tanh(x); });
  nn::SigmoidRange range(-1, 5);
  expect_formula(range, [](double x) { return sig(x) * 6 - 1; });
}

TEST(Activation, SwishIsSiLUAndNamesPrint) {
  nn::Swish swish;
  EXPECT_EQ(swish.type_name(), "SiLU");
  EXPECT_EQ(nn::GELU(true).str(), "GELU(approximate='tanh')");
  EXPECT_EQ(nn::GELU().str(), "GELU()");
  EXPECT_EQ(nn::LeakyReLU(0.2).str(), "LeakyReLU(negative_slope=0.2)");
  EXPECT_EQ(nn::SigmoidRange(0, 5.5).str(), "SigmoidRange(low=0, high=5.5)");
  EXPECT_STRATA_ERROR(nn::SigmoidRange(2, 1), ValueError, {"SigmoidRange: low (2) must be below high (1)"});
}

TEST(Activation, SoftmaxAndLogSoftmaxAlongDim) {
  nn::Softmax sm(1);
  Tensor y = sm(tensor({0.f, std::log(3.f), 1.f, 1.f}, {2, 2}));
  auto v = y.to_vector<double>();
  EXPECT_NEAR(v[0], 0.25, 1e-6);
  EXPECT_NEAR(v[1], 0.75, 1e-6);
  EXPECT_NEAR(v[2], 0.5, 1e-6);
  nn::LogSoftmax lsm(0);
  EXPECT_NEAR(lsm(tensor({1.f, 1.f}, {2})).to_vector<double>()[0], std::log(0.5), 1e-6);
}

TEST(Activation, GradientsMatchFiniteDifferences) {
  // Points away from the kinks of relu / leaky relu.
  Tensor x = tensor(std::vector<double>{-2.0, -0.7, -0.3, 0.4, 1.1, 2.5}, {2, 3});
  std::vector<std::shared_ptr<nn::Module>> layers = {
      std::make_shared<nn::ReLU>(),    std::make_shared<nn::LeakyReLU>(0.2),   std::make_shared<nn::GELU>(), std::make_shared<nn::GELU>(true), std::make_shared<nn::Softplus>(),
      std::make_shared<nn::SiLU>(),    std::make_shared<nn::Mish>(),           std::make_shared<nn::Sigmoid>(),
      std::make_shared<nn::Tanh>(),    std::make_shared<nn::SigmoidRange>(-2, 3), std::make_shared<nn::Softmax>(1),
      std::make_shared<nn::LogSoftmax>(0)};
  for (auto& l : layers) EXPECT_TRUE(module_gradcheck(*l, x)) << l->type_name();
}
