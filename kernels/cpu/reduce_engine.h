#pragma once
// The CPU reduction engines, templated on a reduction policy (kernels/cpu/reduce.cpp defines the
// policies: sum, prod, max, any, norms, var, logsumexp; reduce_index.cpp reuses the runs for the
// first pass of argmax). Layouts come from reduce_plan.h.
//
// A policy describes one reduction in stages of accumulation; load/map/combine are templates
// over V, a Lane or a vector of Lanes (see "vectors" below):
//   V     load(In or vector of In)   an element as an accumulator lane (float for f32)
//   V     map(V x, V c)              per-element transform; c is a per-output centre (var, lse)
//   V     combine(V, V)              associative; the engine fixes the order
//   Total total(Total, Total)        lanes are flushed into a wider Total (double for f32)
//   Out   finalize(Total, n, centre)
// Two-pass policies (kTwoPass) first run their CenterOp (mean for var, max for logsumexp).
//
// Row engine (the innermost dim is reduced, or the kept one is narrower than 8): each output walks
// its reduced elements as runs along the innermost reduced dim. A contiguous run is accumulated in
// kLanes independent lanes (several vector registers), flushed into Total every 2048 elements.
// With one kept and one reduced dim (row sums of a matrix) the loop over outputs runs inside the
// vectorized leaf (simple_rows), and two-pass policies do both passes on a row while it is in
// cache. Outputs whose reduction is longer than kRowChunk elements are cut into fixed chunks whose
// partial Totals are combined in chunk order.
//
// Column engine (the innermost dim is kept, stride 1, at least 8 wide): tiles of kColTile outputs
// accumulate whole rows, four rows per pass through an accumulator row in L1, flushed into Total
// every kColBlockRows rows; long reductions are cut into fixed row chunks whose
// partial rows are combined in chunk order.
//
// Determinism: chunk boundaries depend only on the shape, never on the thread count, and partials
// are combined in a fixed order, so results are bit-identical for any number of threads.
//
// Instruction sets: the leaves (run, simple_rows, column_rows) of hot policies (f32) carry
// target_clones for x86-64-v3 (AVX2+FMA) and baseline, chosen at load time; the rest of the
// engine is plain code. Everything that takes or returns a vector is always_inline,
// so no vector ever crosses a call between code compiled for different instruction sets.
#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "kernels/cpu/parallel.h"
#include "kernels/cpu/reduce_plan.h"

#define STRATA_REDUCE_INLINE [[gnu::always_inline]] inline
// Hot instantiations are compiled for AVX2+FMA (x86-64-v3) and baseline x86-64, chosen at load
// time. No AVX-512 clone: the lanes are 32-byte vectors (kVecBytes), so it would only repeat the
// AVX2 code, at the price of a third more compile time for this file.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define STRATA_REDUCE_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define STRATA_REDUCE_CLONES
#endif

