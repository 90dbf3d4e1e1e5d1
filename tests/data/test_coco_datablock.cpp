// The seed's COCO bounding-box DataBlock on ../shared/data/coco_tiny (skipped when absent):
// get_annotations (fastai semantics), then ImageBlock + BBoxBlock + BBoxLblBlock with Resize(128)
// and aug_transforms. Checked: batch shapes and bb_pad's padding against the annotation file, that
// boxes move with the image (a flip with known result, and the full affine list against the
// drawn matrices through warp_points), decoding back to pixels, and show_batch's PNG.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "data/annotations.h"
#include "data/augment.h"
#include "data/block_points.h"
#include "data/block_vision.h"
#include "data/datablock.h"
#include "data/files.h"
#include "data/show_items.h"
#include "data/vision_transforms.h"
#include "strata.h"
#include "support/expect_error.h"
#include "support/test_files.h"

using namespace strata;
using namespace strata::data;
namespace fs = std::filesystem;
using strata::testing::shared_data;
using strata::testing::TempDir;

namespace {

constexpr int64_t kBs = 8;

struct Coco {
  fs::path root;
  Annotations ann;
  std::map<std::string, size_t> img2bbox;
};

// The seed's block: fastai's `coco = DataBlock(blocks=(ImageBlock, BBoxBlock, BBoxLblBlock),
// get_items=get_image_files, splitter=RandomSplitter(), get_y=[...img2bbox...], item_tfms=Resize(128),
// batch_tfms=aug_transforms(), n_inp=1)`; batch_tfms given by the caller.
DataBlock coco_block(const std::shared_ptr<const Coco>& c, std::vector<TfmPtr> batch_tfms) {
  auto index = [c](const Item& o) { return c->img2bbox.at(item_path(o).filename().string()); };
  return DataBlock({.blocks = {ImageBlock(), BBoxBlock(), BBoxLblBlock()},
                    .n_inp = 1,
                    .get_items = [](const Item& p) { return to_items(get_image_files(item_path(p))); },
                    .getters = {[](const Item& o) { return o; },
                                [c, index](const Item& o) { return c->ann.boxes_item(index(o)); },
                                [c, index](const Item& o) { return c->ann.labels_item(index(o)); }},
                    .splitter = RandomSplitter(0.2, 42),
                    .item_tfms = {std::make_shared<Resize>(HW{128, 128})},
                    .batch_tfms = std::move(batch_tfms)});
}

std::shared_ptr<const Coco> load_coco() {
  const fs::path root = shared_data("coco_tiny");
  if (root.empty()) return nullptr;
  auto c = std::make_shared<Coco>();
  c->root = root;
  c->ann = get_annotations(root / "train.json");
  c->img2bbox = c->ann.by_name();
  return c;
}

double max_abs_diff(const Tensor& a, const Tensor& b) { return max(abs(a.to(DType::F64) - b.to(DType::F64))).item(); }

// Boxes [N, B, 4] moved as AffineCoordTfm must move them: the four corners through warp_points,
// then their bounding box, clamped to [-1, 1].
Tensor boxes_through(const Tensor& boxes, const AffineDraw& d) {
  const int64_t n = boxes.size(0), b = boxes.size(1);
  std::vector<float> v = boxes.contiguous().to_vector<float>(), corners;
  for (int64_t i = 0; i < n * b; ++i) {
    const float* q = &v[static_cast<size_t>(4 * i)];
    for (float c : {q[0], q[1], q[0], q[3], q[2], q[1], q[2], q[3]}) corners.push_back(c);
  }
  Tensor moved = warp_points(tensor(corners, {n, b * 4, 2}), d.matrices, {.coord_offsets = d.coord_offsets});
  std::vector<float> m = moved.contiguous().to_vector<float>(), out;
  for (int64_t i = 0; i < n * b; ++i) {
    const float* p = &m[static_cast<size_t>(8 * i)];
    float x0 = p[0], y0 = p[1], x1 = p[0], y1 = p[1];
    for (int k = 1; k < 4; ++k) {
      x0 = std::min(x0, p[2 * k]), x1 = std::max(x1, p[2 * k]);
      y0 = std::min(y0, p[2 * k + 1]), y1 = std::max(y1, p[2 * k + 1]);
    }
    for (float c : {x0, y0, x1, y1}) out.push_back(std::min(1.0f, std::max(-1.0f, c)));
  }
  return tensor(out, {n, b, 4});
}

}  // namespace

