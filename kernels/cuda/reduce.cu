// CUDA reductions (CudaTable::reduce, kernels/reduce.h): sum, mean, prod, amax, amin, any, all,
// the norms, var/std and logsumexp over any set of dims, with the CPU kernels' semantics
// (kernels/cpu/reduce.cpp): floating inputs accumulate in f64 (f16/bf16 loaded through f32),
// integers and bool in i64; max/min propagate NaN; var/std and logsumexp take two passes over the
// reduced elements (the mean, or the max with +-inf replaced by 0, then the deviations).
//
// Shape of the work: every output element is reduced by one group of threads, a warp when the
// reduced extent is short (8 outputs per 256-thread block), a whole block when it is long; each
// thread strides over the reduced elements, then the group combines with warp shuffles (and
// shared memory across the warps of a block). Reduced and kept dims each go through an
// OffsetCalculator, so any axes and any input strides work. Known cost: reducing an outer dim
// (sum over dim 0 of [N, C]) reads with a stride across the warp; a column-tiled kernel for that
// case is the next optimization.
#include <cmath>
#include <limits>

#include "kernels/cuda/loops.cuh"
#include "kernels/elementwise.h"
#include "kernels/reduce.h"

namespace strata::cuda {
namespace {

using kernels::ReduceOp;

enum class Comb : uint8_t { sum, prod, max, min, any, all };
enum class Map : uint8_t { id, abs, square, nonzero, pow_abs, sq_dev, exp_dev };
enum class Fin : uint8_t { cast, mean, sqrt, root, var, std, lse };

struct Spec {
  Comb comb = Comb::sum;
  Map map = Map::id;
  Fin fin = Fin::cast;
  double param = 0;
  bool two_pass = false;
  Comb center_comb = Comb::sum;  // the first pass of a two-pass reduction (sum: mean; max: lse)
};

template <class Total>
__device__ __forceinline__ Total identity(Comb c) {
  switch (c) {
    case Comb::sum: case Comb::any: return Total(0);
    case Comb::prod: case Comb::all: return Total(1);
    case Comb::max:
      if constexpr (std::is_floating_point_v<Total>) return -INFINITY;
      else return std::numeric_limits<Total>::lowest();
    case Comb::min:
      if constexpr (std::is_floating_point_v<Total>) return INFINITY;
      else return std::numeric_limits<Total>::max();
  }
  return Total(0);
}

template <class Total>
__device__ __forceinline__ Total combine(Comb c, Total a, Total b) {
  switch (c) {
    case Comb::sum: return a + b;
    case Comb::prod: return a * b;
    case Comb::max: return (b > a || b != b) ? b : a;  // NaN wins (a NaN a stays: b > NaN is false)
    case Comb::min: return (b < a || b != b) ? b : a;
    case Comb::any: return (a != Total(0) || b != Total(0)) ? Total(1) : Total(0);
    case Comb::all: return (a != Total(0) && b != Total(0)) ? Total(1) : Total(0);
  }
  return a;
}

template <class Total>
__device__ __forceinline__ Total map_value(const Spec& s, Total v, Total c) {
  switch (s.map) {
    case Map::id: return v;
    case Map::nonzero: return v != Total(0) ? Total(1) : Total(0);
    default: break;
  }
  if constexpr (std::is_floating_point_v<Total>) {
    switch (s.map) {
      case Map::abs: return v < 0 ? -v : v;
      case Map::square: return v * v;
      case Map::pow_abs: return pow(v < 0 ? -v : v, s.param);
      case Map::sq_dev: return (v - c) * (v - c);
      case Map::exp_dev: return exp(v - c);
      default: break;
    }
  }
  return v;
}

template <class Total>
__device__ __forceinline__ Total finalize(const Spec& s, Total t, int64_t n, Total c) {
  if constexpr (std::is_floating_point_v<Total>) {
    const double dn = static_cast<double>(n);
    switch (s.fin) {
      case Fin::cast: return t;
      case Fin::mean: return t / dn;
      case Fin::sqrt: return sqrt(t);
      case Fin::root: return pow(t, 1.0 / s.param);
      case Fin::var: return t / fmax(0.0, dn - s.param);
      case Fin::std: return sqrt(t / fmax(0.0, dn - s.param));
      case Fin::lse: return log(t) + c;
    }
  }
  return t;
}

template <class Out, class Total>
__device__ __forceinline__ Out to_out(Total t) {
  if constexpr (std::is_same_v<Out, bool>) {
    return t != Total(0);
  } else if constexpr (std::is_same_v<Out, Half> || std::is_same_v<Out, BFloat16>) {
    return Out(static_cast<float>(t));
  } else {
    return static_cast<Out>(t);
  }
}

// The value of element `r` of the reduced extent, as a Total.
template <class T, class Total>
__device__ __forceinline__ Total load(const char* base, const OffsetCalculator<1>& inner, int64_t r) {
  const T v = *reinterpret_cast<const T*>(base + inner.get(r)[0]);
  return static_cast<Total>(static_cast<compute_t<T>>(v));
}

// Combines v across the group (G = 32: a warp, G = 256: the block); every thread gets the result.
template <int G, class Total>
__device__ __forceinline__ Total group_reduce(Comb c, Total v, Total* smem) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = combine(c, v, __shfl_down_sync(0xffffffffu, v, o));
  if constexpr (G == 32) {
    return __shfl_sync(0xffffffffu, v, 0);
  } else {
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    __syncthreads();  // smem may still be read by the previous call
    if (lane == 0) smem[warp] = v;
    __syncthreads();
    v = lane < G / 32 ? smem[lane] : identity<Total>(c);
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = combine(c, v, __shfl_down_sync(0xffffffffu, v, o));
    return __shfl_sync(0xffffffffu, v, 0);
  }
}

template <int G, class T, class Total, class Out>
__global__ void reduce_kernel(int64_t m, int64_t r, OffsetCalculator<2> outer, OffsetCalculator<1> inner,
                              const char* x, char* out, Spec s) {
  constexpr int kThreads = 256, kGroups = kThreads / G;
  __shared__ Total smem[kThreads / 32];
  const int group = threadIdx.x / G, lane = threadIdx.x % G;
  for (int64_t o = static_cast<int64_t>(blockIdx.x) * kGroups + group; o < m;
       o += static_cast<int64_t>(gridDim.x) * kGroups) {
    const Array<int64_t, 2> off = outer.get(o);
    const char* base = x + off[0];
    Total c = Total(0);
    if (s.two_pass) {
      Total acc = identity<Total>(s.center_comb);
      for (int64_t i = lane; i < r; i += G) acc = combine(s.center_comb, acc, load<T, Total>(base, inner, i));
      acc = group_reduce<G>(s.center_comb, acc, smem);
      if constexpr (std::is_floating_point_v<Total>) {
        c = s.center_comb == Comb::sum ? acc / static_cast<double>(r) : (isinf(acc) ? Total(0) : acc);
      }
    }
    Total acc = identity<Total>(s.comb);
    for (int64_t i = lane; i < r; i += G) acc = combine(s.comb, acc, map_value(s, load<T, Total>(base, inner, i), c));
    acc = group_reduce<G>(s.comb, acc, smem);
    if (lane == 0) *reinterpret_cast<Out*>(out + off[1]) = to_out<Out>(finalize(s, acc, r, c));
  }
}

template <class T, class Total, class Out>
void launch(const Tensor& x, const Tensor& out, const Spec& s) {
  // Kept dims (x and out offsets) and reduced dims (x offsets), innermost first.
  constexpr int kMaxRank = 64;
  STRATA_CHECK(x.dim() <= kMaxRank, DeviceError, "CUDA reduction: {} dims are too many", x.dim());
  int64_t kept_sizes[kMaxRank], red_sizes[kMaxRank];
  int64_t kept_strides[kMaxRank][2], red_strides[kMaxRank][1];
  int nk = 0, nr = 0;
  int64_t r = 1;
  for (int64_t d = x.dim() - 1; d >= 0; --d) {
    const int64_t size = x.shape()[d];
    if (size == 1) continue;
    const int64_t xs = x.strides()[d] * x.itemsize();
    if (out.shape()[d] == 1) {
      red_sizes[nr] = size;
      red_strides[nr][0] = xs;
      ++nr;
      r *= size;
    } else {
      kept_sizes[nk] = size;
      kept_strides[nk][0] = xs;
      kept_strides[nk][1] = out.strides()[d] * out.itemsize();
      ++nk;
    }
  }
  const int64_t m = out.numel();
  if (m == 0) return;
  const auto outer = offset_calculator_from_dims<2>(nk, kept_sizes, kept_strides);
  const auto inner = offset_calculator_from_dims<1>(nr, red_sizes, red_strides);
  DeviceGuard g(out.device().index);
  const cudaStream_t stream = stream_for(out.device());
  const char* xp = static_cast<const char*>(x.raw_data());
  char* op = static_cast<char*>(out.raw_data());
  if (r > 1024) {
    reduce_kernel<256, T, Total, Out><<<grid_for(m, 1), 256, 0, stream>>>(m, r, outer, inner, xp, op, s);
  } else {
    reduce_kernel<32, T, Total, Out><<<grid_for((m + 7) / 8, 1), 256, 0, stream>>>(m, r, outer, inner, xp, op, s);
  }
  STRATA_CUDA_LAUNCH_CHECK(stream);
}

Spec spec_for(ReduceOp op, double param) {
  Spec s;
  switch (op) {
    case ReduceOp::sum: break;
    case ReduceOp::mean: s.fin = Fin::mean; break;
    case ReduceOp::prod: s.comb = Comb::prod; break;
    case ReduceOp::amax: s.comb = Comb::max; break;
    case ReduceOp::amin: s.comb = Comb::min; break;
    case ReduceOp::any: s.comb = Comb::any; s.map = Map::nonzero; break;
    case ReduceOp::all: s.comb = Comb::all; s.map = Map::nonzero; break;
    case ReduceOp::norm0: s.map = Map::nonzero; break;
    case ReduceOp::norm1: s.map = Map::abs; break;
    case ReduceOp::norm2: s.map = Map::square; s.fin = Fin::sqrt; break;
    case ReduceOp::norm_inf: s.comb = Comb::max; s.map = Map::abs; break;
    case ReduceOp::norm_neg_inf: s.comb = Comb::min; s.map = Map::abs; break;
    case ReduceOp::norm_p: s.map = Map::pow_abs; s.fin = Fin::root; s.param = param; break;
    case ReduceOp::var: case ReduceOp::std:
      s.map = Map::sq_dev; s.fin = op == ReduceOp::var ? Fin::var : Fin::std; s.param = param;
      s.two_pass = true; s.center_comb = Comb::sum;
      break;
    case ReduceOp::logsumexp:
      s.map = Map::exp_dev; s.fin = Fin::lse; s.two_pass = true; s.center_comb = Comb::max;
      break;
  }
  return s;
}

// The value of a reduction over no elements (as on the CPU).
double empty_value(ReduceOp op) {
  switch (op) {
    case ReduceOp::prod: case ReduceOp::all: return 1.0;
    case ReduceOp::mean: case ReduceOp::var: case ReduceOp::std: return std::numeric_limits<double>::quiet_NaN();
    case ReduceOp::logsumexp: return -std::numeric_limits<double>::infinity();
    case ReduceOp::amax: case ReduceOp::amin: case ReduceOp::norm_inf: case ReduceOp::norm_neg_inf:
      STRATA_THROW(IndexError, "{}: cannot reduce over an empty extent", kernels::reduce_op_name(op));
    default: return 0.0;
  }
}

void reduce(ReduceOp op, const Tensor& x, const Tensor& out, double param) {
  if (out.numel() == 0) return;
  if (x.numel() == 0) return kernels::fill(out, empty_value(op));
  const Spec s = spec_for(op, param);
  const bool any_all = op == ReduceOp::any || op == ReduceOp::all;
  visit_dtype(x.dtype(), [&]<class T>() {
    if constexpr (is_floating(dtype_of<T>())) {
      if (any_all) return launch<T, int64_t, bool>(x, out, s);
      return launch<T, double, T>(x, out, s);
    } else {
      if (any_all) return launch<T, int64_t, bool>(x, out, s);
      const bool sum_like = op == ReduceOp::sum || op == ReduceOp::prod;
      STRATA_CHECK(sum_like || op == ReduceOp::amax || op == ReduceOp::amin, DTypeError,
                   "{}: not supported for dtype {}", kernels::reduce_op_name(op), x.dtype());
      if (sum_like) return launch<T, int64_t, int64_t>(x, out, s);
      return launch<T, int64_t, T>(x, out, s);
    }
  });
}

const bool g_registered = register_kernels([](kernels::CudaTable& t) { t.reduce = &reduce; });

}  // namespace
}  // namespace strata::cuda