namespace strata::kernels::cpu::reduce_engine {

constexpr int64_t kRowChunk = 16384;         // reduced elements per row-engine work unit
constexpr int64_t kColTile = 2048;           // columns per column-engine unit (does not change results)
constexpr int64_t kColBlockRows = 64;        // rows accumulated in Lane before flushing into Total
constexpr int64_t kColChunkElems = 1 << 20;  // target elements per column-engine unit

// ---- vectors ----
// GCC vector extensions: one source for every instruction set (a 32-byte vector is one AVX2
// register, two SSE registers). Policies write map/combine once, as templates that take either
// a Lane or a vec_t of Lanes; these helpers fill in what scalars and vectors spell differently.

constexpr int kVecBytes = 32;

template <class E, int N>
struct VecT {
  typedef E type __attribute__((vector_size(N * sizeof(E))));
};
template <class E, int N>
using vec_t = typename VecT<E, N>::type;

template <class V>
struct LaneOf {
  using type = std::remove_cvref_t<decltype(std::declval<V>()[0])>;
};
template <class V>
  requires std::is_arithmetic_v<V>
struct LaneOf<V> {
  using type = V;
};
template <class V>
using lane_of_t = typename LaneOf<V>::type;
template <class V>
inline constexpr int lanes_of = static_cast<int>(sizeof(V) / sizeof(lane_of_t<V>));

template <class V, class E>
using rebind_t = std::conditional_t<std::is_arithmetic_v<V>, E, vec_t<E, lanes_of<V>>>;
template <class V>
using same_size_int_t = rebind_t<V, std::conditional_t<sizeof(lane_of_t<V>) == 8, int64_t, int32_t>>;
template <class V>
using same_size_uint_t = rebind_t<V, std::conditional_t<sizeof(lane_of_t<V>) == 8, uint64_t, uint32_t>>;

// V with every lane s.
template <class V, class S>
STRATA_REDUCE_INLINE V splat(S s) {
  if constexpr (std::is_arithmetic_v<V>) {
    return static_cast<V>(s);
  } else {
    V v;
    for (int i = 0; i < lanes_of<V>; ++i) v[i] = static_cast<lane_of_t<V>>(s);
    return v;
  }
}
// Lane-by-lane value conversion.
template <class To, class From>
STRATA_REDUCE_INLINE To convert(From v) {
  if constexpr (std::is_arithmetic_v<From>) {
    return static_cast<To>(v);
  } else {
    return __builtin_convertvector(v, To);
  }
}
// Reinterpretation of the bits.
template <class To, class From>
STRATA_REDUCE_INLINE To bits(From v) {
  return __builtin_bit_cast(To, v);
}
// f applied to every lane (for math the vector units do not have: pow, exp of double).
template <class V, class F>
STRATA_REDUCE_INLINE V lanewise(V x, F f) {
  if constexpr (std::is_arithmetic_v<V>) {
    return f(x);
  } else {
    V r;
    for (int i = 0; i < lanes_of<V>; ++i) r[i] = f(x[i]);
    return r;
  }
}

// ---- runs: one stretch of the innermost reduced dim ----

// Lanes of a contiguous run: enough independent vectors to hide the add latency (8 AVX2
// registers of floats), fewer when the policy's map is long (exp) and needs the registers.
template <class Op>
inline constexpr int kLanes = Op::kLanes > 0 ? Op::kLanes : sizeof(typename Op::Lane) >= 8 ? 32 : 64;

// map(load(q[0..N))) as a vector. (Helpers that take or return vectors must be inlined: an
// out-of-line call between clones compiled for different instruction sets would disagree on how
// vectors are passed. Hence always_inline functions here, never lambdas.)
template <class V, class VIn, class Op>
STRATA_REDUCE_INLINE V load_map(const Op& op, const typename Op::In* q, V c) {
  VIn v;
  __builtin_memcpy(&v, q, sizeof(VIn));
  return op.map(op.template load<V>(v), c);
}

// The lanes of v combined into one.
template <class Op, class V>
STRATA_REDUCE_INLINE typename Op::Lane horizontal(const Op& op, V v) {
  typename Op::Lane r = v[0];
  for (int i = 1; i < lanes_of<V>; ++i) r = op.combine(r, static_cast<typename Op::Lane>(v[i]));
  return r;
}

// Contiguous run of n elements: kLanes lanes (kLanes / N vectors of N lanes) over whole groups,
// flushed into tot every 2048 elements; then one vector over whole vectors; then one scalar.
template <class Op>
STRATA_REDUCE_INLINE typename Op::Total run_contiguous(const Op& op, const typename Op::In* p, int64_t n,
                                                       typename Op::Lane c, typename Op::Total tot) {
  using Lane = typename Op::Lane;
  using In = typename Op::In;
  constexpr int N = kVecBytes / static_cast<int>(sizeof(Lane));
  constexpr int U = kLanes<Op> / N;
  constexpr int64_t kGroup = int64_t{U} * N, kFlushGroups = 2048 / kGroup;
  using V = vec_t<Lane, N>;
  using VIn = vec_t<In, N>;
  const V cv = splat<V>(c);
  while (n >= kGroup) {
    const int64_t len = std::min(n / kGroup, kFlushGroups) * kGroup;
    V acc[U];
    for (int u = 0; u < U; ++u) acc[u] = splat<V>(op.init());
    for (int64_t i = 0; i < len; i += kGroup)
      for (int u = 0; u < U; ++u) acc[u] = op.combine(acc[u], load_map<V, VIn>(op, p + i + u * N, cv));
    for (int w = U / 2; w > 0; w /= 2)
      for (int u = 0; u < w; ++u) acc[u] = op.combine(acc[u], acc[u + w]);
    tot = op.total(tot, horizontal(op, acc[0]));
    p += len;
    n -= len;
  }
  if (n >= N) {
    V acc = splat<V>(op.init());
    for (; n >= N; n -= N, p += N) acc = op.combine(acc, load_map<V, VIn>(op, p, cv));
    tot = op.total(tot, horizontal(op, acc));
  }
  if (n > 0) {
    Lane a = op.init();
    for (int64_t i = 0; i < n; ++i) a = op.combine(a, op.map(op.template load<Lane>(p[i]), c));
    tot = op.total(tot, a);
  }
  return tot;
}

// Strided run: four lanes, flushed every 256 elements.
template <class Op>
STRATA_REDUCE_INLINE typename Op::Total run_strided(const Op& op, const typename Op::In* p, int64_t n, int64_t s,
                                                    typename Op::Lane c, typename Op::Total tot) {
  using Lane = typename Op::Lane;
  while (n > 0) {
    const int64_t len = std::min<int64_t>(n, 256);
    Lane a[4] = {op.init(), op.init(), op.init(), op.init()};
    int64_t i = 0;
    for (; i + 4 <= len; i += 4)
      for (int j = 0; j < 4; ++j) a[j] = op.combine(a[j], op.map(op.template load<Lane>(p[(i + j) * s]), c));
    for (; i < len; ++i) a[0] = op.combine(a[0], op.map(op.template load<Lane>(p[i * s]), c));
    tot = op.total(tot, op.combine(op.combine(a[0], a[1]), op.combine(a[2], a[3])));
    p += len * s;
    n -= len;
  }
  return tot;
}

template <class Op>
STRATA_REDUCE_INLINE typename Op::Total run_body(const Op& op, const typename Op::In* p, int64_t n, int64_t s,
                                                 typename Op::Lane c, typename Op::Total tot) {
  return s == 1 ? run_contiguous(op, p, n, c, tot) : run_strided(op, p, n, s, c, tot);
}

// Rows of one column tile: acc[k] op= map(rows[r][k]) for r < n_rows, k < w. Rows go four at a
// time, each pass streaming four rows front to back into the accumulator row (which stays in L1):
// for memory-bound sizes sequential streams beat register strips that hop between many rows.
template <class Op>
STRATA_REDUCE_INLINE void column_rows_body(const Op& op, const typename Op::In* const* rows, int64_t n_rows,
                                           int64_t w, const typename Op::Lane* __restrict cen,
                                           typename Op::Lane* __restrict acc) {
  using Lane = typename Op::Lane;
  using In = typename Op::In;
  constexpr int N = kVecBytes / static_cast<int>(sizeof(Lane));
  using V = vec_t<Lane, N>;
  using VIn = vec_t<In, N>;
  int64_t r = 0;
  for (; r < n_rows; r += 4) {
    const int64_t nr = std::min<int64_t>(4, n_rows - r);
    const In* q0 = rows[r];
    const In* q1 = rows[r + (nr > 1 ? 1 : 0)];
    const In* q2 = rows[r + (nr > 2 ? 2 : 0)];
    const In* q3 = rows[r + (nr > 3 ? 3 : 0)];
    int64_t k = 0;
    if (nr == 4) {
      for (; k + N <= w; k += N) {
        V a, c;
        __builtin_memcpy(&a, acc + k, sizeof(V));
        __builtin_memcpy(&c, cen + k, sizeof(V));
        const V x01 = op.combine(load_map<V, VIn>(op, q0 + k, c), load_map<V, VIn>(op, q1 + k, c));
        const V x23 = op.combine(load_map<V, VIn>(op, q2 + k, c), load_map<V, VIn>(op, q3 + k, c));
        a = op.combine(a, op.combine(x01, x23));
        __builtin_memcpy(acc + k, &a, sizeof(V));
      }
      for (; k < w; ++k) {
        auto m = [&](const In* q) { return op.map(op.template load<Lane>(q[k]), cen[k]); };
        acc[k] = op.combine(acc[k], op.combine(op.combine(m(q0), m(q1)), op.combine(m(q2), m(q3))));
      }
      continue;
    }
    // The last one to three rows, one at a time.
    for (int64_t j = 0; j < nr; ++j) {
      const In* q = rows[r + j];
      for (k = 0; k + N <= w; k += N) {
        V a, c;
        __builtin_memcpy(&a, acc + k, sizeof(V));
        __builtin_memcpy(&c, cen + k, sizeof(V));
        a = op.combine(a, load_map<V, VIn>(op, q + k, c));
        __builtin_memcpy(acc + k, &a, sizeof(V));
      }
      for (; k < w; ++k) acc[k] = op.combine(acc[k], op.map(op.template load<Lane>(q[k]), cen[k]));
    }
  }
}

// Outputs [lo, hi) of a plan with (at most) one kept dim and one reduced dim, each output one
// run: the loop over outputs stays inside the clone, so short rows pay no call per output.
// Two-pass policies run their centre pass on the row right before the main pass.
template <class Op>
STRATA_REDUCE_INLINE void simple_rows_body(const Op& op, const typename Op::In* x, int64_t in_step,
                                           typename Op::Out* out, int64_t out_step, int64_t len, int64_t s,
                                           int64_t lo, int64_t hi) {
  using Lane = typename Op::Lane;
  using Total = typename Op::Total;
  for (int64_t o = lo; o < hi; ++o) {
    const typename Op::In* p = x + o * in_step;
    if constexpr (Op::kTwoPass) {
      const auto cop = op.center_op();
      const Total centre = op.center(run_body(cop, p, len, s, {}, cop.total_init()), len);
      const Total t = run_body(op, p, len, s, static_cast<Lane>(centre), op.total_init());
      out[o * out_step] = op.finalize(t, len, centre);
    } else {
      out[o * out_step] = op.finalize(run_body(op, p, len, s, Lane{}, op.total_init()), len, Total{});
    }
  }
}

// ---- the vectorized leaves: hot policies get one clone per instruction set ----

template <class Op>
STRATA_REDUCE_CLONES typename Op::Total run_hot(const Op& op, const typename Op::In* p, int64_t n, int64_t s,
                                                typename Op::Lane c, typename Op::Total tot) {
  return run_body(op, p, n, s, c, tot);
}
template <class Op>
typename Op::Total run_plain(const Op& op, const typename Op::In* p, int64_t n, int64_t s, typename Op::Lane c,
                             typename Op::Total tot) {
  return run_body(op, p, n, s, c, tot);
}
// Reduces n elements at stride s from p into tot.
template <class Op>
inline typename Op::Total run(const Op& op, const typename Op::In* p, int64_t n, int64_t s, typename Op::Lane c,
                              typename Op::Total tot) {
  if constexpr (Op::kHot) {
    return run_hot(op, p, n, s, c, tot);
  } else {
    return run_plain(op, p, n, s, c, tot);
  }
}

template <class Op>
STRATA_REDUCE_CLONES void simple_rows_hot(const Op& op, const typename Op::In* x, int64_t in_step,
                                          typename Op::Out* out, int64_t out_step, int64_t len, int64_t s,
                                          int64_t lo, int64_t hi) {
  simple_rows_body(op, x, in_step, out, out_step, len, s, lo, hi);
}
template <class Op>
void simple_rows_plain(const Op& op, const typename Op::In* x, int64_t in_step, typename Op::Out* out,
                       int64_t out_step, int64_t len, int64_t s, int64_t lo, int64_t hi) {
  simple_rows_body(op, x, in_step, out, out_step, len, s, lo, hi);
}
template <class Op>
inline void simple_rows(const Op& op, const typename Op::In* x, int64_t in_step, typename Op::Out* out,
                        int64_t out_step, int64_t len, int64_t s, int64_t lo, int64_t hi) {
  if constexpr (Op::kHot) {
    simple_rows_hot(op, x, in_step, out, out_step, len, s, lo, hi);
  } else {
    simple_rows_plain(op, x, in_step, out, out_step, len, s, lo, hi);
  }
}

template <class Op>
STRATA_REDUCE_CLONES void column_rows_hot(const Op& op, const typename Op::In* const* rows, int64_t n_rows, int64_t w,
                                          const typename Op::Lane* cen, typename Op::Lane* acc) {
  column_rows_body(op, rows, n_rows, w, cen, acc);
}
template <class Op>
void column_rows_plain(const Op& op, const typename Op::In* const* rows, int64_t n_rows, int64_t w,
                       const typename Op::Lane* cen, typename Op::Lane* acc) {
  column_rows_body(op, rows, n_rows, w, cen, acc);
}
template <class Op>
inline void column_rows(const Op& op, const typename Op::In* const* rows, int64_t n_rows, int64_t w,
                        const typename Op::Lane* cen, typename Op::Lane* acc) {
  if constexpr (Op::kHot) {
    column_rows_hot(op, rows, n_rows, w, cen, acc);
  } else {
    column_rows_plain(op, rows, n_rows, w, cen, acc);
  }
}

// ---- row engine ----

struct RowChunks {
  int64_t run_len = 1, run_stride = 1;  // innermost reduced dim
  SmallDims outer_size, outer_in;       // the other reduced dims (walked run by run)
  int64_t n_runs = 1;
  int64_t runs_per_chunk = 1, pieces_per_run = 1, n_chunks = 1;

