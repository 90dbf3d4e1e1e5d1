#pragma once
// DataLoaders: fastai's DataLoaders, the training and validation loaders (and any more) of one
// data set. from_datasets() follows fastai's Datasets.dataloaders: the training loader shuffles
// and drops the last partial batch, the validation one does neither; both move batches to
// `device`.
//
//   DataLoaders dls = DataLoaders::from_datasets(dsets, {.bs = 64, .seed = 0});
//   for (const Batch& b : dls.train()) ...;   dls.one_batch();   dls.test_dl(new_items);
#include <memory>
#include <optional>
#include <vector>

#include "data/dataloader.h"
#include "data/datasets.h"
#include "data/show.h"

namespace strata::data {

struct DataLoadersOptions {
  int64_t bs = 64;
  std::optional<int64_t> val_bs{};     // default: bs
  bool shuffle = true;               // the training loader
  std::optional<bool> drop_last{};     // the training loader (default: shuffle)
  std::optional<uint64_t> seed{};
  int num_workers = 0;
  std::optional<Device> device{};
  std::vector<TfmPtr> item_tfms{};     // after_item of every loader
  std::vector<TfmPtr> batch_tfms{};    // after_batch of every loader
  std::function<std::vector<Item>(std::vector<Item>)> before_batch{};  // of every loader
};

class DataLoaders {
 public:
  DataLoaders() = default;
  explicit DataLoaders(std::vector<std::shared_ptr<DataLoader>> loaders, std::optional<Device> device = std::nullopt,
                       std::shared_ptr<const Datasets> dsets = nullptr);
  static DataLoaders from_datasets(const Datasets& dsets, DataLoadersOptions opts = {});

  DataLoader& train() const { return at(0); }
  DataLoader& valid() const { return at(1); }
  DataLoader& operator[](size_t i) const { return at(i); }
  size_t size() const { return loaders_.size(); }
  const std::vector<std::shared_ptr<DataLoader>>& loaders() const { return loaders_; }
  std::optional<Device> device() const { return device_; }
  const std::shared_ptr<const Datasets>& datasets() const { return dsets_; }
  int n_inp() const { return dsets_ ? dsets_->n_inp() : 1; }

  // A batch from the training loader.
  Batch one_batch() const { return train().one_batch(); }
  // A loader over new raw items through the input pipelines (the first n_inp; all of them
  // with_labels), set up as for validation (split_idx 1, no shuffling): fastai's test_dl.
  std::shared_ptr<DataLoader> test_dl(std::vector<Item> items, bool with_labels = false) const;
  // A copy whose loaders are new_(...) with options changed by `change`.
  DataLoaders new_(const std::function<void(DataLoaderOptions&)>& change) const;
  // A text listing of one decoded batch (up to max_n items): fastai's show_batch, as text.
  std::string show_batch(int64_t max_n = 9) const;
  // fastai's show_batch as a picture: one training batch, decoded (Normalize undone, categories
  // as their labels), drawn as a PNG grid at `png` with titles, mask overlays and labelled boxes.
  void show_batch(const std::filesystem::path& png, const GridOptions& opts = {}) const;

 private:
  DataLoader& at(size_t i) const;
  std::vector<std::shared_ptr<DataLoader>> loaders_;
  std::optional<Device> device_;
  std::shared_ptr<const Datasets> dsets_;
};

}  // namespace strata::data
