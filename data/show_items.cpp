// Sample -> ShowItem: one pass over the sample's elements, sorting each into image / mask / boxes /
// title by its kind and semantic type (see show_items.h for the rules).
#include "data/show_items.h"

#include <cmath>
#include <sstream>

#include "tensor/error.h"

namespace strata::data {

namespace {

std::string scalar_text(const Item& x) {
  if (x.is_str()) return x.str();
  if (x.is_path()) return x.path().filename().string();
  if (x.is_int()) return std::to_string(x.as_int());
  if (x.is_float()) {
    std::ostringstream s;
    s.precision(4);
    s << x.as_float();
    return s.str();
  }
  return "";
}

bool is_text_list(const Item& x) {
  if (!x.is_list()) return false;
  for (const Item& e : x.elems())
    if (!(e.is_str() || e.is_number())) return false;
  return true;
}

std::vector<std::string> list_texts(const Item& x) {
  std::vector<std::string> out;
  for (const Item& e : x.elems()) out.push_back(scalar_text(e));
  return out;
}

// Boxes [n, 4] (or [4]) as pixel rectangles.
std::vector<LabeledBox> boxes_of(const Tensor& t) {
  const Tensor b = cast(t, nullptr).cpu().to(DType::F32).contiguous().reshape({-1, 4});
  const float* p = b.data<float>();
  std::vector<LabeledBox> out;
  for (int64_t i = 0; i < b.shape()[0]; ++i)
    out.push_back({.x0 = p[4 * i], .y0 = p[4 * i + 1], .x1 = p[4 * i + 2], .y1 = p[4 * i + 3]});
  return out;
}

void collect(const Item& x, ShowItem& out, std::vector<std::string>& titles, std::vector<LabeledBox>*& pending) {
  if (x.is_tuple()) {
    for (const Item& e : x.elems()) collect(e, out, titles, pending);
    return;
  }
  if (x.is_image() && x.image()) {
    const bool mask = x.is_mask() || x.image()->kind == ImageKind::Mask;
    if (mask) out.mask = x.image()->c == 1 ? *x.image() : convert_channels(*x.image(), 1);
    else if (out.image.empty()) out.image = *x.image();
    return;
  }
  if (x.is_tensor()) {
    const Tensor& t = x.tensor();
    if (is_a<TensorMask>(t)) {
      out.mask = tensor_to_image(t.dim() == 3 && t.shape()[0] == 1 ? t.squeeze(0) : t);
    } else if (is_a<TensorImageBase>(t)) {
      if (out.image.empty()) out.image = tensor_to_image(t);
    } else if (is_a<TensorBBox>(t)) {
      const std::vector<LabeledBox> boxes = boxes_of(t);
      out.boxes.insert(out.boxes.end(), boxes.begin(), boxes.end());
      // A label list that follows names these boxes (the last ones added).
      pending = boxes.empty() ? nullptr : &out.boxes;
    } else if (t.numel() == 1) {
      titles.push_back(scalar_text(Item(t.cpu().to(DType::F64).data<double>()[0])));
    }
    return;
  }
  if (is_text_list(x)) {
    std::vector<std::string> texts = list_texts(x);
    // A label list right after boxes labels them (one per box).
    if (pending && texts.size() <= pending->size()) {
      const size_t start = pending->size() - texts.size();
      std::vector<LabeledBox> kept(pending->begin(), pending->begin() + long(start));
      for (size_t i = 0; i < texts.size(); ++i) {
        if (texts[i] == "#na#") continue;
        LabeledBox b = (*pending)[start + i];
        b.label = texts[i];
        kept.push_back(b);
      }
      *pending = kept;
      pending = nullptr;
      return;
    }
    std::string joined;
    for (const std::string& s : texts) joined += (joined.empty() ? "" : ";") + s;
    titles.push_back(joined);
    return;
  }
  const std::string s = scalar_text(x);
  if (!s.empty()) titles.push_back(s);
}

}  // namespace

ShowItem to_show_item(const Item& sample) {
  ShowItem out;
  std::vector<std::string> titles;
  std::vector<LabeledBox>* pending = nullptr;
  collect(sample, out, titles, pending);
  STRATA_CHECK(!out.image.empty(), ValueError, "show_samples: sample {} holds no image to show", sample.repr());
  for (const std::string& t : titles) out.title += (out.title.empty() ? "" : " / ") + t;
  return out;
}

Canvas render_samples(const std::vector<Item>& samples, const GridOptions& opts) {
  std::vector<ShowItem> items;
  const size_t n = std::min(samples.size(), size_t(std::max(opts.max_n, 0)));
  for (size_t i = 0; i < n; ++i) items.push_back(to_show_item(samples[i]));
  return render_grid(items, opts);
}

void show_samples(const std::vector<Item>& samples, const std::filesystem::path& path, const GridOptions& opts) {
  render_samples(samples, opts).save_png(path);
}

}  // namespace strata::data
