// Canvas: exact pixel values after each drawing operation, clipping at the borders, alpha blending
// arithmetic, text placement in its box, and a saved PNG that reloads with the same pixels.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "data/canvas.h"
#include "data/font.h"
#include "support/expect_error.h"

namespace fs = std::filesystem;
using namespace strata;
using namespace strata::data;

namespace {
constexpr Color kBg{10, 20, 30, 255};
constexpr Color kInk{200, 100, 0, 255};

int count(const Canvas& c, Color col) {
  int n = 0;
  for (int y = 0; y < c.height(); ++y)
    for (int x = 0; x < c.width(); ++x) n += c.pixel(x, y) == col;
  return n;
}
}  // namespace

TEST(Canvas, FillAndSize) {
  Canvas c(3, 5, kBg);
  EXPECT_EQ(c.height(), 3);
  EXPECT_EQ(c.width(), 5);
  EXPECT_EQ(c.image().c, 4);
  EXPECT_EQ(count(c, kBg), 15);
  c.fill(kInk);
  EXPECT_EQ(count(c, kInk), 15);
  EXPECT_STRATA_ERROR(c.pixel(5, 0), IndexError, {"Canvas::pixel", "(5, 0)"});
  EXPECT_STRATA_ERROR(Canvas(-1, 3), ValueError, {"Canvas", "negative"});
}

TEST(Canvas, AlphaBlending) {
  Canvas c(1, 3, Color{0, 0, 0, 255});
  c.blend_pixel(0, 0, Color{255, 255, 255, 128});
  // (255 * 128 + 0 * 127) / 255 = 128
  EXPECT_EQ(c.pixel(0, 0), (Color{128, 128, 128, 255}));
  c.blend_pixel(1, 0, Color{200, 100, 50, 0});  // fully transparent: unchanged
  EXPECT_EQ(c.pixel(1, 0), (Color{0, 0, 0, 255}));
  c.blend_pixel(2, 0, Color{200, 100, 50, 255}, 0.5f);  // coverage halves the alpha
  EXPECT_EQ(c.pixel(2, 0), (Color{100, 50, 25, 255}));
  c.blend_pixel(-1, 0, kInk);  // outside: ignored
  c.blend_pixel(0, 1, kInk);

  // Over a transparent pixel the result takes the source colour and alpha.
  Canvas t(1, 1, colors::transparent);
  t.blend_pixel(0, 0, Color{50, 60, 70, 100});
  EXPECT_EQ(t.pixel(0, 0), (Color{50, 60, 70, 100}));
  t.blend_pixel(0, 0, Color{250, 0, 0, 100});
  // out_a = 100 + 100 * 155 / 255 = 161; r = (250*100*255 + 50*100*155) / (161*255) = 174
  EXPECT_EQ(t.pixel(0, 0).a, 161);
  EXPECT_EQ(t.pixel(0, 0).r, 174);
}

TEST(Canvas, Lines) {
  Canvas c(10, 10, kBg);
  c.line(1, 2, 8, 2, kInk);  // horizontal, both ends included
  for (int x = 1; x <= 8; ++x) EXPECT_EQ(c.pixel(x, 2), kInk) << x;
  EXPECT_EQ(c.pixel(0, 2), kBg);
  EXPECT_EQ(c.pixel(9, 2), kBg);
  EXPECT_EQ(count(c, kInk), 8);

  Canvas d(10, 10, kBg);
  d.line(0, 0, 9, 9, kInk);  // diagonal
  for (int i = 0; i < 10; ++i) EXPECT_EQ(d.pixel(i, i), kInk);
  EXPECT_EQ(count(d, kInk), 10);

  Canvas e(10, 10, kBg);
  e.line(5, 1, 5, 7, kInk, 3);  // thickness 3: columns 4..6, rows 0..8
  EXPECT_EQ(count(e, kInk), 3 * 9);
  EXPECT_EQ(e.pixel(4, 0), kInk);
  EXPECT_EQ(e.pixel(6, 8), kInk);
  EXPECT_EQ(e.pixel(7, 4), kBg);

  Canvas f(5, 5, kBg);
  f.line(-10, 2, 20, 2, kInk);  // clipped
  EXPECT_EQ(count(f, kInk), 5);

  // A translucent thick line blends each covered pixel exactly once.
  Canvas g(10, 10, Color{0, 0, 0, 255});
  g.line(1, 1, 8, 3, Color{255, 255, 255, 128}, 3);
  for (int y = 0; y < 10; ++y)
    for (int x = 0; x < 10; ++x) {
      const Color p = g.pixel(x, y);
      EXPECT_TRUE(p.r == 0 || p.r == 128) << x << "," << y << " " << int(p.r);
    }

  // Anti-aliased: the exact diagonal stays full, a shallow line spreads over two rows.
  Canvas h(10, 10, Color{0, 0, 0, 255});
  h.line(0, 0, 9, 9, colors::white, 1, true);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(h.pixel(i, i), colors::white);
  Canvas k(10, 10, Color{0, 0, 0, 255});
  k.line(0, 0, 9, 1, colors::white, 1, true);
  EXPECT_EQ(k.pixel(0, 0), colors::white);
  EXPECT_GT(k.pixel(5, 0).r, 0);
  EXPECT_GT(k.pixel(5, 1).r, 0);
  EXPECT_LT(k.pixel(5, 0).r, 255);
  EXPECT_STRATA_ERROR(c.line(0, 0, 1, 1, kInk, 0), ValueError, {"thickness"});
}

