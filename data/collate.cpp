// Collation of samples into batches.
#include "data/collate.h"

#include "data/transform.h"
#include "tensor/ops.h"

namespace strata::data {

namespace {
Item collate_element(const std::vector<Item>& samples, size_t k, bool tuple) {
  auto elem = [&](size_t s) -> const Item& { return tuple ? samples[s][k] : samples[s]; };
  const Item& first = elem(0);
  if (first.is_tensor()) {
    std::vector<Tensor> ts;
    ts.reserve(samples.size());
    for (size_t s = 0; s < samples.size(); ++s) {
      const Item& e = elem(s);
      STRATA_CHECK(e.is_tensor(), ValueError, "collate: element {} is a tensor in sample 0 but {} in sample {}", k,
                   e.kind_name(), s);
      STRATA_CHECK(e.tensor().shape() == first.tensor().shape(), ShapeError,
                   "collate: element {} has shape {} in sample 0 but {} in sample {} (resize items to one size)", k,
                   first.tensor().shape().str(), e.tensor().shape().str(), s);
      ts.push_back(e.tensor());
    }
    return Item(stack(ts, 0));
  }
  if (first.is_number()) {
    const bool all_int = [&] {
      for (size_t s = 0; s < samples.size(); ++s)
        if (!elem(s).is_int()) return false;
      return true;
    }();
    if (all_int) {
      std::vector<int64_t> v;
      for (size_t s = 0; s < samples.size(); ++s) v.push_back(elem(s).as_int());
      return Item(tensor(v, {static_cast<int64_t>(v.size())}));
    }
    std::vector<double> v;
    for (size_t s = 0; s < samples.size(); ++s) {
      STRATA_CHECK(elem(s).is_number(), ValueError, "collate: element {} is a number in sample 0 but {} in sample {}",
                   k, elem(s).kind_name(), s);
      v.push_back(elem(s).as_float());
    }
    return Item(tensor(v, {static_cast<int64_t>(v.size())}));
  }
  STRATA_THROW(ValueError,
               "collate: element {} of the samples is {} {}; only tensors and numbers can be collated (add a "
               "transform that makes it a tensor)",
               k, first.kind_name(), first.repr());
}
}  // namespace

Item collate(const std::vector<Item>& samples) {
  STRATA_CHECK(!samples.empty(), ValueError, "collate: no samples");
  const bool tuple = samples[0].is_tuple();
  const size_t n = tuple ? samples[0].size() : 1;
  for (size_t s = 0; s < samples.size(); ++s)
    STRATA_CHECK(samples[s].is_tuple() == tuple && (!tuple || samples[s].size() == n), ValueError,
                 "collate: sample 0 is {} but sample {} is {}", samples[0].repr(), s, samples[s].repr());
  std::vector<Item> out;
  for (size_t k = 0; k < n; ++k) out.push_back(collate_element(samples, k, tuple));
  return Item::tuple(std::move(out));
}

Item retain_batch_types(const Item& batch, const Item& sample) {
  if (!batch.is_tuple()) return retain_type(batch, sample);
  std::vector<Item> out;
  for (size_t k = 0; k < batch.size(); ++k) {
    const Item* s = sample.is_tuple() ? (k < sample.size() ? &sample[k] : nullptr) : (k == 0 ? &sample : nullptr);
    out.push_back(s ? retain_type(batch[k], *s) : batch[k]);
  }
  return Item::tuple(std::move(out));
}

Batch to_batch(const Item& batch) {
  Batch out;
  if (!batch.is_tuple()) {
    STRATA_CHECK(batch.is_tensor(), ValueError, "DataLoader: a batch must be tensors, got {}", batch.repr());
    out.push_back(batch.tensor());
    return out;
  }
  for (size_t k = 0; k < batch.size(); ++k) {
    STRATA_CHECK(batch[k].is_tensor(), ValueError, "DataLoader: batch element {} is {} {}, not a tensor", k,
                 batch[k].kind_name(), batch[k].repr());
    out.push_back(batch[k].tensor());
  }
  return out;
}

Item from_batch(const Batch& batch) { return Item::tuple(std::vector<Item>(batch.begin(), batch.end())); }

}  // namespace strata::data
