// Categorize, MultiCategorize, OneHotEncode, RegressionSetup.
#include "data/categorize.h"

#include <algorithm>

#include "tensor/ops.h"

namespace strata::data {

namespace {
std::string label_key(const Item& x) {
  if (x.is_number()) {  // 3 and 3.0 are the same label
    const double d = x.as_float();
    return "n:" + fmt::format("{}", d);
  }
  return x.repr();
}
std::string label_text(const Item& x) {
  if (x.is_str()) return x.str();
  if (x.is_path()) return x.path().string();
  return x.repr();
}
std::string vocab_preview(const CategoryMap& m) {
  std::string s = m.str();
  return s.size() > 200 ? s.substr(0, 200) + "...]" : s;
}
}  // namespace

// ---- CategoryMap ----
CategoryMap::CategoryMap(const std::vector<Item>& labels, bool sort, bool add_na) {
  std::vector<Item> uniq;
  std::map<std::string, int64_t> seen;
  for (const Item& l : labels) {
    STRATA_CHECK(l.is_str() || l.is_number() || l.is_path(), ValueError,
                 "CategoryMap: a label must be a str, a number or a Path, got {} {}", l.kind_name(), l.repr());
    if (seen.emplace(label_key(l), 0).second) uniq.push_back(l);
  }
  if (sort) std::stable_sort(uniq.begin(), uniq.end());
  if (add_na) uniq.insert(uniq.begin(), Item("#na#"));
  std::vector<std::string> words;
  for (size_t i = 0; i < uniq.size(); ++i) {
    index_[label_key(uniq[i])] = static_cast<int64_t>(i);
    words.push_back(label_text(uniq[i]));
  }
  items_ = std::move(uniq);
  vocab_ = make_vocab(std::move(words));
}

const Item& CategoryMap::operator[](int64_t i) const {
  STRATA_CHECK(i >= 0 && i < size(), IndexError, "CategoryMap: index {} out of range for a vocab of {}", i, size());
  return items_[static_cast<size_t>(i)];
}

int64_t CategoryMap::index_of(const Item& label) const {
  auto it = index_.find(label_key(label));
  return it == index_.end() ? -1 : it->second;
}

std::string CategoryMap::str() const {
  std::string s = "[";
  for (size_t i = 0; i < items_.size(); ++i) s += (i ? ", " : "") + items_[i].repr();
  return s + "]";
}

// ---- Categorize ----
Categorize::Categorize(std::optional<std::vector<Item>> vocab, bool sort, bool add_na)
    : Transform("Categorize"), sort_(sort), add_na_(add_na) {
  order = 1;
  if (vocab) {
    map_ = CategoryMap(*vocab, /*sort=*/false, add_na);
    has_vocab_ = true;
  }
  auto enc = [this](const Item& x) { return encode_label(x); };
  encodes<std::string>([enc](const std::string& s) { return enc(Item(s)); });
  encodes<int64_t>([enc](int64_t v) { return enc(Item(v)); });
  encodes<double>([enc](double v) { return enc(Item(v)); });
  encodes<std::filesystem::path>([enc](const std::filesystem::path& p) { return enc(Item(p)); });
  decodes<TensorCategory>([this](const TensorCategory& t) -> Item {
    if (t.dim() == 0) return map_[t.item<int64_t>()];
    std::vector<Item> out;
    for (int64_t v : t.to_vector<int64_t>()) out.push_back(map_[v]);
    return Item::list(std::move(out));
  });
}

Item Categorize::encode_label(const Item& label) const {
  STRATA_CHECK(has_vocab_, ValueError,
               "Categorize: no vocab yet (label {}); set it up on the training labels or pass a vocab", label.repr());
  const int64_t i = map_.index_of(label);
  STRATA_CHECK(i >= 0, ValueError, "Categorize: label {} was not included in the training data (vocab: {})",
               label.repr(), vocab_preview(map_));
  Tensor t = scalar_tensor(static_cast<double>(i), {.dtype = DType::I64});
  return Item(with_meta(TensorCategory(t), CategoryMeta(map_.vocab())));
}

void Categorize::setups_impl(const ItemSource& items) {
  if (has_vocab_) return;
  std::vector<Item> labels;
  labels.reserve(static_cast<size_t>(items.size()));
  for (int64_t i = 0; i < items.size(); ++i) labels.push_back(items.get(i));
  map_ = CategoryMap(labels, sort_, add_na_);
  has_vocab_ = true;
}

// ---- MultiCategorize ----
MultiCategorize::MultiCategorize(std::optional<std::vector<Item>> vocab, bool add_na)
    : Transform("MultiCategorize"), add_na_(add_na) {
  order = 1;
  if (vocab) {
    map_ = CategoryMap(*vocab, false, add_na);
    has_vocab_ = true;
  }
  encodes<List>([this](const std::vector<Item>& labels) -> Item {
    STRATA_CHECK(has_vocab_, ValueError, "MultiCategorize: no vocab yet; set it up or pass a vocab");
    std::vector<int64_t> idx;
    for (const Item& l : labels) {
      const int64_t i = map_.index_of(l);
      STRATA_CHECK(i >= 0, ValueError, "MultiCategorize: label {} was not included in the training data (vocab: {})",
                   l.repr(), vocab_preview(map_));
      idx.push_back(i);
    }
    Tensor t = tensor(idx, {static_cast<int64_t>(idx.size())});
    return Item(with_meta(TensorMultiCategory(t), CategoryMeta(map_.vocab())));
  });
  decodes<TensorMultiCategory>([this](const TensorMultiCategory& t) -> Item {
    std::vector<Item> out;
    for (int64_t v : t.to_vector<int64_t>()) out.push_back(map_[v]);
    return Item::list(std::move(out));
  });
}

void MultiCategorize::setups_impl(const ItemSource& items) {
  if (has_vocab_) return;
  std::vector<Item> labels;
  for (int64_t i = 0; i < items.size(); ++i) {
    Item x = items.get(i);
    if (x.is_list()) labels.insert(labels.end(), x.elems().begin(), x.elems().end());
    else labels.push_back(x);
  }
  map_ = CategoryMap(labels, true, add_na_);
  has_vocab_ = true;
}

// ---- OneHotEncode ----
OneHotEncode::OneHotEncode(std::optional<int64_t> c_) : Transform("OneHotEncode"), c(c_) {
  order = 2;
  encodes<TensorMultiCategory>([this](const TensorMultiCategory& t) -> Item {
    STRATA_CHECK(c.has_value(), ValueError, "OneHotEncode: the number of classes is unknown; set it up or pass c");
    std::vector<float> v(static_cast<size_t>(*c), 0.0f);
    for (int64_t i : t.to_vector<int64_t>()) {
      STRATA_CHECK(i >= 0 && i < *c, IndexError, "OneHotEncode: index {} out of range for {} classes", i, *c);
      v[static_cast<size_t>(i)] = 1.0f;
    }
    Tensor out = tensor(v, {*c});
    Tensor r = TensorMultiCategory(out);
    return Item(t.meta() ? with_meta(r, t.meta()) : r);
  });
  decodes<TensorMultiCategory>([](const TensorMultiCategory& t) -> Item {
    std::vector<int64_t> idx;
    std::vector<float> v = t.to_vector<float>();
    for (size_t i = 0; i < v.size(); ++i)
      if (v[i] > 0.5f) idx.push_back(static_cast<int64_t>(i));
    Tensor out = tensor(idx, {static_cast<int64_t>(idx.size())});
    if (t.meta()) out = with_meta(out, t.meta());
    return Item(Tensor(TensorMultiCategory(out)));
  });
}

void OneHotEncode::setups_impl(const ItemSource& items) {
  if (c || items.size() == 0) return;
  Item x = items.get(0);
  if (x.is_tensor())
    if (const auto* m = meta_as<CategoryMeta>(x.tensor()); m && m->vocab) c = static_cast<int64_t>(m->vocab->size());
}

// ---- RegressionSetup ----
RegressionSetup::RegressionSetup(std::optional<int64_t> c_) : Transform("RegressionSetup"), c(c_) {
  encodes<int64_t>([](int64_t v) { return scalar_tensor(static_cast<double>(v)); });
  encodes<double>([](double v) { return scalar_tensor(v); });
  encodes<List>([](const std::vector<Item>& xs) {
    std::vector<float> v;
    for (const Item& x : xs) v.push_back(static_cast<float>(x.as_float()));
    return tensor(v, {static_cast<int64_t>(v.size())});
  });
  encodes<Tensor>([](const Tensor& t) { return t.to(DType::F32); });
  decodes<Tensor>([](const Tensor& t) -> Item {
    if (t.dim() == 0) return Item(t.item<double>());
    std::vector<Item> out;
    for (double d : t.to_vector<double>()) out.emplace_back(d);
    return Item::list(std::move(out));
  });
}

void RegressionSetup::setups_impl(const ItemSource& items) {
  if (c || items.size() == 0) return;
  Item x = items.get(0);
  c = x.is_list() ? static_cast<int64_t>(x.size()) : 1;
}

}  // namespace strata::data
