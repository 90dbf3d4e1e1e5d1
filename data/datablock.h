#pragma once
// DataBlock: fastai's DataBlock, a declarative recipe from a source (a folder, a table, a list)
// to Datasets and DataLoaders:
//
//   DataBlock mnist({.blocks = {ImageBlock(ImageMode::BW), CategoryBlock()},
//                    .get_items = [](const Item& p) { return to_items(get_image_files(item_path(p))); },
//                    .get_y = parent_label,
//                    .splitter = GrandparentSplitter()});
//   DataLoaders dls = mnist.dataloaders(Item(path), {.bs = 64, .seed = 0});
//   std::cout << mnist.summary(Item(path));   // every step for one item; where and why one fails
//
// Assembly (as fastai): one pipeline per block = [getter] + block.type_tfms; getters come from
// `getters` (one per block) or get_x for the first n_inp blocks and get_y for the rest; the
// loaders' after_item = blocks' item_tfms + item_tfms, after_batch = blocks' batch_tfms +
// batch_tfms. n_inp defaults to max(1, blocks - 1); the splitter to RandomSplitter().
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "data/block.h"
#include "data/dataloaders.h"
#include "data/datasets.h"
#include "data/splitters.h"

namespace strata::data {

using Getter = std::function<Item(const Item&)>;

struct DataBlockOptions {
  std::vector<TransformBlock> blocks{};
  std::optional<int> n_inp{};
  std::function<std::vector<Item>(const Item&)> get_items{};  // none: the source is a list of items
  Getter get_x{};
  Getter get_y{};
  std::vector<Getter> getters{};  // one per block; overrides get_x / get_y
  Splitter splitter{};            // none: RandomSplitter()
  std::vector<TfmPtr> item_tfms{};
  std::vector<TfmPtr> batch_tfms{};
};

class DataBlock {
 public:
  explicit DataBlock(DataBlockOptions opts);

  // The items of a source: get_items(source), or the source's elements when it is a tuple/list
  // and there is no get_items.
  std::vector<Item> items(const Item& source) const;
  Datasets datasets(const Item& source) const;
  DataLoaders dataloaders(const Item& source, DataLoadersOptions opts = {}) const;
  // Walks one item through every step, printing what each gives (to `out` when not null) and
  // returning the text. A failing step is reported with its name and the error; nothing throws.
  std::string summary(const Item& source, std::ostream* out = &std::cout, int64_t bs = 4) const;

  int n_inp() const { return n_inp_; }
  // The type pipelines' transforms (getter first) per block.
  std::vector<std::vector<TfmPtr>> type_tfms() const;
  std::vector<TfmPtr> item_tfms() const;
  std::vector<TfmPtr> batch_tfms() const;
  const DataBlockOptions& options() const { return opts_; }

 private:
  DataBlockOptions opts_;
  int n_inp_ = 1;
  std::vector<TfmPtr> getter_tfms_;  // per block, null for none
};

}  // namespace strata::data
