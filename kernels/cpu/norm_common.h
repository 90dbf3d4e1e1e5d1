#pragma once
// Building blocks of the CPU normalization kernels (norm_batch.cpp, norm.cpp): sums over
// contiguous runs, the merge of partial statistics, and the elementwise passes.
//
// Accuracy and speed. Sums run in blocks of kBlock elements over kLanes independent lanes in the
// compute type (float for f32/f16/bf16 data, double for f64), so the compiler vectorizes them;
// each block's total is then folded into a double. No lane ever adds more than kBlock / kLanes
// terms in float, so the error stays near that of a double sum at the speed of a float one.
// Variances are two-pass (mean first, then centred squares, corrected by the centred sum) over
// chunks of at most kChunk elements (which stay in L2 between the passes), and chunks merge with
// Chan's formula in a fixed order. Every reduction order depends on the shape only: results do not
// depend on the thread count.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "tensor/half.h"

namespace strata::kernels::cpu::norm {

// The type sums and elementwise math run in for storage type T.
template <class T>
using Acc = std::conditional_t<std::is_same_v<T, double>, double, float>;

inline constexpr int kLanes = 16;
inline constexpr int64_t kBlock = 2048;   // elements per partial sum in the compute type
inline constexpr int64_t kChunk = 65536;  // elements per two-pass statistics chunk

template <class A>
inline double fold(const A (&lane)[kLanes]) {
  double s = 0;
  for (int l = 0; l < kLanes; ++l) s += static_cast<double>(lane[l]);
  return s;
}

// Σ x[i] for i < n.
template <class T>
double sum(const T* x, int64_t n) {
  using A = Acc<T>;
  double total = 0;
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t e = std::min(n, b + kBlock);
    A lane[kLanes] = {};
    int64_t i = b;
    for (; i + kLanes <= e; i += kLanes)
      for (int l = 0; l < kLanes; ++l) lane[l] += static_cast<A>(x[i + l]);
    A tail = 0;
    for (; i < e; ++i) tail += static_cast<A>(x[i]);
    total += fold(lane) + static_cast<double>(tail);
  }
  return total;
}

// Σ (x[i] - m) and Σ (x[i] - m)^2, added to *d and *q.
template <class T>
void centered_sums(const T* x, int64_t n, Acc<T> m, double* d, double* q) {
  using A = Acc<T>;
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t e = std::min(n, b + kBlock);
    A ld[kLanes] = {}, lq[kLanes] = {};
    int64_t i = b;
    for (; i + kLanes <= e; i += kLanes) {
      for (int l = 0; l < kLanes; ++l) {
        const A v = static_cast<A>(x[i + l]) - m;
        ld[l] += v;
        lq[l] += v * v;
      }
    }
    A td = 0, tq = 0;
    for (; i < e; ++i) {
      const A v = static_cast<A>(x[i]) - m;
      td += v;
      tq += v * v;
    }
    *d += fold(ld) + static_cast<double>(td);
    *q += fold(lq) + static_cast<double>(tq);
  }
}

// Σ g[i] and Σ g[i] * (x[i] - m), added to *sg and *sgx.
template <class T>
void grad_sums(const T* g, const T* x, int64_t n, Acc<T> m, double* sg, double* sgx) {
  using A = Acc<T>;
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t e = std::min(n, b + kBlock);
    A lg[kLanes] = {}, lgx[kLanes] = {};
    int64_t i = b;
    for (; i + kLanes <= e; i += kLanes) {
      for (int l = 0; l < kLanes; ++l) {
        const A gv = static_cast<A>(g[i + l]);
        lg[l] += gv;
        lgx[l] += gv * (static_cast<A>(x[i + l]) - m);
      }
    }
    A tg = 0, tgx = 0;
    for (; i < e; ++i) {
      const A gv = static_cast<A>(g[i]);
      tg += gv;
      tgx += gv * (static_cast<A>(x[i]) - m);
    }
    *sg += fold(lg) + static_cast<double>(tg);
    *sgx += fold(lgx) + static_cast<double>(tgx);
  }
}

// Σ g[i] w[i] and Σ g[i] w[i] (x[i] - m), added to *a and *b (layer norm's per-row sums).
template <class T>
void weighted_grad_sums(const T* g, const T* x, const Acc<T>* w, int64_t n, Acc<T> m, double* a, double* b) {
  using A = Acc<T>;
  for (int64_t blk = 0; blk < n; blk += kBlock) {
    const int64_t e = std::min(n, blk + kBlock);
    A la[kLanes] = {}, lb[kLanes] = {};
    int64_t i = blk;
    for (; i + kLanes <= e; i += kLanes) {
      for (int l = 0; l < kLanes; ++l) {
        const A gw = static_cast<A>(g[i + l]) * w[i + l];
        la[l] += gw;
        lb[l] += gw * (static_cast<A>(x[i + l]) - m);
      }
    }
    A ta = 0, tb = 0;
    for (; i < e; ++i) {
      const A gw = static_cast<A>(g[i]) * w[i];
      ta += gw;
      tb += gw * (static_cast<A>(x[i]) - m);
    }
    *a += fold(la) + static_cast<double>(ta);
    *b += fold(lb) + static_cast<double>(tb);
  }
}

// y[i] = (x[i] - m) * a + b.
template <class T>
void normalize(const T* x, T* y, int64_t n, Acc<T> m, Acc<T> a, Acc<T> b) {
  using A = Acc<T>;
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<T>((static_cast<A>(x[i]) - m) * a + b);
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
void grad_input(const T* g, const T* x, T* dx, int64_t n, Acc<T> m, Acc<T> kg, Acc<T> kx, Acc<T> c) {
  using A = Acc<T>;
  for (int64_t i = 0; i < n; ++i)
    dx[i] = static_cast<T>(static_cast<A>(g[i]) * kg + (static_cast<A>(x[i]) - m) * kx + c);
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
