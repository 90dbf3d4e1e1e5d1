#pragma once
// The row engine shared by the CPU resampling kernels (resample_grid.cpp, resample_warp.cpp).
//
// An output row is resampled in two steps: plan it (one source position per output pixel turned
// into tap offsets and weights, struct-of-arrays), then apply the plan to every channel. The
// weights are computed once per pixel and reused by all C channels. Pixels whose four taps are
// inside the image (the interior run; with border or reflection padding, the whole row) keep a
// compact form applied by a scalar loop over pixels with the channels innermost; the others keep
// four offsets and weights each. Backward scatters through the same plan.
#include <cstdint>
#include <vector>

#include "kernels/resample_functors.h"
#include "tensor/dtype.h"

namespace strata::kernels::cpu {

// Tap offsets (int32: the front ends keep planes under 2^31 pixels) and weights of one row.
//
// A row may also have an interior run [inner_lo, inner_hi) of bilinear pixels whose four taps
// are all inside the image and need no padding (most pixels of a moderate augmentation): these
// keep only the top-left tap's offset and the two fractions (inner_off, inner_fx, inner_fy) and
// are applied by a tighter loop; the general arrays cover the rest of the row.
template <class A>
struct RowPlan {
  std::vector<int32_t> off[4];
  std::vector<A> w[4];
  std::vector<int32_t> nearest;  // nearest mode: flat offset, -1 outside (zeros padding)
  int64_t inner_lo = 0, inner_hi = 0;
  std::vector<int32_t> inner_off;
  std::vector<A> inner_fx, inner_fy;
  std::vector<A> raw_x, raw_y;  // scratch: a row's source coordinates before padding

  void resize(int64_t n, SampleMode mode) {
    raw_x.resize(n);
    raw_y.resize(n);
    if (mode == SampleMode::Nearest) {
      nearest.resize(n);
      return;
    }
    for (int k = 0; k < 4; ++k) {
      off[k].resize(n);
      w[k].resize(n);
    }
    inner_off.resize(n);
    inner_fx.resize(n);
    inner_fy.resize(n);
  }

  // Output pixel j samples padded source pixel (x, y) of a w x h plane.
  void set(int64_t j, A x, A y, int64_t w_, int64_t h_, SampleMode mode) {
    if (mode == SampleMode::Nearest) {
      const int64_t ix = nearest_index(x, w_), iy = nearest_index(y, h_);
      nearest[j] = ix >= 0 && iy >= 0 ? static_cast<int32_t>(iy * w_ + ix) : -1;
      return;
    }
    const BilinearTaps<A> t = bilinear_taps(x, y, w_, h_);
    for (int k = 0; k < 4; ++k) {
      off[k][j] = static_cast<int32_t>(t.off[k]);
      w[k][j] = t.w[k];
    }
  }

