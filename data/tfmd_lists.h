#pragma once
// TfmdLists: fastai's TfmdLists, a list of raw items with a Pipeline applied lazily on access.
// Created with splits (train indices, valid indices, ...) it can hand out subsets that share the
// items and the (set-up) transforms; subset(i) has split_idx i, so augmentation transforms run on
// subset 0 only. Setup runs on creation over the training items (train_setup), so a Categorize
// learns its vocab from the training set.
//
//   TfmdLists tl(items, {getter, categorize}, {.splits = {{0, 1, 2}, {3}}});
//   tl.train()[0];  tl.valid().size() == 1;  tl.decode(tl[0]);
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "data/pipeline.h"
#include "data/source.h"

namespace strata::data {

using Splits = std::vector<std::vector<int64_t>>;

struct TfmdListsOptions {
  Splits splits{};                   // indices into the items, one list per subset
  std::optional<int> split_idx{};    // the split this list is (subsets set it)
  bool do_setup = true;
  bool train_setup = true;         // set transforms up on the training subset only
};

class TfmdLists : public ItemSource {
 public:
  TfmdLists() = default;
  TfmdLists(std::vector<Item> items, std::vector<TfmPtr> tfms, TfmdListsOptions opts = {});
  // Shares the transforms of an existing (set-up) pipeline; no setup.
  TfmdLists(std::vector<Item> items, std::shared_ptr<Pipeline> pipeline, TfmdListsOptions opts = {});

  int64_t size() const override { return idxs_ ? static_cast<int64_t>(idxs_->size()) : static_cast<int64_t>(items_->size()); }
  Item get(int64_t i) const override;
  Item operator[](int64_t i) const { return get(i); }
  Item raw(int64_t i) const;  // the item before the transforms
  std::optional<int> split_idx() const override { return split_idx_; }
  std::shared_ptr<const ItemSource> train_part() const override;

  // Subset i of the splits (IndexError when there is no such split).
  TfmdLists subset(int i) const;
  TfmdLists train() const { return subset(0); }
  TfmdLists valid() const { return subset(1); }
  int n_subsets() const { return static_cast<int>(splits_.size()); }
  const Splits& splits() const { return splits_; }

  // Sets the pipeline up over these items (the constructor does it unless do_setup is false).
  // on_step: called with each transform before its setup runs (DataBlock::summary uses it).
  void setup(bool train_setup = true, const std::function<void(const Transform&)>& on_step = {});
  Item decode(const Item& x, bool full = true) const { return tfms_->decode(x, full, split_idx_); }
  // A text rendering of x decoded (fastai's show).
  std::string show(const Item& x) const { return decode(x, true).repr(); }

  const Pipeline& tfms() const { return *tfms_; }
  const std::shared_ptr<Pipeline>& pipeline() const { return tfms_; }
  std::vector<Item> items() const;

 private:
  int64_t item_index(int64_t i) const;
  std::shared_ptr<const std::vector<Item>> items_ = std::make_shared<const std::vector<Item>>();
  std::shared_ptr<const std::vector<int64_t>> idxs_;  // null: all items
  std::shared_ptr<Pipeline> tfms_ = std::make_shared<Pipeline>();
  Splits splits_;
  std::optional<int> split_idx_;
};

}  // namespace strata::data
