// Points and boxes (data/block_points.h): creation, scaling to [-1, 1] by the sample's image
// size and back, bb_pad's clipping / dropping / padding, and a BBox DataBlock on generated PNGs.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "data/block_points.h"
#include "data/block_vision.h"
#include "data/datablock.h"
#include "data/image.h"
#include "strata.h"
#include "support/expect_error.h"

using namespace strata;
using namespace strata::data;
namespace fs = std::filesystem;

namespace {
std::vector<Item> nums(std::initializer_list<double> v) {
  std::vector<Item> out;
  for (double d : v) out.emplace_back(d);
  return out;
}
void expect_near(const Tensor& t, std::vector<float> want) {
  auto v = t.to_vector<float>();
  ASSERT_EQ(v.size(), want.size());
  for (size_t i = 0; i < v.size(); ++i) EXPECT_NEAR(v[i], want[i], 1e-5) << "at " << i;
}
}  // namespace

TEST(Points, CreateAndScaleByTheSampleImage) {
  PointCreate pc;
  Item p = pc(Item::list(nums({0, 0, 8, 4, 2, 1})));
  EXPECT_TRUE(is_a<TensorPoint>(p.tensor()));
  EXPECT_EQ(p.tensor().shape(), Shape({3, 2}));
  EXPECT_STRATA_ERROR(pc(Item::list(nums({1, 2, 3}))), ShapeError, {"TensorPoint.create", "3 numbers"});
  // Image of h 4, w 8: x' = 2x/8 - 1, y' = 2y/4 - 1.
  Item img(ImagePtr(std::make_shared<const Image>(4, 8, 3)));
  PointScaler ps;
  Item s = ps(Item::tuple({img, p}));
  expect_near(s[1].tensor(), {-1, -1, 1, 1, -0.5f, -0.5f});
  EXPECT_TRUE(is_a<TensorPoint>(s[1].tensor()));
  EXPECT_EQ(meta_as<PointMeta>(s[1].tensor())->img_size, (ImageSize{.h = 4, .w = 8}));
  // A tensor image gives the size too; decoding scales back.
  Item timg(Tensor(TensorImage(zeros({3, 4, 8}))));
  Item s2 = ps(Item::tuple({timg, p}));
  expect_near(s2[1].tensor(), {-1, -1, 1, 1, -0.5f, -0.5f});
  expect_near(ps.decode(s2)[1].tensor(), {0, 0, 8, 4, 2, 1});
  // Without an image and without img_size: a clear error.
  EXPECT_STRATA_ERROR(ps(Item::tuple({Item(1), p})), ValueError, {"PointScaler", "no image"});
}

TEST(Points, BoxesScaleAsTwoPoints) {
  BBoxCreate bc;
  Item b = bc(Item::list({Item::list(nums({2, 1, 6, 3}))}));
  EXPECT_TRUE(is_a<TensorBBox>(b.tensor()));
  Item img(ImagePtr(std::make_shared<const Image>(4, 8, 3)));
  Item s = PointScaler()(Item::tuple({img, b}));
  EXPECT_EQ(s[1].tensor().shape(), Shape({1, 4}));
  EXPECT_TRUE(is_a<TensorBBox>(s[1].tensor()));
  expect_near(s[1].tensor(), {-0.5f, -0.5f, 0.5f, 0.5f});
  ASSERT_NE(meta_as<BBoxMeta>(s[1].tensor()), nullptr);
}

