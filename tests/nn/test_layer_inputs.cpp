// The layers on awkward inputs: non-contiguous views, empty batches, f64 and half-precision
// models (Module::to), so a layer never assumes a packed f32 batch.
#include <gtest/gtest.h>

#include "nn/nn.h"
#include "support/expect_error.h"
#include "tensor/ops.h"

using namespace strata;

namespace {

void expect_close(const Tensor& a, const Tensor& b, double tol = 1e-5) {
  ASSERT_EQ(a.shape(), b.shape());
  auto x = a.to_vector<double>(), y = b.to_vector<double>();
  for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(x[i], y[i], tol) << "element " << i;
}

std::vector<std::pair<std::string, std::shared_ptr<nn::Module>>> image_layers() {
  return {{"conv", std::make_shared<nn::Conv2d>(3, 4, 3, nn::ConvOptions{.padding = 1})},
          {"convT", std::make_shared<nn::ConvTranspose2d>(3, 2, 2, nn::ConvTransposeOptions{.stride = 2})},
          {"bn", std::make_shared<nn::BatchNorm2d>(3)},
          {"gn", std::make_shared<nn::GroupNorm>(3, 3)},
          {"in", std::make_shared<nn::InstanceNorm2d>(3)},
          {"ln", std::make_shared<nn::LayerNorm>(std::vector<int64_t>{5})},
          {"maxpool", std::make_shared<nn::MaxPool2d>(2)},
          {"avgpool", std::make_shared<nn::AvgPool2d>(2)},
          {"gap", std::make_shared<nn::AdaptiveAvgPool2d>(1)},
          {"gelu", std::make_shared<nn::GELU>()},
          {"flatten", std::make_shared<nn::Flatten>()}};
}

}  // namespace

TEST(LayerInputs, NonContiguousInputsGiveTheSameResults) {
  manual_seed(0);
  Tensor x = randn({2, 3, 4, 5});
  Tensor nc = x.permute({0, 1, 3, 2}).contiguous().permute({0, 1, 3, 2});  // same values, other strides
  ASSERT_FALSE(nc.is_contiguous());
  for (auto& [name, layer] : image_layers()) {
    SCOPED_TRACE(name);
    expect_close((*layer)(nc), (*layer)(x));
  }
  nn::Linear fc(2, 3);
  Tensor a = randn({3, 2});
  expect_close(fc(a.t().contiguous().t()), fc(a));
}

TEST(LayerInputs, F64ModelsComputeInF64) {
  manual_seed(1);
  Tensor x = randn({2, 3, 4, 5});
  for (auto& [name, layer] : image_layers()) {
    SCOPED_TRACE(name);
    Tensor y32 = (*layer)(x);
    layer->to(DType::F64);
    Tensor y64 = (*layer)(x.to(DType::F64));
    EXPECT_EQ(y64.dtype(), DType::F64);
    expect_close(y64, y32, 1e-4);
  }
}

TEST(LayerInputs, HalfPrecisionModelsRun) {
  manual_seed(2);
  Tensor x = randn({2, 3, 4, 4});
  nn::Conv2d conv(3, 4, 3, {.padding = 1});
  Tensor ref = conv(x);
  conv.to(DType::BF16);
  Tensor y = conv(x.to(DType::BF16));
  EXPECT_EQ(y.dtype(), DType::BF16);
  expect_close(y.to(DType::F32), ref, 0.1);
  // Mixed precision: a half input through f32 norm parameters.
  nn::BatchNorm2d bn(3);
  Tensor z = bn(x.to(DType::F16));
  EXPECT_EQ(z.dtype(), DType::F16);
  nn::Linear fc(4, 2);
  fc.to(DType::F16);
  EXPECT_EQ(fc(x.to(DType::F16)).dtype(), DType::F16);
}

TEST(LayerInputs, EmptyBatchesGiveEmptyOutputs) {
  nn::Linear fc(4, 3);
  EXPECT_EQ(fc(zeros({0, 4})).shape(), (Shape{0, 3}));
  nn::Conv2d conv(3, 4, 3, {.padding = 1});
  EXPECT_EQ(conv(zeros({0, 3, 5, 5})).shape(), (Shape{0, 4, 5, 5}));
  nn::ReLU relu;
  EXPECT_EQ(relu(zeros({0, 7})).shape(), (Shape{0, 7}));
  nn::LayerNorm ln({4});
  EXPECT_EQ(ln(zeros({0, 4})).shape(), (Shape{0, 4}));
  nn::Embedding emb(5, 2);
  EXPECT_EQ(emb(zeros({0}, {.dtype = DType::I64})).shape(), (Shape{0, 2}));
  nn::CrossEntropyLossFlat loss({.reduction = Reduction::None});
  EXPECT_EQ(loss(zeros({0, 3}), zeros({0}, {.dtype = DType::I64})).shape(), (Shape{0}));
}

TEST(LayerInputs, BatchNormNeedsMoreThanOneValuePerChannelInTraining) {
  nn::BatchNorm1d bn(3);
  EXPECT_THROW(bn(zeros({1, 3})), ValueError);
  bn.eval();
  EXPECT_EQ(bn(zeros({1, 3})).shape(), (Shape{1, 3}));
}
