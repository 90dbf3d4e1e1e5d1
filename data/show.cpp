// Grid rendering for show_batch. Layout is computed once (cell size, title band), then each cell
// is drawn independently: title (truncated with ".." to the cell width), image fitted and centred,
// mask overlay over exactly the image's area, boxes mapped with the same scale.
#include "data/show.h"

#include <algorithm>
#include <cmath>

#include "data/font.h"
#include "tensor/error.h"

namespace strata::data {

namespace {

// Longest prefix of `s` (plus "..") that fits in `width` pixels at `scale`.
std::string fit_text(const std::string& s, int width, int scale) {
  if (Canvas::text_width(s, scale) <= width) return s;
  std::string t = s;
  while (!t.empty() && Canvas::text_width(t + "..", scale) > width) t.pop_back();
  return t.empty() ? std::string() : t + "..";
}

}  // namespace

void draw_boxes(Canvas& canvas, const std::vector<LabeledBox>& boxes, int image_h, int image_w, int x, int y, int w,
                int h, int thickness) {
  if (image_h <= 0 || image_w <= 0) return;
  const std::vector<Color> pal = palette(int(boxes.size()));
  const float sx = float(w) / float(image_w), sy = float(h) / float(image_h);
  for (size_t i = 0; i < boxes.size(); ++i) {
    const LabeledBox& b = boxes[i];
    const Color col = b.color.value_or(pal[i]);
    const int bx0 = x + int(std::lround(std::min(b.x0, b.x1) * sx));
    const int by0 = y + int(std::lround(std::min(b.y0, b.y1) * sy));
    const int bx1 = x + int(std::lround(std::max(b.x0, b.x1) * sx));
    const int by1 = y + int(std::lround(std::max(b.y0, b.y1) * sy));
    canvas.rect(bx0, by0, std::max(1, bx1 - bx0), std::max(1, by1 - by0), col, thickness);
    if (!b.label.empty()) {
      const int tw = Canvas::text_width(b.label), th = Canvas::text_height(b.label);
      canvas.fill_rect(bx0, by0, tw + 4, th + 4, col);
      canvas.text(bx0 + 2, by0 + 2, b.label, colors::white);
    }
  }
}

Canvas render_grid(const std::vector<ShowItem>& items, const GridOptions& o) {
  STRATA_CHECK(!items.empty(), ValueError, "render_grid: no items to show");
  STRATA_CHECK(o.max_n >= 1 && o.nrows >= 0 && o.ncols >= 0 && o.padding >= 0 && o.title_scale >= 1, ValueError,
               "render_grid: bad options (max_n {}, nrows {}, ncols {}, padding {}, title_scale {})", o.max_n, o.nrows,
               o.ncols, o.padding, o.title_scale);
  for (size_t i = 0; i < items.size(); ++i)
    STRATA_CHECK(!items[i].image.empty(), ValueError, "render_grid: item {} has an empty image", i);
  // fastai's get_grid.
  const int n = std::min<int>(int(items.size()), o.max_n);
  int nrows = o.nrows, ncols = o.ncols;
  if (nrows == 0 && ncols > 0) nrows = (n + ncols - 1) / ncols;
  if (nrows == 0) nrows = std::max(1, int(std::sqrt(double(n))));
  if (ncols == 0) ncols = (n + nrows - 1) / nrows;
  const int shown = std::min(n, nrows * ncols);

  bool any_title = false;
  for (int i = 0; i < shown; ++i) any_title |= !items[size_t(i)].title.empty();
  const int title_h = any_title ? font::kCellHeight * o.title_scale + 2 : 0;

  int cell_w = 0, cell_h = 0;
  if (o.fig_w > 0 && o.fig_h > 0) {
    cell_w = (o.fig_w - o.padding * (ncols + 1)) / ncols;
    cell_h = (o.fig_h - o.padding * (nrows + 1)) / nrows - title_h;
    STRATA_CHECK(cell_w >= 1 && cell_h >= 1, ValueError,
                 "render_grid: figure {}x{} (w x h) leaves no room for {}x{} cells with padding {}", o.fig_w, o.fig_h,
                 nrows, ncols, o.padding);
  } else {
    for (int i = 0; i < shown; ++i) {
      cell_w = std::max(cell_w, items[size_t(i)].image.w);
      cell_h = std::max(cell_h, items[size_t(i)].image.h);
    }
    const int factor = std::max(1, (o.min_cell + std::min(cell_w, cell_h) - 1) / std::min(cell_w, cell_h));
    cell_w *= factor;
    cell_h *= factor;
  }
  const int fig_w = o.fig_w > 0 && o.fig_h > 0 ? o.fig_w : ncols * cell_w + (ncols + 1) * o.padding;
  const int fig_h = o.fig_w > 0 && o.fig_h > 0 ? o.fig_h : nrows * (cell_h + title_h) + (nrows + 1) * o.padding;
  Canvas canvas(fig_h, fig_w, o.background);

  for (int i = 0; i < shown; ++i) {
    const ShowItem& it = items[size_t(i)];
    const int r = i / ncols, c = i % ncols;
    const int cx = o.padding + c * (cell_w + o.padding);
    const int cy = o.padding + r * (cell_h + title_h + o.padding);
    if (!it.title.empty()) {
      const std::string t = fit_text(it.title, cell_w, o.title_scale);
      const int tx = cx + (cell_w - Canvas::text_width(t, o.title_scale)) / 2;
      canvas.text(tx, cy, t, it.title_color.value_or(o.title_color), o.title_scale);
    }
    // Fit the image in the cell keeping its aspect, centred.
    const Image& img = it.image;
    const double s = std::min(double(cell_w) / img.w, double(cell_h) / img.h);
    const int w = std::max(1, int(std::lround(img.w * s))), h = std::max(1, int(std::lround(img.h * s)));
    const int ix = cx + (cell_w - w) / 2, iy = cy + title_h + (cell_h - h) / 2;
    canvas.blit(img, ix, iy, w, h);
    if (!it.mask.empty())
      canvas.overlay_mask(it.mask, ix, iy, w, h, it.mask_colors.empty() ? palette(256) : it.mask_colors, it.mask_alpha,
                          it.mask_skip);
    if (!it.boxes.empty()) draw_boxes(canvas, it.boxes, img.h, img.w, ix, iy, w, h, o.box_thickness);
  }
  return canvas;
}

void show_grid(const std::vector<ShowItem>& items, const std::filesystem::path& path, const GridOptions& opts) {
  render_grid(items, opts).save_png(path);
}

void show_images_grid(const std::vector<Image>& images, const std::vector<std::string>& titles,
                      const std::filesystem::path& path, const GridOptions& opts) {
  std::vector<ShowItem> items(images.size());
  for (size_t i = 0; i < images.size(); ++i) {
    items[i].image = images[i];
    if (i < titles.size()) items[i].title = titles[i];
  }
  show_grid(items, path, opts);
}

}  // namespace strata::data
