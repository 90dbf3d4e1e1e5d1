// The bitonic sort of the CUDA embedding backward (kernels/cuda/bitonic.h) replayed on the CPU, on
// every machine: the same launch schedule and the same compare-exchange per pair, with every
// "thread" of a step run before the next step (as the kernels' barriers and launch boundaries
// order them). Lengths from 1 to 2^15 with the kernels' 2048-key tiles, and small tiles so the
// global steps run many times; keys with duplicates and the embedding backward's packed keys.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "kernels/cuda/bitonic.h"

namespace strata {
namespace {

// Sorts `keys` (power-of-two length) exactly as the CUDA launches would.
void replay_sort(std::vector<uint64_t>& keys, int64_t max_tile) {
  const int64_t len = static_cast<int64_t>(keys.size());
  int tile_passes = 0, global_steps = 0;
  cuda::bitonic_schedule(
      len, max_tile,
      [&](int64_t tile, int64_t k_first, int64_t k_last) {
        ++tile_passes;
        for (int64_t base = 0; base < len; base += tile)  // one block per tile
          for (int64_t k = k_first; k <= k_last; k <<= 1)
            for (int64_t j = cuda::bitonic_first_tile_step(k, tile); j > 0; j >>= 1)
              for (int64_t t = 0; t < tile / 2; ++t) cuda::bitonic_compare_exchange(keys.data() + base, base, t, j, k);
      },
      [&](int64_t j, int64_t k) {
        ++global_steps;
        EXPECT_GE(j, std::min(len, max_tile));
        for (int64_t t = 0; t < len / 2; ++t) cuda::bitonic_compare_exchange(keys.data(), 0, t, j, k);
      });
  if (len > max_tile) {
    EXPECT_GT(global_steps, 0);
  }
  if (len >= 2) {
    EXPECT_GT(tile_passes, 0);
  }
}

TEST(CudaBitonic, TheScheduleSortsEveryPowerOfTwoLengthWithAnyTile) {
  std::mt19937_64 rng(7);
  for (int64_t max_tile : {2048, 8, 2}) {
    for (int64_t len = 1; len <= (int64_t{1} << 15); len <<= 1) {
      std::vector<uint64_t> keys(static_cast<size_t>(len));
      for (auto& k : keys) k = rng() % 1000;  // many duplicates
      std::vector<uint64_t> want = keys;
      std::sort(want.begin(), want.end());
      replay_sort(keys, max_tile);
      ASSERT_EQ(keys, want) << "len " << len << " tile " << max_tile;
    }
  }
}

TEST(CudaBitonic, PackedEmbeddingKeysComeOutByRowThenPosition) {
  // keys = row << 32 | position, padded with ~0 to a power of two (make_keys_kernel).
  std::mt19937_64 rng(11);
  const int64_t n = 5000, len = 8192;
  std::vector<uint64_t> keys(len, ~uint64_t{0});
  std::vector<int64_t> rows(n);
  for (int64_t i = 0; i < n; ++i) {
    rows[i] = static_cast<int64_t>(rng() % 37);
    keys[i] = (static_cast<uint64_t>(rows[i]) << 32) | static_cast<uint64_t>(i);
  }
  replay_sort(keys, 2048);
  for (int64_t s = 1; s < n; ++s) {
    const uint64_t a = keys[s - 1], b = keys[s];
    ASSERT_TRUE((a >> 32) < (b >> 32) || ((a >> 32) == (b >> 32) && (a & 0xffffffffu) < (b & 0xffffffffu))) << s;
  }
  for (int64_t s = 0; s < n; ++s) ASSERT_EQ(static_cast<int64_t>(keys[s] >> 32), rows[keys[s] & 0xffffffffu]);
  for (int64_t s = n; s < len; ++s) ASSERT_EQ(keys[s], ~uint64_t{0});
}

}  // namespace
}  // namespace strata
