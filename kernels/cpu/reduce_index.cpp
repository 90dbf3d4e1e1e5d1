// CPU kernels of the reductions that keep positions: max/min with the index of the first
// occurrence (argmax/argmin), and the prefix sum cumsum.
//
// arg_reduce uses the reduction layouts of reduce_plan.h. When the reduced dim is innermost each
// output scans its own run: a vectorizable pass finds the extreme value, then a second pass finds
// its first position (the run is in cache by then); long runs are cut into fixed chunks whose
// (value, index) results are combined in order, so the answer never depends on the thread count.
// When the kept dims are innermost (argmax over dim 0 of [n, k]), whole rows are compared against
// a row of running best values and indices.
// cumsum accumulates in double (f32/f64) or i64 (integers), like PyTorch's CPU kernel.
#include <algorithm>
#include <cmath>
#include <vector>

#include <limits>

#include "kernels/cpu/parallel.h"
#include "kernels/cpu/reduce_engine.h"
#include "kernels/cpu/reduce_plan.h"
#include "kernels/elementwise.h"
#include "kernels/reduce.h"
#include "kernels/reduce_index_functors.h"

namespace strata::kernels::cpu {
namespace {

constexpr int64_t kArgChunk = 65536;  // elements per arg-reduction work unit
constexpr int64_t kArgTile = 256;     // columns per column-mode unit

// Is v strictly better than best? NaN beats everything (kernels/reduce_index_functors.h).
template <bool IsMax, class T>
inline bool better(T v, T best) {
  return arg_better<IsMax>(v, best);
}

// The max (min) reduction as an engine policy (reduce_engine.h), NaN winning: the vectorized
// first pass of a contiguous arg search.
template <class T, bool IsMax>
struct Extreme {
  using In = T;
  using Lane = T;
  using Total = T;
  using Out = T;
  static constexpr bool kHot = std::is_same_v<T, float>;
  static constexpr bool kTwoPass = false;
  static constexpr int kLanes = 0;
  template <class V, class VIn>
  STRATA_REDUCE_INLINE V load(VIn v) const {
    return reduce_engine::convert<V>(v);
  }
  STRATA_REDUCE_INLINE T init() const {
    if constexpr (std::is_floating_point_v<T>) {
      return IsMax ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::infinity();
    } else {
      return IsMax ? std::numeric_limits<T>::lowest() : std::numeric_limits<T>::max();
    }
  }
  template <class V>
  STRATA_REDUCE_INLINE V map(V x, V) const {
    return x;
  }
  template <class V>
  STRATA_REDUCE_INLINE V combine(V a, V b) const {
    if constexpr (std::is_floating_point_v<T>) {
      return ((IsMax ? b > a : b < a) | (b != b)) ? b : a;
    } else {
      return (IsMax ? b > a : b < a) ? b : a;
    }
  }
  STRATA_REDUCE_INLINE T total_init() const { return init(); }
  STRATA_REDUCE_INLINE T total(T a, T b) const { return combine(a, b); }
};

// The first position of the extreme of the run p[0, s, 2s, ...) of length n >= 1. Contiguous
// runs: a vectorized pass for the extreme, then a search for its first position (the run is in
// cache by then).
template <bool IsMax, class T>
STRATA_REDUCE_INLINE std::pair<T, int64_t> run_arg_body(const T* p, int64_t n, int64_t s) {
  if (s == 1 && n >= 32) {
    const Extreme<T, IsMax> op;
    const T best = reduce_engine::run_contiguous(op, p, n, T{}, op.total_init());
    int64_t i = 0;
    if constexpr (std::is_floating_point_v<T>) {
      if (best != best) {
        while (p[i] == p[i]) ++i;
        return {best, i};
      }
    }
    for (; i + 4 <= n; i += 4)
      if ((p[i] == best) | (p[i + 1] == best) | (p[i + 2] == best) | (p[i + 3] == best)) break;
    while (p[i] != best) ++i;
    return {best, i};
  }
  T best = p[0];
  int64_t bi = 0;
  for (int64_t i = 1; i < n; ++i) {
    const T v = p[i * s];
    if (better<IsMax>(v, best)) {
      best = v;
      bi = i;
    }
  }
  return {best, bi};
}

template <bool IsMax, class T>
STRATA_REDUCE_CLONES std::pair<T, int64_t> run_arg_hot(const T* p, int64_t n, int64_t s) {
  return run_arg_body<IsMax>(p, n, s);
}
template <bool IsMax, class T>
std::pair<T, int64_t> run_arg_plain(const T* p, int64_t n, int64_t s) {
  return run_arg_body<IsMax>(p, n, s);
}
template <bool IsMax, class T>
std::pair<T, int64_t> run_arg(const T* p, int64_t n, int64_t s) {
  if constexpr (std::is_same_v<T, float>) {
    return run_arg_hot<IsMax>(p, n, s);
  } else {
    return run_arg_plain<IsMax>(p, n, s);
  }
}

template <bool IsMax, class T>
void arg_rows(const ReducePlan& p, const T* x, T* values, int64_t* indices) {
  const int64_t len = p.red_size.empty() ? 1 : p.red_size[0];
  const int64_t s = p.red_size.empty() ? 1 : p.red_in[0];
  const int64_t n_chunks = (len + kArgChunk - 1) / kArgChunk;
  // Per (output, chunk): the chunk's best value and its index within the run.
  std::vector<std::pair<T, int64_t>> part(n_chunks > 1 ? p.n_out * n_chunks : 0);
  auto write = [&](int64_t out_off, std::pair<T, int64_t> r) {
    if (values) values[out_off] = r.first;
    indices[out_off] = r.second;
  };
  if (n_chunks == 1) {
    parallel_for(0, p.n_out, std::max<int64_t>(1, 32768 / len), [&](int64_t lo, int64_t hi) {
      Odometer<2> outs(p.kept_size, {&p.kept_in, &p.kept_out});
      outs.seek(lo);
      for (int64_t o = lo; o < hi; ++o, outs.next()) write(outs.offset(1), run_arg<IsMax>(x + outs.offset(0), len, s));
    });
    return;
  }
  parallel_for(0, p.n_out * n_chunks, 1, [&](int64_t lo, int64_t hi) {
    Odometer<1> outs(p.kept_size, {&p.kept_in});
    for (int64_t u = lo; u < hi; ++u) {
      outs.seek(u / n_chunks);
      const int64_t c0 = (u % n_chunks) * kArgChunk;
      auto r = run_arg<IsMax>(x + outs.offset() + c0 * s, std::min(kArgChunk, len - c0), s);
      part[u] = {r.first, r.second + c0};
    }
  });
  parallel_for(0, p.n_out, 64, [&](int64_t lo, int64_t hi) {
    Odometer<1> outs(p.kept_size, {&p.kept_out});
    outs.seek(lo);
    for (int64_t o = lo; o < hi; ++o, outs.next()) {
      std::pair<T, int64_t> r = part[o * n_chunks];
      for (int64_t c = 1; c < n_chunks; ++c)
        if (better<IsMax>(part[o * n_chunks + c].first, r.first)) r = part[o * n_chunks + c];
      write(outs.offset(), r);
    }
  });
}

// Kept dims innermost: rows of the reduced dim are compared element-wise with the running best.
template <bool IsMax, class T>
void arg_columns(const ReducePlan& p, const T* x, T* values, int64_t* indices) {
  const size_t nk = p.kept_size.size();
  const int64_t K = p.kept_size[nk - 1], out_stride = p.kept_out[nk - 1];
  SmallDims outer_size, outer_in, outer_out;
  for (size_t d = 0; d + 1 < nk; ++d) {
    outer_size.push_back(p.kept_size[d]);
    outer_in.push_back(p.kept_in[d]);
    outer_out.push_back(p.kept_out[d]);
  }
  const int64_t M = p.n_out / K, tiles = (K + kArgTile - 1) / kArgTile;
  const int64_t len = p.red_size[0], s = p.red_in[0];
  parallel_for(0, M * tiles, std::max<int64_t>(1, 32768 / (len * std::min(K, kArgTile))), [&](int64_t lo, int64_t hi) {
    T best[kArgTile];
    int64_t idx[kArgTile];
    Odometer<2> outer(outer_size, {&outer_in, &outer_out});
    for (int64_t u = lo; u < hi; ++u) {
      outer.seek(u / tiles);
      const int64_t k0 = (u % tiles) * kArgTile, w = std::min(kArgTile, K - k0);
      const T* base = x + outer.offset(0) + k0;
      for (int64_t k = 0; k < w; ++k) {
        best[k] = base[k];
        idx[k] = 0;
      }
      for (int64_t r = 1; r < len; ++r) {
        const T* row = base + r * s;
        for (int64_t k = 0; k < w; ++k) {
          const bool b = better<IsMax>(row[k], best[k]);
          best[k] = b ? row[k] : best[k];
          idx[k] = b ? r : idx[k];
        }
      }
      const int64_t ob = outer.offset(1) + k0 * out_stride;
      for (int64_t k = 0; k < w; ++k) {
        if (values) values[ob + k * out_stride] = best[k];
        indices[ob + k * out_stride] = idx[k];
      }
    }
  });
}

template <class T>
void arg_typed(bool is_max, const Tensor& x, const Tensor& values, const Tensor& indices) {
  const ReducePlan p = plan_reduction(x, indices);
  if (p.n_out == 0) return;
  const T* xp = static_cast<const T*>(x.raw_data());
  T* vp = values.defined() ? static_cast<T*>(values.raw_data()) : nullptr;
  int64_t* ip = indices.data<int64_t>();
  if (p.columns) {
    is_max ? arg_columns<true>(p, xp, vp, ip) : arg_columns<false>(p, xp, vp, ip);
  } else {
    is_max ? arg_rows<true>(p, xp, vp, ip) : arg_rows<false>(p, xp, vp, ip);
  }
}

// A contiguous copy of t converted to dtype.
Tensor converted(const Tensor& t, DType dtype) {
  Tensor r = empty(t.shape(), {.dtype = dtype});
  copy(t, r);
  return r;
}

// ---- cumsum (x and out contiguous) ----

// Lines along the dim are walked forward, or backward when reverse.
template <class T, class Acc, class O>
void cumsum_typed(const T* x, O* out, int64_t outer, int64_t len, int64_t inner, bool reverse) {
  if (inner == 1) {
    parallel_for(0, outer, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, len)), [&](int64_t lo, int64_t hi) {
      for (int64_t o = lo; o < hi; ++o) {
        Acc acc = 0;
        for (int64_t j = 0; j < len; ++j) {
          const int64_t i = reverse ? len - 1 - j : j;
          acc += static_cast<Acc>(x[o * len + i]);
          out[o * len + i] = static_cast<O>(acc);
        }
      }
    });
    return;
  }
  constexpr int64_t kTile = 512;
  const int64_t tiles = (inner + kTile - 1) / kTile;
  parallel_for(0, outer * tiles, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, len * std::min(inner, kTile))),
               [&](int64_t lo, int64_t hi) {
                 Acc acc[kTile];
                 for (int64_t u = lo; u < hi; ++u) {
                   const int64_t o = u / tiles, k0 = (u % tiles) * kTile, w = std::min(kTile, inner - k0);
                   for (int64_t k = 0; k < w; ++k) acc[k] = 0;
                   for (int64_t j = 0; j < len; ++j) {
                     const int64_t i = reverse ? len - 1 - j : j;
                     const T* row = x + (o * len + i) * inner + k0;
                     O* orow = out + (o * len + i) * inner + k0;
                     for (int64_t k = 0; k < w; ++k) {
                       acc[k] += static_cast<Acc>(row[k]);
                       orow[k] = static_cast<O>(acc[k]);
                     }
                   }
                 }
               });
}

}  // namespace

