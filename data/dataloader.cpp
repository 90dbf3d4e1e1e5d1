// DataLoader: the customization points' defaults and the epoch engine (ordered, prefetching
// worker threads; per-batch Rng so results do not depend on thread timing).
#include "data/dataloader.h"

#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "data/datasets.h"

namespace strata::data {

// ---- the epoch engine ----
struct DataLoader::Epoch {
  struct Result {
    std::optional<Item> batch;
    std::exception_ptr err;
  };

  Epoch(DataLoader* loader, std::vector<std::vector<int64_t>> plan, int n_workers)
      : dl(loader), batches(std::move(plan)), epoch_no(static_cast<uint64_t>(loader->epoch_)), workers(n_workers) {
    window = static_cast<size_t>(std::max(1, workers) * std::max(1, dl->opts_.prefetch));
    for (int w = 0; w < workers; ++w) threads.emplace_back([this] { work(); });
  }
  ~Epoch() {
    {
      std::lock_guard<std::mutex> lk(m);
      stop = true;
    }
    cv_work.notify_all();
    for (auto& t : threads) t.join();
  }

  Result make(size_t b) const {
    Result r;
    try {
      RngScope scope(Rng(mix_seed({dl->seed_, epoch_no, static_cast<uint64_t>(b), 1})));
      std::vector<Item> items;
      items.reserve(batches[b].size());
      for (int64_t i : batches[b])
        if (auto x = dl->do_item(i)) items.push_back(std::move(*x));
      if (!items.empty()) r.batch = dl->do_batch(std::move(items));
    } catch (...) {
      r.err = std::current_exception();
    }
    return r;
  }

  void work() {
    for (;;) {
      size_t b;
      {
        std::unique_lock<std::mutex> lk(m);
        cv_work.wait(lk, [&] { return stop || next_claim >= batches.size() || next_claim < next_yield + window; });
        if (stop || next_claim >= batches.size()) return;
        b = next_claim++;
      }
      Result r = make(b);
      {
        std::lock_guard<std::mutex> lk(m);
        ready.emplace(b, std::move(r));
      }
      cv_ready.notify_all();
    }
  }

  // The next batch for the consumer; false at the end of the epoch.
  bool next(Batch& out) {
    for (;;) {
      if (next_yield >= batches.size()) {
        if (!finished) {
          finished = true;
          dl->after_iter();
        }
        return false;
      }
      const size_t b = next_yield;
      Result r;
      if (workers == 0) {
        r = make(b);
        ++next_yield;
      } else {
        std::unique_lock<std::mutex> lk(m);
        cv_ready.wait(lk, [&] { return ready.count(b) > 0; });
        r = std::move(ready[b]);
        ready.erase(b);
        ++next_yield;
        lk.unlock();
        cv_work.notify_all();
      }
      if (r.err) std::rethrow_exception(r.err);
      if (!r.batch) continue;  // every item skipped
      RngScope scope(Rng(mix_seed({dl->seed_, epoch_no, static_cast<uint64_t>(b), 2})));
      Item batch = std::move(*r.batch);
      if (dl->opts_.device) batch = dl->to_device(std::move(batch), *dl->opts_.device);
      batch = dl->after_batch(std::move(batch));
      out = to_batch(batch);
      return true;
    }
  }

