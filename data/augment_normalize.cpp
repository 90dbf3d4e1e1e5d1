// Normalize (fastai's data/transforms.py Normalize): per-channel stats kept as host doubles and
// shaped to the batch's dtype and device at each call, so one transform serves CPU and CUDA
// batches alike.
#include "data/augment.h"
#include "tensor/ops.h"

namespace strata::data {

const Stats imagenet_stats{{0.485, 0.456, 0.406}, {0.229, 0.224, 0.225}};
const Stats cifar_stats{{0.491, 0.482, 0.447}, {0.247, 0.243, 0.261}};
const Stats mnist_stats{{0.131, 0.131, 0.131}, {0.308, 0.308, 0.308}};

Normalize::Normalize() : Transform("Normalize") {
  order = 99;
  auto enc = [this](const Tensor& x) -> Item {
    return Item((cast(x, nullptr) - shaped(mean, x)) / shaped(std, x));
  };
  auto dec = [this](const Tensor& x) -> Item { return Item(cast(x, nullptr) * shaped(std, x) + shaped(mean, x)); };
  encodes<TensorImage>([enc](const TensorImage& x) { return enc(x); });
  encodes<TensorImageBW>([enc](const TensorImageBW& x) { return enc(x); });
  decodes<TensorImage>([dec](const TensorImage& x) { return dec(x); });
  decodes<TensorImageBW>([dec](const TensorImageBW& x) { return dec(x); });
}

std::shared_ptr<Normalize> Normalize::from_stats(std::vector<double> m, std::vector<double> s) {
  STRATA_CHECK(!m.empty() && m.size() == s.size(), ValueError,
               "Normalize.from_stats: mean and std need the same non-zero length, got {} and {}", m.size(), s.size());
  for (double v : s) STRATA_CHECK(v != 0.0, ValueError, "Normalize.from_stats: std must be non-zero, got {}", v);
  auto t = std::make_shared<Normalize>();
  t->mean = std::move(m);
  t->std = std::move(s);
  return t;
}

Tensor Normalize::shaped(const std::vector<double>& v, const Tensor& like) const {
  STRATA_CHECK(!v.empty(), ValueError,
               "Normalize: no stats: give them (Normalize::from_stats) or set the transform up on a batch");
  STRATA_CHECK(like.dim() >= 3, ShapeError, "Normalize: expected an image [C, H, W] or a batch [N, C, H, W], got {}",
               like.shape());
  const int64_t c = like.size(like.dim() - 3);
  const int64_t k = static_cast<int64_t>(v.size());
  STRATA_CHECK(k == c || k == 1, ShapeError, "Normalize: {} stats for {} channels (input {})", k, c, like.shape());
  std::vector<int64_t> dims(static_cast<size_t>(like.dim()), 1);
  dims[static_cast<size_t>(like.dim() - 3)] = k;
  std::vector<double> copy = v;
  DType dt = like.is_floating_point() ? like.dtype() : DType::F32;
  return tensor(copy, Shape(dims)).to(dt).to(like.device());
}

void Normalize::setups_impl(const ItemSource& items) {
  if (!mean.empty() && !std.empty()) return;
  STRATA_CHECK(items.size() > 0, ValueError, "Normalize: no batch to learn the stats from");
  // The view applies the transforms before this one (augmentation draws among them); the
  // DataLoader runs batch-transform setup inside a random scope fixed by its seed, so the learnt
  // stats are reproducible without a scope of our own.
  Item b = items.get(0);
  while (b.is_tuple() && b.size() > 0) b = Item(b[0]);
  STRATA_CHECK(b.is_tensor() && b.tensor().dim() == 4, ShapeError,
               "Normalize: setup expected an image batch [N, C, H, W] first in the batch, got {}", b.kind_name());
  Tensor x = cast(b.tensor(), nullptr).to(DType::F64);
  mean = strata::mean(x, {0, 2, 3}).cpu().to_vector<double>();
  std = (strata::std(x, {0, 2, 3}) + 1e-7).cpu().to_vector<double>();
}

}  // namespace strata::data
