#pragma once
// Showing images: the rendering side of fastai's show_batch / show_results, as PNG files. A grid of
// cells, each an image scaled to fit (nearest neighbour, aspect kept) under its title, optionally
// with a segmentation mask overlaid (a colour per code, translucent) and labelled boxes.
//
//   std::vector<ShowItem> items;
//   for (...) items.push_back({.image = img, .title = vocab[label]});
//   show_grid(items, "batch.png", {.max_n = 9});
//   show_images_grid(images, titles, "batch.png", {.nrows = 2, .ncols = 4});
//
// Layout follows fastai's get_grid: n = min(items, max_n), nrows = given or floor(sqrt(n)), ncols =
// given or ceil(n / nrows). Without a figure size, each cell is as large as the largest image,
// scaled up by a whole factor until its shorter side reaches min_cell pixels (28x28 MNIST digits
// would be unreadable otherwise).
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "data/canvas.h"
#include "data/image.h"

namespace strata::data {

// A box in the pixel coordinates of the image it is drawn on (x to the right, y down).
struct LabeledBox {
  float x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  std::string label;                 // drawn on a tab at the top-left corner; empty: none
  std::optional<Color> color;        // default: palette colour by position in the list
};

struct ShowItem {
  Image image;                       // 1, 3 or 4 channels
  std::string title;
  std::optional<Color> title_color;  // default: GridOptions::title_color
  Image mask;                        // optional 1-channel codes, same aspect as image
  std::vector<Color> mask_colors;    // default: palette(256)
  float mask_alpha = 0.5f;
  std::vector<int> mask_skip;        // codes left uncoloured (e.g. background)
  std::vector<LabeledBox> boxes;
};

struct GridOptions {
  int nrows = 0;            // 0: fastai's get_grid
  int ncols = 0;
  int max_n = 9;            // fastai's show_batch default
  int fig_w = 0;            // whole figure in pixels; 0: from the images (see min_cell)
  int fig_h = 0;
  int min_cell = 96;
  int padding = 6;          // between cells and around the figure
  int title_scale = 1;      // font scale of titles (1: 8 px lines, 2: 16 px)
  Color title_color = colors::black;
  Color background = colors::white;
  int box_thickness = 2;
};

// Renders the grid on a canvas.
Canvas render_grid(const std::vector<ShowItem>& items, const GridOptions& opts = {});
// Renders and writes a PNG; throws IOError when the file cannot be written, ValueError for no items.
void show_grid(const std::vector<ShowItem>& items, const std::filesystem::path& path, const GridOptions& opts = {});
// Images with titles (titles may be empty or shorter than images: missing titles are blank).
void show_images_grid(const std::vector<Image>& images, const std::vector<std::string>& titles,
                      const std::filesystem::path& path, const GridOptions& opts = {});

// Draws boxes given in the pixel coordinates of an image_h x image_w image that is shown at (x, y)
// scaled to w x h on the canvas: outline of `thickness`, label in white on a filled tab of the box
// colour, inside the box's top-left corner.
void draw_boxes(Canvas& canvas, const std::vector<LabeledBox>& boxes, int image_h, int image_w, int x, int y, int w,
                int h, int thickness = 2);

}  // namespace strata::data
