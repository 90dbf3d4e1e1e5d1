#pragma once
// The data layer's loaders as the Learner's loaders. data::DataLoader (transforms, workers,
// DataBlock) and train::Loader (what the Learner iterates) are separate so that the Learner
// takes any C++ loader; this file is the one place that joins the two.
//
//   data::DataLoaders dls = block.dataloaders(path, {.bs = 64});
//   train::Learner learn(train::from_data(dls), model, {...});
#include <memory>

#include "data/dataloader.h"
#include "data/dataloaders.h"
#include "train/loader.h"

namespace strata::train {

// A data::DataLoader seen as a Loader: one epoch() is one range-for over the loader.
class DataLoaderAdapter : public Loader {
 public:
  DataLoaderAdapter(std::shared_ptr<data::DataLoader> dl, int n_inp);
  int64_t size() const override { return dl_->size(); }
  int64_t bs() const override { return dl_->bs(); }
  int n_inp() const override { return n_inp_; }
  Device device() const override;
  std::unique_ptr<BatchIterator> epoch() override;
  const std::shared_ptr<data::DataLoader>& data_loader() const { return dl_; }

 private:
  std::shared_ptr<data::DataLoader> dl_;
  int n_inp_;
};

std::shared_ptr<Loader> from_data(std::shared_ptr<data::DataLoader> dl, int n_inp = 1);
// Train and valid loaders (the first two of `dls`), n_inp from its Datasets, its device.
DataLoaders from_data(const data::DataLoaders& dls);

}  // namespace strata::train
