// CUDA reductions that keep positions (CudaTable::arg_reduce, cumsum; semantics in
// kernels/reduce.h, CPU twin in kernels/cpu/reduce_index.cpp).
//
// Both read a contiguous x as [outer, len, inner] around the reduced dim (arg_reduce first makes a
// strided x contiguous on the device; its outputs are written to contiguous buffers).
//   inner == 1  a group of G threads per line: G = 32 (a warp, 8 lines per block) for short lines,
//               256 (the block) for long ones.
//   inner > 1   one thread per lane (o, j), walking the line with stride inner (coalesced across j).
// arg_reduce: each thread keeps the (value, index) it wins with over its elements; the group
// combines with butterfly shuffles under arg_wins (kernels/reduce_index_functors.h: better value,
// or as good at a smaller index), a total order, so the result is the first occurrence of the
// extreme with NaN counting as the extreme, exactly as the CPU's sequential scan.
// cumsum: the group walks its line in tiles of G x 4 values: each thread scans its 4 values, the
// group scans the thread totals (warp shuffles, then shared memory across warps), and a running
// carry links the tiles. Accumulation in f64 for floating x (f16/bf16 load through f32) and i64
// for integers and bool, like the CPU. A fixed order for a given shape: deterministic. Known cost:
// one very long line (cumsum over 10^7 values with outer == 1) runs on one block.
#include <limits>
#include <type_traits>

#include "kernels/cuda/loops.cuh"
#include "kernels/reduce.h"
#include "kernels/reduce_index_functors.h"

namespace strata::cuda {
namespace {

constexpr int kBlock = 256;
constexpr int64_t kWarpLineMax = 2048;  // lines up to this long get one warp, longer ones a block

struct Lines {
  int64_t outer = 1, len = 1, inner = 1;
};

Lines lines_of(const Tensor& x, int64_t dim) {
  Lines l;
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (d < dim) l.outer *= x.size(d);
    else if (d == dim) l.len = x.size(d);
    else l.inner *= x.size(d);
  }
  return l;
}

template <int G>
unsigned line_grid(int64_t lines) {
  constexpr int64_t per_block = kBlock / G;
  return grid_for((lines + per_block - 1) / per_block, 1);
}

// ---- arg_reduce ----
// Values are compared as K: the compute type for floating T (f16/bf16 in f32), long long for
// integers and bool (shuffles move 4- and 8-byte words).
template <class T>
using ArgKey = std::conditional_t<is_floating(dtype_of<T>()), compute_t<T>, long long>;

constexpr long long kNoIndex = std::numeric_limits<long long>::max();

template <bool IsMax, class K>
__device__ __forceinline__ void arg_take(K& best, long long& bi, K v, long long i) {
  if (i == kNoIndex) return;
  if (bi == kNoIndex || kernels::arg_wins<IsMax>(v, i, best, bi)) best = v, bi = i;
}

template <int G, bool IsMax, class T>
__global__ void __launch_bounds__(kBlock) arg_rows_kernel(const T* x, int64_t lines, int64_t len, T* values,
                                                          int64_t* indices) {
  using K = ArgKey<T>;
  __shared__ K smem_v[kBlock / 32];
  __shared__ long long smem_i[kBlock / 32];
  constexpr int kGroups = kBlock / G;
  const int lane = threadIdx.x % G;
  for (int64_t r = static_cast<int64_t>(blockIdx.x) * kGroups + threadIdx.x / G; r < lines;
       r += static_cast<int64_t>(gridDim.x) * kGroups) {
    const T* xr = x + r * len;
    K best = K(0);
    long long bi = kNoIndex;
    for (int64_t i = lane; i < len; i += G) {
      const K v = static_cast<K>(static_cast<compute_t<T>>(xr[i]));
      if (bi == kNoIndex || kernels::arg_better<IsMax>(v, best)) best = v, bi = i;  // own elements ascend
    }
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
      const K v2 = __shfl_xor_sync(0xffffffffu, best, o);
      const long long i2 = __shfl_xor_sync(0xffffffffu, bi, o);
      arg_take<IsMax>(best, bi, v2, i2);
    }
    if constexpr (G > 32) {
      const int warp = threadIdx.x / 32;
      __syncthreads();
      if (threadIdx.x % 32 == 0) smem_v[warp] = best, smem_i[warp] = bi;
      __syncthreads();
      best = smem_v[0], bi = smem_i[0];
#pragma unroll
      for (int w = 1; w < G / 32; ++w) arg_take<IsMax>(best, bi, smem_v[w], smem_i[w]);
    }
    if (lane == 0) {
      indices[r] = bi;
      if (values) values[r] = xr[bi];
    }
  }
}

