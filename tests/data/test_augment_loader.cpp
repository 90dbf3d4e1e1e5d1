// Batch augmentation inside a DataLoader: aug_transforms + Normalize as batch_tfms, with the
// loader's per-batch seeding (no transform seed), worker threads, the validation split, setup of
// Normalize from one batch, and decode.
#include <gtest/gtest.h>

#include "data/augment.h"
#include "data/dataloader.h"
#include "strata.h"

using namespace strata;
using namespace strata::data;

namespace {

// 12 samples of (image [3, 16, 16] in [0, 1], mask [16, 16] codes 0..2, category).
std::shared_ptr<ItemSource> samples(std::optional<int> split_idx) {
  std::vector<Item> items;
  for (int64_t i = 0; i < 12; ++i) {
    Generator g(100 + static_cast<uint64_t>(i));
    Tensor img = cast(rand({3, 16, 16}, {}, &g), TensorImage::type());
    Tensor mask = cast(randint(0, 3, {16, 16}, {.dtype = DType::I64}, &g), TensorMask::type());
    Tensor label = cast(scalar_tensor(static_cast<double>(i % 2), {.dtype = DType::I64}), TensorCategory::type());
    items.push_back(Item::tuple({img, mask, label}));
  }
  return std::make_shared<VectorSource>(std::move(items), split_idx);
}

std::vector<TfmPtr> batch_tfms() {
  auto t = aug_transforms();
  t.push_back(std::make_shared<Normalize>());
  return t;
}

double max_abs_diff(const Tensor& a, const Tensor& b) { return max(abs(a.to(DType::F64) - b.to(DType::F64))).item(); }

}  // namespace

TEST(AugmentLoader, ReproducibleAcrossWorkersAndSplitAware) {
  auto run = [](int workers) {
    DataLoader dl(samples(0), {.bs = 4, .seed = 5, .num_workers = workers, .batch_tfms = batch_tfms()});
    std::vector<Batch> out;
    for (const Batch& b : dl) out.push_back(b);
    return out;
  };
  auto a = run(0), b = run(2);
  ASSERT_EQ(a.size(), 3u);
  ASSERT_EQ(b.size(), 3u);
  for (size_t i = 0; i < a.size(); ++i)
    for (size_t k = 0; k < 3; ++k) EXPECT_EQ(max_abs_diff(a[i][k], b[i][k]), 0.0) << i << " " << k;
  // Augmented masks keep their codes and type.
  for (const Batch& bt : a) {
    EXPECT_TRUE(is_a<TensorMask>(bt[1]));
    EXPECT_EQ(bt[1].shape(), Shape({4, 16, 16}));
    EXPECT_TRUE(all((bt[1] >= 0.0) && (bt[1] <= 2.0)).item<bool>());
    EXPECT_TRUE(is_a<TensorImage>(bt[0]));
  }

  // Validation: no augmentation; only Normalize (stats from its own setup batch).
  DataLoader valid(samples(1), {.bs = 4, .seed = 5, .batch_tfms = batch_tfms()});
  Batch v = valid.one_batch();
  auto nrm = std::dynamic_pointer_cast<Normalize>(valid.batch_pipeline().fs().back());
  ASSERT_TRUE(nrm);
  ASSERT_EQ(nrm->mean.size(), 3u);
  EXPECT_NEAR(nrm->mean[0], 0.5, 0.05);  // U(0, 1) images
  EXPECT_NEAR(nrm->std[0], 0.2887, 0.02);
  Item raw = samples(1)->get(0);
  Tensor want = (raw[0].tensor() - nrm->mean[0]) / nrm->std[0];
  EXPECT_LT(max_abs_diff(v[0][0][0], want[0]), 1e-5);
  EXPECT_EQ(max_abs_diff(v[1][0], raw[1].tensor()), 0.0);

  // decode undoes Normalize: the decoded training images are back in [0, 1].
  DataLoader train(samples(0), {.bs = 4, .seed = 5, .batch_tfms = batch_tfms()});
  Batch tb = train.one_batch();
  Item dec = train.decode(tb);
  EXPECT_GE(min(dec[0].tensor()).item(), -1e-5);
  EXPECT_LE(max(dec[0].tensor()).item(), 1 + 1e-5);
}
