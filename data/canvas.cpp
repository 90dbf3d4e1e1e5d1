// Canvas drawing. Everything funnels through blend_pixel (clipping + source-over blending), so the
// clipping and alpha rules hold for every primitive; the primitives only decide which pixels to
// touch. Lines are Bresenham (exact integer end points, symmetric) with a square pen for
// thickness, or Xiaolin Wu's coverage for anti-aliasing.
#include "data/canvas.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "data/font.h"
#include "tensor/error.h"

namespace strata::data {

std::vector<Color> palette(int n) {
  // matplotlib's tab20, in its own order.
  static constexpr Color kTab20[20] = {
      {31, 119, 180, 255},  {174, 199, 232, 255}, {255, 127, 14, 255},  {255, 187, 120, 255},
      {44, 160, 44, 255},   {152, 223, 138, 255}, {214, 39, 40, 255},   {255, 152, 150, 255},
      {148, 103, 189, 255}, {197, 176, 213, 255}, {140, 86, 75, 255},   {196, 156, 148, 255},
      {227, 119, 194, 255}, {247, 182, 210, 255}, {127, 127, 127, 255}, {199, 199, 199, 255},
      {188, 189, 34, 255},  {219, 219, 141, 255}, {23, 190, 207, 255},  {158, 218, 229, 255}};
  std::vector<Color> out;
  for (int i = 0; i < std::max(n, 0); ++i) out.push_back(kTab20[i % 20]);
  return out;
}

Canvas::Canvas(int height, int width, Color background) {
  STRATA_CHECK(height >= 0 && width >= 0, ValueError, "Canvas: negative size {}x{}", height, width);
  STRATA_CHECK(height <= kMaxImageSide && width <= kMaxImageSide && int64_t(height) * width <= kMaxImagePixels,
               ValueError, "Canvas: size {}x{} exceeds the image limits", height, width);
  img_ = Image(height, width, 4);
  fill(background);
}

void Canvas::fill(Color c) {
  uint8_t* p = img_.data.data();
  const size_t n = size_t(img_.h) * size_t(img_.w);
  for (size_t i = 0; i < n; ++i, p += 4) {
    p[0] = c.r;
    p[1] = c.g;
    p[2] = c.b;
    p[3] = c.a;
  }
}

Color Canvas::pixel(int x, int y) const {
  STRATA_CHECK(x >= 0 && y >= 0 && x < img_.w && y < img_.h, IndexError,
               "Canvas::pixel: ({}, {}) is outside the {}x{} (w x h) canvas", x, y, img_.w, img_.h);
  const uint8_t* p = img_.px(y, x);
  return {p[0], p[1], p[2], p[3]};
}

void Canvas::blend_pixel(int x, int y, Color c, float coverage) {
  if (x < 0 || y < 0 || x >= img_.w || y >= img_.h) return;
  const float cov = std::clamp(coverage, 0.0f, 1.0f);
  const int a = static_cast<int>(std::lround(c.a * cov));
  if (a <= 0) return;
  uint8_t* p = img_.px(y, x);
  if (a >= 255) {
    p[0] = c.r;
    p[1] = c.g;
    p[2] = c.b;
    p[3] = 255;
    return;
  }
  // Source-over with straight (non-premultiplied) alpha, rounded to nearest.
  const int da = p[3];
  const int out_a = a + (da * (255 - a) + 127) / 255;
  const uint8_t src[3] = {c.r, c.g, c.b};
  for (int k = 0; k < 3; ++k) {
    const int num = src[k] * a * 255 + p[k] * da * (255 - a);
    p[k] = static_cast<uint8_t>(std::min(255, (num + out_a * 255 / 2) / (out_a * 255)));
  }
  p[3] = static_cast<uint8_t>(out_a);
}

void Canvas::stamp(int x, int y, Color c, int thickness) {
  if (thickness <= 1) {
    blend_pixel(x, y, c);
    return;
  }
  const int lo = -(thickness - 1) / 2;
  for (int dy = lo; dy < lo + thickness; ++dy)
    for (int dx = lo; dx < lo + thickness; ++dx) blend_pixel(x + dx, y + dy, c);
}

void Canvas::line(int x0, int y0, int x1, int y1, Color c, int thickness, bool antialias) {
  STRATA_CHECK(thickness >= 1, ValueError, "Canvas::line: thickness must be >= 1, got {}", thickness);
  if (antialias && thickness == 1 && x0 != x1 && y0 != y1) {
    // Xiaolin Wu: along the major axis, split each step's coverage between the two nearest pixels.
    const bool steep = std::abs(y1 - y0) > std::abs(x1 - x0);
    if (steep) {
      std::swap(x0, y0);
      std::swap(x1, y1);
    }
    if (x0 > x1) {
      std::swap(x0, x1);
      std::swap(y0, y1);
    }
    const double grad = double(y1 - y0) / double(x1 - x0);
    double y = y0;
    for (int x = x0; x <= x1; ++x, y += grad) {
      const int yi = static_cast<int>(std::floor(y));
      const float f = static_cast<float>(y - yi);
      if (steep) {
        blend_pixel(yi, x, c, 1.0f - f);
        blend_pixel(yi + 1, x, c, f);
      } else {
        blend_pixel(x, yi, c, 1.0f - f);
        blend_pixel(x, yi + 1, c, f);
      }
    }
    return;
  }
  // Bresenham; a thick pen blends each pixel once by first marking the pixels it covers.
  const int dx = std::abs(x1 - x0), dy = -std::abs(y1 - y0);
  const int sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
  int err = dx + dy;
  if (thickness == 1 || c.a == 255) {
    for (;;) {
      stamp(x0, y0, c, thickness);
      if (x0 == x1 && y0 == y1) break;
      const int e2 = 2 * err;
      if (e2 >= dy) { err += dy; x0 += sx; }
      if (e2 <= dx) { err += dx; y0 += sy; }
    }
    return;
  }
  // Translucent thick line: collect the covered pixels so overlapping pen stamps blend once.
  std::vector<std::pair<int, int>> covered;
  const int lo = -(thickness - 1) / 2;
  for (;;) {
    for (int oy = lo; oy < lo + thickness; ++oy)
      for (int ox = lo; ox < lo + thickness; ++ox) covered.emplace_back(y0 + oy, x0 + ox);
    if (x0 == x1 && y0 == y1) break;
    const int e2 = 2 * err;
    if (e2 >= dy) { err += dy; x0 += sx; }
    if (e2 <= dx) { err += dx; y0 += sy; }
  }
  std::sort(covered.begin(), covered.end());
  covered.erase(std::unique(covered.begin(), covered.end()), covered.end());
  for (const auto& [py, px] : covered) blend_pixel(px, py, c);
}

void Canvas::polyline(const std::vector<PointI>& points, Color c, int thickness, bool antialias) {
  if (points.size() == 1) {
    stamp(points[0].x, points[0].y, c, thickness);
    return;
  }
  if (c.a == 255 || antialias) {
    for (size_t i = 1; i < points.size(); ++i)
      line(points[i - 1].x, points[i - 1].y, points[i].x, points[i].y, c, thickness, antialias);
    return;
  }
  // Translucent: draw opaque into a scratch coverage layer, then blend each covered pixel once.
  Canvas layer(img_.h, img_.w, colors::transparent);
  for (size_t i = 1; i < points.size(); ++i)
    layer.line(points[i - 1].x, points[i - 1].y, points[i].x, points[i].y, colors::black, thickness);
  for (int y = 0; y < img_.h; ++y)
    for (int x = 0; x < img_.w; ++x)
      if (layer.img_.px(y, x)[3]) blend_pixel(x, y, c);
}

void Canvas::fill_rect(int x, int y, int w, int h, Color c) {
  const int x0 = std::max(x, 0), y0 = std::max(y, 0);
  const int x1 = std::min<int64_t>(int64_t(x) + w, img_.w), y1 = std::min<int64_t>(int64_t(y) + h, img_.h);
  for (int yy = y0; yy < y1; ++yy)
    for (int xx = x0; xx < x1; ++xx) blend_pixel(xx, yy, c);
}

void Canvas::rect(int x, int y, int w, int h, Color c, int thickness) {
  STRATA_CHECK(thickness >= 1, ValueError, "Canvas::rect: thickness must be >= 1, got {}", thickness);
  if (w <= 0 || h <= 0) return;
  const int t = std::min({thickness, (w + 1) / 2, (h + 1) / 2});
  fill_rect(x, y, w, t, c);                  // top
  fill_rect(x, y + h - t, w, t, c);          // bottom
  fill_rect(x, y + t, t, h - 2 * t, c);      // left
  fill_rect(x + w - t, y + t, t, h - 2 * t, c);  // right
}

namespace {
// Number of lines and length of the longest.
std::pair<int, int> text_extent(std::string_view s) {
  int lines = s.empty() ? 0 : 1, longest = 0, cur = 0;
  for (char ch : s) {
    if (ch == '\n') {
      ++lines;
      cur = 0;
    } else {
      longest = std::max(longest, ++cur);
    }
  }
  return {lines, longest};
}
}  // namespace

int Canvas::text_width(std::string_view s, int scale) {
  const int longest = text_extent(s).second;
  return longest == 0 ? 0 : (font::kCellWidth * longest - 1) * scale;
}

int Canvas::text_height(std::string_view s, int scale) {
  const int lines = text_extent(s).first;
  return lines == 0 ? 0 : (font::kCellHeight * lines - 1) * scale;
}

int Canvas::text(int x, int y, std::string_view s, Color c, int scale) {
  STRATA_CHECK(scale >= 1, ValueError, "Canvas::text: scale must be >= 1, got {}", scale);
  int cx = x, cy = y;
  for (char ch : s) {
    if (ch == '\n') {
      cx = x;
      cy += font::kCellHeight * scale;
      continue;
    }
    for (int gy = 0; gy < font::kGlyphHeight; ++gy)
      for (int gx = 0; gx < font::kGlyphWidth; ++gx)
        if (font::glyph_pixel(ch, gx, gy)) fill_rect(cx + gx * scale, cy + gy * scale, scale, scale, c);
    cx += font::kCellWidth * scale;
  }
  return text_width(s, scale);
}

void Canvas::blit(const Image& img, int x, int y, int w, int h) {
  if (img.empty()) return;
  STRATA_CHECK(img.c == 1 || img.c == 3 || img.c == 4, ValueError, "Canvas::blit: image has {} channels", img.c);
  if (w <= 0) w = img.w;
  if (h <= 0) h = img.h;
  const int y0 = std::max(y, 0), y1 = std::min<int64_t>(int64_t(y) + h, img_.h);
  const int x0 = std::max(x, 0), x1 = std::min<int64_t>(int64_t(x) + w, img_.w);
  for (int yy = y0; yy < y1; ++yy) {
    // Nearest neighbour: the source pixel whose centre is closest to this pixel's centre.
    const int sy = std::min(img.h - 1, int((int64_t(yy - y) * 2 + 1) * img.h / (int64_t(h) * 2)));
    for (int xx = x0; xx < x1; ++xx) {
      const int sx = std::min(img.w - 1, int((int64_t(xx - x) * 2 + 1) * img.w / (int64_t(w) * 2)));
      const uint8_t* s = img.px(sy, sx);
      if (img.c == 1) blend_pixel(xx, yy, {s[0], s[0], s[0], 255});
      else blend_pixel(xx, yy, {s[0], s[1], s[2], img.c == 4 ? s[3] : uint8_t(255)});
    }
  }
}

void Canvas::overlay_mask(const Image& mask, int x, int y, int w, int h, const std::vector<Color>& colours,
                          float alpha, const std::vector<int>& skip) {
  STRATA_CHECK(mask.c == 1, ValueError, "Canvas::overlay_mask: a mask has 1 channel, got {}", mask.c);
  STRATA_CHECK(!colours.empty(), ValueError, "Canvas::overlay_mask: no colours given");
  if (mask.empty()) return;
  if (w <= 0) w = mask.w;
  if (h <= 0) h = mask.h;
  const uint8_t a = static_cast<uint8_t>(std::lround(std::clamp(alpha, 0.0f, 1.0f) * 255.0f));
  bool skipped[256] = {};
  for (int k : skip)
    if (k >= 0 && k < 256) skipped[k] = true;
  const int y0 = std::max(y, 0), y1 = std::min<int64_t>(int64_t(y) + h, img_.h);
  const int x0 = std::max(x, 0), x1 = std::min<int64_t>(int64_t(x) + w, img_.w);
  for (int yy = y0; yy < y1; ++yy) {
    const int sy = std::min(mask.h - 1, int((int64_t(yy - y) * 2 + 1) * mask.h / (int64_t(h) * 2)));
    for (int xx = x0; xx < x1; ++xx) {
      const int sx = std::min(mask.w - 1, int((int64_t(xx - x) * 2 + 1) * mask.w / (int64_t(w) * 2)));
      const int code = mask.at(sy, sx, 0);
      if (skipped[code]) continue;
      blend_pixel(xx, yy, colours[size_t(code) % colours.size()].with_alpha(a));
    }
  }
}

void Canvas::save_png(const std::filesystem::path& path, bool keep_alpha) const {
  data::save_png(keep_alpha ? img_ : rgb(), path);
}

}  // namespace strata::data
