// TensorLoader: batch sizes, drop_last, reproducible shuffling, placement; FunctionLoader.
#include <gtest/gtest.h>

#include <set>

#include "support/expect_error.h"
#include "tensor/ops.h"
#include "train/loader.h"

using namespace strata;
using namespace strata::train;

namespace {
std::vector<std::vector<int64_t>> epoch_ids(Loader& l) {
  std::vector<std::vector<int64_t>> out;
  auto it = l.epoch();
  Batch b;
  while (it->next(b)) out.push_back(b[0].to_vector<int64_t>());
  return out;
}
}  // namespace

TEST(TensorLoader, BatchesInOrderWithTheLastOnePartial) {
  TensorLoader l({arange(10), arange(10) * 2}, {.bs = 4});
  EXPECT_EQ(l.size(), 3);
  auto ids = epoch_ids(l);
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids[0], (std::vector<int64_t>{0, 1, 2, 3}));
  EXPECT_EQ(ids[2], (std::vector<int64_t>{8, 9}));
  auto it = l.epoch();
  Batch b;
  ASSERT_TRUE(it->next(b));
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[1].to_vector<int64_t>(), (std::vector<int64_t>{0, 2, 4, 6}));
}

TEST(TensorLoader, DropLastDropsTheIncompleteBatch) {
  TensorLoader l({arange(10)}, {.bs = 4, .drop_last = true});
  EXPECT_EQ(l.size(), 2);
  EXPECT_EQ(epoch_ids(l).size(), 2u);
}

TEST(TensorLoader, ShuffleIsAPermutationPerEpochAndReproducibleFromTheSeed) {
  TensorLoader a({arange(20)}, {.bs = 8, .shuffle = true, .seed = 5});
  TensorLoader b({arange(20)}, {.bs = 8, .shuffle = true, .seed = 5});
  auto a1 = epoch_ids(a), a2 = epoch_ids(a);
  EXPECT_EQ(a1, epoch_ids(b));
  EXPECT_EQ(a2, epoch_ids(b));
  EXPECT_NE(a1, a2);
  std::set<int64_t> all;
  for (auto& v : a1) all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), 20u);
  TensorLoader c({arange(20)}, {.bs = 8, .shuffle = true, .seed = 6});
  EXPECT_NE(epoch_ids(c), a1);
}

TEST(TensorLoader, WithMakesAnUnshuffledCopy) {
  TensorLoader a({arange(6)}, {.bs = 4, .shuffle = true});
  auto b = a.with({.bs = 6});
  EXPECT_EQ(epoch_ids(*b)[0], (std::vector<int64_t>{0, 1, 2, 3, 4, 5}));
}

TEST(TensorLoader, RejectsMismatchedTensors) {
  EXPECT_STRATA_ERROR(TensorLoader({arange(10), arange(9)}), ShapeError, {"TensorLoader", "9", "10"});
  EXPECT_STRATA_ERROR(TensorLoader({}), ValueError, {"TensorLoader", "no tensors"});
  EXPECT_STRATA_ERROR(TensorLoader({arange(3)}, {.bs = 0}), ValueError, {"bs"});
  EXPECT_STRATA_ERROR(TensorLoader({arange(3)}, {.n_inp = 2}), ValueError, {"n_inp"});
}

TEST(FunctionLoader, AdaptsAnyBatchSource) {
  FunctionLoader l(
      [] {
        auto i = std::make_shared<int>(0);
        return FunctionLoader::NextFn([i]() -> std::optional<Batch> {
          if (*i >= 3) return std::nullopt;
          ++*i;
          return Batch{full({2}, *i), full({2}, *i * 10)};
        });
      },
      3, 2);
  auto ids = epoch_ids(l);
  EXPECT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids[2], (std::vector<int64_t>{3, 3}));
  EXPECT_EQ(epoch_ids(l).size(), 3u);  // a fresh epoch each time
}

TEST(DataLoaders, IndexesTrainAndValid) {
  DataLoaders d{std::make_shared<TensorLoader>(std::vector<Tensor>{arange(4)}), nullptr};
  EXPECT_EQ(d[0].size(), 1);
  EXPECT_STRATA_ERROR(d[1], ValueError, {"valid"});
  EXPECT_STRATA_ERROR(d[2], IndexError, {"DataLoaders"});
}

TEST(TensorLoader, OneBatchDoesNotDisturbTheShuffling) {
  TensorLoader a({arange(20)}, {.bs = 8, .shuffle = true, .seed = 5});
  TensorLoader b({arange(20)}, {.bs = 8, .shuffle = true, .seed = 5});
  EXPECT_EQ(a.one_batch()[0].to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(epoch_ids(a), epoch_ids(b));
  TensorLoader empty({zeros({0, 2})});
  EXPECT_STRATA_ERROR(empty.one_batch(), ValueError, {"one_batch"});
}