TEST(Canvas, PolylineJointsDrawnOnce) {
  Canvas c(10, 10, Color{0, 0, 0, 255});
  c.polyline({{1, 1}, {8, 1}, {8, 8}}, Color{255, 255, 255, 128});
  EXPECT_EQ(c.pixel(8, 1).r, 128);  // the joint is not blended twice
  EXPECT_EQ(c.pixel(1, 1).r, 128);
  EXPECT_EQ(c.pixel(8, 8).r, 128);
  EXPECT_EQ(c.pixel(4, 4).r, 0);
  Canvas d(10, 10, kBg);
  d.polyline({{0, 0}, {0, 9}, {9, 9}}, kInk);
  EXPECT_EQ(count(d, kInk), 19);
}

TEST(Canvas, Rectangles) {
  Canvas c(10, 12, kBg);
  c.rect(2, 3, 6, 4, kInk);  // x 2..7, y 3..6
  EXPECT_EQ(count(c, kInk), 2 * 6 + 2 * 2);
  EXPECT_EQ(c.pixel(2, 3), kInk);
  EXPECT_EQ(c.pixel(7, 6), kInk);
  EXPECT_EQ(c.pixel(4, 4), kBg);
  EXPECT_EQ(c.pixel(8, 3), kBg);

  Canvas t(10, 10, kBg);
  t.rect(0, 0, 10, 10, kInk, 2);
  EXPECT_EQ(count(t, kInk), 100 - 36);
  EXPECT_EQ(t.pixel(1, 1), kInk);
  EXPECT_EQ(t.pixel(2, 2), kBg);

  Canvas f(10, 10, kBg);
  f.fill_rect(-3, 8, 5, 5, kInk);  // clipped to x 0..1, y 8..9
  EXPECT_EQ(count(f, kInk), 4);
  EXPECT_EQ(f.pixel(1, 9), kInk);
}

TEST(Canvas, TextRendersInItsBox) {
  EXPECT_EQ(Canvas::text_width("Ab"), 11);
  EXPECT_EQ(Canvas::text_height("Ab"), 7);
  EXPECT_EQ(Canvas::text_width("Ab", 2), 22);
  EXPECT_EQ(Canvas::text_height("a\nbcd", 1), 15);
  EXPECT_EQ(Canvas::text_width("a\nbcd", 1), 17);
  EXPECT_EQ(Canvas::text_width(""), 0);

  for (int scale : {1, 2}) {
    Canvas c(40, 60, kBg);
    const int x0 = 5, y0 = 7;
    const int w = c.text(x0, y0, "Hi 7!", kInk, scale);
    const int h = Canvas::text_height("Hi 7!", scale);
    EXPECT_EQ(w, Canvas::text_width("Hi 7!", scale));
    int inside = 0, outside = 0;
    for (int y = 0; y < 40; ++y)
      for (int x = 0; x < 60; ++x) {
        const bool in_box = x >= x0 && x < x0 + w && y >= y0 && y < y0 + h;
        if (c.pixel(x, y) == kInk) ++(in_box ? inside : outside);
      }
    EXPECT_GT(inside, 20 * scale * scale);
    EXPECT_EQ(outside, 0);
    // 'H' is the first glyph: its left column is fully set, so (x0, y0 .. y0 + 7 * scale - 1).
    for (int y = y0; y < y0 + 7 * scale; ++y) EXPECT_EQ(c.pixel(x0, y), kInk) << scale << " " << y;
    // The pixel count equals the glyphs' set bits times scale^2.
    int bits = 0;
    for (char ch : std::string("Hi 7!"))
      for (int gy = 0; gy < 7; ++gy)
        for (int gx = 0; gx < 5; ++gx) bits += font::glyph_pixel(ch, gx, gy);
    EXPECT_EQ(inside, bits * scale * scale);
  }
  EXPECT_STRATA_ERROR(Canvas(2, 2).text(0, 0, "x", kInk, 0), ValueError, {"scale"});
}

