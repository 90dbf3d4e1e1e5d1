// Loader adapters. TensorLoader draws its permutation with its own Philox generator, so shuffling
// does not depend on (or disturb) the global random stream the model's init and dropout use.
#include "train/loader.h"

#include "tensor/error.h"
#include "tensor/ops/index.h"

namespace strata::train {

namespace {

class FunctionIterator : public BatchIterator {
 public:
  explicit FunctionIterator(FunctionLoader::NextFn fn) : fn_(std::move(fn)) {}
  bool next(Batch& out) override {
    auto b = fn_();
    if (!b) return false;
    out = std::move(*b);
    return true;
  }

 private:
  FunctionLoader::NextFn fn_;
};

class TensorIterator : public BatchIterator {
 public:
  TensorIterator(const std::vector<Tensor>& tensors, Tensor perm, int64_t n, int64_t bs, bool drop_last,
                 std::optional<Device> device)
      : tensors_(tensors), perm_(std::move(perm)), n_(n), bs_(bs), drop_last_(drop_last), device_(device) {}

  bool next(Batch& out) override {
    if (pos_ >= n_) return false;
    int64_t len = std::min(bs_, n_ - pos_);
    if (drop_last_ && len < bs_) return false;
    out.clear();
    out.reserve(tensors_.size());
    for (const Tensor& t : tensors_) {
      Tensor b = perm_.defined() ? index_select(t, 0, perm_.narrow(0, pos_, len)) : t.narrow(0, pos_, len).contiguous();
      if (device_ && b.device() != *device_) b = b.to(*device_);
      out.push_back(b);
    }
    pos_ += len;
    return true;
  }

 private:
  const std::vector<Tensor>& tensors_;
  Tensor perm_;
  int64_t n_, bs_;
  bool drop_last_;
  std::optional<Device> device_;
  int64_t pos_ = 0;
};

}  // namespace

Batch Loader::one_batch() {
  Batch b;
  STRATA_CHECK(epoch()->next(b), ValueError, "one_batch: the loader yielded no batch");
  return b;
}

FunctionLoader::FunctionLoader(std::function<NextFn()> make_epoch, int64_t size, int64_t bs, int n_inp,
                               Device device)
    : make_epoch_(std::move(make_epoch)), size_(size), bs_(bs), n_inp_(n_inp), device_(device) {
  STRATA_CHECK(make_epoch_ != nullptr, ValueError, "FunctionLoader: make_epoch is empty");
  STRATA_CHECK(size >= 0 && bs > 0, ValueError, "FunctionLoader: size {} and bs {} must be >= 0 and > 0", size, bs);
}

std::unique_ptr<BatchIterator> FunctionLoader::epoch() { return std::make_unique<FunctionIterator>(make_epoch_()); }

TensorLoader::TensorLoader(std::vector<Tensor> tensors, TensorLoaderOptions opts)
    : tensors_(std::move(tensors)), opts_(opts), gen_(opts.seed) {
  STRATA_CHECK(!tensors_.empty(), ValueError, "TensorLoader: no tensors");
  STRATA_CHECK(opts_.bs > 0, ValueError, "TensorLoader: bs must be > 0, got {}", opts_.bs);
  STRATA_CHECK(opts_.n_inp >= 0 && opts_.n_inp <= static_cast<int>(tensors_.size()), ValueError,
               "TensorLoader: n_inp {} out of range for {} tensors", opts_.n_inp, tensors_.size());
  for (size_t i = 0; i < tensors_.size(); ++i) {
    const Tensor& t = tensors_[i];
    STRATA_CHECK(t.defined() && t.dim() >= 1, ShapeError, "TensorLoader: tensor {} must have at least one dim", i);
    if (i == 0) n_ = t.size(0);
    STRATA_CHECK(t.size(0) == n_, ShapeError,
                 "TensorLoader: tensor {} has {} items but tensor 0 has {} (shapes {} and {})", i, t.size(0), n_,
                 t.shape(), tensors_[0].shape());
  }
}

int64_t TensorLoader::size() const {
  return opts_.drop_last ? n_ / opts_.bs : (n_ + opts_.bs - 1) / opts_.bs;
}

Device TensorLoader::device() const { return opts_.device ? *opts_.device : tensors_[0].device(); }

std::unique_ptr<BatchIterator> TensorLoader::epoch() {
  Tensor perm;
  if (opts_.shuffle) perm = randperm(n_, {.dtype = DType::I64}, &gen_).to(tensors_[0].device());
  return std::make_unique<TensorIterator>(tensors_, perm, n_, opts_.bs, opts_.drop_last, opts_.device);
}

Batch TensorLoader::one_batch() {
  STRATA_CHECK(n_ > 0, ValueError, "one_batch: the loader has no items");
  TensorIterator it(tensors_, Tensor(), n_, opts_.bs, false, opts_.device);
  Batch b;
  it.next(b);
  return b;
}

std::shared_ptr<TensorLoader> TensorLoader::with(TensorLoaderOptions opts) const {
  return std::make_shared<TensorLoader>(tensors_, opts);
}

Loader& DataLoaders::operator[](int i) const {
  STRATA_CHECK(i == 0 || i == 1, IndexError, "DataLoaders: index {} (0 is train, 1 is valid)", i);
  const auto& dl = i == 0 ? train : valid;
  STRATA_CHECK(dl != nullptr, ValueError, "DataLoaders: the {} loader is not set", i == 0 ? "train" : "valid");
  return *dl;
}

Device DataLoaders::batch_device() const {
  if (device) return *device;
  return train ? train->device() : Device::cpu();
}

}  // namespace strata::train
