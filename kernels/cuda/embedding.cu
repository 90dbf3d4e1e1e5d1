// CUDA embedding kernels (CudaTable::embedding_forward, embedding_dense_backward,
// embedding_bag_forward; kernels/embedding.h). The front end hands over a contiguous [V, D]
// table, flat contiguous [N] indices and contiguous [N, D] / [B, D] buffers.
//
// Forward: whole-row gathers, vectorized (kernels/cuda/gather_rows.cuh).
//
// Dense backward: deterministic and sort-based, no float atomics. Why: atomics would sum the
// gradient rows of a repeated index in whatever order they land, so training would not be
// reproducible run to run; sorting makes every table row the sum of its gradient rows in index
// order, the CPU kernel's order (f32 results equal the CPU's bit for bit; f16/bf16 accumulate in
// f32 and round once, where the CPU rounds after every add). Steps:
//   1. keys[i] = index[i] << 32 | i (unique, so the sorted order is fixed: by row, then by i),
//      padded with ~0 to a power of two;
//   2. a bitonic sort of the keys (kernels/cuda/bitonic.h): each 2048-key tile sorted and merged in
//      shared memory (16 KiB), the merge steps wider than a tile as one global launch each;
//   3. grad_weight zero-filled, then one thread per (sorted position, column): a thread whose
//      position starts a row's run (and whose row is not padding_idx) sums the run in order and
//      writes the row; consecutive threads take consecutive columns (coalesced).
// Known cost: a very frequent index is summed serially by one thread per column (a long run).
// Needs N < 2^32 and V < 2^31 (the key packs both in 64 bits); larger throws DeviceError.
//
// Bags: one thread per (bag, column) walks the bag's indices in order with the CPU's
// accumulation type and NaN rule for Max, so the results match the CPU's bit for bit in f32.
#include <cmath>

#include "kernels/cuda/bitonic.h"
#include "kernels/cuda/gather_rows.cuh"
#include "kernels/embedding.h"

namespace strata::cuda {
namespace {

using kernels::BagMode;

void embedding_forward(const Tensor& weight, const Tensor& indices, const Tensor& out) {
  gather_rows(static_cast<const char*>(weight.raw_data()), indices, 1, weight.size(0),
              weight.size(1) * weight.itemsize(), static_cast<char*>(out.raw_data()), out.device());
}

// ---- dense backward ----

constexpr int kSortTile = 2048;

template <class I>
__global__ void make_keys_kernel(const I* __restrict__ index, int64_t n, int64_t len, uint64_t* __restrict__ keys) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < len; i += step)
    keys[i] = i < n ? (static_cast<uint64_t>(index[i]) << 32) | static_cast<uint64_t>(i) : ~uint64_t{0};
}

// Every compare-exchange step with partner distance j < tile, for the stages k_first..k_last
// (powers of two), on one tile in shared memory. blockDim.x == tile / 2: one pair per thread.
__global__ void bitonic_tile_kernel(uint64_t* __restrict__ keys, int64_t k_first, int64_t k_last, int tile) {
  __shared__ uint64_t s[kSortTile];
  const int64_t base = static_cast<int64_t>(blockIdx.x) * tile;
  for (int t = threadIdx.x; t < tile; t += blockDim.x) s[t] = keys[base + t];
  __syncthreads();
  for (int64_t k = k_first; k <= k_last; k <<= 1) {
    for (int64_t j = bitonic_first_tile_step(k, tile); j > 0; j >>= 1) {
      bitonic_compare_exchange(s, base, threadIdx.x, j, k);
      __syncthreads();
    }
  }
  for (int t = threadIdx.x; t < tile; t += blockDim.x) keys[base + t] = s[t];
}

// One compare-exchange step of stage k with partner distance j (>= the tile), over len / 2 pairs.
__global__ void bitonic_step_kernel(uint64_t* __restrict__ keys, int64_t pairs, int64_t j, int64_t k) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < pairs; t += step)
    bitonic_compare_exchange(keys, 0, t, j, k);
}

