// DataLoaders: train/valid loaders from Datasets, test_dl, new_, show_batch as text or PNG.
#include "data/dataloaders.h"

#include "data/show_items.h"

namespace strata::data {

DataLoaders::DataLoaders(std::vector<std::shared_ptr<DataLoader>> loaders, std::optional<Device> device,
                         std::shared_ptr<const Datasets> dsets)
    : loaders_(std::move(loaders)), device_(device), dsets_(std::move(dsets)) {}

DataLoader& DataLoaders::at(size_t i) const {
  STRATA_CHECK(i < loaders_.size(), IndexError, "DataLoaders: no loader {} (there are {})", i, loaders_.size());
  return *loaders_[i];
}

DataLoaders DataLoaders::from_datasets(const Datasets& dsets, DataLoadersOptions o) {
  auto shared = std::make_shared<const Datasets>(dsets);
  std::vector<std::shared_ptr<DataLoader>> loaders;
  const int n = std::max(1, dsets.n_subsets());
  for (int i = 0; i < n; ++i) {
    auto ds = dsets.n_subsets() == 0 ? std::make_shared<const Datasets>(dsets)
                                     : std::make_shared<const Datasets>(dsets.subset(i));
    const bool train = i == 0;
    DataLoaderOptions lo{
        .bs = train ? o.bs : o.val_bs.value_or(o.bs),
        .shuffle = train && o.shuffle,
        .drop_last = train && o.drop_last.value_or(o.shuffle),
        .seed = o.seed ? std::optional<uint64_t>(mix_seed({*o.seed, static_cast<uint64_t>(i)})) : std::nullopt,
        .num_workers = o.num_workers,
        .device = o.device,
        .item_tfms = o.item_tfms,
        .batch_tfms = o.batch_tfms,
    };
    lo.before_batch = o.before_batch;
    loaders.push_back(std::make_shared<DataLoader>(ds, std::move(lo)));
  }
  return DataLoaders(std::move(loaders), o.device, shared);
}

std::shared_ptr<DataLoader> DataLoaders::test_dl(std::vector<Item> items, bool with_labels) const {
  STRATA_CHECK(dsets_ != nullptr, ValueError, "DataLoaders::test_dl: these loaders were not made from Datasets");
  std::vector<TfmdLists> tls;
  const auto& src = dsets_->tls();
  const size_t n = with_labels ? src.size() : static_cast<size_t>(dsets_->n_inp());
  for (size_t i = 0; i < n; ++i) tls.emplace_back(items, src[i].pipeline(), TfmdListsOptions{.split_idx = 1});
  auto ds = std::make_shared<const Datasets>(std::move(tls), dsets_->n_inp());
  const DataLoader& base = loaders_.size() > 1 ? valid() : train();
  return base.new_(ds, [](DataLoaderOptions& o) {
    o.shuffle = false;
    o.drop_last = false;
  });
}

DataLoaders DataLoaders::new_(const std::function<void(DataLoaderOptions&)>& change) const {
  std::vector<std::shared_ptr<DataLoader>> out;
  for (const auto& dl : loaders_) out.push_back(dl->new_(change));
  return DataLoaders(std::move(out), device_, dsets_);
}

std::string DataLoaders::show_batch(int64_t max_n) const {
  DataLoader& dl = train();
  std::string s;
  for (const Item& x : dl.decode_batch(dl.one_batch(), max_n)) {
    if (x.is_tuple() && dsets_) {
      for (size_t i = 0; i < x.size(); ++i)
        s += (i ? ", " : "") + std::string(static_cast<int>(i) < dsets_->n_inp() ? "x: " : "y: ") + x[i].repr();
    } else {
      s += x.repr();
    }
    s += "\n";
  }
  return s;
}

void DataLoaders::show_batch(const std::filesystem::path& png, const GridOptions& opts) const {
  DataLoader& dl = train();
  show_samples(dl.decode_batch(dl.one_batch(), opts.max_n), png, opts);
}

}  // namespace strata::data
