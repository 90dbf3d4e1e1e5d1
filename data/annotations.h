#pragma once
// COCO-style annotation files (fastai's vision/core.py get_annotations): the image file names
// that have at least one box, and per image its boxes in pixels (x0, y0, x1, y1) with the
// category name of each. The lookup a bbox DataBlock's getters need (fastai's img2bbox) is
// boxes_item / labels_item over a name -> index map, so it lives here too.
//
//   Annotations a = get_annotations(root / "train.json");
//   auto img2bbox = a.by_name();                         // "000000542959.jpg" -> index
//   Item boxes = a.boxes_item(img2bbox.at(name));        // List of [x0, y0, x1, y1] Lists
//   Item labels = a.labels_item(img2bbox.at(name));      // List of category names
#include <array>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "data/item.h"

namespace strata::data {

struct ImageBoxes {
  std::vector<std::array<double, 4>> boxes;  // pixels, (x0, y0, x1, y1) = (x, y, x + w, y + h)
  std::vector<std::string> labels;           // one category name per box
};

struct Annotations {
  std::vector<std::string> images;  // prefix + file_name, in the order of the file's "images"
  std::vector<ImageBoxes> targets;  // one per image

  // file name (as in `images`) -> index.
  std::map<std::string, size_t> by_name() const;
  Item boxes_item(size_t i) const;   // a List of 4-number Lists (what BBoxBlock's BBoxCreate takes)
  Item labels_item(size_t i) const;  // a List of strings (what BBoxLblBlock's MultiCategorize takes)
};

// Reads a COCO json ("categories", "images", "annotations" with "bbox" = [x, y, w, h]). As in
// fastai, images without annotations are left out and `prefix` is prepended to each file name.
// IOError naming the file when it cannot be read or parsed; ValueError naming the file and the
// entry when an annotation refers to an unknown category or has a malformed bbox.
Annotations get_annotations(const std::filesystem::path& json_path, const std::string& prefix = "");

}  // namespace strata::data