  explicit RowChunks(const ReducePlan& p) {
    const size_t nr = p.red_size.size();
    if (nr > 0) {
      run_len = p.red_size[nr - 1];
      run_stride = p.red_in[nr - 1];
      for (size_t d = 0; d + 1 < nr; ++d) {
        outer_size.push_back(p.red_size[d]);
        outer_in.push_back(p.red_in[d]);
      }
    }
    n_runs = p.n_red / run_len;
    if (run_len >= kRowChunk) {
      pieces_per_run = (run_len + kRowChunk - 1) / kRowChunk;
      n_chunks = n_runs * pieces_per_run;
    } else {
      runs_per_chunk = std::max<int64_t>(1, kRowChunk / run_len);
      n_chunks = (n_runs + runs_per_chunk - 1) / runs_per_chunk;
    }
  }
};

// The partial Total of chunk k of the output whose elements start at `base`.
template <class Op>
typename Op::Total reduce_chunk(const Op& op, const RowChunks& rc, const typename Op::In* base, int64_t k,
                                typename Op::Lane c) {
  typename Op::Total t = op.total_init();
  Odometer<1> runs(rc.outer_size, {&rc.outer_in});
  if (rc.pieces_per_run > 1) {
    const int64_t lo = (k % rc.pieces_per_run) * kRowChunk;
    const int64_t hi = std::min(rc.run_len, lo + kRowChunk);
    runs.seek(k / rc.pieces_per_run);
    return run(op, base + runs.offset() + lo * rc.run_stride, hi - lo, rc.run_stride, c, t);
  }
  const int64_t r0 = k * rc.runs_per_chunk;
  const int64_t r1 = std::min(rc.n_runs, r0 + rc.runs_per_chunk);
  runs.seek(r0);
  for (int64_t r = r0; r < r1; ++r, runs.next()) t = run(op, base + runs.offset(), rc.run_len, rc.run_stride, c, t);
  return t;
}

// o[k * stride] = op.finalize(vals[k], n, c[k]) for k < w: the policy's own finalize_run when it
// has one (to keep a runtime switch out of the loop), else element by element.
template <class Op, class A>
void finalize_run(const Op& op, const A* vals, int64_t w, typename Op::Out* o, int64_t stride, int64_t n,
                  const typename Op::Total* c) {
  using Total = typename Op::Total;
  if constexpr (requires { op.finalize_run(vals, w, o, stride, n, c); }) {
    op.finalize_run(vals, w, o, stride, n, c);
  } else if (stride == 1 && !c) {
    for (int64_t k = 0; k < w; ++k) o[k] = op.finalize(static_cast<Total>(vals[k]), n, Total{});
  } else {
    for (int64_t k = 0; k < w; ++k) o[k * stride] = op.finalize(static_cast<Total>(vals[k]), n, c ? c[k] : Total{});
  }
}

// What the engines produce: per output (dense index o, out offset), a Total to finalize.
template <class Op>
struct Target {
  const Op& op;
  const ReducePlan& plan;
  const typename Op::In* x;
  const typename Op::Total* centers;  // per dense output, for the second pass of two-pass ops
  typename Op::Out* out;              // finalize into out, or
  typename Op::Total* dense;          // store op.center(total) per dense output (first pass)

