#pragma once
// The bitonic sort of the CUDA embedding backward (kernels/cuda/embedding.cu), as plain C++ with
// STRATA_HD: the compare-exchange of one pair and the launch schedule. The kernels run them on
// the GPU; a CPU test (tests/kernels/test_cuda_bitonic.cpp) replays the same schedule and pairs on
// host arrays, so the sort's index math is checked on every machine.
//
// Sorting len keys (a power of two) ascending: stage k = 2, 4, .., len merges bitonic runs of k;
// its steps compare element i with i + j for j = k/2, .., 1, ascending where (i & k) == 0. Steps
// with j < tile stay inside one tile of `tile` keys and run in shared memory (one launch does
// all such steps of one or more stages); wider steps are one global launch each.
#include <cstdint>

#include "tensor/macros.h"

namespace strata::cuda {

// Pair t (of len / 2) of step (j, k) on keys[0..): compares positions i and i + j, where
// `offset` is the global position of keys[0] (it sets the direction). j is a power of two, so
// i = (t / j) * 2j + t % j is computed with masks, no 64-bit division.
STRATA_HD_INLINE void bitonic_compare_exchange(uint64_t* keys, int64_t offset, int64_t t, int64_t j, int64_t k) {
  const int64_t i = ((t & ~(j - 1)) << 1) | (t & (j - 1)), l = i + j;
  const bool ascending = ((offset + i) & k) == 0;
  const uint64_t a = keys[i], b = keys[l];
  if ((a > b) == ascending) {
    keys[i] = b;
    keys[l] = a;
  }
}

// The first (widest) in-tile step of stage k.
STRATA_HD_INLINE int64_t bitonic_first_tile_step(int64_t k, int64_t tile) { return (k < tile ? k : tile) / 2; }

// The launch schedule for len keys in tiles of min(len, max_tile): tile_pass(tile, k_first,
// k_last) runs every in-tile step of stages k_first..k_last on every tile; global_step(j, k) one
// step wider than a tile.
template <class TilePass, class GlobalStep>
void bitonic_schedule(int64_t len, int64_t max_tile, TilePass&& tile_pass, GlobalStep&& global_step) {
  if (len < 2) return;
  const int64_t tile = len < max_tile ? len : max_tile;
  tile_pass(tile, int64_t{2}, tile);
  for (int64_t k = 2 * tile; k <= len; k <<= 1) {
    for (int64_t j = k / 2; j >= tile; j >>= 1) global_step(j, k);
    tile_pass(tile, k, k);
  }
}

}  // namespace strata::cuda
