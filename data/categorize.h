#pragma once
// Target transforms of fastai's data/transforms.py: Categorize (single label -> class index),
// MultiCategorize + OneHotEncode (label list -> indices -> one-hot), RegressionSetup
// (numbers -> float tensor). Each learns what it needs in setup, from the training items.
//
//   auto cat = std::make_shared<Categorize>();      // vocab from the training labels, sorted
//   TfmdLists tl(labels, {cat}, {.splits = splits});
//   tl[0];                 // TensorCategory(1) carrying CategoryMeta{vocab}
//   tl.decode(tl[0]);      // 'dog'
//   (*cat)(Item("zebra"));  // ValueError: Categorize: label 'zebra' was not included in the training data ...
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "data/transform.h"

namespace strata::data {

// fastai's CategoryMap: the sorted unique labels (as Items: strings, numbers or paths) and
// their string forms (the vocab carried as CategoryMeta).
class CategoryMap {
 public:
  CategoryMap() = default;
  // Unique values of `labels` (sorted when `sort`; "#na#" first when add_na).
  CategoryMap(const std::vector<Item>& labels, bool sort = true, bool add_na = false);
  int64_t size() const { return static_cast<int64_t>(items_.size()); }
  const Item& operator[](int64_t i) const;
  // The index of a label, or -1.
  int64_t index_of(const Item& label) const;
  const std::vector<Item>& items() const { return items_; }
  const Vocab& vocab() const { return vocab_; }  // the labels as strings
  std::string str() const;                       // "['cat', 'dog']"

 private:
  std::vector<Item> items_;
  std::map<std::string, int64_t> index_;
  Vocab vocab_ = make_vocab({});
};

// fastai's Categorize (order 1): encodes a label (str, int, float or Path) to a 0-d i64
// TensorCategory carrying the vocab; decodes it back to the label. A label outside the vocab
// throws ValueError naming it.
class Categorize : public Transform {
 public:
  explicit Categorize(std::optional<std::vector<Item>> vocab = std::nullopt, bool sort = true, bool add_na = false);
  const CategoryMap& vocab() const { return map_; }
  bool has_vocab() const { return has_vocab_; }

 protected:
  void setups_impl(const ItemSource& items) override;

 private:
  Item encode_label(const Item& label) const;
  CategoryMap map_;
  bool has_vocab_ = false;
  bool sort_;
  bool add_na_;
};

// fastai's MultiCategorize (order 1): a List of labels -> 1-d i64 TensorMultiCategory of their
// indices; vocab = the sorted union of the training labels. Decodes indices to a List.
class MultiCategorize : public Transform {
 public:
  explicit MultiCategorize(std::optional<std::vector<Item>> vocab = std::nullopt, bool add_na = false);
  const CategoryMap& vocab() const { return map_; }

 protected:
  void setups_impl(const ItemSource& items) override;

 private:
  CategoryMap map_;
  bool has_vocab_ = false;
  bool add_na_;
};

// fastai's OneHotEncode (order 2): indices -> f32 one-hot of length c (c from the vocab the
// indices carry when not given); decodes one-hot (> 0.5) back to indices.
class OneHotEncode : public Transform {
 public:
  explicit OneHotEncode(std::optional<int64_t> c = std::nullopt);
  std::optional<int64_t> c;

 protected:
  void setups_impl(const ItemSource& items) override;
};

// fastai's RegressionSetup: a number -> 0-d f32 tensor, a List of numbers -> 1-d f32; c (the
// number of outputs) from the first item when not given. Decodes to float / List of floats.
class RegressionSetup : public Transform {
 public:
  explicit RegressionSetup(std::optional<int64_t> c = std::nullopt);
  std::optional<int64_t> c;

 protected:
  void setups_impl(const ItemSource& items) override;
};

}  // namespace strata::data
