#pragma once
// ItemSource: anything indexable that yields Items (fastai duck-types `__getitem__` + `__len__`).
// TfmdLists, Datasets and the views that Pipeline::setup hands each transform implement it; a
// DataLoader reads from one. get() must be safe to call from several threads at once.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "data/item.h"
#include "tensor/error.h"

namespace strata::data {

class ItemSource {
 public:
  virtual ~ItemSource() = default;
  virtual int64_t size() const = 0;
  virtual Item get(int64_t i) const = 0;
  // fastai's `split_idx`: 0 for a training subset, 1 for validation, none otherwise.
  virtual std::optional<int> split_idx() const { return std::nullopt; }
  // fastai's `.train` as used by Transform.setup(train_setup=True): the training part, or null
  // when the source is not split (then the whole source is used).
  virtual std::shared_ptr<const ItemSource> train_part() const { return nullptr; }
};

// A source over a vector of items (shared, immutable).
class VectorSource : public ItemSource {
 public:
  explicit VectorSource(std::vector<Item> items, std::optional<int> split_idx = std::nullopt)
      : items_(std::make_shared<const std::vector<Item>>(std::move(items))), split_idx_(split_idx) {}
  int64_t size() const override { return static_cast<int64_t>(items_->size()); }
  Item get(int64_t i) const override {
    STRATA_CHECK(i >= 0 && i < size(), IndexError, "VectorSource: index {} out of range for {} items", i, size());
    return (*items_)[static_cast<size_t>(i)];
  }
  std::optional<int> split_idx() const override { return split_idx_; }

 private:
  std::shared_ptr<const std::vector<Item>> items_;
  std::optional<int> split_idx_;
};

// A source computed by a function (size n).
class FunctionSource : public ItemSource {
 public:
  FunctionSource(int64_t n, std::function<Item(int64_t)> fn) : n_(n), fn_(std::move(fn)) {}
  int64_t size() const override { return n_; }
  Item get(int64_t i) const override {
    STRATA_CHECK(i >= 0 && i < n_, IndexError, "FunctionSource: index {} out of range for {} items", i, n_);
    return fn_(i);
  }

 private:
  int64_t n_;
  std::function<Item(int64_t)> fn_;
};

}  // namespace strata::data
