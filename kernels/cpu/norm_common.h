#pragma once
// Building blocks of the CPU normalization kernels (norm_batch.cpp, norm.cpp): sums over
// contiguous runs, the merge of partial statistics, and the elementwise passes.
//
// Accuracy and speed. Sums run in blocks of kBlock elements over 16 (f32) or 8 (f64) independent
// vector lanes in the compute type (float for f32/f16/bf16 data, double for f64); each block's
// total is then folded into a double. No lane ever adds more than kBlock / 16 = 128 terms in
// float, so the error stays near that of a double sum at the speed of a vectorized float one.
// Variances are two-pass (mean first, then centred squares, corrected by the centred sum) over
// chunks of at most kChunk elements (which stay in L2 between the passes), and chunks merge with
// Chan's formula in a fixed order. Every reduction order depends on the shape only: results do not
// depend on the thread count.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "kernels/norm_functors.h"
#include "tensor/half.h"

namespace strata::kernels::cpu::norm {

using kernels::batch_norm_relu_masked_grad;
using kernels::batch_norm_relu_value;

// The type sums and elementwise math run in for storage type T.
template <class T>
using Acc = std::conditional_t<std::is_same_v<T, double>, double, float>;

inline constexpr int64_t kBlock = 2048;   // elements per partial sum in the compute type
inline constexpr int64_t kChunk = 65536;  // elements per two-pass statistics chunk

// 16-byte vectors of the compute type (GCC vector extensions: SSE2 on any x86-64, NEON on ARM),
// four of them per step: 16 float lanes or 8 double lanes.
template <class A>
struct Simd {
  typedef A type __attribute__((vector_size(16)));
  static constexpr int kWidth = 16 / sizeof(A);
  static constexpr int kStep = 4 * kWidth;
};

template <class T>
inline typename Simd<Acc<T>>::type load(const T* p) {
  using A = Acc<T>;
  typename Simd<A>::type v;
  if constexpr (std::is_same_v<T, A>) {
    __builtin_memcpy(&v, p, sizeof v);
  } else {
    for (int l = 0; l < Simd<A>::kWidth; ++l) v[l] = static_cast<A>(p[l]);
  }
  return v;
}

// The lanes of four accumulators, added in a fixed order, in double.
template <class V>
inline double fold(V a0, V a1, V a2, V a3) {
  const V v = (a0 + a1) + (a2 + a3);
  double s = 0;
  for (size_t l = 0; l < sizeof(V) / sizeof(v[0]); ++l) s += static_cast<double>(v[l]);
  return s;
}

// Σ x[i] for i < n.
template <class T>
double sum(const T* x, int64_t n) {
  using A = Acc<T>;
  using S = Simd<A>;
  constexpr int W = S::kWidth;
  double total = 0;
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t e = std::min(n, b + kBlock);
    typename S::type a0 = {}, a1 = {}, a2 = {}, a3 = {};
    int64_t i = b;
    for (; i + S::kStep <= e; i += S::kStep) {
      a0 += load(x + i);
      a1 += load(x + i + W);
      a2 += load(x + i + 2 * W);
      a3 += load(x + i + 3 * W);
    }
    A tail = 0;
    for (; i < e; ++i) tail += static_cast<A>(x[i]);
    total += fold(a0, a1, a2, a3) + static_cast<double>(tail);
  }
  return total;
}

// Σ (x[i] - m) and Σ (x[i] - m)^2, added to *d and *q.
template <class T>
void centered_sums(const T* x, int64_t n, Acc<T> m, double* d, double* q) {
  using A = Acc<T>;
  using S = Simd<A>;
  constexpr int W = S::kWidth;
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t e = std::min(n, b + kBlock);
    typename S::type d0 = {}, d1 = {}, q0 = {}, q1 = {};
    int64_t i = b;
    for (; i + S::kStep <= e; i += S::kStep) {
      const auto v0 = load(x + i) - m, v1 = load(x + i + W) - m;
      const auto v2 = load(x + i + 2 * W) - m, v3 = load(x + i + 3 * W) - m;
      d0 += v0 + v2;
      d1 += v1 + v3;
      q0 += v0 * v0 + v2 * v2;
      q1 += v1 * v1 + v3 * v3;
    }
    A td = 0, tq = 0;
    for (; i < e; ++i) {
      const A v = static_cast<A>(x[i]) - m;
      td += v;
      tq += v * v;
    }
    const typename S::type zero = {};
    *d += fold(d0, d1, zero, zero) + static_cast<double>(td);
    *q += fold(q0, q1, zero, zero) + static_cast<double>(tq);
  }
}

