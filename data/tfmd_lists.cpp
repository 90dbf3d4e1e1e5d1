// TfmdLists: lazy transformed access, shared subsets, setup over the training split.
#include "data/tfmd_lists.h"

namespace strata::data {

namespace {

// Raw items restricted to some indices (the training split during setup).
class IndexedSource : public ItemSource {
 public:
  IndexedSource(const TfmdLists* base, std::vector<int64_t> idxs, std::optional<int> split)
      : base_(base), idxs_(std::move(idxs)), split_(split) {}
  int64_t size() const override { return static_cast<int64_t>(idxs_.size()); }
  Item get(int64_t i) const override { return base_->raw(idxs_[static_cast<size_t>(i)]); }
  std::optional<int> split_idx() const override { return split_; }

 private:
  const TfmdLists* base_;
  std::vector<int64_t> idxs_;
  std::optional<int> split_;
};

// All raw items; its training part is split 0.
class RawSource : public ItemSource {
 public:
  explicit RawSource(const TfmdLists* base) : base_(base) {}
  int64_t size() const override { return base_->size(); }
  Item get(int64_t i) const override { return base_->raw(i); }
  std::optional<int> split_idx() const override { return base_->split_idx(); }
  std::shared_ptr<const ItemSource> train_part() const override {
    if (base_->splits().empty()) return nullptr;
    return std::make_shared<IndexedSource>(base_, base_->splits()[0], 0);
  }

 private:
  const TfmdLists* base_;
};

void check_splits(const Splits& splits, int64_t n) {
  for (size_t s = 0; s < splits.size(); ++s)
    for (int64_t i : splits[s])
      STRATA_CHECK(i >= 0 && i < n, IndexError, "TfmdLists: split {} has index {} but there are {} items", s, i, n);
}

}  // namespace

TfmdLists::TfmdLists(std::vector<Item> items, std::vector<TfmPtr> tfms, TfmdListsOptions opts)
    : items_(std::make_shared<const std::vector<Item>>(std::move(items))),
      tfms_(std::make_shared<Pipeline>(std::move(tfms))),
      splits_(std::move(opts.splits)),
      split_idx_(opts.split_idx) {
  check_splits(splits_, static_cast<int64_t>(items_->size()));
  if (opts.do_setup) setup(opts.train_setup);
}

TfmdLists::TfmdLists(std::vector<Item> items, std::shared_ptr<Pipeline> pipeline, TfmdListsOptions opts)
    : items_(std::make_shared<const std::vector<Item>>(std::move(items))),
      tfms_(pipeline ? std::move(pipeline) : std::make_shared<Pipeline>()),
      splits_(std::move(opts.splits)),
      split_idx_(opts.split_idx) {
  check_splits(splits_, static_cast<int64_t>(items_->size()));
}

int64_t TfmdLists::item_index(int64_t i) const {
  const int64_t n = size();
  STRATA_CHECK(i >= -n && i < n, IndexError, "TfmdLists: index {} out of range for {} items", i, n);
  if (i < 0) i += n;
  return idxs_ ? (*idxs_)[static_cast<size_t>(i)] : i;
}

Item TfmdLists::raw(int64_t i) const { return (*items_)[static_cast<size_t>(item_index(i))]; }
Item TfmdLists::get(int64_t i) const { return tfms_->apply(raw(i), split_idx_); }

std::shared_ptr<const ItemSource> TfmdLists::train_part() const {
  if (splits_.empty()) return nullptr;
  return std::make_shared<TfmdLists>(subset(0));
}

TfmdLists TfmdLists::subset(int i) const {
  STRATA_CHECK(i >= 0 && i < n_subsets(), IndexError, "TfmdLists::subset: no split {} (there are {})", i,
               n_subsets());
  TfmdLists out;
  out.items_ = items_;
  std::vector<int64_t> idxs;
  idxs.reserve(splits_[i].size());
  for (int64_t j : splits_[i]) idxs.push_back(idxs_ ? (*idxs_)[static_cast<size_t>(j)] : j);
  out.idxs_ = std::make_shared<const std::vector<int64_t>>(std::move(idxs));
  out.tfms_ = tfms_;
  out.split_idx_ = i;
  return out;
}

void TfmdLists::setup(bool train_setup, const std::function<void(const Transform&)>& on_step) {
  RawSource raw(this);
  tfms_->setup(&raw, train_setup, on_step);
}

std::vector<Item> TfmdLists::items() const {
  std::vector<Item> out;
  out.reserve(static_cast<size_t>(size()));
  for (int64_t i = 0; i < size(); ++i) out.push_back(raw(i));
  return out;
}

}  // namespace strata::data
