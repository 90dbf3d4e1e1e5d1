#pragma once
// Internal to the CPU loss kernels: the softmax primitives of softmax_rows.h written once over a
// vector type V, instantiated by each ISA file (compiled for its instruction set) and by loss.cpp
// (a one-lane V over float or double with std::exp).
//
// Why everything sits in an anonymous namespace and this header includes nothing but <cstdint>:
// the ISA files are compiled with `#pragma GCC target("avx512f...")`, and an inline function
// built that way must never be merged by the linker with the copy a baseline file uses. Private
// copies per translation unit, and no library headers (whose inline functions would be compiled
// for the wide ISA), keep the baseline build safe on any x86-64.
//
// A V provides: T, vec, W (lanes); load/store, load_partial(p, r, fill)/store_partial(p, v, r)
// for the r < W tail; set1, add, sub, mul, fmadd(a, b, c) = a*b + c, fnmadd(a, b, c) = c - a*b;
// max(a, b) / min(a, b) that return b when either is NaN (the x86 rule); hsum, hmax; exp.
// exp_poly<V> is the shared polynomial exp for the SIMD types (they add round, pow2n,
// zero_where_less).
#include <cstdint>

#include "kernels/cpu/softmax_rows.h"

namespace strata::kernels::cpu::detail {
namespace {

// ---- the polynomial exp (Cephes expf): |error| ~ 2 ulp over [-87.3, 88.4] ----
template <class V>
inline typename V::vec exp_poly(typename V::vec x) {
  using vec = typename V::vec;
  const vec lo = V::set1(-87.336544f), hi = V::set1(88.376259f);
  // max(lo, x) and min(hi, x) return x when x is NaN, so NaN survives to the result.
  const vec xc = V::min(hi, V::max(lo, x));
  const vec n = V::round(V::mul(xc, V::set1(1.44269504088896341f)));
  vec r = V::fnmadd(n, V::set1(0.693359375f), xc);
  r = V::fnmadd(n, V::set1(-2.12194440e-4f), r);
  vec p = V::set1(1.9875691500e-4f);
  p = V::fmadd(p, r, V::set1(1.3981999507e-3f));
  p = V::fmadd(p, r, V::set1(8.3334519073e-3f));
  p = V::fmadd(p, r, V::set1(4.1665795894e-2f));
  p = V::fmadd(p, r, V::set1(1.6666665459e-1f));
  p = V::fmadd(p, r, V::set1(5.0000001201e-1f));
  p = V::fmadd(p, V::mul(r, r), V::add(r, V::set1(1.0f)));
  // exp(x) for x below the clamp is under the smallest normal float: flush it to exactly 0.
  return V::zero_where_less(V::mul(p, V::pow2n(n)), x, lo);
}

// ---- loops over n values in vectors of W, the last one partial ----
template <class V, class Body>
inline void for_vectors(int64_t n, Body&& body) {
  int64_t i = 0;
  for (; i + V::W <= n; i += V::W) body(i, V::W);
  if (i < n) body(i, static_cast<int>(n - i));
}

template <class V>
inline typename V::vec loadn(const typename V::T* p, int r, typename V::T fill) {
  return r == V::W ? V::load(p) : V::load_partial(p, r, fill);
}
template <class V>
inline void storen(typename V::T* p, typename V::vec v, int r) {
  if (r == V::W) V::store(p, v);
  else V::store_partial(p, v, r);
}

// A parameter that is one scalar for the whole row (Bc) or one value per lane (Ln).
template <class V>
struct Bc {
  typename V::vec v;
  explicit Bc(typename V::T s) : v(V::set1(s)) {}
  typename V::vec at(int64_t, int) const { return v; }
};
template <class V>
struct Ln {
  const typename V::T* p;
  typename V::vec at(int64_t i, int r) const { return loadn<V>(p + i, r, typename V::T(0)); }
};

template <class V>
constexpr typename V::T neg_inf() {
  return -__builtin_huge_valf();
}

// ---- rows ----
template <class V>
typename V::T row_max(const typename V::T* x, int64_t n) {
  auto acc = V::set1(neg_inf<V>());
  for_vectors<V>(n, [&](int64_t i, int r) { acc = V::max(acc, loadn<V>(x + i, r, neg_inf<V>())); });
  return V::hmax(acc);
}

template <class V>
typename V::T row_sum_exp(const typename V::T* x, int64_t n, typename V::T m) {
  const auto mv = V::set1(m);
  auto acc = V::set1(0);
  for_vectors<V>(n, [&](int64_t i, int r) { acc = V::add(acc, V::exp(V::sub(loadn<V>(x + i, r, neg_inf<V>()), mv))); });
  return V::hsum(acc);
}

template <class V>
typename V::T row_sum_exp_dot(const typename V::T* x, int64_t n, typename V::T m, const typename V::T* w,
                              typename V::T* dot) {
  using T = typename V::T;
  const auto mv = V::set1(m);
  auto acc = V::set1(0), acc_dot = V::set1(0);
  for_vectors<V>(n, [&](int64_t i, int r) {
    const auto v = loadn<V>(x + i, r, T(0));
    const auto ve = r == V::W ? v : loadn<V>(x + i, r, neg_inf<V>());
    acc = V::add(acc, V::exp(V::sub(ve, mv)));
    acc_dot = w ? V::fmadd(v, loadn<V>(w + i, r, T(0)), acc_dot) : V::add(acc_dot, v);
  });
  *dot = V::hsum(acc_dot);
  return V::hsum(acc);
}

template <class V>
typename V::T row_exp_store_sum(const typename V::T* x, int64_t n, typename V::T m, typename V::T* out) {
  const auto mv = V::set1(m);
  auto acc = V::set1(0);
  for_vectors<V>(n, [&](int64_t i, int r) {
    const auto e = V::exp(V::sub(loadn<V>(x + i, r, neg_inf<V>()), mv));
    storen<V>(out + i, e, r);
    acc = V::add(acc, e);
  });
  return V::hsum(acc);
}

template <class V>
typename V::T row_dot(const typename V::T* a, const typename V::T* b, int64_t n) {
  using T = typename V::T;
  auto acc = V::set1(0);
  if (b) for_vectors<V>(n, [&](int64_t i, int r) { acc = V::fmadd(loadn<V>(a + i, r, T(0)), loadn<V>(b + i, r, T(0)), acc); });
  else for_vectors<V>(n, [&](int64_t i, int r) { acc = V::add(acc, loadn<V>(a + i, r, T(0))); });
  return V::hsum(acc);
}

// ---- shared by rows and columns: P* are Bc (row) or Ln (column) parameters ----
template <class V, class PS>
void scale_impl(typename V::T* out, int64_t n, PS s) {
  for_vectors<V>(n, [&](int64_t i, int r) { storen<V>(out + i, V::mul(loadn<V>(out + i, r, 0), s.at(i, r)), r); });
}

template <class V, class PM>
void sub_impl(const typename V::T* x, int64_t n, PM m, typename V::T* out) {
  for_vectors<V>(n, [&](int64_t i, int r) { storen<V>(out + i, V::sub(loadn<V>(x + i, r, 0), m.at(i, r)), r); });
}

// out = a * exp(x - m) - b * w
template <class V, class PM, class PA, class PB, class PW>
void exp_affine_impl(const typename V::T* x, int64_t n, PM m, PA a, PB b, PW w, typename V::T* out) {
  for_vectors<V>(n, [&](int64_t i, int r) {
    const auto e = V::exp(V::sub(loadn<V>(x + i, r, 0), m.at(i, r)));
    storen<V>(out + i, V::fnmadd(b.at(i, r), w.at(i, r), V::mul(a.at(i, r), e)), r);
  });
}

template <class V, class PS>
void softmax_bwd_impl(const typename V::T* g, const typename V::T* y, int64_t n, PS s, typename V::T* out) {
  for_vectors<V>(n, [&](int64_t i, int r) {
    storen<V>(out + i, V::mul(loadn<V>(y + i, r, 0), V::sub(loadn<V>(g + i, r, 0), s.at(i, r))), r);
  });
}

template <class V, class PS>
void log_softmax_bwd_impl(const typename V::T* g, const typename V::T* y, int64_t n, PS s, typename V::T* out) {
  for_vectors<V>(n, [&](int64_t i, int r) {
    storen<V>(out + i, V::fnmadd(V::exp(loadn<V>(y + i, r, 0)), s.at(i, r), loadn<V>(g + i, r, 0)), r);
  });
}

template <class V>
void row_scale(typename V::T* out, int64_t n, typename V::T s) { scale_impl<V>(out, n, Bc<V>(s)); }
template <class V>
void row_sub(const typename V::T* x, int64_t n, typename V::T m, typename V::T* out) { sub_impl<V>(x, n, Bc<V>(m), out); }
template <class V>
void row_exp_affine(const typename V::T* x, int64_t n, typename V::T m, typename V::T a, typename V::T b,
                    const typename V::T* w, typename V::T* out) {
  if (w) exp_affine_impl<V>(x, n, Bc<V>(m), Bc<V>(a), Bc<V>(b), Ln<V>{w}, out);
  else exp_affine_impl<V>(x, n, Bc<V>(m), Bc<V>(a), Bc<V>(b), Bc<V>(1), out);
}
template <class V>
void row_softmax_bwd(const typename V::T* g, const typename V::T* y, int64_t n, typename V::T s, typename V::T* out) {
  softmax_bwd_impl<V>(g, y, n, Bc<V>(s), out);
}
template <class V>
void row_log_softmax_bwd(const typename V::T* g, const typename V::T* y, int64_t n, typename V::T s,
                         typename V::T* out) {
  log_softmax_bwd_impl<V>(g, y, n, Bc<V>(s), out);
}

// ---- columns ----
template <class V>
void col_max(typename V::T* acc, const typename V::T* x, int64_t n) {
  for_vectors<V>(n, [&](int64_t i, int r) { storen<V>(acc + i, V::max(loadn<V>(acc + i, r, 0), loadn<V>(x + i, r, 0)), r); });
}

template <class V>
void col_sum_exp(typename V::T* acc, const typename V::T* x, const typename V::T* m, int64_t n) {
  for_vectors<V>(n, [&](int64_t i, int r) {
    const auto e = V::exp(V::sub(loadn<V>(x + i, r, 0), loadn<V>(m + i, r, 0)));
    storen<V>(acc + i, V::add(loadn<V>(acc + i, r, 0), e), r);
  });
}

template <class V>
void col_exp_store_sum(typename V::T* acc, const typename V::T* x, const typename V::T* m, int64_t n,
                       typename V::T* out) {
  for_vectors<V>(n, [&](int64_t i, int r) {
    const auto e = V::exp(V::sub(loadn<V>(x + i, r, 0), loadn<V>(m + i, r, 0)));
    storen<V>(out + i, e, r);
    storen<V>(acc + i, V::add(loadn<V>(acc + i, r, 0), e), r);
  });
}

template <class V>
void col_fma(typename V::T* acc, const typename V::T* x, const typename V::T* y, typename V::T w, int64_t n) {
  auto body = [&](auto py) {
    for_vectors<V>(n, [&](int64_t i, int r) {
      storen<V>(acc + i, V::fmadd(loadn<V>(x + i, r, 0), py.at(i, r), loadn<V>(acc + i, r, 0)), r);
    });
  };
  if (y) body(Ln<V>{y});
  else body(Bc<V>(w));
}

template <class V>
void col_scale(typename V::T* out, const typename V::T* s, int64_t n) { scale_impl<V>(out, n, Ln<V>{s}); }
template <class V>
void col_sub(const typename V::T* x, const typename V::T* m, int64_t n, typename V::T* out) {
  sub_impl<V>(x, n, Ln<V>{m}, out);
}
template <class V>
void col_exp_affine(const typename V::T* x, const typename V::T* m, const typename V::T* a, const typename V::T* b,
                    typename V::T w, int64_t n, typename V::T* out) {
  exp_affine_impl<V>(x, n, Ln<V>{m}, Ln<V>{a}, Ln<V>{b}, Bc<V>(w), out);
}
template <class V>
void col_softmax_bwd(const typename V::T* g, const typename V::T* y, const typename V::T* s, int64_t n,
                     typename V::T* out) {
  softmax_bwd_impl<V>(g, y, n, Ln<V>{s}, out);
}
template <class V>
void col_log_softmax_bwd(const typename V::T* g, const typename V::T* y, const typename V::T* s, int64_t n,
                         typename V::T* out) {
  log_softmax_bwd_impl<V>(g, y, n, Ln<V>{s}, out);
}

template <class V>
constexpr SoftmaxPrimitives<typename V::T> make_softmax_primitives(const char* isa) {
  return {isa,
          &row_max<V>, &row_sum_exp<V>, &row_sum_exp_dot<V>, &row_exp_store_sum<V>, &row_dot<V>, &row_scale<V>,
          &row_sub<V>, &row_exp_affine<V>, &row_softmax_bwd<V>, &row_log_softmax_bwd<V>,
          &col_max<V>, &col_sum_exp<V>, &col_exp_store_sum<V>, &col_fma<V>, &col_scale<V>, &col_sub<V>,
          &col_exp_affine<V>, &col_softmax_bwd<V>, &col_log_softmax_bwd<V>};
}

}  // namespace
}  // namespace strata::kernels::cpu::detail
