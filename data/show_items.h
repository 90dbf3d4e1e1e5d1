#pragma once
// show_batch as a picture: renders decoded samples (what DataLoader::decode_batch returns — a
// host image or image tensor, a label, a mask, boxes with their labels) as a PNG grid with
// data/show.h. This is the glue between the data pipeline's Items and the drawing code.
//
//   auto samples = dl.decode_batch(dl.one_batch(), 9);
//   show_samples(samples, "batch.png", {.max_n = 9});
//
// How a sample (an Item, usually a tuple) becomes a grid cell, element by element:
//   image        the first host Image (not a mask) or image tensor (TensorImage / TensorImageBW,
//                u8 or 0-1 floats, [C, H, W]); a sample without one is an error naming it
//   mask         an Item::mask, an Image of kind Mask, or a TensorMask: overlaid, colour per code
//   boxes        a TensorBBox [n, 4] in pixels of the image (x0, y0, x1, y1), labelled by the
//                string list that follows it; boxes labelled '#na#' (bb_pad's padding) are skipped
//   title        every other string, number or list of strings (multi-label: joined with ';'),
//                joined with ' / ', e.g. "7" or "cat / dog;person"
#include <filesystem>
#include <vector>

#include "data/item.h"
#include "data/show.h"

namespace strata::data {

// One sample as a grid cell (ValueError naming the sample when it holds no image).
ShowItem to_show_item(const Item& sample);
// Renders and writes the samples (up to opts.max_n) as a PNG.
void show_samples(const std::vector<Item>& samples, const std::filesystem::path& path, const GridOptions& opts = {});
Canvas render_samples(const std::vector<Item>& samples, const GridOptions& opts = {});

}  // namespace strata::data