// Sorts len (a power of two) keys ascending.
void bitonic_sort(uint64_t* keys, int64_t len, cudaStream_t stream) {
  bitonic_schedule(
      len, kSortTile,
      [&](int64_t tile, int64_t k_first, int64_t k_last) {
        bitonic_tile_kernel<<<static_cast<unsigned>(len / tile), static_cast<unsigned>(tile / 2), 0, stream>>>(
            keys, k_first, k_last, static_cast<int>(tile));
        STRATA_CUDA_LAUNCH_CHECK(stream);
      },
      [&](int64_t j, int64_t k) {
        bitonic_step_kernel<<<grid_for(len / 2, kThreads), kThreads, 0, stream>>>(keys, len / 2, j, k);
        STRATA_CUDA_LAUNCH_CHECK(stream);
      });
}

template <class T>
__global__ void segment_sum_kernel(const uint64_t* __restrict__ keys, int64_t n, int64_t dim,
                                   const T* __restrict__ grad, int64_t padding_idx, T* __restrict__ grad_weight) {
  using C = compute_t<T>;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t w = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; w < n * dim; w += step) {
    const int64_t s = w / dim, d = w - s * dim;
    const uint64_t row = keys[s] >> 32;
    if (s > 0 && (keys[s - 1] >> 32) == row) continue;  // not the start of the row's run
    if (static_cast<int64_t>(row) == padding_idx) continue;
    C acc = C(0);
    for (int64_t t = s; t < n && (keys[t] >> 32) == row; ++t)
      acc += static_cast<C>(grad[static_cast<int64_t>(keys[t] & 0xffffffffu) * dim + d]);
    grad_weight[static_cast<int64_t>(row) * dim + d] = T(acc);
  }
}

void embedding_dense_backward(const Tensor& grad, const Tensor& indices, int64_t padding_idx,
                              const Tensor& grad_weight) {
  const int64_t vocab = grad_weight.size(0), dim = grad_weight.size(1), n = indices.numel();
  if (vocab == 0 || dim == 0) return;
  STRATA_CHECK(n < (int64_t{1} << 32) && vocab < (int64_t{1} << 31), DeviceError,
               "embedding_backward: CUDA supports fewer than 2^32 indices and 2^31 rows, got {} indices and {} rows",
               n, vocab);
  const Device device = grad_weight.device();
  const cudaStream_t stream = stream_for(device);
  DeviceGuard guard(device.index);
  STRATA_CUDA_CHECK(cudaMemsetAsync(grad_weight.raw_data(), 0, static_cast<size_t>(grad_weight.nbytes()), stream));
  if (n == 0) return;
  int64_t len = 1;
  while (len < n) len <<= 1;
  const Tensor key_buffer = empty({len}, {.dtype = DType::I64, .device = device});
  uint64_t* keys = static_cast<uint64_t*>(key_buffer.raw_data());
  if (indices.dtype() == DType::I32) {
    make_keys_kernel<int32_t><<<grid_for(len, kThreads), kThreads, 0, stream>>>(
        static_cast<const int32_t*>(indices.raw_data()), n, len, keys);
  } else {
    make_keys_kernel<int64_t><<<grid_for(len, kThreads), kThreads, 0, stream>>>(
        static_cast<const int64_t*>(indices.raw_data()), n, len, keys);
  }
  STRATA_CUDA_LAUNCH_CHECK(stream);
  bitonic_sort(keys, len, stream);
  visit_floating(grad_weight.dtype(), "embedding_backward", [&]<class T>() {
    segment_sum_kernel<T><<<grid_for(n * dim, kThreads), kThreads, 0, stream>>>(
        keys, n, dim, static_cast<const T*>(grad.raw_data()), padding_idx, static_cast<T*>(grad_weight.raw_data()));
    STRATA_CUDA_LAUNCH_CHECK(stream);
  });
}

