#pragma once
// Device helpers shared by the CUDA softmax and class-index loss kernels (softmax.cu, loss.cu).
//
// Layout (kernels/loss.h): a contiguous tensor with its class dim is [outer, C, inner].
//   inner == 1  rows of C contiguous values. A group of G threads owns a row: G = 32 (one warp,
//               8 rows per 256-thread block) for C <= kWarpRowMax, else G = 256 (the whole block).
//               Each thread walks the row with stride G, 16-byte vector loads when every row
//               starts 16-byte aligned (C a multiple of the vector width, aligned base), and the
//               group combines with butterfly shuffles (plus shared memory across a block's
//               warps), so every thread ends with the same row result.
//   inner > 1   one thread per lane (o, j): the thread walks the class dim with stride `inner`;
//               neighbouring threads read neighbouring j, so the loads coalesce.
// Every combine runs in a fixed order for a given shape, so results are deterministic.
#include <cstdint>

#include "kernels/cuda/loops.cuh"
#include "kernels/loss.h"
#include "kernels/loss_functors.h"

namespace strata::cuda::softmax_detail {

constexpr int kBlock = 256;
constexpr int64_t kWarpRowMax = 1024;  // rows up to this long get one warp, longer ones a block

struct Geometry {
  int64_t outer = 1, classes = 1, inner = 1;
  int64_t items() const { return outer * inner; }
};

inline Geometry geometry(const Shape& s, int64_t dim) {
  Geometry g;
  for (int64_t d = 0; d < s.ndim(); ++d) {
    if (d < dim) g.outer *= s[d];
    else if (d == dim) g.classes = s[d];
    else g.inner *= s[d];
  }
  return g;
}

// Whether rows of C values of T starting at each of `ptrs` can be read as 16-byte vectors.
template <class T>
bool rows_vectorizable(int64_t C, std::initializer_list<const void*> ptrs) {
  constexpr int64_t V = 16 / sizeof(T);
  if (C % V != 0) return false;
  for (const void* p : ptrs)
    if (p != nullptr && !aligned_to(p, 16)) return false;
  return true;
}

// Blocks for `rows` rows at G threads per row (grid-stride beyond the cap).
template <int G>
unsigned row_grid(int64_t rows) {
  constexpr int64_t per_block = kBlock / G;
  return grid_for((rows + per_block - 1) / per_block, 1);
}

// ---- group combines: every thread of the G-thread group gets the result ----
// smem: kBlock / 32 slots; only touched when G > 32.

template <int G, class CT>
__device__ __forceinline__ CT group_sum(CT v, CT* smem) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  if constexpr (G == 32) {
    return v;
  } else {
    static_assert(G == kBlock, "a group is a warp or the whole block");
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    __syncthreads();  // the previous combine's readers are done with smem
    if (lane == 0) smem[warp] = v;
    __syncthreads();
    CT t = smem[0];
#pragma unroll
    for (int w = 1; w < G / 32; ++w) t += smem[w];
    return t;
  }
}

// Combines running softmax rows (m, s) over the group (kernels/loss_functors.h).
template <int G, class CT>
__device__ __forceinline__ void group_online(CT& m, CT& s, CT* smem_m, CT* smem_s) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) {
    const CT m2 = __shfl_xor_sync(0xffffffffu, m, o), s2 = __shfl_xor_sync(0xffffffffu, s, o);
    kernels::online_softmax_merge(m, s, m2, s2);
  }
  if constexpr (G > 32) {
    static_assert(G == kBlock, "a group is a warp or the whole block");
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    __syncthreads();
    if (lane == 0) smem_m[warp] = m, smem_s[warp] = s;
    __syncthreads();
    m = smem_m[0], s = smem_s[0];
#pragma unroll
    for (int w = 1; w < G / 32; ++w) kernels::online_softmax_merge(m, s, smem_m[w], smem_s[w]);
  }
}

// ---- row walks: thread `lane` of G visits c = lane, lane + G, ... (vectors of V when vec) ----

template <int G, class T, class F>
__device__ __forceinline__ void row_visit(const T* row, int64_t C, bool vec, int lane, F&& f) {
  constexpr int V = 16 / sizeof(T);
  if (vec) {
    const auto* rv = reinterpret_cast<const Vec<T, V>*>(row);
    for (int64_t v = lane; v < C / V; v += G) {
      const Vec<T, V> a = rv[v];
#pragma unroll
      for (int j = 0; j < V; ++j) f(v * V + j, a.v[j]);
    }
  } else {
    for (int64_t c = lane; c < C; c += G) f(c, row[c]);
  }
}

// f(c, a[c], b[c]) for both rows at once (same vector loads as row_visit).
template <int G, class T, class F>
__device__ __forceinline__ void row_visit2(const T* a, const T* b, int64_t C, bool vec, int lane, F&& f) {
  constexpr int V = 16 / sizeof(T);
  if (vec) {
    const auto* av = reinterpret_cast<const Vec<T, V>*>(a);
    const auto* bv = reinterpret_cast<const Vec<T, V>*>(b);
    for (int64_t v = lane; v < C / V; v += G) {
      const Vec<T, V> x = av[v], y = bv[v];
#pragma unroll
      for (int j = 0; j < V; ++j) f(v * V + j, x.v[j], y.v[j]);
    }
  } else {
    for (int64_t c = lane; c < C; c += G) f(c, a[c], b[c]);
  }
}

// out[c] = f(c, a[c], b[c]) (b may be null: f gets T(0)).
template <int G, class T, class F>
__device__ __forceinline__ void row_map(const T* a, const T* b, T* out, int64_t C, bool vec, int lane, F&& f) {
  constexpr int V = 16 / sizeof(T);
  if (vec) {
    const auto* av = reinterpret_cast<const Vec<T, V>*>(a);
    const auto* bv = reinterpret_cast<const Vec<T, V>*>(b);
    auto* ov = reinterpret_cast<Vec<T, V>*>(out);
    for (int64_t v = lane; v < C / V; v += G) {
      const Vec<T, V> x = av[v];
      Vec<T, V> y;
      if (b) y = bv[v];
      Vec<T, V> r;
#pragma unroll
      for (int j = 0; j < V; ++j) r.v[j] = f(v * V + j, x.v[j], b ? y.v[j] : T(0.0f));
      ov[v] = r;
    }
  } else {
    for (int64_t c = lane; c < C; c += G) out[c] = f(c, a[c], b ? b[c] : T(0.0f));
  }
}

// ---- class-index targets on the device ----
template <class CT>
struct DeviceTargets {
  const void* target;  // i64 or i32 (target_i32), one per item
  bool target_i32;
  int64_t ignore_index;
  const CT* weight;        // [C] or null (every class weighs 1)
  const CT* total_weight;  // device scalar W = sum(weight), or null (W = C)

  __device__ __forceinline__ int64_t at(int64_t item) const {
    return target_i32 ? static_cast<int64_t>(static_cast<const int32_t*>(target)[item])
                      : static_cast<const int64_t*>(target)[item];
  }
  __device__ __forceinline__ CT class_weight(int64_t c) const { return weight ? weight[c] : CT(1); }
};

}  // namespace strata::cuda::softmax_detail
