// Pipeline: sorted composition, setup in order over progressively mapped items, (partial) decode.
#include "data/pipeline.h"

#include <algorithm>

namespace strata::data {

Pipeline::Pipeline(std::vector<TfmPtr> fs, std::optional<int> split) : split_idx(split), fs_(std::move(fs)) {
  for (const auto& t : fs_) STRATA_CHECK(t != nullptr, ValueError, "Pipeline: a transform is null");
  sort();
}

void Pipeline::sort() {
  std::stable_sort(fs_.begin(), fs_.end(), [](const TfmPtr& a, const TfmPtr& b) { return a->order < b->order; });
}

void Pipeline::setup(const ItemSource* items, bool train_setup, const std::function<void(const Transform&)>& on_step) {
  std::vector<TfmPtr> tfms = std::move(fs_);
  fs_.clear();
  for (size_t i = 0; i < tfms.size(); ++i) {
    const TfmPtr& t = tfms[i];
    try {
      if (on_step) on_step(*t);
      if (items) {
        MappedSource view(items, this);
        t->setup(&view, train_setup);
      } else {
        t->setup(nullptr, train_setup);
      }
    } catch (...) {
      // Leave the pipeline whole (the failed and later transforms not set up) and rethrow.
      fs_.insert(fs_.end(), tfms.begin() + static_cast<std::ptrdiff_t>(i), tfms.end());
      sort();
      throw;
    }
    fs_.push_back(t);
  }
  sort();
}

void Pipeline::add(TfmPtr t, const ItemSource* items, bool train_setup) {
  STRATA_CHECK(t != nullptr, ValueError, "Pipeline::add: the transform is null");
  if (items) {
    MappedSource view(items, this);
    t->setup(&view, train_setup);
  } else {
    t->setup(nullptr, train_setup);
  }
  fs_.push_back(std::move(t));
  sort();
}

Item Pipeline::apply(const Item& x, std::optional<int> split) const {
  Item y = x;
  for (const auto& t : fs_) y = (*t)(y, split);
  return y;
}

Item Pipeline::decode(const Item& x, bool full, std::optional<int> split) const {
  Item y = x;
  for (auto it = fs_.rbegin(); it != fs_.rend(); ++it) {
    if (!full && is_showable(y)) return y;
    y = (*it)->decode(y, split);
  }
  return y;
}

std::string Pipeline::str() const {
  std::string s = "Pipeline:";
  for (size_t i = 0; i < fs_.size(); ++i) s += (i ? " -> " : " ") + fs_[i]->str();
  return s;
}

std::shared_ptr<const ItemSource> MappedSource::train_part() const {
  auto tr = base_->train_part();
  if (!tr) return nullptr;
  return std::make_shared<MappedSource>(tr.get(), pipeline_, tr);
}

}  // namespace strata::data
