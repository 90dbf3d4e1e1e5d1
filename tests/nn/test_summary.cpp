// summary / layer_info on a small CNN: exact parameter counts, output shapes and FLOPs, and the
// model left as it was (mode restored, hooks removed).
#include <gtest/gtest.h>

#include "nn/nn.h"
#include "support/expect_error.h"
#include "tensor/ops.h"

using namespace strata;

namespace {

std::shared_ptr<nn::Sequential> small_cnn() {
  return std::make_shared<nn::Sequential>(std::vector<nn::ModulePtr>{
      std::make_shared<nn::Conv2d>(1, 4, 3, nn::ConvOptions{.stride = 2, .padding = 1}),
      std::make_shared<nn::BatchNorm2d>(4), std::make_shared<nn::ReLU>(), std::make_shared<nn::AdaptiveAvgPool2d>(1),
      std::make_shared<nn::Flatten>(), std::make_shared<nn::Linear>(4, 10)});
}

}  // namespace

TEST(Summary, RowsHaveShapesParamsAndFlops) {
  auto model = small_cnn();
  auto rows = nn::layer_info(*model, {2, 1, 8, 8});
  ASSERT_EQ(rows.size(), 6u);
  EXPECT_EQ(rows[0].type, "Conv2d");
  EXPECT_EQ(rows[0].name, "0");
  EXPECT_EQ(rows[0].output_shape, (Shape{2, 4, 4, 4}));
  EXPECT_EQ(rows[0].params, 40);
  EXPECT_EQ(rows[0].flops, 2 * 128 * 9);
  EXPECT_TRUE(rows[0].trainable);
  EXPECT_EQ(rows[1].params, 8);
  EXPECT_EQ(rows[1].flops, 128);
  EXPECT_EQ(rows[2].params, 0);
  EXPECT_EQ(rows[3].output_shape, (Shape{2, 4, 1, 1}));
  EXPECT_EQ(rows[4].flops, 0);
  EXPECT_EQ(rows[5].output_shape, (Shape{2, 10}));
  EXPECT_EQ(rows[5].params, 50);
  EXPECT_EQ(rows[5].flops, 2 * 20 * 4);
}

TEST(Summary, PrintsATableWithTotals) {
  auto model = small_cnn();
  (*model)[5]->requires_grad_(false);
  std::string s = nn::summary(*model, {2, 1, 8, 8});
  for (const char* part : {"Sequential (Input shape: 2 x 1 x 8 x 8)", "Layer (type)", "Output Shape", "Param #",
                           "Trainable", "FLOPs", "2 x 4 x 4 x 4", "2 x 10", "Total params: 98",
                           "Total trainable params: 48", "Total non-trainable params: 50", "Total FLOPs: 2,728"})
    EXPECT_NE(s.find(part), std::string::npos) << "missing \"" << part << "\" in\n" << s;
  EXPECT_NE(s.find("Linear                   2 x 10                   50           False"), std::string::npos) << s;
}

TEST(Summary, LeavesTheModelAsItWas) {
  auto model = small_cnn();
  auto bn = std::static_pointer_cast<nn::BatchNorm2d>((*model)[1]);
  nn::summary(*model, {2, 1, 8, 8});
  EXPECT_TRUE(model->is_training());
  EXPECT_EQ(bn->num_batches_tracked.item<int64_t>(), 0);  // ran in eval mode
  EXPECT_EQ(nn::layer_info(*model, {1, 1, 8, 8}).size(), 6u);  // the first call's hooks are gone
  model->eval();
  nn::summary(*model, {1, 1, 8, 8});
  EXPECT_FALSE(model->is_training());
  model->train();
  bn->eval();  // mixed modes survive
  nn::summary(*model, {1, 1, 8, 8});
  EXPECT_TRUE(model->is_training());
  EXPECT_FALSE(bn->is_training());
  EXPECT_TRUE((*model)[0]->is_training());
}

TEST(Summary, ABadInputShapeReportsTheLayer) {
  auto model = small_cnn();
  EXPECT_STRATA_ERROR(nn::summary(*model, {2, 3, 8, 8}), ShapeError, {"Conv2d: input has 3 channels"});
  EXPECT_TRUE(model->is_training());
}

namespace {

// Two inputs: an embedding of categorical codes concatenated with continuous features.
class TwoInputs : public nn::Module {
 public:
  TwoInputs() : Module("TwoInputs") {
    emb = register_module("emb", std::make_shared<nn::Embedding>(10, 3));
    fc = register_module("fc", std::make_shared<nn::Linear>(5, 1));
  }
  Tensor forward(std::span<const Tensor> xs) override {
    return (*fc)(cat({(*emb)(xs[0]), xs[1]}, 1));
  }
  using Module::forward;
  std::shared_ptr<nn::Embedding> emb;
  std::shared_ptr<nn::Linear> fc;
};

}  // namespace

TEST(Summary, TakesSeveralInputsForMultiInputModels) {
  TwoInputs m;
  std::string s = nn::summary(m, {zeros({4}, {.dtype = DType::I64}), zeros({4, 2})});
  for (const char* part : {"TwoInputs (Input shape: 4, 4 x 2)", "Embedding                4 x 3                    30",
                           "Linear                   4 x 1                    6", "Total params: 36"})
    EXPECT_NE(s.find(part), std::string::npos) << "missing \"" << part << "\" in\n" << s;
}

TEST(Summary, AModuleUsedTwiceGivesOneRowPerCall) {
  auto relu = std::make_shared<nn::ReLU>();
  nn::Sequential model(std::vector<nn::ModulePtr>{std::make_shared<nn::Linear>(3, 3), relu,
                                                  std::make_shared<nn::Linear>(3, 2), relu});
  auto rows = nn::layer_info(model, {4, 3});
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[3].type, "ReLU");
  EXPECT_EQ(rows[3].output_shape, (Shape{4, 2}));
  EXPECT_EQ(rows[3].flops, 8);
}