TEST(Canvas, FontCoversPrintableAscii) {
  // Every printable character but space has ink; distinct characters have distinct glyphs.
  for (int ch = 33; ch < 127; ++ch) {
    int bits = 0;
    for (int y = 0; y < 7; ++y) bits += __builtin_popcount(font::glyph(char(ch))[y]);
    EXPECT_GT(bits, 0) << char(ch);
    for (int other = 33; other < ch; ++other)
      EXPECT_NE(std::memcmp(font::glyph(char(ch)), font::glyph(char(other)), 7), 0) << char(ch) << char(other);
  }
  for (int y = 0; y < 7; ++y) EXPECT_EQ(font::glyph(' ')[y], 0);
  EXPECT_EQ(font::glyph('\x01')[0], 0x1F);  // unknown: a box
}

TEST(Canvas, BlitNearestScaling) {
  Image img(2, 2, 3);
  const uint8_t cols[4][3] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {9, 9, 9}};
  for (int i = 0; i < 4; ++i)
    for (int k = 0; k < 3; ++k) img.at(i / 2, i % 2, k) = cols[i][k];
  Canvas c(10, 10, kBg);
  c.blit(img, 1, 2, 4, 6);  // each source pixel becomes 2 wide, 3 tall
  EXPECT_EQ(c.pixel(1, 2), (Color{255, 0, 0, 255}));
  EXPECT_EQ(c.pixel(2, 4), (Color{255, 0, 0, 255}));
  EXPECT_EQ(c.pixel(3, 4), (Color{0, 255, 0, 255}));
  EXPECT_EQ(c.pixel(2, 5), (Color{0, 0, 255, 255}));
  EXPECT_EQ(c.pixel(4, 7), (Color{9, 9, 9, 255}));
  EXPECT_EQ(c.pixel(5, 7), kBg);
  EXPECT_EQ(c.pixel(4, 8), kBg);

  Image gray(1, 1, 1, 77);
  c.blit(gray, 9, 9);  // own size, 1 channel
  EXPECT_EQ(c.pixel(9, 9), (Color{77, 77, 77, 255}));
  Image rgba(1, 1, 4);
  rgba.data = {255, 255, 255, 0};  // transparent pixels leave the canvas alone
  c.blit(rgba, 0, 0, 3, 3);
  EXPECT_EQ(c.pixel(0, 0), kBg);
}

TEST(Canvas, MaskOverlay) {
  Image mask(2, 2, 1);
  mask.data = {0, 1, 2, 3};
  Canvas c(4, 4, Color{0, 0, 0, 255});
  const std::vector<Color> pal = {Color{255, 0, 0, 255}, Color{0, 255, 0, 255}, Color{0, 0, 254, 255}};
  c.overlay_mask(mask, 0, 0, 4, 4, pal, 0.5f, {0});
  EXPECT_EQ(c.pixel(0, 0), (Color{0, 0, 0, 255}));  // code 0 skipped
  EXPECT_EQ(c.pixel(3, 0), (Color{0, 128, 0, 255}));  // code 1 at half opacity
  EXPECT_EQ(c.pixel(1, 3), (Color{0, 0, 127, 255}));  // code 2
  EXPECT_EQ(c.pixel(3, 3), (Color{128, 0, 0, 255}));  // code 3 wraps to colour 0
  EXPECT_STRATA_ERROR(c.overlay_mask(Image(2, 2, 3), 0, 0, 0, 0, pal, 0.5f), ValueError, {"1 channel"});
  EXPECT_EQ(palette(22).size(), 22u);
  EXPECT_EQ(palette(22)[20], palette(22)[0]);
}

TEST(Canvas, SavedPngReloadsWithSamePixels) {
  const fs::path p = fs::temp_directory_path() / ("strata_canvas_" + std::to_string(::getpid()) + ".png");
  Canvas c(20, 30, kBg);
  c.rect(2, 2, 20, 10, kInk, 2);
  c.text(4, 4, "ok", colors::white);
  c.line(0, 19, 29, 0, Color{0, 200, 0, 100});
  c.save_png(p);
  const Image back = load_image(p);
  EXPECT_EQ(back, c.rgb());
  c.save_png(p, true);
  EXPECT_EQ(load_image(p, ImageMode::Unchanged), c.image());
  fs::remove(p);
}