// Σ g_i and Σ g_i * (x[i] - m), added to *sg and *sgx, where g_i is gvec(i) (lanes i .. i + width)
// or gscalar(i): the incoming gradient itself, or batch_norm_relu's masked one.
template <class T, class GVec, class GScalar>
void grad_sums_of(const T* x, int64_t n, Acc<T> m, GVec&& gvec, GScalar&& gscalar, double* sg, double* sgx) {
  using A = Acc<T>;
  using S = Simd<A>;
  constexpr int W = S::kWidth;
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t e = std::min(n, b + kBlock);
    typename S::type g0 = {}, g1 = {}, p0 = {}, p1 = {};
    int64_t i = b;
    for (; i + S::kStep <= e; i += S::kStep) {
      const auto ga = gvec(i), gb = gvec(i + W), gc = gvec(i + 2 * W), gd = gvec(i + 3 * W);
      g0 += ga + gc;
      g1 += gb + gd;
      p0 += ga * (load(x + i) - m) + gc * (load(x + i + 2 * W) - m);
      p1 += gb * (load(x + i + W) - m) + gd * (load(x + i + 3 * W) - m);
    }
    A tg = 0, tgx = 0;
    for (; i < e; ++i) {
      const A gv = gscalar(i);
      tg += gv;
      tgx += gv * (static_cast<A>(x[i]) - m);
    }
    const typename S::type zero = {};
    *sg += fold(g0, g1, zero, zero) + static_cast<double>(tg);
    *sgx += fold(p0, p1, zero, zero) + static_cast<double>(tgx);
  }
}

// Σ g[i] and Σ g[i] * (x[i] - m), added to *sg and *sgx.
template <class T>
void grad_sums(const T* g, const T* x, int64_t n, Acc<T> m, double* sg, double* sgx) {
  using A = Acc<T>;
  grad_sums_of(
      x, n, m, [&](int64_t i) { return load(g + i); }, [&](int64_t i) { return static_cast<A>(g[i]); }, sg, sgx);
}

// The same sums over batch_norm_relu's masked gradient (kernels/norm_functors.h): g[i] where
// (x[i] - m) * a + b > 0, else 0.
template <class T>
void masked_grad_sums(const T* g, const T* x, int64_t n, Acc<T> m, Acc<T> a, Acc<T> b, double* sg, double* sgx) {
  using A = Acc<T>;
  grad_sums_of(
      x, n, m, [&](int64_t i) { return batch_norm_relu_masked_grad(load(g + i), load(x + i), m, a, b); },
      [&](int64_t i) { return batch_norm_relu_masked_grad(static_cast<A>(g[i]), static_cast<A>(x[i]), m, a, b); },
      sg, sgx);
}

// Σ g[i] w[i] and Σ g[i] w[i] (x[i] - m), added to *a and *b (layer norm's per-row sums).
template <class T>
void weighted_grad_sums(const T* g, const T* x, const Acc<T>* w, int64_t n, Acc<T> m, double* a, double* b) {
  using A = Acc<T>;
  using S = Simd<A>;
  constexpr int W = S::kWidth;
  for (int64_t blk = 0; blk < n; blk += kBlock) {
    const int64_t e = std::min(n, blk + kBlock);
    typename S::type a0 = {}, a1 = {}, p0 = {}, p1 = {};
    int64_t i = blk;
    for (; i + S::kStep <= e; i += S::kStep) {
      const auto ga = load(g + i) * load(w + i), gb = load(g + i + W) * load(w + i + W);
      const auto gc = load(g + i + 2 * W) * load(w + i + 2 * W), gd = load(g + i + 3 * W) * load(w + i + 3 * W);
      a0 += ga + gc;
      a1 += gb + gd;
      p0 += ga * (load(x + i) - m) + gc * (load(x + i + 2 * W) - m);
      p1 += gb * (load(x + i + W) - m) + gd * (load(x + i + 3 * W) - m);
    }
    A ta = 0, tb = 0;
    for (; i < e; ++i) {
      const A gw = static_cast<A>(g[i]) * w[i];
      ta += gw;
      tb += gw * (static_cast<A>(x[i]) - m);
    }
    const typename S::type zero = {};
    *a += fold(a0, a1, zero, zero) + static_cast<double>(ta);
    *b += fold(p0, p1, zero, zero) + static_cast<double>(tb);
  }
}