TEST(CocoAnnotations, FastaiSemanticsOnCocoTiny) {
  auto c = load_coco();
  if (!c) GTEST_SKIP() << "../shared/data/coco_tiny not present";
  ASSERT_EQ(c->ann.images.size(), 200u);
  size_t n_boxes = 0;
  for (const auto& t : c->ann.targets) {
    EXPECT_EQ(t.boxes.size(), t.labels.size());
    n_boxes += t.boxes.size();
  }
  EXPECT_EQ(n_boxes, 688u);
  // The first image and annotation of train.json: {"image_id": 542959, "bbox": [32.52, 86.34,
  // 8.53, 9.41], "category_id": 62} with category 62 = chair; boxes become (x, y, x + w, y + h).
  EXPECT_EQ(c->ann.images[0], "000000542959.jpg");
  const auto& b0 = c->ann.targets[0].boxes[0];
  EXPECT_NEAR(b0[0], 32.52, 1e-9);
  EXPECT_NEAR(b0[1], 86.34, 1e-9);
  EXPECT_NEAR(b0[2], 32.52 + 8.53, 1e-9);
  EXPECT_NEAR(b0[3], 86.34 + 9.41, 1e-9);
  EXPECT_EQ(c->ann.targets[0].labels[0], "chair");
  Item bi = c->ann.boxes_item(0), li = c->ann.labels_item(0);
  ASSERT_TRUE(bi.is_list());
  EXPECT_EQ(bi.size(), c->ann.targets[0].boxes.size());
  EXPECT_EQ(li[0].str(), "chair");
  EXPECT_EQ(get_annotations(c->root / "train.json", "train/").images[0], "train/000000542959.jpg");
}

TEST(CocoAnnotations, SmallFileOrderPrefixAndErrors) {
  TempDir d;
  // Image 2 has no annotation (dropped); image order follows "images", box order the annotations.
  d.write("a.json", R"({"categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}],
    "images": [{"id": 3, "file_name": "c.jpg"}, {"id": 2, "file_name": "b.jpg"}, {"id": 1, "file_name": "a.jpg"}],
    "annotations": [{"image_id": 1, "bbox": [1, 2, 3, 4], "category_id": 2},
                    {"image_id": 3, "bbox": [0, 0, 10, 5], "category_id": 1},
                    {"image_id": 1, "bbox": [5, 5, 1, 1], "category_id": 1}]})");
  Annotations a = get_annotations(d.path / "a.json", "imgs/");
  EXPECT_EQ(a.images, (std::vector<std::string>{"imgs/c.jpg", "imgs/a.jpg"}));
  ASSERT_EQ(a.targets.size(), 2u);
  EXPECT_EQ(a.targets[1].boxes, (std::vector<std::array<double, 4>>{{1, 2, 4, 6}, {5, 5, 6, 6}}));
  EXPECT_EQ(a.targets[1].labels, (std::vector<std::string>{"dog", "cat"}));
  EXPECT_EQ(a.targets[0].boxes, (std::vector<std::array<double, 4>>{{0, 0, 10, 5}}));
  EXPECT_EQ(a.by_name().at("imgs/a.jpg"), 1u);
  EXPECT_STRATA_ERROR(a.boxes_item(2), IndexError, {"boxes_item", "2"});

  EXPECT_STRATA_ERROR(get_annotations(d.path / "missing.json"), IOError, {"get_annotations", "missing.json"});
  d.write("bad.json", "{\"images\": [");
  EXPECT_STRATA_ERROR(get_annotations(d.path / "bad.json"), IOError, {"get_annotations", "bad.json", "not valid json"});
  d.write("nolist.json", R"({"images": [], "annotations": []})");
  EXPECT_STRATA_ERROR(get_annotations(d.path / "nolist.json"), ValueError, {"get_annotations", "\"categories\""});
  d.write("cat.json", R"({"categories": [], "images": [], "annotations": [{"image_id": 1, "bbox": [1, 2, 3, 4], "category_id": 7}]})");
  EXPECT_STRATA_ERROR(get_annotations(d.path / "cat.json"), ValueError, {"get_annotations", "unknown category_id 7"});
  d.write("bb.json", R"({"categories": [{"id": 7, "name": "x"}], "images": [], "annotations": [{"image_id": 1, "bbox": [1, 2], "category_id": 7}]})");
  EXPECT_STRATA_ERROR(get_annotations(d.path / "bb.json"), ValueError, {"get_annotations", "[x, y, w, h]"});
}