  // Bilinear pixel j at a border- or reflection-padded position (x, y), already inside
  // [0, w - 1] x [0, h - 1] with w, h >= 2: the interior form (a position on the last column or
  // row uses the previous tap with fraction 1). The caller sets inner_lo / inner_hi.
  void set_inner(int64_t j, A x, A y, int64_t w_, int64_t h_) {
    const int32_t ix = static_cast<int32_t>(x < A(w_ - 2) ? x : A(w_ - 2));
    const int32_t iy = static_cast<int32_t>(y < A(h_ - 2) ? y : A(h_ - 2));
    inner_off[j] = iy * static_cast<int32_t>(w_) + ix;
    inner_fx[j] = x - static_cast<A>(ix);
    inner_fy[j] = y - static_cast<A>(iy);
  }
};

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define STRATA_RESAMPLE_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define STRATA_RESAMPLE_CLONES
#endif
// Scalar code on purpose: GCC's SLP vectorizer packs the channel loop into shuffles that run
// slower than plain scalar loads (measured 28 vs 24 ms).
#if defined(__GNUC__) && !defined(__clang__)
#define STRATA_RESAMPLE_SCALAR __attribute__((optimize("no-tree-vectorize")))
#else
#define STRATA_RESAMPLE_SCALAR
#endif

// out[c * out_plane + j] for j in [lo, hi) and every channel c from the interior taps (row stride
// `w` between the tap rows). Channels are the inner loop: the taps are loaded once per pixel and
// the C planes' reads are independent, which keeps more loads in flight than one channel at a
// time (measured, 1 thread: 30 -> 24 ms on 64x3x224x224). AVX2 gathers were tried and lost
// (42 ms) on the AMD EPYC (Zen 3) hosts.
template <class T, class A>
STRATA_RESAMPLE_CLONES STRATA_RESAMPLE_SCALAR void apply_inner(const int32_t* __restrict off, const A* __restrict fx,
                                        const A* __restrict fy, const T* __restrict in, int64_t in_plane,
                                        T* __restrict out, int64_t out_plane, int64_t channels, int64_t lo,
                                        int64_t hi, int64_t w) {
  for (int64_t j = lo; j < hi; ++j) {
    const A a = fx[j], b = fy[j];
    const T* p = in + off[j];
    T* q = out + j;
    for (int64_t c = 0; c < channels; ++c, p += in_plane, q += out_plane) {
      const A p00 = static_cast<A>(p[0]), p01 = static_cast<A>(p[1]);
      const A p10 = static_cast<A>(p[w]), p11 = static_cast<A>(p[w + 1]);
      const A top = p00 + a * (p01 - p00);
      const A bottom = p10 + a * (p11 - p10);
      *q = static_cast<T>(top + b * (bottom - top));
    }
  }
}

// out[j] for j in [lo, hi) from the general taps.
template <class T, class A>
inline void apply_general(const RowPlan<A>& p, const T* __restrict in, T* __restrict out, int64_t lo, int64_t hi) {
  const int32_t *o0 = p.off[0].data(), *o1 = p.off[1].data(), *o2 = p.off[2].data(), *o3 = p.off[3].data();
  const A *w0 = p.w[0].data(), *w1 = p.w[1].data(), *w2 = p.w[2].data(), *w3 = p.w[3].data();
  for (int64_t j = lo; j < hi; ++j) {
    const A v = w0[j] * static_cast<A>(in[o0[j]]) + w1[j] * static_cast<A>(in[o1[j]]) +
                w2[j] * static_cast<A>(in[o2[j]]) + w3[j] * static_cast<A>(in[o3[j]]);
    out[j] = static_cast<T>(v);
  }
}

// A whole row of every channel: out[c * out_plane + j] = the bilinear sample planned for pixel j,
// j < n; w: the input row stride.
template <class T, class A>
inline void apply_bilinear(const RowPlan<A>& p, const T* in, int64_t in_plane, T* out, int64_t out_plane,
                           int64_t channels, int64_t n, int64_t w) {
  for (int64_t c = 0; c < channels; ++c) {
    apply_general(p, in + c * in_plane, out + c * out_plane, 0, p.inner_lo);
    apply_general(p, in + c * in_plane, out + c * out_plane, p.inner_hi, n);
  }
  if (p.inner_hi > p.inner_lo)
    apply_inner(p.inner_off.data(), p.inner_fx.data(), p.inner_fy.data(), in, in_plane, out, out_plane, channels,
                p.inner_lo, p.inner_hi, w);
}

template <class T>
inline void apply_nearest(const std::vector<int32_t>& idx, const T* __restrict in, T* __restrict out, int64_t n) {
  for (int64_t j = 0; j < n; ++j) out[j] = idx[j] >= 0 ? in[idx[j]] : T(0);
}

// gin[off[k][j]] += w[k][j] * g[j]: the adjoint of apply_bilinear, in a fixed order.
template <class T, class A>
inline void scatter_bilinear(const RowPlan<A>& p, const T* g, T* gin, int64_t n, int64_t w) {
  for (int64_t j = 0; j < n; ++j) {
    const A gj = static_cast<A>(g[j]);
    if (j >= p.inner_lo && j < p.inner_hi) {
      const A a = p.inner_fx[j], b = p.inner_fy[j];
      T* q = gin + p.inner_off[j];
      q[0] = static_cast<T>(static_cast<A>(q[0]) + (A(1) - a) * (A(1) - b) * gj);
      q[1] = static_cast<T>(static_cast<A>(q[1]) + a * (A(1) - b) * gj);
      q[w] = static_cast<T>(static_cast<A>(q[w]) + (A(1) - a) * b * gj);
      q[w + 1] = static_cast<T>(static_cast<A>(q[w + 1]) + a * b * gj);
      continue;
    }
    for (int k = 0; k < 4; ++k) {
      const A w = p.w[k][j];
      if (w != A(0)) gin[p.off[k][j]] = static_cast<T>(static_cast<A>(gin[p.off[k][j]]) + w * gj);
    }
  }
}

template <class T>
inline void scatter_nearest(const std::vector<int32_t>& idx, const T* g, T* gin, int64_t n) {
  for (int64_t j = 0; j < n; ++j)
    if (idx[j] >= 0) gin[idx[j]] = static_cast<T>(static_cast<compute_t<T>>(gin[idx[j]]) + static_cast<compute_t<T>>(g[j]));
}

// Work items of at least ~16k output elements per chunk.
inline int64_t resample_grain(int64_t work_per_item) {
  return work_per_item >= 16384 ? 1 : 16384 / (work_per_item > 0 ? work_per_item : 1);
}

}  // namespace strata::kernels::cpu
