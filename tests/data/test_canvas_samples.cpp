// show_samples: decoded samples (host images, image tensors, masks, boxes with labels, category
// strings, multi-label lists) become grid cells with the right image, title, overlay and boxes.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "data/show_items.h"
#include "support/expect_error.h"

namespace fs = std::filesystem;
using namespace strata;
using namespace strata::data;

namespace {
ImagePtr solid(int h, int w, uint8_t v) { return std::make_shared<const Image>(Image(h, w, 3, v)); }
}  // namespace

TEST(ShowSamples, ImageAndLabels) {
  const ShowItem a = to_show_item(Item::tuple({Item(solid(4, 6, 9)), Item("seven")}));
  EXPECT_EQ(a.image.w, 6);
  EXPECT_EQ(a.title, "seven");
  const ShowItem b = to_show_item(Item::tuple({Item(solid(4, 6, 9)), Item::list({Item("cat"), Item("dog")}), Item(3)}));
  EXPECT_EQ(b.title, "cat;dog / 3");
  // A 0-1 float TensorImage becomes pixels.
  TensorImage t(full({3, 2, 2}, 0.5));
  const ShowItem c = to_show_item(Item(t));
  EXPECT_EQ(c.image.at(1, 1, 2), 128);
  EXPECT_TRUE(c.title.empty());
  EXPECT_STRATA_ERROR(to_show_item(Item::tuple({Item("x"), Item(1)})), ValueError, {"show_samples", "no image"});
}

TEST(ShowSamples, MasksAndBoxes) {
  TensorMask m(tensor(std::vector<uint8_t>{0, 1, 2, 3}, {2, 2}));
  const ShowItem a = to_show_item(Item::tuple({Item(solid(2, 2, 0)), Item(m)}));
  EXPECT_EQ(a.mask.c, 1);
  EXPECT_EQ(a.mask.at(1, 1, 0), 3);
  Image mk(2, 2, 1, 5);
  const ShowItem a2 = to_show_item(Item::tuple({Item(solid(2, 2, 0)), Item::mask(std::make_shared<const Image>(mk))}));
  EXPECT_EQ(a2.mask.at(0, 0, 0), 5);
  EXPECT_EQ(a2.image.c, 3);

  // Boxes in pixels, labelled by the following list; '#na#' padding dropped.
  TensorBBox bb(tensor({1.f, 2.f, 5.f, 6.f, 0.f, 0.f, 0.f, 0.f}, {2, 4}));
  const ShowItem b = to_show_item(Item::tuple({Item(solid(10, 10, 0)), Item(bb), Item::list({Item("car"), Item("#na#")})}));
  ASSERT_EQ(b.boxes.size(), 1u);
  EXPECT_EQ(b.boxes[0].label, "car");
  EXPECT_EQ(b.boxes[0].x1, 5.f);
  EXPECT_TRUE(b.title.empty());
}

TEST(ShowSamples, WritesAGrid) {
  const fs::path p = fs::temp_directory_path() / ("strata_samples_" + std::to_string(::getpid()) + ".png");
  std::vector<Item> samples;
  for (int i = 0; i < 5; ++i) samples.push_back(Item::tuple({Item(solid(8, 8, uint8_t(40 * i))), Item(std::to_string(i))}));
  show_samples(samples, p, {.max_n = 4, .min_cell = 8, .padding = 1});
  const Image back = load_image(p);
  EXPECT_EQ(back.w, 2 * 8 + 3);  // 4 shown: 2 x 2
  EXPECT_EQ(back.at(back.h - 2, back.w - 2, 0), 120);  // 4th sample (value 120) bottom right
  fs::remove(p);
}