TEST(CocoDataBlock, BatchesArePaddedByBbPad) {
  auto c = load_coco();
  if (!c) GTEST_SKIP() << "../shared/data/coco_tiny not present";
  DataBlock db = coco_block(c, aug_transforms());
  DataLoaders dls = db.dataloaders(Item(c->root / "train"), {.bs = kBs, .seed = 0});
  EXPECT_EQ(dls.datasets()->train().size() + dls.datasets()->valid().size(), 200u);
  // Training batch: images [bs, 3, 128, 128] f32, boxes [bs, n_max, 4], labels [bs, n_max].
  Batch b = dls.one_batch();
  ASSERT_EQ(b.size(), 3u);
  EXPECT_TRUE(is_a<TensorImage>(b[0]));
  EXPECT_EQ(b[0].shape(), Shape({kBs, 3, 128, 128}));
  EXPECT_EQ(b[0].dtype(), DType::F32);
  EXPECT_TRUE(is_a<TensorBBox>(b[1]));
  EXPECT_TRUE(is_a<TensorMultiCategory>(b[2]));
  const int64_t n_max = b[1].size(1);
  EXPECT_EQ(b[1].shape(), Shape({kBs, n_max, 4}));
  EXPECT_EQ(b[2].shape(), Shape({kBs, n_max}));
  EXPECT_GE(min(b[1]).item(), -1.0);
  EXPECT_LE(max(b[1]).item(), 1.0);
  // The vocab: '#na#' first (the padding label), then the 6 categories sorted.
  const auto* meta = meta_as<CategoryMeta>(b[2]);
  ASSERT_NE(meta, nullptr);
  EXPECT_EQ(*meta->vocab, (std::vector<std::string>{"#na#", "book", "chair", "couch", "remote", "tv", "vase"}));

  // Validation (no shuffle, no augmentation): per sample, as many real labels as the annotation
  // file has boxes, then 0 labels with all-zero boxes up to the batch's largest count.
  Batch v = dls.valid().one_batch();
  const std::vector<Item> vitems = dls.datasets()->valid().items();
  const int64_t vn = v[1].size(1);
  std::vector<int64_t> labels = v[2].to_vector<int64_t>();
  std::vector<float> boxes = v[1].contiguous().to_vector<float>();
  int64_t most = 0;
  for (int64_t s = 0; s < kBs; ++s) {
    const auto& t = c->ann.targets[c->img2bbox.at(item_path(vitems[static_cast<size_t>(s)]).filename().string())];
    const int64_t k = static_cast<int64_t>(t.boxes.size());
    most = std::max(most, k);
    for (int64_t j = 0; j < vn; ++j) {
      const int64_t lbl = labels[static_cast<size_t>(s * vn + j)];
      if (j < k) {
        EXPECT_EQ((*meta->vocab)[static_cast<size_t>(lbl)], t.labels[static_cast<size_t>(j)]) << s << "," << j;
        // (x0 + 1) * 128 / 2 gives the pixel coordinate back.
        for (int q = 0; q < 4; ++q)
          EXPECT_NEAR((boxes[static_cast<size_t>((s * vn + j) * 4 + q)] + 1) * 64, t.boxes[static_cast<size_t>(j)][q], 1e-3);
      } else {
        EXPECT_EQ(lbl, 0) << s << "," << j;
        for (int q = 0; q < 4; ++q) EXPECT_EQ(boxes[static_cast<size_t>((s * vn + j) * 4 + q)], 0.0f);
      }
    }
  }
  EXPECT_EQ(vn, most);

  // Decoding gives pixel boxes and category names back (padding included as '#na#').
  std::vector<Item> dec = dls.valid().decode_batch(v, 2);
  ASSERT_EQ(dec.size(), 2u);
  const auto& t0 = c->ann.targets[c->img2bbox.at(item_path(vitems[0]).filename().string())];
  const Tensor pix = dec[0][1].tensor();
  EXPECT_TRUE(is_a<TensorBBox>(pix));
  std::vector<float> pv = pix.contiguous().to_vector<float>();
  for (size_t j = 0; j < t0.boxes.size(); ++j)
    for (int q = 0; q < 4; ++q) EXPECT_NEAR(pv[4 * j + static_cast<size_t>(q)], t0.boxes[j][static_cast<size_t>(q)], 1e-3);
  ASSERT_TRUE(dec[0][2].is_sequence());
  EXPECT_EQ(dec[0][2][0].str(), t0.labels[0]);
  ASSERT_TRUE(dec[0][0].is_image());  // ToTensor decodes to the host image
  EXPECT_EQ(dec[0][0].image()->h, 128);
  EXPECT_EQ(dec[0][0].image()->w, 128);
}