  STRATA_REDUCE_INLINE typename Op::Lane lane_centre(int64_t o) const {
    if constexpr (Op::kTwoPass) return static_cast<typename Op::Lane>(centers[o]);
    return typename Op::Lane{};
  }
  // w consecutive dense outputs from o0, at out[out_base + k * out_stride]; vals are Totals or
  // Lanes (a unit of a single row block finalizes straight from its lanes).
  template <class A>
  void emit_run(int64_t o0, int64_t out_base, int64_t out_stride, const A* vals, int64_t w) const {
    using Total = typename Op::Total;
    if (dense) {
      for (int64_t k = 0; k < w; ++k) dense[o0 + k] = op.center(static_cast<Total>(vals[k]), plan.n_red);
      return;
    }
    const Total* c = nullptr;
    if constexpr (Op::kTwoPass) c = centers + o0;
    finalize_run(op, vals, w, out + out_base, out_stride, plan.n_red, c);
  }
  STRATA_REDUCE_INLINE void emit(int64_t o, int64_t out_off, typename Op::Total t) const {
    if (dense) {
      dense[o] = op.center(t, plan.n_red);
    } else if constexpr (Op::kTwoPass) {
      out[out_off] = op.finalize(t, plan.n_red, centers[o]);
    } else {
      out[out_off] = op.finalize(t, plan.n_red, typename Op::Total{});
    }
  }
};

// Outputs [lo, hi), each one chunk.
template <class Op>
void row_outputs(const Target<Op>& tg, const RowChunks& rc, int64_t lo, int64_t hi) {
  const ReducePlan& p = tg.plan;
  Odometer<2> outs(p.kept_size, {&p.kept_in, &p.kept_out});
  outs.seek(lo);
  for (int64_t o = lo; o < hi; ++o, outs.next()) {
    const typename Op::In* base = tg.x + outs.offset(0);
    tg.emit(o, outs.offset(1), reduce_chunk(tg.op, rc, base, 0, tg.lane_centre(o)));
  }
}

// Fused two-pass outputs [lo, hi): centre pass and main pass back to back while the row is hot.
template <class Op>
void row_outputs_fused(const Op& op, const ReducePlan& p, const RowChunks& rc, const typename Op::In* x,
                       typename Op::Out* out, int64_t lo, int64_t hi) {
  Odometer<2> outs(p.kept_size, {&p.kept_in, &p.kept_out});
  outs.seek(lo);
  const auto cop = op.center_op();
  for (int64_t o = lo; o < hi; ++o, outs.next()) {
    const typename Op::In* base = x + outs.offset(0);
    const typename Op::Total centre = op.center(reduce_chunk(cop, rc, base, 0, {}), p.n_red);
    const typename Op::Total t = reduce_chunk(op, rc, base, 0, static_cast<typename Op::Lane>(centre));
    out[outs.offset(1)] = op.finalize(t, p.n_red, centre);
  }
}

// Units [lo, hi) of (output, chunk) pairs, into partials[unit].
template <class Op>
void row_partials(const Target<Op>& tg, const RowChunks& rc, int64_t lo, int64_t hi, typename Op::Total* partials) {
  const ReducePlan& p = tg.plan;
  Odometer<1> outs(p.kept_size, {&p.kept_in});
  int64_t cur = -1;
  for (int64_t u = lo; u < hi; ++u) {
    const int64_t o = u / rc.n_chunks;
    if (o != cur) {
      outs.seek(o);
      cur = o;
    }
    partials[u] = reduce_chunk(tg.op, rc, tg.x + outs.offset(), u % rc.n_chunks, tg.lane_centre(o));
  }
}

// ---- column engine ----

struct ColChunks {
  int64_t K = 1, out_stride = 1, M = 1;  // contiguous kept width, its out stride, outer kept count
  SmallDims outer_size, outer_in, outer_out;
  int64_t n_tiles = 1, rows_per_chunk = 1, n_chunks = 1;

