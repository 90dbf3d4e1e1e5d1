// Adapter from data::DataLoader to train::Loader: the epoch iterator keeps the data loader's
// range-for iterator (which owns the worker threads of that epoch) and copies out each batch.
#include "train/from_data.h"

#include "tensor/error.h"

namespace strata::train {

namespace {

class DataEpoch : public BatchIterator {
 public:
  explicit DataEpoch(std::shared_ptr<data::DataLoader> dl) : dl_(std::move(dl)), it_(dl_->begin()) {}
  bool next(Batch& out) override {
    if (!started_) {
      started_ = true;
    } else if (!(it_ == std::default_sentinel)) {
      ++it_;
    }
    if (it_ == std::default_sentinel) return false;
    out = *it_;
    return true;
  }

 private:
  std::shared_ptr<data::DataLoader> dl_;  // keeps the loader alive while its epoch runs
  data::DataLoader::Iterator it_;
  bool started_ = false;
};

}  // namespace

DataLoaderAdapter::DataLoaderAdapter(std::shared_ptr<data::DataLoader> dl, int n_inp)
    : dl_(std::move(dl)), n_inp_(n_inp) {
  STRATA_CHECK(dl_ != nullptr, ValueError, "from_data: the data loader is null");
  STRATA_CHECK(n_inp_ >= 1, ValueError, "from_data: n_inp must be at least 1, got {}", n_inp_);
}

Device DataLoaderAdapter::device() const { return dl_->options().device.value_or(Device::cpu()); }

std::unique_ptr<BatchIterator> DataLoaderAdapter::epoch() { return std::make_unique<DataEpoch>(dl_); }

std::shared_ptr<Loader> from_data(std::shared_ptr<data::DataLoader> dl, int n_inp) {
  return std::make_shared<DataLoaderAdapter>(std::move(dl), n_inp);
}

DataLoaders from_data(const data::DataLoaders& dls) {
  STRATA_CHECK(dls.size() >= 2, ValueError, "from_data: need train and valid loaders, got {}", dls.size());
  DataLoaders out;
  out.train = from_data(dls.loaders()[0], dls.n_inp());
  out.valid = from_data(dls.loaders()[1], dls.n_inp());
  out.device = dls.device();
  return out;
}

}  // namespace strata::train
