// Batch augmentation through the DataBlock API on ../shared/data (skipped when absent): the
// MNIST block with aug_transforms + Normalize learnt at setup, and CamVid (non-square images with
// masks) with aug_transforms + imagenet stats: the seed's segmentation block (MaskBlock(codes),
// the label function NAME -> labels/NAME_P.png), decoded and drawn by show_batch.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "data/augment.h"
#include "data/block_vision.h"
#include "data/datablock.h"
#include "data/files.h"
#include "data/labellers.h"
#include "data/show_items.h"
#include "strata.h"
#include "support/test_files.h"

using namespace strata;
using namespace strata::data;
namespace fs = std::filesystem;
using strata::testing::shared_data;

TEST(AugmentDataBlock, MnistTinyWithAugTransformsAndNormalize) {
  const fs::path root = shared_data("mnist_tiny");
  if (root.empty()) GTEST_SKIP() << "../shared/data/mnist_tiny not present";
  auto tfms = aug_transforms();
  auto nrm = std::make_shared<Normalize>();
  tfms.push_back(nrm);
  DataBlock db({.blocks = {ImageBlock(ImageMode::BW), CategoryBlock()},
                .get_items = [](const Item& p) { return to_items(get_image_files(item_path(p))); },
                .get_y = parent_label,
                .splitter = GrandparentSplitter(),
                .batch_tfms = tfms});
  DataLoaders dls = db.dataloaders(Item(root), {.bs = 32, .seed = 0, .num_workers = 2});
  Batch b = dls.one_batch();
  EXPECT_TRUE(is_a<TensorImageBW>(b[0]));
  EXPECT_EQ(b[0].shape(), Shape({32, 1, 28, 28}));
  ASSERT_EQ(nrm->mean.size(), 1u);
  EXPECT_GT(nrm->mean[0], 0.05);
  EXPECT_LT(nrm->mean[0], 0.3);
  // Normalized: roughly zero mean; Normalize's decode gives images in [0, 1] again, and the
  // loader's full decode goes on through IntToFloatTensor to u8.
  EXPECT_LT(std::abs(mean(b[0]).item()), 0.3);
  Tensor un = nrm->decode(Item(b[0])).tensor();
  EXPECT_GE(min(un).item(), -1e-5);
  EXPECT_LE(max(un).item(), 1 + 1e-5);
  Item dec = dls.train().decode(b);
  EXPECT_EQ(dec[0].tensor().dtype(), DType::U8);
  EXPECT_GT(max(dec[0].tensor()).item(), 200.0);
  // The same seed, the same augmented batches.
  DataLoaders again = db.dataloaders(Item(root), {.bs = 32, .seed = 0, .num_workers = 0});
  Batch b2 = again.one_batch();
  EXPECT_EQ(max(abs(b[0] - b2[0])).item(), 0.0);
  // Stats learnt again from scratch with the same loader seed are the same to the bit: the
  // loader runs batch-transform setup (and the augmentation it applies first) in a seeded scope.
  const std::vector<double> mean0 = nrm->mean, std0 = nrm->std;
  nrm->mean.clear();
  nrm->std.clear();
  db.dataloaders(Item(root), {.bs = 32, .seed = 0, .num_workers = 0});
  EXPECT_EQ(nrm->mean, mean0);
  EXPECT_EQ(nrm->std, std0);
}

TEST(AugmentDataBlock, CamvidTinyMasksFollowTheAugmentation) {
  const fs::path root = shared_data("camvid_tiny");
  if (root.empty()) GTEST_SKIP() << "../shared/data/camvid_tiny not present";
  std::vector<std::string> codes;
  {
    std::ifstream f(root / "codes.txt");
    for (std::string line; std::getline(f, line);)
      if (!line.empty()) codes.push_back(line);
  }
  auto tfms = aug_transforms({.max_rotate = 20, .p_affine = 1.0});
  tfms.push_back(Normalize::from_stats(imagenet_stats.mean, imagenet_stats.std));
  DataBlock db({.blocks = {ImageBlock(), MaskBlock(codes)},
                .get_items = [](const Item& p) { return to_items(get_image_files(item_path(p) / "images")); },
                .get_y = [root](const Item& p) {
                  const fs::path f = item_path(p);
                  return Item(root / "labels" / (f.stem().string() + "_P" + f.extension().string()));
                },
                .splitter = RandomSplitter(0.2, 0),
                .batch_tfms = tfms});
  DataLoaders dls = db.dataloaders(Item(root), {.bs = 4, .seed = 0});
  Batch b = dls.one_batch();
  EXPECT_EQ(b[0].shape(), Shape({4, 3, 96, 128}));
  EXPECT_TRUE(is_a<TensorMask>(b[1]));
  EXPECT_EQ(b[1].shape(), Shape({4, 96, 128}));
  EXPECT_EQ(b[1].dtype(), DType::I64);
  EXPECT_GE(min(b[1]).item(), 0.0);
  EXPECT_LT(max(b[1]).item(), 32.0);
  // Validation: masks exactly as loaded (no augmentation on split 1).
  Batch v = dls.valid().one_batch();
  DataLoaders plain = DataBlock({.blocks = {ImageBlock(), MaskBlock(codes)},
                                 .get_items = [](const Item& p) { return to_items(get_image_files(item_path(p) / "images")); },
                                 .get_y = [root](const Item& p) {
                                   const fs::path f = item_path(p);
                                   return Item(root / "labels" / (f.stem().string() + "_P" + f.extension().string()));
                                 },
                                 .splitter = RandomSplitter(0.2, 0)})
                          .dataloaders(Item(root), {.bs = 4, .seed = 0});
  Batch pv = plain.valid().one_batch();
  EXPECT_EQ(max(abs(v[1] - pv[1])).item(), 0.0);
  // ... and images only normalized.
  Tensor want = (pv[0] - tensor(std::vector<float>{0.485f, 0.456f, 0.406f}, {1, 3, 1, 1})) /
                tensor(std::vector<float>{0.229f, 0.224f, 0.225f}, {1, 3, 1, 1});
  EXPECT_LT(max(abs(v[0] - want)).item(), 1e-4);

  // Decoding: Normalize undone, images back to u8 host images, masks with their codes; show_batch
  // draws the masks over the images (the same samples without masks render differently).
  std::vector<Item> dec = dls.valid().decode_batch(v, 4);
  ASSERT_EQ(dec.size(), 4u);
  ASSERT_TRUE(dec[0][0].is_image());
  EXPECT_EQ(dec[0][0].image()->h, 96);
  EXPECT_EQ(dec[0][0].image()->w, 128);
  strata::testing::TempDir d;
  dls.show_batch(d.path / "camvid.png", {.max_n = 4});
  Image shown = load_image(d.path / "camvid.png");
  EXPECT_GE(shown.w, 2 * 128);
  EXPECT_GE(shown.h, 2 * 96);
  std::vector<Item> images_only;
  for (const Item& s : dec) images_only.push_back(Item::tuple({s[0]}));
  const Image with = render_samples(dec, {.max_n = 4}).rgb();
  const Image without = render_samples(images_only, {.max_n = 4}).rgb();
  ASSERT_EQ(with.data.size(), without.data.size());
  size_t differ = 0;
  for (size_t i = 0; i < with.data.size(); ++i) differ += with.data[i] != without.data[i];
  EXPECT_GT(differ, with.data.size() / 4);  // the overlay covers the whole image
}
