#pragma once
// Pipeline: fastcore's Pipeline, an ordered composition of transforms.
//
// - Transforms are kept stably sorted by `order`.
// - setup(items) sets transforms up one at a time, in order, each over the items as the
//   transforms before it leave them: Categorize after a getter learns its vocab from labels,
//   not from file names.
// - Calling encodes through every transform; decode runs decodes in reverse. decode(x, false)
//   (fastai's full=False) stops as soon as the item can show itself (is_showable).
// - The pipeline's split_idx is handed to every transform (so augmentation runs on train only);
//   every call can override it.
//
//   Pipeline p({get_label, categorize});
//   p.setup(&raw_items, /*train_setup=*/true);
//   Item y = p(item);  Item label = p.decode(y);
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "data/transform.h"

namespace strata::data {

class Pipeline {
 public:
  Pipeline() = default;
  explicit Pipeline(std::vector<TfmPtr> fs, std::optional<int> split_idx = std::nullopt);

  std::optional<int> split_idx;

  // Sets each transform up over `items` mapped by the transforms before it (see the file
  // comment). on_step (optional) is called with each transform before its setup runs.
  void setup(const ItemSource* items, bool train_setup = false,
             const std::function<void(const Transform&)>& on_step = {});
  // fastai's add: sets t up over items mapped by this pipeline, then inserts it by order.
  void add(TfmPtr t, const ItemSource* items = nullptr, bool train_setup = false);

  Item operator()(const Item& x) const { return apply(x, split_idx); }
  Item apply(const Item& x, std::optional<int> split_idx) const;
  Item decode(const Item& x, bool full = true) const { return decode(x, full, split_idx); }
  Item decode(const Item& x, bool full, std::optional<int> split_idx) const;

  const std::vector<TfmPtr>& fs() const { return fs_; }
  bool empty() const { return fs_.empty(); }
  size_t size() const { return fs_.size(); }
  // "Pipeline: Name1 -> Name2" (fastai's repr).
  std::string str() const;

 private:
  void sort();
  std::vector<TfmPtr> fs_;
};

// A view of `base` with `pipeline` applied (at the base's split_idx): what setup hands each
// transform. Its training part is the base's training part, mapped the same way.
class MappedSource : public ItemSource {
 public:
  MappedSource(const ItemSource* base, const Pipeline* pipeline, std::shared_ptr<const ItemSource> keep = nullptr)
      : base_(base), pipeline_(pipeline), keep_(std::move(keep)) {}
  int64_t size() const override { return base_->size(); }
  Item get(int64_t i) const override { return pipeline_->apply(base_->get(i), base_->split_idx()); }
  std::optional<int> split_idx() const override { return base_->split_idx(); }
  std::shared_ptr<const ItemSource> train_part() const override;

 private:
  const ItemSource* base_;
  const Pipeline* pipeline_;
  std::shared_ptr<const ItemSource> keep_;  // keeps base_ alive when it is a temporary
};

}  // namespace strata::data
