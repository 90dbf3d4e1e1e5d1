#pragma once
// Canvas: a small RGBA raster to draw figures on without a plotting library — show_batch grids,
// boxes with labels, mask overlays, and the Learner's loss / lr plots — written out as PNG.
//
//   Canvas c(240, 320, colors::white);          // height, width, background
//   c.line(10, 200, 300, 20, colors::blue, 2);  // x0, y0, x1, y1 (pixels, y down), thickness
//   c.rect(20, 20, 100, 50, colors::red);       // x, y, width, height (outline)
//   c.text(24, 24, "loss 0.25", colors::black, 2);
//   c.save_png("plot.png");
//
// Coordinates are integer pixels with (0, 0) the top-left corner; everything is clipped to the
// canvas, so drawing partly or wholly outside is never an error. Every drawing call blends its
// colour over what is there with the colour's alpha (source-over): alpha 255 replaces, 0 leaves
// the pixel unchanged.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "data/image.h"

namespace strata::data {

struct Color {
  uint8_t r = 0, g = 0, b = 0, a = 255;
  bool operator==(const Color&) const = default;
  Color with_alpha(uint8_t alpha) const { return {r, g, b, alpha}; }
};

namespace colors {
inline constexpr Color black{0, 0, 0, 255};
inline constexpr Color white{255, 255, 255, 255};
inline constexpr Color red{214, 39, 40, 255};     // matplotlib's tab10 tones, so plots look familiar
inline constexpr Color blue{31, 119, 180, 255};
inline constexpr Color orange{255, 127, 14, 255};
inline constexpr Color green{44, 160, 44, 255};
inline constexpr Color purple{148, 103, 189, 255};
inline constexpr Color gray{127, 127, 127, 255};
inline constexpr Color transparent{0, 0, 0, 0};
}  // namespace colors

// n distinct colours (matplotlib's tab20 cycled): the default colour per code for mask overlays
// and per class for boxes.
std::vector<Color> palette(int n);

struct PointI {
  int x = 0, y = 0;
};

class Canvas {
 public:
  // A height x width canvas filled with `background`. Throws ValueError for a negative size or a
  // size beyond the image limits of image.h.
  Canvas(int height, int width, Color background = colors::white);

  int height() const { return img_.h; }
  int width() const { return img_.w; }
  // The pixels, RGBA (c == 4), row-major.
  const Image& image() const { return img_; }
  // The pixels as RGB (alpha dropped), for saving or showing.
  Image rgb() const { return convert_channels(img_, 3); }

  // Replaces every pixel (no blending).
  void fill(Color c);
  // The pixel at (x, y); throws IndexError outside the canvas.
  Color pixel(int x, int y) const;
  // Blends `c` over pixel (x, y); outside the canvas it does nothing. `coverage` (0-1) scales the
  // alpha, for anti-aliased edges.
  void blend_pixel(int x, int y, Color c, float coverage = 1.0f);

  // A line from (x0, y0) to (x1, y1), both ends included. thickness >= 1 draws a square pen of
  // that width centred on the line; antialias draws Wu-style coverage (thickness 1 only).
  void line(int x0, int y0, int x1, int y1, Color c, int thickness = 1, bool antialias = false);
  // Connected segments through the points (joints drawn once).
  void polyline(const std::vector<PointI>& points, Color c, int thickness = 1, bool antialias = false);
  // Outline of the w x h rectangle at (x, y), drawn inwards `thickness` pixels.
  void rect(int x, int y, int w, int h, Color c, int thickness = 1);
  void fill_rect(int x, int y, int w, int h, Color c);

  // Text with the built-in 5x7 font (data/font.h) at (x, y) = top-left of the first cell; each
  // font pixel becomes a scale x scale block (scale >= 1). '\n' starts a new line. Returns the
  // width drawn in pixels (of the longest line).
  int text(int x, int y, std::string_view s, Color c, int scale = 1);
  // Size of the box text() covers: width = 6 * scale * longest line - scale (no trailing gap),
  // height = 8 * scale * lines - scale.
  static int text_width(std::string_view s, int scale = 1);
  static int text_height(std::string_view s, int scale = 1);

  // Draws `img` (1, 3 or 4 channels) scaled to w x h (nearest neighbour) with its top-left at
  // (x, y); w or h <= 0 means the image's own size. 4-channel images blend with their alpha.
  void blit(const Image& img, int x, int y, int w = 0, int h = 0);
  // Colours the 1-channel mask of codes over the w x h area at (x, y) (nearest scaling; <= 0 means
  // the mask's size): code k gets colours[k % colours.size()] at opacity `alpha` (0-1). Codes in
  // `skip` (e.g. a background / void code) are left uncoloured.
  void overlay_mask(const Image& mask, int x, int y, int w, int h, const std::vector<Color>& colours, float alpha,
                    const std::vector<int>& skip = {});

  // Writes the canvas as an RGB PNG (alpha dropped) or, with keep_alpha, RGBA.
  void save_png(const std::filesystem::path& path, bool keep_alpha = false) const;

 private:
  void stamp(int x, int y, Color c, int thickness);
  Image img_;
};

}  // namespace strata::data