TEST(CocoDataBlock, AFlipMovesBoxesWithTheImage) {
  auto c = load_coco();
  if (!c) GTEST_SKIP() << "../shared/data/coco_tiny not present";
  // Same seed, same items and order; one loader flips every training image horizontally.
  DataLoaders plain = coco_block(c, {}).dataloaders(Item(c->root / "train"), {.bs = kBs, .seed = 3});
  DataLoaders flip = coco_block(c, {Flip(1.0)}).dataloaders(Item(c->root / "train"), {.bs = kBs, .seed = 3});
  Batch p = plain.one_batch(), f = flip.one_batch();
  EXPECT_EQ(max_abs_diff(p[2], f[2]), 0.0);
  // Pixel centres map to pixel centres (align_corners): the image is mirrored exactly.
  EXPECT_LT(max_abs_diff(f[0], index_select(p[0], 3, arange(127, -1, -1))), 1e-4);
  // A box (x0, y0, x1, y1) becomes (-x1, y0, -x0, y1); padding boxes stay zero.
  std::vector<float> pb = p[1].contiguous().to_vector<float>(), fb = f[1].contiguous().to_vector<float>();
  ASSERT_EQ(pb.size(), fb.size());
  for (size_t i = 0; i < pb.size(); i += 4) {
    EXPECT_NEAR(fb[i + 0], -pb[i + 2], 1e-5) << i / 4;
    EXPECT_NEAR(fb[i + 1], pb[i + 1], 1e-5) << i / 4;
    EXPECT_NEAR(fb[i + 2], -pb[i + 0], 1e-5) << i / 4;
    EXPECT_NEAR(fb[i + 3], pb[i + 3], 1e-5) << i / 4;
  }
}

TEST(CocoDataBlock, AugTransformsMoveBoxesThroughTheDrawnTransform) {
  auto c = load_coco();
  if (!c) GTEST_SKIP() << "../shared/data/coco_tiny not present";
  DataLoaders plain = coco_block(c, {}).dataloaders(Item(c->root / "train"), {.bs = kBs, .seed = 5});
  Batch p = plain.one_batch();
  // The seed's aug_transforms() with every affine part on, applied to the collated batch here (so
  // that this thread holds the draw); lighting changes images only.
  auto tfms = aug_transforms({.max_rotate = 30, .p_affine = 1.0, .seed = 11});
  ASSERT_EQ(tfms.size(), 2u);
  Item y = Item::tuple({Item(p[0]), Item(p[1]), Item(p[2])});
  y = (*tfms[0])(y, 0);
  const AffineDraw& d = dynamic_cast<const AffineCoordTfm&>(*tfms[0]).current();
  ASSERT_FALSE(d.identity);
  const Tensor moved = y[1].tensor();
  EXPECT_TRUE(is_a<TensorBBox>(moved));
  EXPECT_EQ(moved.shape(), p[1].shape());
  EXPECT_LT(max_abs_diff(moved, boxes_through(p[1], d)), 1e-5);
  EXPECT_GT(max_abs_diff(moved, p[1]), 0.05);  // they did move
  // The images went through the same matrices: warp_batch with the draw gives them.
  Tensor want = warp_batch(p[0], d.matrices, {.coord_offsets = d.coord_offsets, .mode = SampleMode::Bilinear,
                                              .padding_mode = PaddingMode::Reflection, .align_corners = true});
  EXPECT_LT(max_abs_diff(y[0].tensor(), want), 1e-5);
  Item z = (*tfms[1])(y, 0);
  EXPECT_EQ(max_abs_diff(z[1].tensor(), moved), 0.0);
  EXPECT_EQ(max_abs_diff(z[2].tensor(), p[2]), 0.0);

  // Through the loader: labels untouched, boxes inside the image.
  DataLoaders aug = coco_block(c, aug_transforms()).dataloaders(Item(c->root / "train"), {.bs = kBs, .seed = 5});
  Batch a = aug.one_batch();
  EXPECT_EQ(max_abs_diff(a[2], p[2]), 0.0);
  EXPECT_EQ(a[1].shape(), p[1].shape());
  EXPECT_GE(min(a[1]).item(), -1.0);
  EXPECT_LE(max(a[1]).item(), 1.0);
}

TEST(CocoDataBlock, ShowBatchDrawsBoxesAndLabels) {
  auto c = load_coco();
  if (!c) GTEST_SKIP() << "../shared/data/coco_tiny not present";
  DataLoaders dls = coco_block(c, aug_transforms()).dataloaders(Item(c->root / "train"), {.bs = kBs, .seed = 0});
  TempDir d;
  const fs::path png = d.path / "coco.png";
  dls.show_batch(png, {.max_n = 4});
  Image img = load_image(png);
  EXPECT_GE(img.w, 2 * 128);
  EXPECT_GE(img.h, 2 * 128);
  // The boxes (and their label text) are drawn: the same samples without them render differently.
  std::vector<Item> samples = dls.valid().decode_batch(dls.valid().one_batch(), 4);
  std::vector<Item> images_only;
  for (const Item& s : samples) images_only.push_back(Item::tuple({s[0]}));
  const Image with = render_samples(samples, {.max_n = 4}).rgb();
  const Image without = render_samples(images_only, {.max_n = 4}).rgb();
  ASSERT_EQ(with.data.size(), without.data.size());
  size_t differ = 0;
  for (size_t i = 0; i < with.data.size(); ++i) differ += with.data[i] != without.data[i];
  EXPECT_GT(differ, 500u);
}
