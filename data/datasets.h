#pragma once
// Datasets: fastai's Datasets, several pipelines (one TfmdLists each) over the same raw items;
// item i is the tuple (pipeline_0(items[i]), pipeline_1(items[i]), ...). The first n_inp
// elements are inputs, the rest targets (n_inp defaults to max(1, pipelines - 1)).
//
//   Datasets ds(files, {{load}, {parent_label_tfm, categorize}}, {.splits = splitter(files)});
//   Item xy = ds.train()[0];           // (x, y)
//   ds.decode(xy);                     // (x decoded, 'cat')
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "data/tfmd_lists.h"

namespace strata::data {

struct DatasetsOptions {
  Splits splits{};
  std::optional<int> n_inp{};
  std::optional<int> split_idx{};
  bool do_setup = true;
};

class Datasets : public ItemSource {
 public:
  Datasets() = default;
  Datasets(std::vector<Item> items, std::vector<std::vector<TfmPtr>> tfms, DatasetsOptions opts = {});
  // From existing lists (all of the same length).
  Datasets(std::vector<TfmdLists> tls, std::optional<int> n_inp = std::nullopt);

  int64_t size() const override { return tls_.empty() ? 0 : tls_[0].size(); }
  Item get(int64_t i) const override;  // a tuple, one element per pipeline
  Item operator[](int64_t i) const { return get(i); }
  std::optional<int> split_idx() const override { return tls_.empty() ? std::nullopt : tls_[0].split_idx(); }
  std::shared_ptr<const ItemSource> train_part() const override;

  Datasets subset(int i) const;
  Datasets train() const { return subset(0); }
  Datasets valid() const { return subset(1); }
  int n_subsets() const { return tls_.empty() ? 0 : tls_[0].n_subsets(); }
  const Splits& splits() const;

  int n_inp() const { return n_inp_; }
  const std::vector<TfmdLists>& tls() const { return tls_; }
  // Decodes each element of a tuple x with its own pipeline (fastai's Datasets.decode).
  Item decode(const Item& x, bool full = true) const;
  // Text rendering of a decoded item: "x: ..., y: ..." (fastai's show, as text).
  std::string show(const Item& x) const;
  std::vector<Item> items() const { return tls_.empty() ? std::vector<Item>{} : tls_[0].items(); }

 private:
  std::vector<TfmdLists> tls_;
  int n_inp_ = 1;
};

}  // namespace strata::data
