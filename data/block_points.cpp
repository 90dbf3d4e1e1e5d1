// Point / box creation, scaling to [-1, 1] by the sample's image size, padding of box batches.
#include "data/block_points.h"

#include <algorithm>

#include "data/categorize.h"
#include "data/image.h"
#include "tensor/ops.h"

namespace strata::data {

namespace {

void flatten_numbers(const Item& x, std::vector<float>& out, const char* who) {
  if (x.is_sequence()) {
    for (const Item& e : x.elems()) flatten_numbers(e, out, who);
  } else if (x.is_number()) {
    out.push_back(static_cast<float>(x.as_float()));
  } else if (x.is_tensor()) {
    auto v = x.tensor().to_vector<float>();
    out.insert(out.end(), v.begin(), v.end());
  } else {
    STRATA_THROW(ValueError, "{}: expected numbers, got {} {}", who, x.kind_name(), x.repr());
  }
}

Tensor coords(const Item& x, int64_t per_row, const char* who) {
  std::vector<float> v;
  flatten_numbers(x, v, who);
  STRATA_CHECK(v.size() % static_cast<size_t>(per_row) == 0, ShapeError,
               "{}: {} numbers do not make rows of {} coordinates", who, v.size(), per_row);
  return tensor(v, {static_cast<int64_t>(v.size()) / per_row, per_row});
}

// The (h, w) of an image element, if the item is one.
std::optional<ImageSize> image_size(const Item& x) {
  if (x.is_image() && x.image()) return ImageSize{.h = x.image()->h, .w = x.image()->w};
  if (x.is_tensor() && is_a<TensorImageBase>(x.tensor()) && x.tensor().dim() >= 2)
    return ImageSize{.h = x.tensor().size(-2), .w = x.tensor().size(-1)};
  return std::nullopt;
}

Tensor scale_points(const Tensor& pts, ImageSize sz, bool do_scale, bool y_first, bool decode) {
  const bool box = is_a<TensorBBox>(pts);
  const Shape shape = pts.shape();
  Tensor p = pts.contiguous().view({-1, 2});
  if (y_first && !decode) p = index_select(p, 1, tensor(std::vector<int64_t>{1, 0}, {2}));
  const Tensor s = tensor({2.0f / static_cast<float>(sz.w), 2.0f / static_cast<float>(sz.h)});
  Tensor out = p;
  if (do_scale) out = decode ? (p + 1.0) / s : p * s - 1.0;
  out = out.reshape(shape);
  if (box) return with_meta(Tensor(cast<TensorBBox>(out)), std::make_shared<const BBoxMeta>(sz));
  return with_meta(Tensor(cast<TensorPoint>(out)), std::make_shared<const PointMeta>(sz));
}

Item scale_sample(const Item& x, bool do_scale, bool y_first, bool decode) {
  auto one = [&](const Item& e, std::optional<ImageSize> sz) -> Item {
    if (!e.is_tensor() || !is_a<TensorPoint>(e.tensor())) return e;
    if (!sz)
      if (const auto* m = meta_as<PointMeta>(e.tensor()); m && m->img_size.w > 0) sz = m->img_size;
    STRATA_CHECK(sz.has_value(), ValueError,
                 "PointScaler: no image in the sample and no img_size on the points to scale them by");
    return Item(scale_points(e.tensor(), *sz, do_scale, y_first, decode));
  };
  if (!x.is_tuple()) return one(x, std::nullopt);
  std::optional<ImageSize> sz;
  for (const Item& e : x.elems())
    if (!sz) sz = image_size(e);
  std::vector<Item> out;
  for (const Item& e : x.elems()) out.push_back(one(e, sz));
  return Item::tuple(std::move(out));
}

}  // namespace

PointCreate::PointCreate() : Transform("TensorPoint.create") {
  auto make = [](const Item& x) { return Item(Tensor(TensorPoint(coords(x, 2, "TensorPoint.create")))); };
  encodes<List>([make](const std::vector<Item>& v) { return make(Item::list(v)); });
  encodes<Tensor>([make](const Tensor& t) { return make(Item(t)); });
}

BBoxCreate::BBoxCreate() : Transform("TensorBBox.create") {
  auto make = [](const Item& x) { return Item(Tensor(TensorBBox(coords(x, 4, "TensorBBox.create")))); };
  encodes<List>([make](const std::vector<Item>& v) { return make(Item::list(v)); });
  encodes<Tensor>([make](const Tensor& t) { return make(Item(t)); });
}

PointScaler::PointScaler(bool ds, bool yf) : ItemTransform("PointScaler"), do_scale(ds), y_first(yf) {
  order = 1;
  encodes<Item>([this](const Item& x) { return scale_sample(x, do_scale, y_first, false); });
  decodes<Item>([this](const Item& x) { return scale_sample(x, do_scale, y_first, true); });
}

std::vector<Item> bb_pad(std::vector<Item> samples, int64_t pad_idx) {
  struct Clean {
    std::vector<float> boxes;
    std::vector<int64_t> labels;
  };
  std::vector<Clean> clean;
  size_t max_len = 0;
  for (const Item& s : samples) {
    STRATA_CHECK(s.is_tuple() && s.size() >= 3 && s[1].is_tensor() && s[2].is_tensor(), ValueError,
                 "bb_pad: samples must be (image, boxes, labels), got {}", s.repr());
    auto b = s[1].tensor().to_vector<float>();
    auto l = s[2].tensor().to_vector<int64_t>();
    STRATA_CHECK(b.size() == 4 * l.size(), ShapeError, "bb_pad: {} boxes but {} labels", b.size() / 4, l.size());
    Clean c;
    for (size_t i = 0; i < l.size(); ++i) {
      float q[4];
      for (int k = 0; k < 4; ++k) q[k] = std::clamp(b[4 * i + k], -1.0f, 1.0f);
      if ((q[2] - q[0]) * (q[3] - q[1]) <= 0.0f) continue;  // empty after clipping
      c.boxes.insert(c.boxes.end(), q, q + 4);
      c.labels.push_back(l[i]);
    }
    max_len = std::max(max_len, c.labels.size());
    clean.push_back(std::move(c));
  }
  for (size_t j = 0; j < samples.size(); ++j) {
    Clean& c = clean[j];
    c.boxes.resize(4 * max_len, 0.0f);
    c.labels.resize(max_len, pad_idx);
    const Tensor& ob = samples[j][1].tensor();
    const Tensor& ol = samples[j][2].tensor();
    Tensor nb = tensor(c.boxes, {static_cast<int64_t>(max_len), 4});
    Tensor nl = tensor(c.labels, {static_cast<int64_t>(max_len)});
    nb = ob.meta() ? with_meta(cast(nb, ob.semantic_type()), ob.meta()) : cast(nb, ob.semantic_type());
    nl = ol.meta() ? with_meta(cast(nl, ol.semantic_type()), ol.meta()) : cast(nl, ol.semantic_type());
    std::vector<Item> e = samples[j].elems();
    e[1] = Item(nb);
    e[2] = Item(nl);
    samples[j] = Item::tuple(std::move(e));
  }
  return samples;
}

TransformBlock PointBlock() {
  return {.name = "PointBlock",
          .type_tfms = {std::make_shared<PointCreate>()},
          .item_tfms = {std::make_shared<PointScaler>()}};
}

TransformBlock BBoxBlock() {
  return {.name = "BBoxBlock",
          .type_tfms = {std::make_shared<BBoxCreate>()},
          .item_tfms = {std::make_shared<PointScaler>()},
          .before_batch = [](std::vector<Item> s) { return bb_pad(std::move(s)); }};
}

TransformBlock BBoxLblBlock(std::optional<std::vector<Item>> vocab, bool add_na) {
  return {.name = "BBoxLblBlock", .type_tfms = {std::make_shared<MultiCategorize>(std::move(vocab), add_na)}};
}

}  // namespace strata::data
