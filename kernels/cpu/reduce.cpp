// CPU reductions: the policies (what each reduction accumulates, in which types) run by the
// engines of kernels/cpu/reduce_engine.h, and the dtype dispatch.
//
// Accumulation types follow PyTorch: integer and bool sums/products accumulate and return i64;
// f16/bf16 inputs are widened to f32 once and reduced like f32 (which keeps the number of template
// instantiations, and the compile time, down; any/all of non-byte dtypes likewise go through a
// bool copy); f32 accumulates in float lanes that are flushed into a double every 2048 elements
// (a sum of 10M copies of 0.1f is off by 3e-7 relative, while the hot loop stays in float vector
// registers); f64 accumulates in double.
// logsumexp's exp is a branch-free polynomial (exp_lane) so the sum-of-exp loop vectorizes.
#include <bit>
#include <cmath>
#include <limits>
#include <type_traits>

#include "kernels/cpu/reduce_engine.h"
#include "kernels/elementwise.h"
#include "kernels/reduce.h"

namespace strata::kernels::cpu {
namespace {

using namespace reduce_engine;

template <class T>
inline constexpr bool is_float_v = std::is_floating_point_v<T>;

// exp for a float lane or a vector of them, written without branches or calls so it vectorizes.
// Cephes' expf: x = n ln2 + r with |r| <= ln2/2, exp(r) by a degree-6 polynomial (about 1 ulp),
// 2^n applied as two exponent-field factors 2^(n>>1) 2^(n-(n>>1)), each a normal float for
// n = -159..128. Clamping x to [-110, 89] is then the whole of the special-case handling: below
// -110 the product underflows to exactly 0 (so exp(-inf) = 0), above 88.73 it overflows to inf,
// and a NaN passes through the clamps (x < lo is false) and the polynomial.
template <class V>
STRATA_REDUCE_INLINE V exp_lane(V x) {
  using VI = same_size_int_t<V>;
  const V lo = splat<V>(-110.0f), hi = splat<V>(89.0f), shift = splat<V>(12582912.0f);  // 1.5 * 2^23
  V xc = x < lo ? lo : x;
  xc = xc > hi ? hi : xc;
  const V t = xc * 1.44269504088896341f + shift;  // adding the shift rounds to an integer
  const V n = t - shift;
  V r = xc - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  V y = splat<V>(1.9875691500e-4f);
  y = y * r + 1.3981999507e-3f;
  y = y * r + 8.3334519073e-3f;
  y = y * r + 4.1665795894e-2f;
  y = y * r + 1.6666665459e-1f;
  y = y * r + 5.0000001201e-1f;
  y = y * (r * r) + r + 1.0f;
  // Integer parts in unsigned arithmetic (wraps instead of overflowing for garbage NaN bits).
  using VU = same_size_uint_t<V>;
  const VU ni = bits<VU>(t) - bits<VU>(shift);
  const VU n1 = bits<VU>(bits<VI>(ni) >> 1);
  const V s1 = bits<V>((n1 + 127u) << 23);
  const V s2 = bits<V>((ni - n1 + 127u) << 23);
  return y * s1 * s2;
}

template <class V>
STRATA_REDUCE_INLINE V exp_of(V x) {
  if constexpr (std::is_same_v<lane_of_t<V>, float>) {
    return exp_lane(x);
  } else {
    return lanewise(x, [](double v) { return std::exp(v); });
  }
}

// Policies. map/combine/load are templates over V, a Lane or a vector of Lanes (reduce_engine.h):
// the same expression serves the scalar tails, the column engine and the vector main loop.
template <class T, class Total>
struct PolicyBase {
  using In = T;
  static constexpr bool kHot = std::is_same_v<T, float>;  // gets per-ISA clones of its leaves
  static constexpr bool kTwoPass = false;
  static constexpr int kLanes = 0;  // lanes of a contiguous run; 0: the engine's default
  Total center(Total t, int64_t) const { return t; }
  template <class V, class VIn>
  STRATA_REDUCE_INLINE V load(VIn v) const {
    return convert<V>(v);
  }
};

// ---- max / min (NaN propagates), optionally of |x| ----

template <class T>
using minmax_total_t = std::conditional_t<is_float_v<T>, double, T>;

template <class T, bool IsMax, bool Abs>
struct MinMax : PolicyBase<T, minmax_total_t<T>> {
  using Lane = T;
  using Total = minmax_total_t<T>;
  using Out = T;
  template <class V>
  STRATA_REDUCE_INLINE static V pick(V a, V b) {  // the max (min) of a and b, NaN winning
    if constexpr (is_float_v<lane_of_t<V>>) {
      return ((IsMax ? b > a : b < a) | (b != b)) ? b : a;
    } else {
      return (IsMax ? b > a : b < a) ? b : a;
    }
  }
  STRATA_REDUCE_INLINE Lane init() const {
    if constexpr (is_float_v<Lane>) {
      return IsMax ? -std::numeric_limits<Lane>::infinity() : std::numeric_limits<Lane>::infinity();
    } else {
      return IsMax ? std::numeric_limits<Lane>::lowest() : std::numeric_limits<Lane>::max();
    }
  }
  template <class V>
  STRATA_REDUCE_INLINE V map(V x, V) const {
    if constexpr (Abs) {
      return x < V{} ? -x : x;
    } else {
      return x;
    }
  }
  template <class V>
  STRATA_REDUCE_INLINE V combine(V a, V b) const {
    return pick(a, b);
  }
  STRATA_REDUCE_INLINE Total total_init() const { return static_cast<Total>(init()); }
  STRATA_REDUCE_INLINE Total total(Total a, Total b) const { return pick(a, b); }
  STRATA_REDUCE_INLINE Out finalize(Total t, int64_t, Total) const { return static_cast<Out>(t); }
};

// ---- sums: sum, mean, norms, var/std, logsumexp ----

template <class T>
using sum_lane_t = std::conditional_t<is_float_v<T>, T, int64_t>;
template <class T>
using sum_total_t = std::conditional_t<is_float_v<T>, double, int64_t>;
template <class T>
using sum_out_t = std::conditional_t<is_float_v<T>, T, int64_t>;

enum class Map { id, abs, square, nonzero, pow_abs, sq_dev, exp_dev };
enum class Fin { cast, mean, sqrt, root, var, std, lse };

// The map is a template parameter (it is in the hot loop); the finish is a member, so that sum and
// mean, or var and std, share one compiled loop.
template <class T, Map M>
struct SumLike : PolicyBase<T, sum_total_t<T>> {
  using Lane = sum_lane_t<T>;
  using Total = sum_total_t<T>;
  using Out = sum_out_t<T>;
  static constexpr bool kTwoPass = M == Map::sq_dev || M == Map::exp_dev;
  static constexpr int kLanes = M == Map::exp_dev ? 16 : 0;  // exp needs the vector registers
  // The centre: the mean for var/std, the max for logsumexp.
  using CenterOp = std::conditional_t<M == Map::exp_dev, MinMax<T, true, false>, SumLike<T, Map::id>>;
  Fin fin = Fin::cast;
  double param = 0;  // p of pow_abs/root; the correction of var/std

