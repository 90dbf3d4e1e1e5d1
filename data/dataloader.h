#pragma once
// DataLoader: fastai's DataLoader (data/load.py) + TfmdDL, in C++ with worker threads.
//
// One epoch: randomize() -> before_iter() -> get_idxs() (shuffled by shuffle_fn when `shuffle`)
// -> sample(idxs) splits them into batches of sample indices -> for each batch, do_batch over
// the items do_item made (create_item + after_item; an item that throws SkipItem is dropped) ->
// before_batch -> create_batch (collate) -> retain -> to_device -> after_batch -> the consumer;
// after_iter() when the epoch is exhausted.
//
// Every step is a named customization point. Replace one by subclassing (override the virtual)
// or by passing a callable in DataLoaderOptions (the default virtual calls it when set):
//
//   DataLoader dl(ds, {.bs = 32, .shuffle = true, .seed = 42, .num_workers = 2,
//                      .after_batch = [](Item b) { return normalize(b); }});
//   for (const Batch& b : dl) { const Tensor& x = b[0]; const Tensor& y = b[1]; ... }
//
// Iterating: range-for over the loader gives `const Batch&` (std::vector<Tensor>, one tensor per
// tuple element, each keeping its semantic type). One epoch per range-for; breaking out early
// is fine (workers are stopped). Iterate one loader from one thread at a time.
//
// Workers: with num_workers > 0, that many threads make batches ahead of the consumer (at most
// num_workers * prefetch in flight). Batches come out in order, and results are reproducible:
// each batch's transforms draw from an Rng seeded by (seed, epoch, batch index) (data/rng.h),
// so num_workers = 0, 1 or 8 give identical batches for a seed. The steps that run on worker
// threads (create_item, after_item, before_batch, create_batch, retain, do_item, do_batch) must
// be thread-safe; the others run on the consumer's thread.
//
// Lifetime: an iterator refers to its loader; keep the loader alive while iterating.
//
// SkipItem: a batch loses the skipped item (it is not refilled from the next batch, so batches
// stay independent and reproducible); a batch whose items are all skipped is not yielded.
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <vector>

#include "data/collate.h"
#include "data/pipeline.h"
#include "data/rng.h"
#include "data/source.h"
#include "tensor/device.h"

namespace strata::data {

struct DataLoaderOptions {
  int64_t bs = 64;
  bool shuffle = false;
  bool drop_last = false;
  std::optional<uint64_t> seed{};   // none: a random seed chosen at construction
  int num_workers = 0;
  int prefetch = 2;               // batches in flight per worker
  std::optional<Device> device{};   // batches are moved there before after_batch
  std::optional<int64_t> n{};       // number of items (default: the dataset's size)
  // fastai's TfmdDL pipelines, run with the dataset's split_idx. Set up at construction
  // (do_setup): item tfms over the dataset's items, batch tfms over one batch.
  std::vector<TfmPtr> item_tfms{};   // after_item
  std::vector<TfmPtr> batch_tfms{};  // after_batch
  bool do_setup = true;

  // ---- callables replacing the default of a customization point (see DataLoader) ----
  std::function<std::vector<int64_t>()> get_idxs{};
  std::function<std::vector<std::vector<int64_t>>(const std::vector<int64_t>&)> sample{};
  std::function<std::vector<int64_t>(std::vector<int64_t>, Rng&)> shuffle_fn{};
  std::function<void()> randomize{};
  std::function<Item(int64_t)> create_item{};
  std::function<Item(Item)> after_item{};
  std::function<std::vector<Item>(std::vector<Item>)> before_batch{};
  std::function<Item(const std::vector<Item>&)> create_batch{};
  std::function<Item(const std::vector<Item>&)> collate{};
  std::function<Item(Item, const std::vector<Item>&)> retain{};
  std::function<Item(Item)> after_batch{};
  std::function<void()> before_iter{};
  std::function<void()> after_iter{};
  std::function<std::optional<Item>(int64_t)> do_item{};
  std::function<Item(std::vector<Item>)> do_batch{};
  std::function<Item(Item, Device)> to_device{};
};

class DataLoader {
 public:
  DataLoader(std::shared_ptr<const ItemSource> dataset, DataLoaderOptions opts = {});
  virtual ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  // ---- sizes ----
  int64_t n() const;      // items per epoch
  int64_t size() const;   // batches per epoch: n/bs, plus one for a partial batch unless drop_last
  int64_t bs() const { return opts_.bs; }
  const DataLoaderOptions& options() const { return opts_; }
  const std::shared_ptr<const ItemSource>& dataset() const { return dataset_; }
  uint64_t seed() const { return seed_; }
  int64_t epoch() const { return epoch_; }  // epochs started so far (randomize() counts them)
  std::optional<int> split_idx() const { return dataset_ ? dataset_->split_idx() : std::nullopt; }
  const Pipeline& item_pipeline() const { return item_tfms_; }
  const Pipeline& batch_pipeline() const { return batch_tfms_; }
  Pipeline& item_pipeline() { return item_tfms_; }
  Pipeline& batch_pipeline() { return batch_tfms_; }