void arg_reduce(bool is_max, const Tensor& x, int64_t dim, const Tensor& values, const Tensor& indices) {
  switch (x.dtype()) {
    case DType::F32: return arg_typed<float>(is_max, x, values, indices);
    case DType::F64: return arg_typed<double>(is_max, x, values, indices);
    case DType::I64: return arg_typed<int64_t>(is_max, x, values, indices);
    case DType::I32: return arg_typed<int32_t>(is_max, x, values, indices);
    case DType::U8: case DType::Bool: return arg_typed<uint8_t>(is_max, x, values, indices);
    case DType::F16: case DType::BF16: {
      Tensor vf = values.defined() ? empty(values.shape(), {.dtype = DType::F32}) : Tensor();
      arg_typed<float>(is_max, converted(x, DType::F32), vf, indices);
      if (values.defined()) copy(vf, values);
      return;
    }
  }
}

void cumsum(const Tensor& x, int64_t dim, const Tensor& out, bool reverse) {
  if (x.numel() == 0) return;
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < dim; ++d) outer *= x.size(d);
  for (int64_t d = dim + 1; d < x.dim(); ++d) inner *= x.size(d);
  const int64_t len = x.dim() == 0 ? 1 : x.size(dim);
  auto run = [&]<class T, class Acc, class O>() {
    cumsum_typed<T, Acc, O>(static_cast<const T*>(x.raw_data()), static_cast<O*>(out.raw_data()), outer, len, inner,
                            reverse);
  };
  switch (x.dtype()) {
    case DType::F32: return run.template operator()<float, double, float>();
    case DType::F64: return run.template operator()<double, double, double>();
    case DType::I64: return run.template operator()<int64_t, int64_t, int64_t>();
    case DType::I32: return run.template operator()<int32_t, int64_t, int64_t>();
    case DType::U8: case DType::Bool: return run.template operator()<uint8_t, int64_t, int64_t>();
    case DType::F16: case DType::BF16: {
      Tensor of = empty(out.shape(), {.dtype = DType::F32});
      cumsum(converted(x, DType::F32), dim, of, reverse);
      copy(of, out);
      return;
    }
  }
}

}  // namespace strata::kernels::cpu
