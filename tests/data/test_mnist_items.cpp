// MnistItems (data/mnist_items.h): IDX splits as a DataBlock source. Synthetic splits with known
// pixels and labels, so every getter, the split and a whole DataBlock batch are checked exactly.
#include <gtest/gtest.h>

#include <algorithm>

#include "data/block_vision.h"
#include "data/datablock.h"
#include "data/mnist_items.h"
#include "strata.h"
#include "support/expect_error.h"

namespace strata::data {
namespace {

// n images of 4x3 pixels; pixel (y, x) of image i is 10 * i + 3 * y + x; label i % 3.
MnistSplit synthetic_split(int64_t n, int64_t first) {
  Tensor images = empty({n, 4, 3}, {.dtype = DType::U8});
  Tensor labels = empty({n}, {.dtype = DType::I64});
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t p = 0; p < 12; ++p)
      images.data<uint8_t>()[i * 12 + p] = static_cast<uint8_t>(10 * (first + i) + 3 * (p / 3) + p % 3);
    labels.data<int64_t>()[i] = (first + i) % 3;
  }
  return {images, labels};
}

const std::vector<std::string> kNames{"zero", "one", "two"};

TEST(MnistItems, GettersReadRowsOfBothSplits) {
  MnistItems items(synthetic_split(5, 0), synthetic_split(2, 5), kNames);
  EXPECT_EQ(items.n_train(), 5);
  EXPECT_EQ(items.n_test(), 2);
  ASSERT_EQ(items.items().size(), 7u);
  EXPECT_EQ(items.items()[6].as_int(), 6);
  for (int64_t row : {0, 4, 5, 6}) {
    const Item img = items.image_getter()(Item(row));
    ASSERT_TRUE(img.is_image());
    EXPECT_EQ(img.image()->kind, ImageKind::BW);
    EXPECT_EQ(img.image()->h, 4);
    EXPECT_EQ(img.image()->w, 3);
    EXPECT_EQ(img.image()->c, 1);
    EXPECT_EQ(img.image()->at(2, 1, 0), 10 * row + 3 * 2 + 1) << "row " << row;
    EXPECT_EQ(items.label_getter()(Item(row)).str(), kNames[static_cast<size_t>(row % 3)]);
  }
  ASSERT_EQ(items.vocab().size(), 3u);
  EXPECT_EQ(items.vocab()[2].str(), "two");
}

TEST(MnistItems, TestRowsAreTheValidationSet) {
  MnistItems items(synthetic_split(5, 0), synthetic_split(2, 5), kNames);
  const Splits s = items.test_splitter()(items.items());
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0], (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(s[1], (std::vector<int64_t>{5, 6}));
}

TEST(MnistItems, GettersOutliveTheItemsObject) {
  Getter get;
  {
    MnistItems items(synthetic_split(2, 0), synthetic_split(1, 2), kNames);
    get = items.image_getter();
  }
  EXPECT_EQ(get(Item(int64_t{2})).image()->at(0, 0, 0), 20);
}

TEST(MnistItems, BadInputsAreNamed) {
  EXPECT_STRATA_ERROR(MnistItems(synthetic_split(5, 0), synthetic_split(2, 5), {"a", "b"}), ValueError,
                      {"MnistItems", "labels span [0, 2]", "2 class names"});
  MnistSplit wrong = synthetic_split(3, 0);
  wrong.labels = wrong.labels.slice(0, 0, 2);
  EXPECT_STRATA_ERROR(MnistItems(wrong, synthetic_split(1, 3), kNames), ValueError, {"MnistItems", "[2]"});
  MnistItems items(synthetic_split(2, 0), synthetic_split(1, 2), kNames);
  EXPECT_STRATA_ERROR(items.image(3), IndexError, {"MnistItems", "row 3", "[0, 3)"});
  EXPECT_STRATA_ERROR(items.label(-1), IndexError, {"MnistItems", "row -1"});
}

// The demo's DataBlock on synthetic rows: BW image batches [bs, 1, 4, 3] in [0, 1] and category
// indices in the given vocab order.
TEST(MnistItems, FeedsAnImageCategoryDataBlock) {
  MnistItems items(synthetic_split(8, 0), synthetic_split(4, 8), kNames);
  DataBlock block({.blocks = {ImageBlock(ImageMode::BW), CategoryBlock(items.vocab(), /*sort=*/false)},
                   .get_x = items.image_getter(),
                   .get_y = items.label_getter(),
                   .splitter = items.test_splitter()});
  DataLoaders dls = block.dataloaders(Item::list(items.items()), {.bs = 4, .shuffle = false, .seed = 0});
  Batch valid = dls.valid().one_batch();
  ASSERT_EQ(valid.size(), 2u);
  EXPECT_TRUE(is_a<TensorImageBW>(valid[0]));
  EXPECT_EQ(valid[0].shape(), Shape({4, 1, 4, 3}));
  // Row 8 (the first test row): pixel (1, 2) = 80 + 3 + 2 = 85, scaled to [0, 1].
  EXPECT_NEAR(valid[0].select(0, 0).select(0, 0).select(0, 1).select(0, 2).item(), 85.0 / 255.0, 1e-6);
  std::vector<int64_t> labels;
  for (int64_t i = 0; i < 4; ++i) labels.push_back(valid[1].select(0, i).item<int64_t>());
  EXPECT_EQ(labels, (std::vector<int64_t>{8 % 3, 9 % 3, 10 % 3, 11 % 3}));
}

}  // namespace
}  // namespace strata::data