  explicit ColChunks(const ReducePlan& p) {
    const size_t nk = p.kept_size.size();
    K = p.kept_size[nk - 1];
    out_stride = p.kept_out[nk - 1];
    for (size_t d = 0; d + 1 < nk; ++d) {
      outer_size.push_back(p.kept_size[d]);
      outer_in.push_back(p.kept_in[d]);
      outer_out.push_back(p.kept_out[d]);
    }
    M = p.n_out / K;
    n_tiles = (K + kColTile - 1) / kColTile;
    const int64_t width = std::min(K, kColTile);
    rows_per_chunk = std::max<int64_t>(kColBlockRows, kColChunkElems / width / kColBlockRows * kColBlockRows);
    n_chunks = (p.n_red + rows_per_chunk - 1) / rows_per_chunk;
  }
  int64_t units() const { return M * n_tiles * n_chunks; }
};

// Units [lo, hi) of (chunk, outer, tile), tile fastest. With one chunk the results go to the
// target; otherwise into partials[chunk * n_out + dense output].
template <class Op>
void column_units(const Target<Op>& tg, const ColChunks& cc, int64_t lo, int64_t hi, typename Op::Total* partials) {
  using Lane = typename Op::Lane;
  using Total = typename Op::Total;
  const Op& op = tg.op;
  const ReducePlan& p = tg.plan;
  Lane acc[kColTile];
  Total tot[kColTile];
  Lane cen[kColTile];
  if constexpr (!Op::kTwoPass) {
    for (int64_t k = 0; k < kColTile; ++k) cen[k] = Lane{};
  }
  const typename Op::In* row_ptr[kColBlockRows];
  Odometer<2> outer(cc.outer_size, {&cc.outer_in, &cc.outer_out});
  Odometer<1> rows(p.red_size, {&p.red_in});
  for (int64_t u = lo; u < hi; ++u) {
    const int64_t tile = u % cc.n_tiles;
    const int64_t m = (u / cc.n_tiles) % cc.M;
    const int64_t chunk = u / (cc.n_tiles * cc.M);
    const int64_t k0 = tile * kColTile, w = std::min(kColTile, cc.K - k0);
    const int64_t r0 = chunk * cc.rows_per_chunk, r1 = std::min(p.n_red, r0 + cc.rows_per_chunk);
    const int64_t o0 = m * cc.K + k0;  // dense index of the tile's first output
    outer.seek(m);
    const typename Op::In* base = tg.x + outer.offset(0) + k0;
    if constexpr (Op::kTwoPass) {
      for (int64_t k = 0; k < w; ++k) cen[k] = static_cast<Lane>(tg.centers[o0 + k]);
    }
    rows.seek(r0);
    auto block = [&](int64_t rb) {
      const int64_t nr = std::min(r1 - rb, kColBlockRows);
      for (int64_t r = 0; r < nr; ++r, rows.next()) row_ptr[r] = base + rows.offset();
      for (int64_t k = 0; k < w; ++k) acc[k] = op.init();
      column_rows(op, row_ptr, nr, w, cen, acc);
    };
    if (r1 - r0 <= kColBlockRows && cc.n_chunks == 1) {  // one block: finalize from the lanes
      block(r0);
      tg.emit_run(o0, outer.offset(1) + k0 * cc.out_stride, cc.out_stride, acc, w);
      continue;
    }
    for (int64_t k = 0; k < w; ++k) tot[k] = op.total_init();
    for (int64_t rb = r0; rb < r1; rb += kColBlockRows) {
      block(rb);
      for (int64_t k = 0; k < w; ++k) tot[k] = op.total(tot[k], acc[k]);
    }
    if (cc.n_chunks == 1) {
      tg.emit_run(o0, outer.offset(1) + k0 * cc.out_stride, cc.out_stride, tot, w);
    } else {
      Total* dst = partials + chunk * p.n_out + o0;
      for (int64_t k = 0; k < w; ++k) dst[k] = tot[k];
    }
  }
}

// Combines per-chunk partials in chunk order: partial c of output o is at partials[o * o_step + c * c_step].
template <class Op>
void combine_partials(const Target<Op>& tg, const typename Op::Total* partials, int64_t n_chunks, int64_t o_step,
                      int64_t c_step) {
  const ReducePlan& p = tg.plan;
  parallel_for(0, p.n_out, std::max<int64_t>(1, 4096 / n_chunks), [&](int64_t lo, int64_t hi) {
    Odometer<1> outs(p.kept_size, {&p.kept_out});
    outs.seek(lo);
    for (int64_t o = lo; o < hi; ++o, outs.next()) {
      typename Op::Total t = partials[o * o_step];
      for (int64_t c = 1; c < n_chunks; ++c) t = tg.op.total(t, partials[o * o_step + c * c_step]);
      tg.emit(o, outs.offset(), t);
    }
  });
}

// At most one kept and one reduced dim: simple_rows can do it, with these steps.
inline bool is_simple_rows(const ReducePlan& p) { return p.kept_size.size() <= 1 && p.red_size.size() <= 1; }
struct SimpleRows {
  int64_t len = 1, stride = 1, in_step = 0, out_step = 0;
  explicit SimpleRows(const ReducePlan& p) {
    if (!p.red_size.empty()) {
      len = p.red_size[0];
      stride = p.red_in[0];
    }
    if (!p.kept_size.empty()) {
      in_step = p.kept_in[0];
      out_step = p.kept_out[0];
    }
  }
};

// One pass of `op` over x: finalized into out, or (dense != null) op.center() per dense output.
template <class Op>
void run_pass(const Op& op, const ReducePlan& p, const typename Op::In* x, const typename Op::Total* centers,
              typename Op::Out* out, typename Op::Total* dense) {
  using Total = typename Op::Total;
  const Target<Op> tg{op, p, x, centers, out, dense};
  if (p.columns) {
    const ColChunks cc(p);
    std::vector<Total> partials(cc.n_chunks > 1 ? cc.n_chunks * p.n_out : 0);
    const int64_t unit_elems = std::min(cc.K, kColTile) * std::min(p.n_red, cc.rows_per_chunk);
    parallel_for(0, cc.units(), std::max<int64_t>(1, 32768 / unit_elems),
                 [&](int64_t lo, int64_t hi) { column_units(tg, cc, lo, hi, partials.data()); });
    if (cc.n_chunks > 1) combine_partials(tg, partials.data(), cc.n_chunks, 1, p.n_out);
    return;
  }
  const RowChunks rc(p);
  if (rc.n_chunks == 1) {
    if (!Op::kTwoPass && !dense && is_simple_rows(p)) {
      const SimpleRows sr(p);
      parallel_for(0, p.n_out, std::max<int64_t>(1, 32768 / p.n_red), [&](int64_t lo, int64_t hi) {
        simple_rows(op, x, sr.in_step, out, sr.out_step, sr.len, sr.stride, lo, hi);
      });
      return;
    }
    parallel_for(0, p.n_out, std::max<int64_t>(1, 32768 / p.n_red),
                 [&](int64_t lo, int64_t hi) { row_outputs(tg, rc, lo, hi); });
    return;
  }
  std::vector<Total> partials(rc.n_chunks * p.n_out);
  parallel_for(0, p.n_out * rc.n_chunks, 1,
               [&](int64_t lo, int64_t hi) { row_partials(tg, rc, lo, hi, partials.data()); });
  combine_partials(tg, partials.data(), rc.n_chunks, rc.n_chunks, 1);
}

// The first pass of a two-pass policy: its CenterOp, storing Op::center(total) per output.
template <class Op>
struct CentrePass : Op::CenterOp {
  const Op* main;
  typename Op::Total center(typename Op::Total t, int64_t n) const { return main->center(t, n); }
};

// The whole reduction; two-pass policies run their centre pass first (fused per output when
// each output is a single row chunk).
template <class Op>
void run_reduction(const Op& op, const ReducePlan& p, const typename Op::In* x, typename Op::Out* out) {
  if constexpr (Op::kTwoPass) {
    const RowChunks rc(p);
    if (!p.columns && rc.n_chunks == 1 && is_simple_rows(p)) {
      const SimpleRows sr(p);
      parallel_for(0, p.n_out, std::max<int64_t>(1, 16384 / p.n_red), [&](int64_t lo, int64_t hi) {
        simple_rows(op, x, sr.in_step, out, sr.out_step, sr.len, sr.stride, lo, hi);
      });
      return;
    }
    if (!p.columns && rc.n_chunks == 1) {
      parallel_for(0, p.n_out, std::max<int64_t>(1, 16384 / p.n_red),
                   [&](int64_t lo, int64_t hi) { row_outputs_fused(op, p, rc, x, out, lo, hi); });
      return;
    }
    std::vector<typename Op::Total> centers(p.n_out);
    const CentrePass<Op> cop{op.center_op(), &op};
    run_pass(cop, p, x, nullptr, nullptr, centers.data());
    run_pass(op, p, x, centers.data(), out, nullptr);
  } else {
    run_pass(op, p, x, nullptr, out, nullptr);
  }
}

}  // namespace strata::kernels::cpu::reduce_engine