// ---- elementwise passes ----
// Outputs larger than the caches can go out with non-temporal (streaming) stores: no read for
// ownership, and the input being normalized stays in cache instead of being evicted by the
// output. A kernel that streams calls stream_fence() at the end of each parallel task.

inline constexpr int64_t kStreamBytes = int64_t{8} << 20;  // stream outputs of at least 8 MiB

inline void stream_fence() {
#if defined(__SSE2__)
  _mm_sfence();
#endif
}

inline void stream_store(float* p, Simd<float>::type v) {
#if defined(__SSE2__)
  _mm_stream_ps(p, reinterpret_cast<__m128>(v));
#else
  __builtin_memcpy(p, &v, sizeof v);
#endif
}
inline void stream_store(double* p, Simd<double>::type v) {
#if defined(__SSE2__)
  _mm_stream_pd(p, reinterpret_cast<__m128d>(v));
#else
  __builtin_memcpy(p, &v, sizeof v);
#endif
}

// out[i] = scalar(i) for i < n, `vec(i)` giving lanes i .. i + width at once where T is the compute
// type (f32, f64); with `stream` those go out as streaming stores.
template <class T, class Vec, class Scalar>
inline void write_elementwise(T* out, int64_t n, bool stream, Vec&& vec, Scalar&& scalar) {
  using A = Acc<T>;
  constexpr int W = Simd<A>::kWidth;
  int64_t i = 0;
  if constexpr (std::is_same_v<T, A>) {
    if (stream) {
      for (; i < n && reinterpret_cast<uintptr_t>(out + i) % 16 != 0; ++i) out[i] = scalar(i);
      for (; i + W <= n; i += W) stream_store(out + i, vec(i));
    } else {
      for (; i + W <= n; i += W) {
        const auto v = vec(i);
        __builtin_memcpy(out + i, &v, sizeof v);
      }
    }
  }
  for (; i < n; ++i) out[i] = static_cast<T>(scalar(i));
}

// y[i] = (x[i] - m) * a + b.
template <class T>
void normalize(const T* x, T* y, int64_t n, Acc<T> m, Acc<T> a, Acc<T> b, bool stream = false) {
  using A = Acc<T>;
  write_elementwise(
      y, n, stream, [&](int64_t i) { return (load(x + i) - m) * a + b; },
      [&](int64_t i) { return (static_cast<A>(x[i]) - m) * a + b; });
}

// y[i] = relu((x[i] - m) * a + b), batch_norm_relu's single output pass.
template <class T>
void normalize_relu(const T* x, T* y, int64_t n, Acc<T> m, Acc<T> a, Acc<T> b, bool stream = false) {
  using A = Acc<T>;
  write_elementwise(
      y, n, stream, [&](int64_t i) { return batch_norm_relu_value(load(x + i), m, a, b); },
      [&](int64_t i) { return batch_norm_relu_value(static_cast<A>(x[i]), m, a, b); });
}

// y[i] = (x[i] - m) * r * w[i] + b[i]; w and b may be null (1 and 0).
template <class T>
void normalize_elementwise_affine(const T* x, T* y, int64_t n, Acc<T> m, Acc<T> r, const Acc<T>* w,
                                  const Acc<T>* b) {
  using A = Acc<T>;
  if (w && b) {
    for (int64_t i = 0; i < n; ++i) y[i] = static_cast<T>((static_cast<A>(x[i]) - m) * r * w[i] + b[i]);
  } else if (w) {
    for (int64_t i = 0; i < n; ++i) y[i] = static_cast<T>((static_cast<A>(x[i]) - m) * r * w[i]);
  } else if (b) {
    for (int64_t i = 0; i < n; ++i) y[i] = static_cast<T>((static_cast<A>(x[i]) - m) * r + b[i]);
  } else {
    normalize(x, y, n, m, r, A(0));
  }
}

