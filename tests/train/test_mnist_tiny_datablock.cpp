// The seed paper's MNIST DataBlock, end to end: ImageBlock(BW) + CategoryBlock over
// ../shared/data/mnist_tiny (3s and 7s), get_image_files, GrandparentSplitter, parent_label,
// through train::from_data into a Learner with a small CNN, fit_one_cycle, and the validation
// accuracy fastai gets on it (>= 95%). Skips when the shared data is absent.
#include <gtest/gtest.h>

#include <filesystem>

#include "data/block_vision.h"
#include "data/datablock.h"
#include "data/files.h"
#include "data/labellers.h"
#include "nn/nn.h"
#include "strata.h"
#include "train/callbacks/recorder.h"
#include "train/from_data.h"
#include "train/learner.h"
#include "train/metrics.h"
#include "support/test_files.h"

using namespace strata;
namespace fs = std::filesystem;
using strata::testing::shared_data;

namespace {

// 28x28 -> 14 -> 7 -> 4 -> 2, then global pooling and a linear head (fastai's simple_cnn shape).
nn::ModulePtr small_cnn() {
  return std::make_shared<nn::Sequential>(std::vector<nn::ModulePtr>{
      std::make_shared<nn::ConvLayer>(1, 8, nn::ConvLayerOptions{.stride = 2}),
      std::make_shared<nn::ConvLayer>(8, 16, nn::ConvLayerOptions{.stride = 2}),
      std::make_shared<nn::ConvLayer>(16, 32, nn::ConvLayerOptions{.stride = 2}),
      std::make_shared<nn::ConvLayer>(32, 2, nn::ConvLayerOptions{.stride = 2, .norm_type = std::nullopt,
                                                                   .act_cls = nullptr}),
      std::make_shared<nn::AdaptiveAvgPool2d>(1), std::make_shared<nn::Flatten>()});
}

}  // namespace

TEST(MnistTinyDataBlock, TrainsToFastaiAccuracyThroughTheLearner) {
  const fs::path root = shared_data("mnist_tiny");
  if (root.empty()) GTEST_SKIP() << "../shared/data/mnist_tiny not present";
  using namespace strata::data;
  manual_seed(0);
  DataBlock mnist({.blocks = {ImageBlock(ImageMode::BW), CategoryBlock()},
                   .get_items = [](const Item& p) { return to_items(get_image_files(item_path(p))); },
                   .get_y = parent_label,
                   .splitter = GrandparentSplitter()});
  data::DataLoaders dls = mnist.dataloaders(Item(root), {.bs = 64, .seed = 0, .num_workers = 1});
  train::DataLoaders loaders = train::from_data(dls);
  EXPECT_EQ(loaders.train->size(), 709 / 64);  // train drops its last partial batch
  EXPECT_EQ(loaders.valid->size(), (699 + 63) / 64);

  train::Learner learn(loaders, small_cnn(), {.metrics = {train::accuracy()}, .progress = false});
  learn.fit_one_cycle(4, {.lr_max = 1e-2});
  std::vector<double> v = learn.validate();  // [valid_loss, accuracy]
  ASSERT_EQ(v.size(), 2u);
  EXPECT_GE(v[1], 0.95) << "valid loss " << v[0];
  // The default loss came from the CategoryBlock's targets.
  EXPECT_NE(dynamic_cast<nn::CrossEntropyLossFlat*>(learn.loss_func.get()), nullptr);
}
