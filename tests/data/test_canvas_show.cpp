// show_grid / show_images_grid: fastai's grid layout, where each image lands, titles in their band
// (with per-item colours), mask overlays and boxes at the scaled coordinates, and the written PNG.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "data/show.h"
#include "support/expect_error.h"

namespace fs = std::filesystem;
using namespace strata;
using namespace strata::data;

namespace {
Image solid(int h, int w, uint8_t r, uint8_t g, uint8_t b) {
  Image img(h, w, 3);
  for (int i = 0; i < h * w; ++i) {
    img.data[size_t(i) * 3] = r;
    img.data[size_t(i) * 3 + 1] = g;
    img.data[size_t(i) * 3 + 2] = b;
  }
  return img;
}
Color rgb(uint8_t r, uint8_t g, uint8_t b) { return {r, g, b, 255}; }
}  // namespace

TEST(ShowGrid, LayoutFollowsGetGrid) {
  std::vector<ShowItem> items;
  for (int i = 0; i < 5; ++i) items.push_back({.image = solid(10, 20, uint8_t(40 * i), 7, 9)});
  const Canvas c = render_grid(items, {.min_cell = 1, .padding = 2});
  // n = 5: nrows = floor(sqrt 5) = 2, ncols = ceil(5 / 2) = 3.
  EXPECT_EQ(c.width(), 3 * 20 + 4 * 2);
  EXPECT_EQ(c.height(), 2 * 10 + 3 * 2);
  for (int i = 0; i < 5; ++i) {
    const int x = 2 + (i % 3) * 22, y = 2 + (i / 3) * 12;
    EXPECT_EQ(c.pixel(x, y), rgb(uint8_t(40 * i), 7, 9)) << i;
    EXPECT_EQ(c.pixel(x + 19, y + 9), rgb(uint8_t(40 * i), 7, 9)) << i;
    EXPECT_EQ(c.pixel(x - 1, y), colors::white) << i;  // padding
  }
  EXPECT_EQ(c.pixel(2 + 2 * 22 + 5, 2 + 12 + 5), colors::white);  // 6th cell empty

  // max_n caps the count: 12 items -> 9 -> 3 x 3; explicit nrows / ncols win.
  std::vector<ShowItem> many(12, ShowItem{.image = solid(4, 4, 1, 2, 3)});
  EXPECT_EQ(render_grid(many, {.min_cell = 1, .padding = 0}).width(), 12);
  EXPECT_EQ(render_grid(many, {.ncols = 6, .max_n = 12, .min_cell = 1, .padding = 0}).height(), 8);
  EXPECT_EQ(render_grid(many, {.nrows = 1, .max_n = 12, .min_cell = 1, .padding = 0}).width(), 48);
}

TEST(ShowGrid, SmallImagesScaleUpToMinCell) {
  std::vector<ShowItem> items = {{.image = solid(28, 28, 200, 0, 0)}};
  const Canvas c = render_grid(items, {.min_cell = 96, .padding = 0});
  EXPECT_EQ(c.width(), 28 * 4);  // ceil(96 / 28) = 4
  EXPECT_EQ(c.pixel(111, 111), rgb(200, 0, 0));
}

TEST(ShowGrid, TitlesInTheirBandWithColours) {
  std::vector<ShowItem> items = {{.image = solid(16, 16, 0, 0, 255), .title = "7"},
                                 {.image = solid(16, 16, 0, 0, 255), .title = "3", .title_color = colors::red}};
  const Canvas c = render_grid(items, {.min_cell = 1, .padding = 2});
  const int band = 8 + 2;
  EXPECT_EQ(c.height(), 16 + band + 4);
  int black = 0, red = 0;
  for (int y = 2; y < 2 + band; ++y)
    for (int x = 0; x < c.width(); ++x) {
      black += c.pixel(x, y) == colors::black;
      red += c.pixel(x, y) == colors::red;
    }
  EXPECT_GT(black, 5);
  EXPECT_GT(red, 5);
  EXPECT_EQ(c.pixel(2, 2 + band), rgb(0, 0, 255));  // image starts below the band

  // Long titles are cut to the cell with "..".
  std::vector<ShowItem> longt = {{.image = solid(8, 30, 0, 0, 0), .title = "a very long title indeed"}};
  const Canvas l = render_grid(longt, {.min_cell = 1, .padding = 0});
  EXPECT_EQ(l.width(), 30);
  for (int y = 0; y < 8; ++y) EXPECT_EQ(l.pixel(29, y), colors::white);  // nothing drawn past the cell
}

TEST(ShowGrid, MaskAndBoxes) {
  Image mask(2, 2, 1);
  mask.data = {0, 1, 1, 0};
  ShowItem it{.image = solid(10, 10, 0, 0, 0), .mask = mask, .mask_colors = {colors::white, rgb(0, 255, 0)},
              .mask_alpha = 1.0f, .mask_skip = {0}};
  it.boxes.push_back({.x0 = 2, .y0 = 2, .x1 = 8, .y1 = 8, .color = colors::red});
  const Canvas c = render_grid({it}, {.min_cell = 20, .padding = 0, .box_thickness = 1});
  ASSERT_EQ(c.width(), 20);
  EXPECT_EQ(c.pixel(0, 0), rgb(0, 0, 0));     // code 0 skipped
  EXPECT_EQ(c.pixel(15, 1), rgb(0, 255, 0));  // code 1 (top right)
  EXPECT_EQ(c.pixel(1, 15), rgb(0, 255, 0));
  EXPECT_EQ(c.pixel(4, 10), colors::red);     // box left edge at x = 2 * 2
  EXPECT_EQ(c.pixel(10, 15), colors::red);    // bottom edge at y = 8 * 2 - 1
  EXPECT_EQ(c.pixel(10, 10), rgb(0, 0, 0));

  // A label tab is drawn in the box colour with white text.
  Canvas d(40, 60, colors::black);
  draw_boxes(d, {{.x0 = 5, .y0 = 5, .x1 = 50, .y1 = 30, .label = "cat"}}, 40, 60, 0, 0, 60, 40);
  const Color first = palette(1)[0];
  EXPECT_EQ(d.pixel(5, 5), first);
  int white = 0;
  for (int y = 5; y < 5 + 11; ++y)
    for (int x = 5; x < 5 + 21; ++x) white += d.pixel(x, y) == colors::white;
  EXPECT_GT(white, 10);
}

TEST(ShowGrid, WritesPngAndRejectsBadInput) {
  const fs::path p = fs::temp_directory_path() / ("strata_grid_" + std::to_string(::getpid()) + ".png");
  std::vector<Image> imgs = {solid(12, 12, 1, 2, 3), solid(12, 12, 4, 5, 6), solid(12, 12, 7, 8, 9)};
  show_images_grid(imgs, {"one", "two"}, p, {.fig_w = 200, .fig_h = 80});
  const Image back = load_image(p);
  EXPECT_EQ(back.w, 200);
  EXPECT_EQ(back.h, 80);
  fs::remove(p);
  EXPECT_STRATA_ERROR(render_grid({}), ValueError, {"render_grid", "no items"});
  EXPECT_STRATA_ERROR(render_grid({ShowItem{}}), ValueError, {"render_grid", "empty image"});
  EXPECT_STRATA_ERROR(render_grid({ShowItem{.image = imgs[0]}}, {.fig_w = 5, .fig_h = 5, .padding = 6}), ValueError,
                      {"no room"});
}