// dx[i] = g[i] * kg + (x[i] - m) * kx + c.
template <class T>
void grad_input(const T* g, const T* x, T* dx, int64_t n, Acc<T> m, Acc<T> kg, Acc<T> kx, Acc<T> c,
                bool stream = false) {
  using A = Acc<T>;
  write_elementwise(
      dx, n, stream, [&](int64_t i) { return load(g + i) * kg + (load(x + i) - m) * kx + c; },
      [&](int64_t i) { return static_cast<A>(g[i]) * kg + (static_cast<A>(x[i]) - m) * kx + c; });
}

// dx[i] = gm[i] * kg + (x[i] - m) * kx + c with gm batch_norm_relu's masked gradient (mask from
// (x[i] - m) * a + b > 0).
template <class T>
void masked_grad_input(const T* g, const T* x, T* dx, int64_t n, Acc<T> m, Acc<T> a, Acc<T> b, Acc<T> kg, Acc<T> kx,
                       Acc<T> c, bool stream = false) {
  using A = Acc<T>;
  write_elementwise(
      dx, n, stream,
      [&](int64_t i) {
        const auto xv = load(x + i);
        return batch_norm_relu_masked_grad(load(g + i), xv, m, a, b) * kg + (xv - m) * kx + c;
      },
      [&](int64_t i) {
        const A xv = static_cast<A>(x[i]);
        return batch_norm_relu_masked_grad(static_cast<A>(g[i]), xv, m, a, b) * kg + (xv - m) * kx + c;
      });
}

// dx[i] = g[i] * w[i] * r + (x[i] - m) * kx + c; w may be null (1).
template <class T>
void grad_input_elementwise(const T* g, const T* x, const Acc<T>* w, T* dx, int64_t n, Acc<T> m, Acc<T> r,
                            Acc<T> kx, Acc<T> c) {
  using A = Acc<T>;
  if (!w) return grad_input(g, x, dx, n, m, r, kx, c);
  for (int64_t i = 0; i < n; ++i)
    dx[i] = static_cast<T>(static_cast<A>(g[i]) * w[i] * r + (static_cast<A>(x[i]) - m) * kx + c);
}

// Count, mean and sum of squared deviations of a set of values; merge() combines two disjoint
// sets (Chan et al.), exactly in exact arithmetic and stably in floating point.
struct Moments {
  double n = 0, mean = 0, m2 = 0;
  void merge(const Moments& o) {
    if (o.n == 0) return;
    if (n == 0) {
      *this = o;
      return;
    }
    const double total = n + o.n;
    const double delta = o.mean - mean;
    mean += delta * (o.n / total);
    m2 += o.m2 + delta * delta * (n * o.n / total);
    n = total;
  }
  double biased_var() const { return n > 0 ? std::max(m2 / n, 0.0) : 0.0; }
};

// Two-pass moments of the values that `runs` visits: runs(f) calls f(offset, length) for each
// contiguous run of x. The first pass finds a mean m; the second sums (x - m) and (x - m)^2,
// which corrects both the mean and the squared deviations for m's rounding.
template <class T, class Runs>
Moments two_pass_moments(const T* x, Runs&& runs) {
  double s = 0, count = 0;
  runs([&](int64_t off, int64_t len) {
    s += sum(x + off, len);
    count += static_cast<double>(len);
  });
  if (count == 0) return {};
  const Acc<T> m = static_cast<Acc<T>>(s / count);
  double d = 0, q = 0;
  runs([&](int64_t off, int64_t len) { centered_sums(x + off, len, m, &d, &q); });
  return {count, static_cast<double>(m) + d / count, q - d * d / count};
}

// Moments of x[0..n) (a contiguous row), chunk by chunk.
template <class T>
Moments row_moments(const T* x, int64_t n) {
  Moments total;
  for (int64_t lo = 0; lo < n; lo += kChunk) {
    const int64_t len = std::min(kChunk, n - lo);
    total.merge(two_pass_moments(x, [&](auto&& f) { f(lo, len); }));
  }
  return total;
}

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace strata::kernels::cpu::norm
