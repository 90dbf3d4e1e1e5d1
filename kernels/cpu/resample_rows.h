#pragma once
// The row engine shared by the CPU resampling kernels (resample_grid.cpp, resample_warp.cpp).
//
// An output row is resampled in two steps: plan it (one source position per output pixel turned
// into tap offsets and weights, struct-of-arrays), then apply the plan to every channel. The
// weights are computed once per pixel and reused by all C channels, and the apply loop is a plain
// gather-and-FMA loop over the row (each channel's output row is contiguous). Backward scatters
// through the same plan.
#include <cstdint>
#include <vector>

#include "kernels/resample_functors.h"
#include "tensor/dtype.h"

namespace strata::kernels::cpu {

// Tap offsets (int32: the front ends keep planes under 2^31 pixels) and weights of one row.
template <class A>
struct RowPlan {
  std::vector<int32_t> off[4];
  std::vector<A> w[4];
  std::vector<int32_t> nearest;  // nearest mode: flat offset, -1 outside (zeros padding)

  void resize(int64_t n, SampleMode mode) {
    if (mode == SampleMode::Nearest) {
      nearest.resize(n);
      return;
    }
    for (int k = 0; k < 4; ++k) {
      off[k].resize(n);
      w[k].resize(n);
    }
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
};

// out[j] = sum_k w[k][j] * in[off[k][j]] for j < n.
template <class T, class A>
inline void apply_bilinear(const RowPlan<A>& p, const T* __restrict in, T* __restrict out, int64_t n) {
  const int32_t *o0 = p.off[0].data(), *o1 = p.off[1].data(), *o2 = p.off[2].data(), *o3 = p.off[3].data();
  const A *w0 = p.w[0].data(), *w1 = p.w[1].data(), *w2 = p.w[2].data(), *w3 = p.w[3].data();
  for (int64_t j = 0; j < n; ++j) {
    const A v = w0[j] * static_cast<A>(in[o0[j]]) + w1[j] * static_cast<A>(in[o1[j]]) +
                w2[j] * static_cast<A>(in[o2[j]]) + w3[j] * static_cast<A>(in[o3[j]]);
    out[j] = static_cast<T>(v);
  }
}

template <class T>
inline void apply_nearest(const std::vector<int32_t>& idx, const T* __restrict in, T* __restrict out, int64_t n) {
  for (int64_t j = 0; j < n; ++j) out[j] = idx[j] >= 0 ? in[idx[j]] : T(0);
}

// gin[off[k][j]] += w[k][j] * g[j]: the adjoint of apply_bilinear, in a fixed order.
template <class T, class A>
inline void scatter_bilinear(const RowPlan<A>& p, const T* g, T* gin, int64_t n) {
  for (int64_t j = 0; j < n; ++j) {
    const A gj = static_cast<A>(g[j]);
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
