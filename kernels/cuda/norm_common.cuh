#pragma once
// Building blocks of the CUDA normalization kernels (norm_batch.cu, norm_layer.cu): the compute
// type, team sums and the per-row two-pass statistics.
//
// A "team" is the group of threads that reduces one row: one warp (kTeam = 32, shuffles only) for
// short rows, or the whole block (kTeam = blockDim.x, a multiple of 32: shuffles, then the warps'
// partials through shared memory). Sums accumulate in double whatever the data type (the kernels
// are memory-bound; the H100 adds doubles at half the float rate), and every thread adds its
// elements in a fixed order, so results depend on the shape and the team size only, never on
// scheduling: no atomics anywhere in the family.
#include <cuda_runtime.h>

#include <cstdint>
#include <type_traits>

#include "kernels/norm_functors.h"
#include "tensor/half.h"

namespace strata::cuda::norm {

// The type elementwise math and statistics are stored in for data type T (as on the CPU).
template <class T>
using Acc = std::conditional_t<std::is_same_v<T, double>, double, float>;

inline constexpr int kWarp = 32;
inline constexpr int kBlockTeam = 512;  // threads of a block-wide team
inline constexpr int kMaxWarpsPerBlock = kBlockTeam / kWarp;

// Σ v over the team; every thread of the team gets the total. `smem` holds at least
// kTeam / 32 doubles (block teams only). All threads of the team must call it together.
template <int kTeam>
__device__ __forceinline__ double team_sum(double v, double* smem) {
#pragma unroll
  for (int o = kWarp / 2; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  if constexpr (kTeam == kWarp) {
    return v;
  } else {
    static_assert(kTeam % kWarp == 0 && kTeam / kWarp <= kMaxWarpsPerBlock, "block team too large");
    __syncthreads();  // every thread is done reading smem from the previous call
    if (threadIdx.x % kWarp == 0) smem[threadIdx.x / kWarp] = v;
    __syncthreads();
    double total = 0;
#pragma unroll
    for (int w = 0; w < kTeam / kWarp; ++w) total += smem[w];
    return total;
  }
}

struct RowStats {
  double mean, var;  // var biased
};

// Two-pass mean and biased variance of x[0..n) (contiguous), as the CPU computes them
// (kernels/cpu/norm_common.h, two_pass_moments): a first mean m rounded to the compute type, then
// Σ (x - m) and Σ (x - m)^2, which correct both for m's rounding. `lane` is the thread's index
// within the team.
template <int kTeam, class T>
__device__ __forceinline__ RowStats row_stats(const T* x, int64_t n, int lane, double* smem) {
  using A = Acc<T>;
  double s = 0;
  for (int64_t i = lane; i < n; i += kTeam) s += static_cast<double>(static_cast<A>(x[i]));
  s = team_sum<kTeam>(s, smem);
  if (n == 0) return {0.0, 0.0};
  const double count = static_cast<double>(n);
  const double m = static_cast<double>(static_cast<A>(s / count));
  double d = 0, q = 0;
  for (int64_t i = lane; i < n; i += kTeam) {
    const double v = static_cast<double>(static_cast<A>(x[i])) - m;
    d += v;
    q += v * v;
  }
  d = team_sum<kTeam>(d, smem);
  q = team_sum<kTeam>(q, smem);
  const kernels::NormMoments mo = kernels::norm_two_pass_moments(m, d, q, count);
  return {mo.mean, mo.var};
}

// Σ a(i) and Σ b(i) over i < n for the team, a and b computed together per element.
template <int kTeam, class F>
__device__ __forceinline__ void team_sums2(int64_t n, int lane, double* smem, F&& f, double* sa, double* sb) {
  double a = 0, b = 0;
  for (int64_t i = lane; i < n; i += kTeam) f(i, a, b);
  *sa = team_sum<kTeam>(a, smem);
  *sb = team_sum<kTeam>(b, smem);
}

}  // namespace strata::cuda::norm