TEST(Points, BbPadClipsDropsAndPads) {
  auto boxes = [](std::vector<float> v) {
    return Item(Tensor(TensorBBox(tensor(v, {static_cast<int64_t>(v.size() / 4), 4}))));
  };
  auto labels = [](std::vector<int64_t> v) {
    return Item(Tensor(TensorMultiCategory(tensor(v, {static_cast<int64_t>(v.size())}))));
  };
  std::vector<Item> samples = {
      Item::tuple({Item(0), boxes({-0.5f, -0.5f, 0.5f, 0.5f, 0.2f, 0.2f, 0.2f, 0.9f}), labels({1, 2})}),  // 2nd empty
      Item::tuple({Item(1), boxes({-2, -2, 0, 0, 0, 0, 0.5f, 0.5f, 0.1f, 0.1f, 0.3f, 0.3f}), labels({3, 1, 2})}),
  };
  auto out = bb_pad(samples);
  EXPECT_EQ(out[0][1].tensor().shape(), Shape({3, 4}));
  expect_near(out[0][1].tensor(), {-0.5f, -0.5f, 0.5f, 0.5f, 0, 0, 0, 0, 0, 0, 0, 0});
  EXPECT_EQ(out[0][2].tensor().to_vector<int64_t>(), (std::vector<int64_t>{1, 0, 0}));
  expect_near(out[1][1].tensor(), {-1, -1, 0, 0, 0, 0, 0.5f, 0.5f, 0.1f, 0.1f, 0.3f, 0.3f});  // clipped
  EXPECT_EQ(out[1][2].tensor().to_vector<int64_t>(), (std::vector<int64_t>{3, 1, 2}));
  EXPECT_TRUE(is_a<TensorBBox>(out[1][1].tensor()));
  EXPECT_TRUE(is_a<TensorMultiCategory>(out[1][2].tensor()));
}

TEST(Points, BBoxDataBlockOnGeneratedImages) {
  const fs::path dir = fs::temp_directory_path() / ("strata_bbox_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  // Three 8x16 images with 1, 2 and 1 boxes.
  struct Ann {
    std::vector<std::vector<double>> boxes;
    std::vector<std::string> labels;
  };
  std::vector<Ann> anns = {{{{0, 0, 8, 4}}, {"cat"}}, {{{4, 2, 12, 6}, {0, 0, 16, 8}}, {"dog", "cat"}}, {{{8, 0, 16, 8}}, {"dog"}}};
  std::vector<Item> items;
  for (int i = 0; i < 3; ++i) {
    save_png(Image(8, 16, 3, 100), dir / (std::to_string(i) + ".png"));
    items.emplace_back(int64_t{i});
  }
  auto boxes_of = [&](const Item& i) {
    std::vector<Item> bs;
    for (const auto& b : anns[static_cast<size_t>(i.as_int())].boxes) {
      std::vector<Item> c;
      for (double v : b) c.emplace_back(v);
      bs.push_back(Item::list(c));
    }
    return Item::list(bs);
  };
  auto labels_of = [&](const Item& i) {
    std::vector<Item> ls;
    for (const auto& l : anns[static_cast<size_t>(i.as_int())].labels) ls.emplace_back(l);
    return Item::list(ls);
  };
  DataBlock db({.blocks = {ImageBlock(), BBoxBlock(), BBoxLblBlock()},
                .n_inp = 1,
                .getters = {[&](const Item& i) { return Item(dir / (std::to_string(i.as_int()) + ".png")); }, boxes_of,
                            labels_of},
                .splitter = IndexSplitter({})});
  DataLoaders dls = db.dataloaders(Item::list(items), {.bs = 3, .shuffle = false});
  Batch b = dls.train().one_batch();
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[0].shape(), Shape({3, 3, 8, 16}));
  EXPECT_TRUE(is_a<TensorBBox>(b[1]));
  EXPECT_EQ(b[1].shape(), Shape({3, 2, 4}));  // padded to 2 boxes
  expect_near(b[1][0], {-1, -1, 0, 0, 0, 0, 0, 0});
  expect_near(b[1][1], {-0.5f, -0.5f, 0.5f, 0.5f, -1, -1, 1, 1});
  EXPECT_TRUE(is_a<TensorMultiCategory>(b[2]));
  // vocab: #na#, cat, dog
  EXPECT_EQ(b[2].to_vector<int64_t>(), (std::vector<int64_t>{1, 0, 2, 1, 2, 0}));
  std::string s = db.summary(Item::list(items), nullptr, 3);
  EXPECT_NE(s.find("Applying before_batch"), std::string::npos) << s;
  EXPECT_NE(s.find("applying PointScaler gives"), std::string::npos) << s;
  fs::remove_all(dir);
}
