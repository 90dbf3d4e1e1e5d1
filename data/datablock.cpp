// DataBlock: assembling pipelines from blocks and getters; summary() as a step-by-step trace.
#include "data/datablock.h"

#include <sstream>

namespace strata::data {

DataBlock::DataBlock(DataBlockOptions opts) : opts_(std::move(opts)) {
  const int n = static_cast<int>(opts_.blocks.size());
  STRATA_CHECK(n >= 1, ValueError, "DataBlock: at least one block is needed");
  n_inp_ = opts_.n_inp ? *opts_.n_inp : std::max(1, n - 1);
  STRATA_CHECK(n_inp_ >= 1 && n_inp_ <= n, ValueError, "DataBlock: n_inp {} for {} blocks", n_inp_, n);
  if (!opts_.splitter) opts_.splitter = RandomSplitter();
  getter_tfms_.assign(static_cast<size_t>(n), nullptr);
  if (!opts_.getters.empty()) {
    STRATA_CHECK(static_cast<int>(opts_.getters.size()) == n, ValueError,
                 "DataBlock: {} getters for {} blocks (give one per block)", opts_.getters.size(), n);
    for (int i = 0; i < n; ++i)
      if (opts_.getters[i]) getter_tfms_[i] = make_transform("getter " + std::to_string(i), opts_.getters[i]);
  } else {
    for (int i = 0; i < n; ++i) {
      if (i < n_inp_ && opts_.get_x) getter_tfms_[i] = make_transform("get_x", opts_.get_x);
      if (i >= n_inp_ && opts_.get_y) getter_tfms_[i] = make_transform("get_y", opts_.get_y);
    }
  }
}

std::vector<std::vector<TfmPtr>> DataBlock::type_tfms() const {
  std::vector<std::vector<TfmPtr>> out;
  for (size_t i = 0; i < opts_.blocks.size(); ++i) {
    std::vector<TfmPtr> p;
    if (getter_tfms_[i]) p.push_back(getter_tfms_[i]);
    p.insert(p.end(), opts_.blocks[i].type_tfms.begin(), opts_.blocks[i].type_tfms.end());
    out.push_back(std::move(p));
  }
  return out;
}

namespace {
// fastai's _merge_tfms: one transform per name (two image blocks both bring a ToTensor).
std::vector<TfmPtr> dedupe(const std::vector<TfmPtr>& tfms) {
  std::vector<TfmPtr> out;
  for (const auto& t : tfms) {
    bool seen = false;
    for (const auto& o : out) seen |= o->name == t->name;
    if (!seen) out.push_back(t);
  }
  return out;
}
}  // namespace

std::vector<TfmPtr> DataBlock::item_tfms() const {
  std::vector<TfmPtr> out;
  for (const auto& b : opts_.blocks) out.insert(out.end(), b.item_tfms.begin(), b.item_tfms.end());
  out.insert(out.end(), opts_.item_tfms.begin(), opts_.item_tfms.end());
  return dedupe(out);
}

std::vector<TfmPtr> DataBlock::batch_tfms() const {
  std::vector<TfmPtr> out;
  for (const auto& b : opts_.blocks) out.insert(out.end(), b.batch_tfms.begin(), b.batch_tfms.end());
  out.insert(out.end(), opts_.batch_tfms.begin(), opts_.batch_tfms.end());
  return dedupe(out);
}

std::vector<Item> DataBlock::items(const Item& source) const {
  if (opts_.get_items) return opts_.get_items(source);
  STRATA_CHECK(source.is_sequence(), ValueError,
               "DataBlock: no get_items, so the source must be a list of items, got {} {}", source.kind_name(),
               source.repr());
  return source.elems();
}

Datasets DataBlock::datasets(const Item& source) const {
  std::vector<Item> its = items(source);
  Splits splits = opts_.splitter(its);
  return Datasets(std::move(its), type_tfms(), {.splits = std::move(splits), .n_inp = n_inp_});
}

DataLoaders DataBlock::dataloaders(const Item& source, DataLoadersOptions o) const {
  Datasets ds = datasets(source);
  std::vector<TfmPtr> it = item_tfms();
  it.insert(it.end(), o.item_tfms.begin(), o.item_tfms.end());
  std::vector<TfmPtr> bt = batch_tfms();
  bt.insert(bt.end(), o.batch_tfms.begin(), o.batch_tfms.end());
  o.item_tfms = dedupe(it);
  o.batch_tfms = dedupe(bt);
  if (!o.before_batch)
    for (const auto& b : opts_.blocks)
      if (b.before_batch) o.before_batch = b.before_batch;
  return DataLoaders::from_datasets(ds, std::move(o));
}

// ---- summary ----
namespace {

std::string batch_str(const Item& b) {
  if (!b.is_tuple()) return b.repr();
  std::string s;
  for (size_t i = 0; i < b.size(); ++i) {
    const Item& e = b[i];
    s += "\n    " + std::to_string(i) + ": ";
    if (e.is_tensor()) s += semantic_name(e.tensor()) + " of shape " + e.tensor().shape().str() + " " +
                            std::string(dtype_name(e.tensor().dtype()));
    else s += e.repr();
  }
  return s;
}

// Walks x through `p`'s transforms one at a time; false (and the failing step reported) on error.
bool walk(std::ostringstream& s, const Pipeline& p, Item& x, std::optional<int> split_idx, const std::string& indent,
          bool batch) {
  for (const auto& t : p.fs()) {
    try {
      x = (*t)(x, split_idx);
    } catch (const std::exception& e) {
      s << indent << "applying " << t->name << " failed.\n" << indent << "  Error: " << e.what() << "\n";
      return false;
    }
    s << indent << "applying " << t->name << " gives";
    if (batch) s << batch_str(x) << "\n";
    else s << "\n" << indent << "  " << x.repr() << "\n";
  }
  return true;
}

}  // namespace

std::string DataBlock::summary(const Item& source, std::ostream* out, int64_t bs) const {
  std::ostringstream s;
  auto finish = [&]() {
    std::string text = s.str();
    if (out) *out << text << std::flush;
    return text;
  };

  // 1. items and splits
  std::vector<Item> its;
  s << "Setting-up type transforms pipelines\n";
  s << "Collecting items from " << source.repr() << "\n";
  try {
    its = items(source);
  } catch (const std::exception& e) {
    s << "Collecting items failed.\n  Error: " << e.what() << "\n";
    return finish();
  }
  s << "Found " << its.size() << " items\n";
  Splits splits;
  try {
    splits = opts_.splitter(its);
  } catch (const std::exception& e) {
    s << "Splitting the items failed.\n  Error: " << e.what() << "\n";
    return finish();
  }
  s << splits.size() << " datasets of sizes ";
  for (size_t i = 0; i < splits.size(); ++i) s << (i ? "," : "") << splits[i].size();
  s << "\n";

  // 2. one pipeline per block, set up step by step
  std::vector<TfmdLists> tls;
  auto tfms = type_tfms();
  for (auto& p : tfms) {
    TfmdLists tl(its, p, {.splits = splits, .do_setup = false});
    s << "Setting up " << tl.tfms().str() << "\n";
    const std::vector<TfmPtr> steps = tl.tfms().fs();
    std::string current;
    try {
      tl.setup(true, [&](const Transform& t) { current = t.name; });
    } catch (const std::exception& e) {
      // Find which earlier step fails on which training item (setup maps items through them).
      const std::vector<int64_t>& train = splits.empty() ? std::vector<int64_t>{} : splits[0];
      for (int64_t idx : train) {
        Item x = its[static_cast<size_t>(idx)];
        for (const auto& t : steps) {
          if (t->name == current) break;
          try {
            x = (*t)(x, 0);
          } catch (const std::exception& e2) {
            s << "Setting up " << current << " failed: applying " << t->name << " to " << its[static_cast<size_t>(idx)].repr()
              << " failed.\n  Error: " << e2.what() << "\n";
            return finish();
          }
        }
      }
      s << "Setting up " << current << " failed.\n  Error: " << e.what() << "\n";
      return finish();
    }
    tls.push_back(std::move(tl));
  }
  Datasets dsets(tls, n_inp_);

  // 3. one sample, step by step
  const int64_t first = splits.empty() || splits[0].empty() ? 0 : splits[0][0];
  if (its.empty()) {
    s << "No items: nothing more to show\n";
    return finish();
  }
  s << "\nBuilding one sample\n";
  std::vector<Item> sample;
  for (const auto& tl : dsets.tls()) {
    s << "  " << tl.tfms().str() << "\n";
    Item x = its[static_cast<size_t>(first)];
    s << "    starting from\n      " << x.repr() << "\n";
    if (!walk(s, tl.tfms(), x, 0, "    ", false)) return finish();
    sample.push_back(x);
  }
  Item final_sample = Item::tuple(sample);
  s << "\nFinal sample: " << final_sample.repr() << "\n";

  // 4. one batch
  s << "\nCollecting items from the training set to build one batch\n";
  Datasets train = splits.empty() ? dsets : dsets.train();
  Pipeline item_p(item_tfms());
  Pipeline batch_p(batch_tfms());
  try {
    if (!item_p.empty()) item_p.setup(&train, false);
  } catch (const std::exception& e) {
    s << "Setting up item_tfms failed.\n  Error: " << e.what() << "\n";
    return finish();
  }
  const int64_t nb = std::min<int64_t>(bs, train.size());
  std::vector<Item> samples;
  s << "Applying item_tfms to the first sample:\n  " << item_p.str() << "\n    starting from\n      "
    << final_sample.repr() << "\n";
  Item x0 = final_sample;
  if (!walk(s, item_p, x0, 0, "    ", false)) return finish();
  samples.push_back(x0);
  s << "\nAdding the next " << nb - 1 << " samples\n";
  for (int64_t i = 1; i < nb; ++i) {
    try {
      samples.push_back(item_p.apply(train.get(i), 0));
    } catch (const std::exception& e) {
      s << "Making sample " << i << " failed.\n  Error: " << e.what() << "\n";
      return finish();
    }
  }
  std::function<std::vector<Item>(std::vector<Item>)> before_batch;
  for (const auto& b : opts_.blocks)
    if (b.before_batch) before_batch = b.before_batch;
  if (before_batch) {
    s << "\nApplying before_batch to the list of samples\n";
    try {
      samples = before_batch(std::move(samples));
    } catch (const std::exception& e) {
      s << "  before_batch failed.\n  Error: " << e.what() << "\n";
      return finish();
    }
  } else {
    s << "\nNo before_batch transform to apply\n";
  }
  s << "\nCollating items in a batch\n";
  Item batch;
  try {
    batch = retain_batch_types(collate(samples), samples[0]);
  } catch (const std::exception& e) {
    s << "Collating the items failed.\n  Error: " << e.what() << "\n";
    return finish();
  }
  s << "  batch:" << batch_str(batch) << "\n";
  if (batch_p.empty()) {
    s << "\nNo batch_tfms to apply\n";
    return finish();
  }
  struct One : ItemSource {
    Item b;
    int64_t size() const override { return 1; }
    Item get(int64_t) const override { return b; }
    std::optional<int> split_idx() const override { return 0; }
  } one;
  one.b = batch;
  try {
    batch_p.setup(&one, false);
  } catch (const std::exception& e) {
    s << "Setting up batch_tfms failed.\n  Error: " << e.what() << "\n";
    return finish();
  }
  s << "\nApplying batch_tfms to the batch built\n  " << batch_p.str() << "\n    starting from" << batch_str(batch) << "\n";
  walk(s, batch_p, batch, 0, "    ", true);
  return finish();
}

}  // namespace strata::data