  STRATA_REDUCE_INLINE Lane init() const { return Lane(0); }
  template <class V>
  STRATA_REDUCE_INLINE V map(V x, V c) const {
    if constexpr (M == Map::id) {
      return x;
    } else if constexpr (M == Map::abs) {
      return x < V{} ? -x : x;
    } else if constexpr (M == Map::square) {
      return x * x;
    } else if constexpr (M == Map::nonzero) {
      return x != V{} ? splat<V>(1) : V{};
    } else if constexpr (M == Map::pow_abs) {
      const Lane p = static_cast<Lane>(param);
      return lanewise(x, [p](Lane v) { return std::pow(v < 0 ? -v : v, p); });
    } else if constexpr (M == Map::sq_dev) {
      const V d = x - c;
      return d * d;
    } else {
      return exp_of(x - c);
    }
  }
  template <class V>
  STRATA_REDUCE_INLINE V combine(V a, V b) const {
    return a + b;
  }
  STRATA_REDUCE_INLINE Total total_init() const { return Total(0); }
  STRATA_REDUCE_INLINE Total total(Total a, Total b) const { return a + b; }
  STRATA_REDUCE_INLINE Out finalize(Total t, int64_t n, Total c) const {
    switch (fin) {
      case Fin::cast: return static_cast<Out>(t);
      case Fin::mean: return static_cast<Out>(t / static_cast<double>(n));
      case Fin::sqrt: return static_cast<Out>(std::sqrt(t));
      case Fin::root: return static_cast<Out>(std::pow(t, 1.0 / param));
      case Fin::var: return static_cast<Out>(t / std::max(0.0, static_cast<double>(n) - param));
      case Fin::std: return static_cast<Out>(std::sqrt(t / std::max(0.0, static_cast<double>(n) - param)));
      case Fin::lse: return static_cast<Out>(std::log(t) + c);
    }
    return Out{};
  }
  // o[k * stride] = finalize(v[k], n, c[k]) for k < w, with the switch outside the loops (the
  // column engine finishes whole rows of outputs at once).
  template <class A>
  void finalize_run(const A* v, int64_t w, Out* o, int64_t stride, int64_t n, const Total* c) const {
    const double dn = static_cast<double>(n), div = std::max(0.0, dn - param), inv_p = 1.0 / param;
    auto store = [&](auto f) {
      if (stride == 1) {
        for (int64_t k = 0; k < w; ++k) o[k] = static_cast<Out>(f(k, static_cast<Total>(v[k])));
      } else {
        for (int64_t k = 0; k < w; ++k) o[k * stride] = static_cast<Out>(f(k, static_cast<Total>(v[k])));
      }
    };
    switch (fin) {
      case Fin::cast: return store([](int64_t, Total t) { return t; });
      case Fin::mean: return store([&](int64_t, Total t) { return t / dn; });
      case Fin::sqrt: return store([](int64_t, Total t) { return std::sqrt(t); });
      case Fin::root: return store([&](int64_t, Total t) { return std::pow(t, inv_p); });
      case Fin::var: return store([&](int64_t, Total t) { return t / div; });
      case Fin::std: return store([&](int64_t, Total t) { return std::sqrt(t / div); });
      case Fin::lse: return store([&](int64_t k, Total t) { return std::log(t) + c[k]; });
    }
  }
  CenterOp center_op() const { return {}; }
  // Turns the centre pass's total into the centre: the mean, or the max with +-inf replaced by
  // 0 (so that all -inf gives log(0) + 0 = -inf and any +inf gives +inf, like PyTorch).
  STRATA_REDUCE_INLINE Total center(Total t, int64_t n) const {
    if constexpr (M == Map::sq_dev) {
      return t / static_cast<double>(n);
    } else {
      return std::isinf(t) ? Total(0) : t;
    }
  }
};

template <class T>
struct Prod : PolicyBase<T, sum_total_t<T>> {
  using Lane = sum_lane_t<T>;
  using Total = sum_total_t<T>;
  using Out = sum_out_t<T>;
  STRATA_REDUCE_INLINE Lane init() const { return Lane(1); }
  template <class V>
  STRATA_REDUCE_INLINE V map(V x, V) const {
    return x;
  }
  template <class V>
  STRATA_REDUCE_INLINE V combine(V a, V b) const {
    return a * b;
  }
  STRATA_REDUCE_INLINE Total total_init() const { return Total(1); }
  STRATA_REDUCE_INLINE Total total(Total a, Total b) const { return a * b; }
  STRATA_REDUCE_INLINE Out finalize(Total t, int64_t, Total) const { return static_cast<Out>(t); }
};

// T is uint8_t (u8 and bool data).
template <class T, bool IsAny>
struct AnyAll : PolicyBase<T, uint8_t> {
  using Lane = uint8_t;
  using Total = uint8_t;
  using Out = bool;
  template <class V, class VIn>
  STRATA_REDUCE_INLINE V load(VIn v) const {
    return v != VIn{} ? splat<V>(1) : V{};
  }
  STRATA_REDUCE_INLINE Lane init() const { return IsAny ? 0 : 1; }
  template <class V>
  STRATA_REDUCE_INLINE V map(V x, V) const {
    return x;
  }
  template <class V>
  STRATA_REDUCE_INLINE V combine(V a, V b) const {
    return IsAny ? (a | b) : (a & b);
  }
  STRATA_REDUCE_INLINE Total total_init() const { return init(); }
  STRATA_REDUCE_INLINE Total total(Total a, Total b) const { return combine(a, b); }
  STRATA_REDUCE_INLINE Out finalize(Total t, int64_t, Total) const { return t != 0; }
};

// ---- dispatch ----

template <class P>
void run(P policy, const ReducePlan& plan, const typename P::In* x, const Tensor& out) {
  run_reduction(policy, plan, x, static_cast<typename P::Out*>(out.raw_data()));
}

// T is float, double, int64_t, int32_t or uint8_t (u8 and bool data); f16/bf16 were widened and
// any/all of wider types narrowed to bool by the caller.
template <class T, Map M>
SumLike<T, M> sum_like(Fin fin, double param = 0) {
  SumLike<T, M> p;
  p.fin = fin;
  p.param = param;
  return p;
}

template <class T>
void dispatch(ReduceOp op, const ReducePlan& plan, const T* x, const Tensor& out, double param) {
  switch (op) {
    case ReduceOp::sum: return run(sum_like<T, Map::id>(Fin::cast), plan, x, out);
    case ReduceOp::prod: return run(Prod<T>{}, plan, x, out);
    case ReduceOp::amax: return run(MinMax<T, true, false>{}, plan, x, out);
    case ReduceOp::amin: return run(MinMax<T, false, false>{}, plan, x, out);
    default: break;
  }
  if constexpr (std::is_same_v<T, uint8_t>) {
    if (op == ReduceOp::any) return run(AnyAll<T, true>{}, plan, x, out);
    if (op == ReduceOp::all) return run(AnyAll<T, false>{}, plan, x, out);
  }
  if constexpr (std::is_floating_point_v<T>) {
    switch (op) {
      case ReduceOp::mean: return run(sum_like<T, Map::id>(Fin::mean), plan, x, out);
      case ReduceOp::norm0: return run(sum_like<T, Map::nonzero>(Fin::cast), plan, x, out);
      case ReduceOp::norm1: return run(sum_like<T, Map::abs>(Fin::cast), plan, x, out);
      case ReduceOp::norm2: return run(sum_like<T, Map::square>(Fin::sqrt), plan, x, out);
      case ReduceOp::norm_inf: return run(MinMax<T, true, true>{}, plan, x, out);
      case ReduceOp::norm_neg_inf: return run(MinMax<T, false, true>{}, plan, x, out);
      case ReduceOp::norm_p: return run(sum_like<T, Map::pow_abs>(Fin::root, param), plan, x, out);
      case ReduceOp::var: return run(sum_like<T, Map::sq_dev>(Fin::var, param), plan, x, out);
      case ReduceOp::std: return run(sum_like<T, Map::sq_dev>(Fin::std, param), plan, x, out);
      case ReduceOp::logsumexp: return run(sum_like<T, Map::exp_dev>(Fin::lse), plan, x, out);
      default: break;
    }
  }
  STRATA_THROW(DTypeError, "{}: not supported for dtype {}", reduce_op_name(op), dtype_name(dtype_of<T>()));
}

// The value of a reduction over no elements.
double empty_value(ReduceOp op) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  switch (op) {
    case ReduceOp::prod: case ReduceOp::all: return 1.0;
    case ReduceOp::mean: case ReduceOp::var: case ReduceOp::std: return nan;
    case ReduceOp::logsumexp: return -std::numeric_limits<double>::infinity();
    case ReduceOp::amax: case ReduceOp::amin: case ReduceOp::norm_inf: case ReduceOp::norm_neg_inf:
      STRATA_THROW(IndexError, "{}: cannot reduce over an empty extent", reduce_op_name(op));
    default: return 0.0;
  }
}

// A contiguous copy of t converted to dtype.
Tensor converted(const Tensor& t, DType dtype) {
  Tensor r = empty(t.shape(), {.dtype = dtype});
  copy(t, r);
  return r;
}

}  // namespace

