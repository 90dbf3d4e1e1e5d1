// Datasets: tuples across pipelines, subsets, decode per element.
#include "data/datasets.h"

namespace strata::data {

Datasets::Datasets(std::vector<Item> items, std::vector<std::vector<TfmPtr>> tfms, DatasetsOptions opts) {
  STRATA_CHECK(!tfms.empty(), ValueError, "Datasets: at least one pipeline is needed");
  for (auto& t : tfms)
    tls_.emplace_back(items, std::move(t),
                      TfmdListsOptions{.splits = opts.splits, .split_idx = opts.split_idx, .do_setup = opts.do_setup});
  const int n = static_cast<int>(tls_.size());
  n_inp_ = opts.n_inp ? *opts.n_inp : std::max(1, n - 1);
  STRATA_CHECK(n_inp_ >= 0 && n_inp_ <= n, ValueError, "Datasets: n_inp {} but there are {} pipelines", n_inp_, n);
}

Datasets::Datasets(std::vector<TfmdLists> tls, std::optional<int> n_inp) : tls_(std::move(tls)) {
  STRATA_CHECK(!tls_.empty(), ValueError, "Datasets: at least one TfmdLists is needed");
  for (const auto& tl : tls_)
    STRATA_CHECK(tl.size() == tls_[0].size(), ValueError, "Datasets: lists of different lengths ({} and {})",
                 tls_[0].size(), tl.size());
  const int n = static_cast<int>(tls_.size());
  n_inp_ = n_inp ? *n_inp : std::max(1, n - 1);
}

Item Datasets::get(int64_t i) const {
  std::vector<Item> out;
  out.reserve(tls_.size());
  for (const auto& tl : tls_) out.push_back(tl.get(i));
  return Item::tuple(std::move(out));
}

std::shared_ptr<const ItemSource> Datasets::train_part() const {
  if (n_subsets() == 0) return nullptr;
  return std::make_shared<Datasets>(subset(0));
}

Datasets Datasets::subset(int i) const {
  std::vector<TfmdLists> tls;
  for (const auto& tl : tls_) tls.push_back(tl.subset(i));
  return Datasets(std::move(tls), n_inp_);
}

const Splits& Datasets::splits() const {
  static const Splits none;
  return tls_.empty() ? none : tls_[0].splits();
}

Item Datasets::decode(const Item& x, bool full) const {
  if (!x.is_tuple()) return tls_.at(0).decode(x, full);
  STRATA_CHECK(x.size() <= tls_.size(), ValueError, "Datasets::decode: a tuple of {} but only {} pipelines",
               x.size(), tls_.size());
  std::vector<Item> out;
  for (size_t i = 0; i < x.size(); ++i) out.push_back(tls_[i].decode(x[i], full));
  return Item::tuple(std::move(out));
}

std::string Datasets::show(const Item& x) const {
  Item d = decode(x, true);
  if (!d.is_tuple()) return d.repr();
  std::string s;
  for (size_t i = 0; i < d.size(); ++i) {
    if (i) s += ", ";
    s += (static_cast<int>(i) < n_inp_ ? "x: " : "y: ") + d[i].repr();
  }
  return s;
}

}  // namespace strata::data