template <bool IsMax, class T>
__global__ void __launch_bounds__(kBlock) arg_lanes_kernel(const T* x, int64_t items, int64_t len, int64_t inner,
                                                           T* values, int64_t* indices) {
  using K = ArgKey<T>;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t it = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; it < items; it += step) {
    const T* xl = x + (it / inner) * len * inner + it % inner;
    K best = static_cast<K>(static_cast<compute_t<T>>(xl[0]));
    int64_t bi = 0;
    for (int64_t i = 1; i < len; ++i) {
      const K v = static_cast<K>(static_cast<compute_t<T>>(xl[i * inner]));
      if (kernels::arg_better<IsMax>(v, best)) best = v, bi = i;
    }
    indices[it] = bi;
    if (values) values[it] = xl[bi * inner];
  }
}

template <bool IsMax, class T>
void arg_launch(const Lines& l, const T* x, T* values, int64_t* indices, cudaStream_t stream) {
  if (l.inner == 1) {
    if (l.len <= kWarpLineMax) {
      arg_rows_kernel<32, IsMax, T><<<line_grid<32>(l.outer), kBlock, 0, stream>>>(x, l.outer, l.len, values, indices);
    } else {
      arg_rows_kernel<kBlock, IsMax, T>
          <<<line_grid<kBlock>(l.outer), kBlock, 0, stream>>>(x, l.outer, l.len, values, indices);
    }
  } else {
    arg_lanes_kernel<IsMax, T><<<grid_for(l.outer * l.inner, kBlock), kBlock, 0, stream>>>(
        x, l.outer * l.inner, l.len, l.inner, values, indices);
  }
  STRATA_CUDA_LAUNCH_CHECK(stream);
}

void arg_reduce(bool is_max, const Tensor& x, int64_t dim, const Tensor& values, const Tensor& indices) {
  if (indices.numel() == 0) return;
  DeviceGuard guard(x.device().index);
  const cudaStream_t stream = stream_for(x.device());
  const Tensor xc = x.detach().contiguous();  // a kernel-internal copy: no autograd history
  const Lines l = x.dim() == 0 ? Lines{} : lines_of(xc, dim);
  // Contiguous outputs (the front end allocates them so; anything else goes through a buffer).
  const Tensor idx = indices.is_contiguous() ? indices : empty(indices.shape(), {.dtype = DType::I64, .device = x.device()});
  Tensor vals;
  if (values.defined()) vals = values.is_contiguous() ? values : empty(values.shape(), {.dtype = x.dtype(), .device = x.device()});
  visit_dtype(x.dtype(), [&]<class T>() {
    const T* xp = static_cast<const T*>(xc.raw_data());
    T* vp = vals.defined() ? static_cast<T*>(vals.raw_data()) : nullptr;
    int64_t* ip = static_cast<int64_t*>(idx.raw_data());
    if (is_max) arg_launch<true, T>(l, xp, vp, ip, stream);
    else arg_launch<false, T>(l, xp, vp, ip, stream);
  });
  if (!idx.is_same(indices)) kernels::copy(idx, indices);
  if (values.defined() && !vals.is_same(values)) kernels::copy(vals, values);
}

// ---- cumsum ----
template <class T>
using CumAcc = std::conditional_t<is_floating(dtype_of<T>()), double, long long>;
template <class T>
using CumOut = std::conditional_t<is_floating(dtype_of<T>()), T, int64_t>;

template <class T>
__device__ __forceinline__ CumAcc<T> cum_load(const T* p) {
  if constexpr (is_floating(dtype_of<T>())) return static_cast<double>(static_cast<compute_t<T>>(*p));
  else return static_cast<long long>(*p);
}

template <class T>
__device__ __forceinline__ CumOut<T> cum_store(CumAcc<T> a) {
  if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) return T(static_cast<float>(a));
  else return static_cast<CumOut<T>>(a);
}

constexpr int kPerThread = 4;