  // ---- customization points (consumer thread) ----
  // The sample indices of one epoch: 0..n-1, shuffled by shuffle_fn when shuffle.
  virtual std::vector<int64_t> get_idxs();
  // The epoch's batches of sample indices (fastai's sample + chunkify): chunks of bs,
  // the last partial chunk dropped when drop_last.
  virtual std::vector<std::vector<int64_t>> sample(const std::vector<int64_t>& idxs);
  virtual std::vector<int64_t> shuffle_fn(std::vector<int64_t> idxs, Rng& rng);
  // Starts a new epoch's random state (default: epoch += 1).
  virtual void randomize();
  virtual void before_iter();
  virtual void after_iter();
  virtual Item to_device(Item batch, Device device) const;
  virtual Item after_batch(Item batch) const;  // default: the batch_tfms pipeline

  // ---- customization points (worker threads; must be thread-safe) ----
  virtual Item create_item(int64_t i) const;  // default: dataset->get(i)
  virtual Item after_item(Item x) const;      // default: the item_tfms pipeline
  virtual std::vector<Item> before_batch(std::vector<Item> items) const;
  virtual Item create_batch(const std::vector<Item>& items) const;  // default: collate
  virtual Item collate(const std::vector<Item>& items) const;       // default: data::collate
  virtual Item retain(Item batch, const std::vector<Item>& items) const;  // types of items[0]
  // create_item + after_item; nullopt when the item threw SkipItem.
  virtual std::optional<Item> do_item(int64_t i) const;
  // retain(create_batch(before_batch(items)), items).
  virtual Item do_batch(std::vector<Item> items) const;

  // ---- iteration ----
  class Iterator;
  Iterator begin();
  std::default_sentinel_t end() { return {}; }
  // The first batch of a new epoch, made on this thread (fastai's one_batch). ValueError when
  // the loader has no batches.
  Batch one_batch();
  // fastai's decode: the batch through the batch_tfms' decodes (reverse order), as a tuple Item.
  Item decode(const Batch& batch) const;
  // fastai's decode_batch: up to max_n samples of the batch, each decoded through batch_tfms,
  // item_tfms and (when the dataset is a Datasets or TfmdLists) the dataset's pipelines:
  // ready to show (a category comes back as its label, an image as a host Image).
  std::vector<Item> decode_batch(const Batch& batch, int64_t max_n = 9, bool full = true) const;
  // A loader like this one (same options, callables and set-up transforms, fresh epoch count),
  // over `dataset` (null: the same) with options changed by `change`.
  std::shared_ptr<DataLoader> new_(std::shared_ptr<const ItemSource> dataset = nullptr,
                                   const std::function<void(DataLoaderOptions&)>& change = {}) const;
  std::shared_ptr<DataLoader> new_(const std::function<void(DataLoaderOptions&)>& change) const {
    return new_(nullptr, change);
  }

  struct Epoch;  // the state of one pass (worker threads, results in flight); dataloader.cpp

 private:
  friend struct Epoch;
  DataLoader(std::shared_ptr<const ItemSource> dataset, DataLoaderOptions opts, const Pipeline* item_tfms,
             const Pipeline* batch_tfms, uint64_t seed);
  void setup_pipelines();

  std::shared_ptr<const ItemSource> dataset_;
  DataLoaderOptions opts_;
  uint64_t seed_ = 0;
  int64_t epoch_ = 0;
  Pipeline item_tfms_;
  Pipeline batch_tfms_;
};

// Input iterator over one epoch's batches. Move-only in effect: copies share the epoch.
class DataLoader::Iterator {
 public:
  using value_type = Batch;
  using difference_type = std::ptrdiff_t;
  using reference = const Batch&;
  using iterator_category = std::input_iterator_tag;

  Iterator() = default;
  explicit Iterator(std::shared_ptr<Epoch> epoch);
  const Batch& operator*() const { return current_; }
  const Batch* operator->() const { return &current_; }
  Iterator& operator++();
  void operator++(int) { ++*this; }
  bool operator==(std::default_sentinel_t) const { return done_; }

 private:
  std::shared_ptr<Epoch> epoch_;
  Batch current_;
  bool done_ = true;
};

}  // namespace strata::data
