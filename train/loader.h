#pragma once
// The Learner's view of data: a type-erased loader of batches, so any C++ loader (Strata's
// data::DataLoader, a hand-written reader, tensors already in memory) adopts the Learner without
// being rebuilt on the data layer first (seed section 3.2).
//
// A batch is a vector of tensors whose first `n_inp()` are the model's inputs and the rest its
// targets (fastai's xb / yb split). One epoch is one call to `epoch()`, which returns an iterator
// that yields `size()` batches (a loader may yield fewer; the Learner counts what it gets).
//
//   auto train = std::make_shared<train::TensorLoader>(std::vector<Tensor>{x, y},
//                                                      train::TensorLoaderOptions{.bs = 64, .shuffle = true});
//   auto valid = std::make_shared<train::TensorLoader>(std::vector<Tensor>{xv, yv},
//                                                      train::TensorLoaderOptions{.bs = 128});
//   train::DataLoaders dls{train, valid};
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "tensor/ops/random.h"
#include "tensor/tensor.h"

namespace strata::train {

using Batch = std::vector<Tensor>;

// One pass over a loader. next() fills `out` and returns true, or returns false at the end.
class BatchIterator {
 public:
  virtual ~BatchIterator() = default;
  virtual bool next(Batch& out) = 0;
};

// fastai's DataLoader as the Learner sees it.
class Loader {
 public:
  virtual ~Loader() = default;
  virtual int64_t size() const = 0;        // batches per epoch (len(dl))
  virtual int64_t bs() const = 0;          // batch size
  virtual int n_inp() const { return 1; }  // how many leading tensors of a batch are inputs
  virtual Device device() const { return Device::cpu(); }  // where batches are produced
  // Starts a new epoch (reshuffling when the loader shuffles).
  virtual std::unique_ptr<BatchIterator> epoch() = 0;
  // One batch to look at (fastai's one_batch): the default takes the first batch of a new epoch;
  // TensorLoader returns its first rows without touching its shuffling. Throws ValueError when
  // the loader is empty.
  virtual Batch one_batch();
};

// Adapts any pair of functions to Loader: `make_epoch` returns a function yielding the next
// batch (std::nullopt at the end).
class FunctionLoader : public Loader {
 public:
  using NextFn = std::function<std::optional<Batch>()>;
  FunctionLoader(std::function<NextFn()> make_epoch, int64_t size, int64_t bs, int n_inp = 1,
                 Device device = Device::cpu());
  int64_t size() const override { return size_; }
  int64_t bs() const override { return bs_; }
  int n_inp() const override { return n_inp_; }
  Device device() const override { return device_; }
  std::unique_ptr<BatchIterator> epoch() override;

 private:
  std::function<NextFn()> make_epoch_;
  int64_t size_, bs_;
  int n_inp_;
  Device device_;
};

struct TensorLoaderOptions {
  int64_t bs = 64;
  bool shuffle = false;
  bool drop_last = false;   // drop the last, incomplete batch
  uint64_t seed = 0;        // shuffling: epoch e uses the e-th permutation drawn from this seed
  int n_inp = 1;
  std::optional<Device> device{};  // move batches there (default: where the tensors are)
};

// Batches of rows of tensors already built (fastai's DataLoader over a TensorDataset). Every
// tensor has the same first dimension (the items). Shuffling is reproducible: the same seed
// gives the same sequence of epochs.
class TensorLoader : public Loader {
 public:
  TensorLoader(std::vector<Tensor> tensors, TensorLoaderOptions opts = {});
  int64_t size() const override;
  int64_t bs() const override { return opts_.bs; }
  int n_inp() const override { return opts_.n_inp; }
  Device device() const override;
  std::unique_ptr<BatchIterator> epoch() override;
  Batch one_batch() override;

  int64_t n_items() const { return n_; }
  const std::vector<Tensor>& tensors() const { return tensors_; }
  const TensorLoaderOptions& options() const { return opts_; }
  // The same data with other options (fastai's dl.new): e.g. an unshuffled copy for predictions.
  std::shared_ptr<TensorLoader> with(TensorLoaderOptions opts) const;

 private:
  std::vector<Tensor> tensors_;
  TensorLoaderOptions opts_;
  int64_t n_ = 0;
  Generator gen_;
};

// The training and validation loaders (fastai's DataLoaders). `device`, when set, is where the
// Learner moves every batch and the model.
struct DataLoaders {
  std::shared_ptr<Loader> train;
  std::shared_ptr<Loader> valid;
  std::optional<Device> device{};

  Loader& operator[](int i) const;  // 0: train, 1: valid
  Device batch_device() const;      // `device`, else the train loader's
};

}  // namespace strata::train