template <int G, class T>
__global__ void __launch_bounds__(kBlock) cumsum_rows_kernel(const T* x, CumOut<T>* out, int64_t lines, int64_t len,
                                                             bool reverse) {
  using A = CumAcc<T>;
  __shared__ A smem[kBlock / 32];
  constexpr int kGroups = kBlock / G, kTile = G * kPerThread;
  const int lane = threadIdx.x % G, wl = threadIdx.x % 32;
  for (int64_t r = static_cast<int64_t>(blockIdx.x) * kGroups + threadIdx.x / G; r < lines;
       r += static_cast<int64_t>(gridDim.x) * kGroups) {
    const T* xr = x + r * len;
    CumOut<T>* orow = out + r * len;
    A carry = 0;
    for (int64_t t0 = 0; t0 < len; t0 += kTile) {
      // Positions in walking order; physical index len - 1 - p when reverse.
      const int64_t p0 = t0 + static_cast<int64_t>(lane) * kPerThread;
      A v[kPerThread];
#pragma unroll
      for (int k = 0; k < kPerThread; ++k) {
        const int64_t p = p0 + k;
        v[k] = p < len ? cum_load(xr + (reverse ? len - 1 - p : p)) : A(0);
      }
#pragma unroll
      for (int k = 1; k < kPerThread; ++k) v[k] += v[k - 1];
      // Inclusive scan of the thread totals across the warp.
      A inc = v[kPerThread - 1];
#pragma unroll
      for (int o = 1; o < 32; o <<= 1) {
        const A n = __shfl_up_sync(0xffffffffu, inc, o);
        if (wl >= o) inc += n;
      }
      A before = __shfl_up_sync(0xffffffffu, inc, 1);  // exclusive within the warp
      if (wl == 0) before = 0;
      A tile_total = __shfl_sync(0xffffffffu, inc, 31);
      if constexpr (G > 32) {
        const int warp = threadIdx.x / 32;
        __syncthreads();
        if (wl == 31) smem[warp] = inc;
        __syncthreads();
        A warps_before = 0;
        tile_total = 0;
#pragma unroll
        for (int w = 0; w < G / 32; ++w) {
          if (w < warp) warps_before += smem[w];
          tile_total += smem[w];
        }
        before += warps_before;
      }
      const A offset = carry + before;
#pragma unroll
      for (int k = 0; k < kPerThread; ++k) {
        const int64_t p = p0 + k;
        if (p < len) orow[reverse ? len - 1 - p : p] = cum_store<T>(offset + v[k]);
      }
      carry += tile_total;
    }
  }
}

template <class T>
__global__ void __launch_bounds__(kBlock) cumsum_lanes_kernel(const T* x, CumOut<T>* out, int64_t items, int64_t len,
                                                              int64_t inner, bool reverse) {
  using A = CumAcc<T>;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t it = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; it < items; it += step) {
    const int64_t base = (it / inner) * len * inner + it % inner;
    A acc = 0;
    for (int64_t j = 0; j < len; ++j) {
      const int64_t i = base + (reverse ? len - 1 - j : j) * inner;
      acc += cum_load(x + i);
      out[i] = cum_store<T>(acc);
    }
  }
}

void cumsum(const Tensor& x, int64_t dim, const Tensor& out, bool reverse) {
  if (x.numel() == 0) return;
  DeviceGuard guard(out.device().index);
  const cudaStream_t stream = stream_for(out.device());
  const Lines l = x.dim() == 0 ? Lines{} : lines_of(x, dim);
  visit_dtype(x.dtype(), [&]<class T>() {
    const T* xp = static_cast<const T*>(x.raw_data());
    auto* op = static_cast<CumOut<T>*>(out.raw_data());
    if (l.inner == 1) {
      if (l.len <= kWarpLineMax) {
        cumsum_rows_kernel<32, T><<<line_grid<32>(l.outer), kBlock, 0, stream>>>(xp, op, l.outer, l.len, reverse);
      } else {
        cumsum_rows_kernel<kBlock, T><<<line_grid<kBlock>(l.outer), kBlock, 0, stream>>>(xp, op, l.outer, l.len,
                                                                                         reverse);
      }
    } else {
      cumsum_lanes_kernel<T><<<grid_for(l.outer * l.inner, kBlock), kBlock, 0, stream>>>(
          xp, op, l.outer * l.inner, l.len, l.inner, reverse);
    }
    STRATA_CUDA_LAUNCH_CHECK(stream);
  });
}

const bool g_registered = register_kernels([](kernels::CudaTable& t) {
  t.arg_reduce = &arg_reduce;
  t.cumsum = &cumsum;
});

}  // namespace
}  // namespace strata::cuda