  DataLoader* dl;
  std::vector<std::vector<int64_t>> batches;
  uint64_t epoch_no;
  int workers;
  size_t window = 1;
  std::mutex m;
  std::condition_variable cv_work, cv_ready;
  std::map<size_t, Result> ready;
  size_t next_claim = 0;
  size_t next_yield = 0;
  bool stop = false;
  bool finished = false;
  std::vector<std::thread> threads;
};

DataLoader::Iterator::Iterator(std::shared_ptr<Epoch> epoch) : epoch_(std::move(epoch)) {
  done_ = !epoch_->next(current_);
}

DataLoader::Iterator& DataLoader::Iterator::operator++() {
  if (!done_) {
    current_.clear();
    done_ = !epoch_->next(current_);
    if (done_) epoch_.reset();
  }
  return *this;
}

// ---- construction ----
namespace {
uint64_t random_seed() {
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}
}  // namespace

DataLoader::DataLoader(std::shared_ptr<const ItemSource> dataset, DataLoaderOptions opts)
    : dataset_(std::move(dataset)), opts_(std::move(opts)) {
  STRATA_CHECK(opts_.bs >= 1, ValueError, "DataLoader: bs must be >= 1, got {}", opts_.bs);
  STRATA_CHECK(opts_.num_workers >= 0, ValueError, "DataLoader: num_workers must be >= 0, got {}", opts_.num_workers);
  STRATA_CHECK(dataset_ || opts_.n || opts_.create_item, ValueError,
               "DataLoader: no dataset; pass one, or n and a create_item");
  seed_ = opts_.seed ? *opts_.seed : random_seed();
  item_tfms_ = Pipeline(opts_.item_tfms);
  batch_tfms_ = Pipeline(opts_.batch_tfms);
  if (opts_.do_setup) setup_pipelines();
}

DataLoader::DataLoader(std::shared_ptr<const ItemSource> dataset, DataLoaderOptions opts, const Pipeline* item_tfms,
                       const Pipeline* batch_tfms, uint64_t seed)
    : dataset_(std::move(dataset)), opts_(std::move(opts)), seed_(seed), item_tfms_(*item_tfms),
      batch_tfms_(*batch_tfms) {}

DataLoader::~DataLoader() = default;

void DataLoader::setup_pipelines() {
  if (!item_tfms_.empty() && dataset_) {
    Pipeline tfms = item_tfms_;
    item_tfms_ = Pipeline({}, split_idx());
    for (const auto& t : tfms.fs()) item_tfms_.add(t, dataset_.get(), false);
    item_tfms_.split_idx = std::nullopt;
  }
  bool any_batch_setup = false;
  for (const auto& t : batch_tfms_.fs()) any_batch_setup |= t->has_setups();
  if (!batch_tfms_.empty() && n() > 0) {
    // One raw batch (before after_batch), made lazily: only transforms that learn from data look.
    struct OneBatch : ItemSource {
      const DataLoader* dl;
      mutable std::optional<Item> cached;
      explicit OneBatch(const DataLoader* d) : dl(d) {}
      int64_t size() const override { return 1; }
      std::optional<int> split_idx() const override { return dl->split_idx(); }
      Item get(int64_t) const override {
        if (!cached) {
          RngScope scope(Rng(mix_seed({dl->seed_, 0, 0, 1})));
          std::vector<Item> items;
          for (int64_t i = 0; i < std::min(dl->n(), dl->bs()); ++i)
            if (auto x = dl->do_item(i)) items.push_back(std::move(*x));
          STRATA_CHECK(!items.empty(), ValueError, "DataLoader: every item of the setup batch was skipped");
          Item b = dl->do_batch(std::move(items));
          if (dl->opts_.device) b = dl->to_device(std::move(b), *dl->opts_.device);
          cached = std::move(b);
        }
        return *cached;
      }
    } one(this);
    // Setup runs earlier batch transforms over the setup batch (random ones included): a fixed
    // random scope makes what later transforms learn from it reproducible for the seed.
    RngScope scope(Rng(mix_seed({seed_, 0, 0, 2})));
    batch_tfms_.setup(&one, false);
  }
  (void)any_batch_setup;
}

// ---- sizes ----
int64_t DataLoader::n() const {
  if (opts_.n) return *opts_.n;
  return dataset_ ? dataset_->size() : 0;
}

int64_t DataLoader::size() const {
  const int64_t items = n();
  return items / opts_.bs + ((opts_.drop_last || items % opts_.bs == 0) ? 0 : 1);
}

// ---- customization points: defaults ----
std::vector<int64_t> DataLoader::get_idxs() {
  if (opts_.get_idxs) return opts_.get_idxs();
  std::vector<int64_t> idxs(static_cast<size_t>(n()));
  for (int64_t i = 0; i < n(); ++i) idxs[static_cast<size_t>(i)] = i;
  if (opts_.shuffle) {
    Rng r(mix_seed({seed_, static_cast<uint64_t>(epoch_), 0xD1CEull}));
    idxs = shuffle_fn(std::move(idxs), r);
  }
  return idxs;
}

std::vector<std::vector<int64_t>> DataLoader::sample(const std::vector<int64_t>& idxs) {
  if (opts_.sample) return opts_.sample(idxs);
  std::vector<std::vector<int64_t>> out;
  const size_t bs = static_cast<size_t>(opts_.bs);
  for (size_t start = 0; start < idxs.size(); start += bs) {
    const size_t end = std::min(idxs.size(), start + bs);
    if (end - start < bs && opts_.drop_last) break;
    out.emplace_back(idxs.begin() + static_cast<std::ptrdiff_t>(start), idxs.begin() + static_cast<std::ptrdiff_t>(end));
  }
  return out;
}

std::vector<int64_t> DataLoader::shuffle_fn(std::vector<int64_t> idxs, Rng& r) {
  if (opts_.shuffle_fn) return opts_.shuffle_fn(std::move(idxs), r);
  r.shuffle(idxs);
  return idxs;
}

void DataLoader::randomize() {
  if (opts_.randomize) return opts_.randomize();
  ++epoch_;
}

void DataLoader::before_iter() {
  if (opts_.before_iter) opts_.before_iter();
}
void DataLoader::after_iter() {
  if (opts_.after_iter) opts_.after_iter();
}

Item DataLoader::to_device(Item batch, Device device) const {
  if (opts_.to_device) return opts_.to_device(std::move(batch), device);
  if (batch.is_tensor()) return Item(batch.tensor().to(device));
  if (!batch.is_tuple()) return batch;
  std::vector<Item> out;
  for (const Item& e : batch.elems()) out.push_back(to_device(e, device));
  return Item::tuple(std::move(out));
}

Item DataLoader::after_batch(Item batch) const {
  if (opts_.after_batch) return opts_.after_batch(std::move(batch));
  if (batch_tfms_.empty()) return batch;
  return batch_tfms_.apply(batch, split_idx());
}

Item DataLoader::create_item(int64_t i) const {
  if (opts_.create_item) return opts_.create_item(i);
  return dataset_->get(i);
}

Item DataLoader::after_item(Item x) const {
  if (opts_.after_item) return opts_.after_item(std::move(x));
  if (item_tfms_.empty()) return x;
  return item_tfms_.apply(x, split_idx());
}

std::vector<Item> DataLoader::before_batch(std::vector<Item> items) const {
  if (opts_.before_batch) return opts_.before_batch(std::move(items));
  return items;
}

Item DataLoader::create_batch(const std::vector<Item>& items) const {
  if (opts_.create_batch) return opts_.create_batch(items);
  return collate(items);
}

Item DataLoader::collate(const std::vector<Item>& items) const {
  if (opts_.collate) return opts_.collate(items);
  return data::collate(items);
}

Item DataLoader::retain(Item batch, const std::vector<Item>& items) const {
  if (opts_.retain) return opts_.retain(std::move(batch), items);
  if (items.empty()) return batch;
  return retain_batch_types(batch, items[0]);
}

std::optional<Item> DataLoader::do_item(int64_t i) const {
  if (opts_.do_item) return opts_.do_item(i);
  try {
    return after_item(create_item(i));
  } catch (const SkipItem&) {
    return std::nullopt;
  }
}

Item DataLoader::do_batch(std::vector<Item> items) const {
  if (opts_.do_batch) return opts_.do_batch(std::move(items));
  std::vector<Item> b = before_batch(std::move(items));
  Item res = create_batch(b);
  return retain(std::move(res), b);
}

// ---- iteration ----
DataLoader::Iterator DataLoader::begin() {
  randomize();
  before_iter();
  std::vector<int64_t> idxs = get_idxs();
  auto plan = sample(idxs);
  return Iterator(std::make_shared<Epoch>(this, std::move(plan), opts_.num_workers));
}

Batch DataLoader::one_batch() {
  STRATA_CHECK(n() > 0 && size() > 0, ValueError,
               "DataLoader.one_batch: this DataLoader does not contain any batches ({} items, bs {}, drop_last {})",
               n(), opts_.bs, opts_.drop_last);
  randomize();
  before_iter();
  std::vector<int64_t> idxs = get_idxs();
  auto plan = sample(idxs);
  auto epoch = std::make_shared<Epoch>(this, std::move(plan), 0);
  Batch b;
  STRATA_CHECK(epoch->next(b), ValueError, "DataLoader.one_batch: every item of the epoch was skipped");
  return b;
}

Item DataLoader::decode(const Batch& batch) const {
  return batch_tfms_.decode(from_batch(batch), true, split_idx());
}

std::vector<Item> DataLoader::decode_batch(const Batch& batch, int64_t max_n, bool full) const {
  Item b = decode(batch);
  std::vector<Item> out;
  if (!b.is_tuple() || b.size() == 0) return out;
  const Item& first = b[0];
  const int64_t n = first.is_tensor() && first.tensor().dim() > 0 ? first.tensor().size(0) : 1;
  const auto* dsets = dynamic_cast<const Datasets*>(dataset_.get());
  const auto* tl = dynamic_cast<const TfmdLists*>(dataset_.get());
  for (int64_t i = 0; i < std::min(n, max_n); ++i) {
    std::vector<Item> elems;
    for (const Item& e : b.elems())
      elems.push_back(e.is_tensor() && e.tensor().dim() > 0 ? Item(e.tensor()[i]) : e);
    Item x = Item::tuple(std::move(elems));
    x = item_tfms_.decode(x, full, split_idx());
    if (dsets) x = dsets->decode(x, full);
    else if (tl) x = tl->decode(x.size() == 1 ? x[0] : x, full);
    out.push_back(std::move(x));
  }
  return out;
}

std::shared_ptr<DataLoader> DataLoader::new_(std::shared_ptr<const ItemSource> dataset,
                                             const std::function<void(DataLoaderOptions&)>& change) const {
  DataLoaderOptions o = opts_;
  o.seed = seed_;
  if (change) change(o);
  auto ds = dataset ? std::move(dataset) : dataset_;
  const uint64_t seed = o.seed ? *o.seed : random_seed();
  return std::shared_ptr<DataLoader>(new DataLoader(std::move(ds), std::move(o), &item_tfms_, &batch_tfms_, seed));
}

}  // namespace strata::data