void reduce(ReduceOp op, const Tensor& x, const Tensor& out, double param) {
  const bool any_all = op == ReduceOp::any || op == ReduceOp::all;
  if (any_all && x.itemsize() != 1) return cpu::reduce(op, converted(x, DType::Bool), out, param);
  if (x.dtype() == DType::F16 || x.dtype() == DType::BF16) {
    // Half-precision data is widened once and reduced in float (how it would accumulate anyway).
    Tensor xf = converted(x, DType::F32);
    if (out.dtype() == DType::F32 || out.dtype() == DType::Bool) return cpu::reduce(op, xf, out, param);
    Tensor of = empty(out.shape(), {.dtype = DType::F32});
    cpu::reduce(op, xf, of, param);
    return copy(of, out);
  }
  const ReducePlan plan = plan_reduction(x, out);
  if (plan.n_out == 0) return;
  if (plan.n_red == 0) return fill(out, empty_value(op));
  switch (x.dtype()) {
    case DType::F32: return dispatch<float>(op, plan, x.data<float>(), out, param);
    case DType::F64: return dispatch<double>(op, plan, x.data<double>(), out, param);
    case DType::I64: return dispatch<int64_t>(op, plan, x.data<int64_t>(), out, param);
    case DType::I32: return dispatch<int32_t>(op, plan, x.data<int32_t>(), out, param);
    case DType::U8: case DType::Bool:
      return dispatch<uint8_t>(op, plan, static_cast<const uint8_t*>(x.raw_data()), out, param);
    default: break;
  }
  STRATA_THROW(DTypeError, "{}: not supported for dtype {}", reduce_op_name(op), x.dtype());
}

}  // namespace strata::kernels::cpu