// ---- bags ----

template <class T, class I>
__global__ void bag_kernel(const T* __restrict__ weight, const I* __restrict__ index, const int64_t* __restrict__ offsets,
                           int64_t bags, int64_t n, int64_t dim, BagMode mode, int64_t padding_idx, T* __restrict__ out,
                           int64_t* __restrict__ argmax, int64_t* __restrict__ count) {
  using C = compute_t<T>;
  const int64_t cols = dim > 0 ? dim : 1;  // dim 0: one thread per bag still writes its count
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t u = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; u < bags * cols; u += step) {
    const int64_t b = u / cols, j = u - b * cols;
    const int64_t begin = offsets[b], end = b + 1 < bags ? offsets[b + 1] : n;
    C acc = mode == BagMode::Max ? C(-INFINITY) : C(0);
    int64_t best = -1, taken = 0;
    for (int64_t i = begin; i < end; ++i) {
      const int64_t row = static_cast<int64_t>(index[i]);
      if (row == padding_idx) continue;
      ++taken;
      if (j >= dim) continue;
      const C v = static_cast<C>(weight[row * dim + j]);
      if (mode == BagMode::Max) {
        // First row, a larger value, or the first NaN (which then sticks), as on the CPU.
        if (best < 0 || (!(acc != acc) && (v > acc || v != v))) {
          acc = v;
          best = row;
        }
      } else {
        acc += v;
      }
    }
    if (j < dim) {
      const C scale = mode == BagMode::Mean && taken > 0 ? C(1) / static_cast<C>(taken) : C(1);
      const C v = taken == 0 ? C(0) : (mode == BagMode::Mean ? acc * scale : acc);
      out[b * dim + j] = T(v);
      if (argmax) argmax[b * dim + j] = best;
    }
    if (j == 0) count[b] = taken;
  }
}

void embedding_bag_forward(const Tensor& weight, const Tensor& indices, const Tensor& offsets, BagMode mode,
                           int64_t padding_idx, const Tensor& out, const Tensor& argmax, const Tensor& count) {
  const int64_t bags = offsets.numel(), dim = weight.size(1), n = indices.numel();
  if (bags == 0) return;
  const Device device = out.device();
  const cudaStream_t stream = stream_for(device);
  DeviceGuard guard(device.index);
  const int64_t work = bags * std::max<int64_t>(dim, 1);
  const int64_t* off = static_cast<const int64_t*>(offsets.raw_data());
  int64_t* arg = argmax.defined() ? static_cast<int64_t*>(argmax.raw_data()) : nullptr;
  int64_t* cnt = static_cast<int64_t*>(count.raw_data());
  visit_floating(weight.dtype(), "embedding_bag", [&]<class T>() {
    const T* w = static_cast<const T*>(weight.raw_data());
    T* o = static_cast<T*>(out.raw_data());
    if (indices.dtype() == DType::I32) {
      bag_kernel<T, int32_t><<<grid_for(work, kThreads), kThreads, 0, stream>>>(
          w, static_cast<const int32_t*>(indices.raw_data()), off, bags, n, dim, mode, padding_idx, o, arg, cnt);
    } else {
      bag_kernel<T, int64_t><<<grid_for(work, kThreads), kThreads, 0, stream>>>(
          w, static_cast<const int64_t*>(indices.raw_data()), off, bags, n, dim, mode, padding_idx, o, arg, cnt);
    }
    STRATA_CUDA_LAUNCH_CHECK(stream);
  });
}

const bool g_registered = register_kernels([](kernels::CudaTable& t) {
  t.embedding_forward = &embedding_forward;
  t.embedding_dense_backward = &embedding_dense_backward;
  t.embedding_bag_forward = &embedding_bag_forward;
});

}  // namespace
}  // namespace strata::cuda
