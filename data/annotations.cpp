// get_annotations: fastai's semantics (annotation order kept per image, images in the order of
// the json's "images" list, those without boxes dropped), with errors that name the file.
#include "data/annotations.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "tensor/error.h"

namespace strata::data {

namespace {

using json = nlohmann::json;

json read_json(const std::filesystem::path& path) {
  std::ifstream f(path);
  STRATA_CHECK(f.good(), IOError, "get_annotations: cannot open {}", path.string());
  try {
    return json::parse(f);
  } catch (const json::exception& e) {
    STRATA_THROW(IOError, "get_annotations: {} is not valid json: {}", path.string(), e.what());
  }
}

// The ids of COCO files are integers, but nothing forbids strings: keep them as their dump.
std::string id_key(const json& id) { return id.is_string() ? id.get<std::string>() : id.dump(); }

const json& field(const json& obj, const char* key, const std::filesystem::path& path, const char* where) {
  STRATA_CHECK(obj.is_object() && obj.contains(key), ValueError, "get_annotations: {}: an entry of \"{}\" has no \"{}\"",
               path.string(), where, key);
  return obj.at(key);
}

}  // namespace

Annotations get_annotations(const std::filesystem::path& json_path, const std::string& prefix) {
  const json doc = read_json(json_path);
  for (const char* key : {"categories", "images", "annotations"})
    STRATA_CHECK(doc.contains(key) && doc.at(key).is_array(), ValueError,
                 "get_annotations: {} has no \"{}\" list (not a COCO annotation file?)", json_path.string(), key);
  std::unordered_map<std::string, std::string> classes;
  for (const json& c : doc.at("categories"))
    classes[id_key(field(c, "id", json_path, "categories"))] = field(c, "name", json_path, "categories").get<std::string>();
  std::unordered_map<std::string, ImageBoxes> by_id;
  for (const json& a : doc.at("annotations")) {
    const json& bb = field(a, "bbox", json_path, "annotations");
    const std::string cat = id_key(field(a, "category_id", json_path, "annotations"));
    STRATA_CHECK(bb.is_array() && bb.size() == 4, ValueError,
                 "get_annotations: {}: bbox must be [x, y, w, h], got {}", json_path.string(), bb.dump());
    auto it = classes.find(cat);
    STRATA_CHECK(it != classes.end(), ValueError, "get_annotations: {}: annotation with unknown category_id {}",
                 json_path.string(), cat);
    const double x = bb[0].get<double>(), y = bb[1].get<double>(), w = bb[2].get<double>(), h = bb[3].get<double>();
    ImageBoxes& t = by_id[id_key(field(a, "image_id", json_path, "annotations"))];
    t.boxes.push_back({x, y, x + w, y + h});
    t.labels.push_back(it->second);
  }
  Annotations out;
  for (const json& im : doc.at("images")) {
    auto it = by_id.find(id_key(field(im, "id", json_path, "images")));
    if (it == by_id.end()) continue;
    out.images.push_back(prefix + field(im, "file_name", json_path, "images").get<std::string>());
    out.targets.push_back(it->second);
  }
  return out;
}

std::map<std::string, size_t> Annotations::by_name() const {
  std::map<std::string, size_t> m;
  for (size_t i = 0; i < images.size(); ++i) m.emplace(images[i], i);
  return m;
}

Item Annotations::boxes_item(size_t i) const {
  STRATA_CHECK(i < targets.size(), IndexError, "Annotations.boxes_item: index {} out of range for {} images", i,
               targets.size());
  std::vector<Item> boxes;
  for (const auto& b : targets[i].boxes) boxes.push_back(Item::list({Item(b[0]), Item(b[1]), Item(b[2]), Item(b[3])}));
  return Item::list(std::move(boxes));
}

Item Annotations::labels_item(size_t i) const {
  STRATA_CHECK(i < targets.size(), IndexError, "Annotations.labels_item: index {} out of range for {} images", i,
               targets.size());
  std::vector<Item> labels;
  for (const auto& l : targets[i].labels) labels.emplace_back(l);
  return Item::list(std::move(labels));
}

}  // namespace strata::data
