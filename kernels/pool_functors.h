#pragma once
// Window and sampling geometry of pooling and upsampling, shared by the CPU kernels
// (kernels/cpu/pool.cpp) and the CUDA kernels (kernels/cuda/pool.cu, upsample.cu), and the
// per-element bodies of the CUDA kernels.
//
// The CPU kernels walk rows and, backward, scatter each output's gradient into its window. A GPU
// thread instead computes one output (forward) or one input-gradient element (backward): a gather
// over the outputs whose windows cover that input, visited in the same row-major order the CPU
// scatter adds them in and rounded to T after every add as the CPU does, so the result is the
// CPU's bit for bit, with no atomics. The bodies are plain STRATA_HD functions:
// tests/kernels/test_cuda_pool.cpp runs them on the host against the CPU kernels, so the index
// math the GPU runs is tested on machines without a GPU. Products that pick a source position or
// weight a tap use mul_rn / add_rn (kernels/rounded_math.h): nvcc would otherwise fuse them.
#include <cmath>
#include <cstdint>
#include <limits>

#include "kernels/pool.h"
#include "kernels/rounded_math.h"
#include "tensor/dtype.h"
#include "tensor/macros.h"

namespace strata::kernels {

// The [planes, H, W] views of a kernel's input and output.
struct PoolDims {
  int64_t planes, ih, iw, oh, ow;
};

STRATA_HD_INLINE int64_t min_i64(int64_t a, int64_t b) { return a < b ? a : b; }
STRATA_HD_INLINE int64_t max_i64(int64_t a, int64_t b) { return a > b ? a : b; }
// Floor division by b > 0.
STRATA_HD_INLINE int64_t floor_div_i64(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// First and one-past-last window tap t with 0 <= start + t * step < size, t in [0, taps).
struct TapRange {
  int64_t lo, hi;
};
STRATA_HD_INLINE TapRange taps_inside(int64_t start, int64_t step, int64_t taps, int64_t size) {
  const int64_t lo = start < 0 ? (-start + step - 1) / step : 0;
  const int64_t hi = start >= size ? 0 : min_i64(taps, (size - 1 - start) / step + 1);
  return {lo, max_i64(lo, hi)};
}

// Adaptive pools: output cell i covers [floor(i * in / out), ceil((i + 1) * in / out)).
STRATA_HD_INLINE int64_t adaptive_start(int64_t i, int64_t in, int64_t out) { return (i * in) / out; }
STRATA_HD_INLINE int64_t adaptive_end(int64_t i, int64_t in, int64_t out) { return ((i + 1) * in + out - 1) / out; }

// The max rule: strictly greater wins (the first maximum stays), and a NaN always takes over (so
// the last NaN of the window wins, as in PyTorch).
template <class A>
STRATA_HD_INLINE bool takes_max(A v, A best) {
  return (v > best) | (v != v);
}

// The clamped window of avg-pool output (oy, ox) and its divisor (PyTorch's avg_pool2d rule).
struct AvgWindow {
  int64_t h0, h1, w0, w1, divisor;
};
STRATA_HD_INLINE AvgWindow avg_window(const Pool2dParams& p, const PoolDims& d, int64_t oy, int64_t ox) {
  int64_t h0 = oy * p.sh - p.ph, w0 = ox * p.sw - p.pw;
  int64_t h1 = min_i64(h0 + p.kh, d.ih + p.ph), w1 = min_i64(w0 + p.kw, d.iw + p.pw);
  const int64_t padded = (h1 - h0) * (w1 - w0);
  h0 = max_i64(h0, 0);
  w0 = max_i64(w0, 0);
  h1 = min_i64(h1, d.ih);
  w1 = min_i64(w1, d.iw);
  const int64_t inside = max_i64(0, h1 - h0) * max_i64(0, w1 - w0);
  return {h0, h1, w0, w1, p.count_include_pad ? padded : inside};
}

// PyTorch's nearest rule, in float like PyTorch's CPU kernel: src = min(floor(dst * scale), in - 1).
STRATA_HD_INLINE int64_t nearest_source(int64_t dst, int64_t in, int64_t out, double scale_factor) {
  if (out == in) return dst;
  if (out == 2 * in) return dst >> 1;
  const float scale = scale_factor > 0 ? static_cast<float>(1.0 / scale_factor)
                                       : static_cast<float>(in) / static_cast<float>(out);
  return min_i64(static_cast<int64_t>(floorf(mul_rn(static_cast<float>(dst), scale))), in - 1);
}

// The source-per-destination scale of a linear interpolation.
template <class A>
STRATA_HD_INLINE A linear_scale(int64_t in, int64_t out, bool align_corners, double scale_factor) {
  if (align_corners) return out > 1 ? static_cast<A>(in - 1) / static_cast<A>(out - 1) : A(0);
  return scale_factor > 0 ? static_cast<A>(1.0 / scale_factor) : static_cast<A>(in) / static_cast<A>(out);
}

// The two source taps of a linear interpolation and their weights.
template <class A>
struct LinearTaps {
  int64_t i0, i1;
  A l0, l1;
};
template <class A>
STRATA_HD_INLINE LinearTaps<A> linear_taps(int64_t dst, int64_t in, A scale, bool align_corners) {
  A real = align_corners ? mul_rn(scale, static_cast<A>(dst))
                         : add_rn(mul_rn(scale, add_rn(static_cast<A>(dst), A(0.5))), A(-0.5));
  if (!align_corners && real < A(0)) real = A(0);
  const int64_t i0 = min_i64(static_cast<int64_t>(real), in - 1);
  const int64_t i1 = i0 + (i0 < in - 1 ? 1 : 0);
  A l1 = real - static_cast<A>(i0);
  l1 = l1 < A(0) ? A(0) : (l1 > A(1) ? A(1) : l1);
  return {i0, i1, A(1) - l1, l1};
}

// ---- per-element bodies of the CUDA kernels ---------------------------------------------------

// Max pool output (oy, ox) of one plane; `index` (may be null) gets the winner's h * W + w.
template <class T>
STRATA_HD_INLINE void max_pool_at(const T* xplane, const Pool2dParams& p, const PoolDims& d, int64_t oy, int64_t ox,
                                  T* out, int64_t* index) {
  using A = compute_t<T>;
  const int64_t h0 = oy * p.sh - p.ph, w0 = ox * p.sw - p.pw;
  const TapRange th = taps_inside(h0, p.dh, p.kh, d.ih), tw = taps_inside(w0, p.dw, p.kw, d.iw);
  A best = -std::numeric_limits<A>::infinity();
  int64_t best_at = (h0 + th.lo * p.dh) * d.iw + (w0 + tw.lo * p.dw);
  for (int64_t i = th.lo; i < th.hi; ++i) {
    const int64_t row_at = (h0 + i * p.dh) * d.iw + w0;
    for (int64_t j = tw.lo; j < tw.hi; ++j) {
      const int64_t at = row_at + j * p.dw;
      const A v = static_cast<A>(xplane[at]);
      if (takes_max(v, best)) {
        best = v;
        best_at = at;
      }
    }
  }
  *out = static_cast<T>(best);
  if (index) *index = best_at;
}

// Adaptive max pool output (oy, ox) of one plane and its index.
template <class T>
STRATA_HD_INLINE void adaptive_max_at(const T* xplane, const PoolDims& d, int64_t oy, int64_t ox, T* out,
                                      int64_t* index) {
  using A = compute_t<T>;
  const int64_t h0 = adaptive_start(oy, d.ih, d.oh), h1 = adaptive_end(oy, d.ih, d.oh);
  const int64_t w0 = adaptive_start(ox, d.iw, d.ow), w1 = adaptive_end(ox, d.iw, d.ow);
  A best = -std::numeric_limits<A>::infinity();
  int64_t best_at = h0 * d.iw + w0;
  for (int64_t h = h0; h < h1; ++h)
    for (int64_t w = w0; w < w1; ++w) {
      const A v = static_cast<A>(xplane[h * d.iw + w]);
      if (takes_max(v, best)) {
        best = v;
        best_at = h * d.iw + w;
      }
    }
  *out = static_cast<T>(best);
  *index = best_at;
}

template <class T>
STRATA_HD_INLINE T avg_pool_at(const T* xplane, const Pool2dParams& p, const PoolDims& d, int64_t oy, int64_t ox) {
  using A = compute_t<T>;
  const AvgWindow win = avg_window(p, d, oy, ox);
  A sum = 0;
  for (int64_t h = win.h0; h < win.h1; ++h)
    for (int64_t w = win.w0; w < win.w1; ++w) sum += static_cast<A>(xplane[h * d.iw + w]);
  return static_cast<T>(win.divisor > 0 ? sum / static_cast<A>(win.divisor) : A(0));
}

// The avg-pool input gradient at (h, w): the shares of the outputs whose windows hold it.
// Output row oy covers rows [oy * sh - ph, oy * sh - ph + kh).
template <class T>
STRATA_HD_INLINE T avg_pool_grad_at(const T* gplane, const Pool2dParams& p, const PoolDims& d, int64_t h, int64_t w,
                                    T acc) {
  using A = compute_t<T>;
  const int64_t oy0 = max_i64(0, floor_div_i64(h + p.ph - p.kh, p.sh) + 1);
  const int64_t oy1 = min_i64(d.oh - 1, floor_div_i64(h + p.ph, p.sh));
  const int64_t ox0 = max_i64(0, floor_div_i64(w + p.pw - p.kw, p.sw) + 1);
  const int64_t ox1 = min_i64(d.ow - 1, floor_div_i64(w + p.pw, p.sw));
  for (int64_t oy = oy0; oy <= oy1; ++oy)
    for (int64_t ox = ox0; ox <= ox1; ++ox) {
      const AvgWindow win = avg_window(p, d, oy, ox);
      if (win.divisor <= 0) continue;
      const A share = static_cast<A>(gplane[oy * d.ow + ox]) / static_cast<A>(win.divisor);
      acc = static_cast<T>(static_cast<A>(acc) + share);
    }
  return acc;
}

template <class T>
STRATA_HD_INLINE T adaptive_avg_at(const T* xplane, const PoolDims& d, int64_t oy, int64_t ox) {
  using A = compute_t<T>;
  const int64_t h0 = adaptive_start(oy, d.ih, d.oh), h1 = adaptive_end(oy, d.ih, d.oh);
  const int64_t w0 = adaptive_start(ox, d.iw, d.ow), w1 = adaptive_end(ox, d.iw, d.ow);
  A sum = 0;
  for (int64_t h = h0; h < h1; ++h)
    for (int64_t w = w0; w < w1; ++w) sum += static_cast<A>(xplane[h * d.iw + w]);
  return static_cast<T>(sum / static_cast<A>((h1 - h0) * (w1 - w0)));
}

// The adaptive cells holding input index i: start(o) <= i  <=>  o < (i + 1) * out / in, and
// end(o) > i  <=>  o >= floor(i * out / in); both are checked again inside the loops.
STRATA_HD_INLINE TapRange adaptive_cells_holding(int64_t i, int64_t in, int64_t out) {
  return {(i * out) / in, min_i64(out, ((i + 1) * out + in - 1) / in)};
}

template <class T>
STRATA_HD_INLINE T adaptive_avg_grad_at(const T* gplane, const PoolDims& d, int64_t h, int64_t w, T acc) {
  using A = compute_t<T>;
  const TapRange ry = adaptive_cells_holding(h, d.ih, d.oh), rx = adaptive_cells_holding(w, d.iw, d.ow);
  for (int64_t oy = ry.lo; oy < ry.hi; ++oy) {
    const int64_t h0 = adaptive_start(oy, d.ih, d.oh), h1 = adaptive_end(oy, d.ih, d.oh);
    if (h < h0 || h >= h1) continue;
    for (int64_t ox = rx.lo; ox < rx.hi; ++ox) {
      const int64_t w0 = adaptive_start(ox, d.iw, d.ow), w1 = adaptive_end(ox, d.iw, d.ow);
      if (w < w0 || w >= w1) continue;
      const A share = static_cast<A>(gplane[oy * d.ow + ox]) / static_cast<A>((h1 - h0) * (w1 - w0));
      acc = static_cast<T>(static_cast<A>(acc) + share);
    }
  }
  return acc;
}

// First dst in [0, out) whose nearest source is >= src (out when none): sources never decrease.
STRATA_HD_INLINE int64_t nearest_first_reaching(int64_t src, int64_t in, int64_t out, double scale_factor) {
  int64_t lo = 0, hi = out;
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (nearest_source(mid, in, out, scale_factor) < src)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

// The nearest-upsampling input gradient at (h, w): the sum over the outputs that copied it.
template <class T>
STRATA_HD_INLINE T nearest_grad_at(const T* gplane, const PoolDims& d, int64_t h, int64_t w, double scale_h,
                                   double scale_w, T acc) {
  using A = compute_t<T>;
  const int64_t oy0 = nearest_first_reaching(h, d.ih, d.oh, scale_h);
  const int64_t oy1 = nearest_first_reaching(h + 1, d.ih, d.oh, scale_h);
  const int64_t ox0 = nearest_first_reaching(w, d.iw, d.ow, scale_w);
  const int64_t ox1 = nearest_first_reaching(w + 1, d.iw, d.ow, scale_w);
  for (int64_t oy = oy0; oy < oy1; ++oy)
    for (int64_t ox = ox0; ox < ox1; ++ox)
      acc = static_cast<T>(static_cast<A>(acc) + static_cast<A>(gplane[oy * d.ow + ox]));
  return acc;
}

template <class T>
STRATA_HD_INLINE T bilinear_at(const T* xplane, const PoolDims& d, const LinearTaps<compute_t<T>>& row,
                               const LinearTaps<compute_t<T>>& col) {
  using A = compute_t<T>;
  const T* r0 = xplane + row.i0 * d.iw;
  const T* r1 = xplane + row.i1 * d.iw;
  const A top = add_rn(mul_rn(col.l0, static_cast<A>(r0[col.i0])), mul_rn(col.l1, static_cast<A>(r0[col.i1])));
  const A bottom = add_rn(mul_rn(col.l0, static_cast<A>(r1[col.i0])), mul_rn(col.l1, static_cast<A>(r1[col.i1])));
  return static_cast<T>(add_rn(mul_rn(row.l0, top), mul_rn(row.l1, bottom)));
}

// First dst in [0, out) whose first linear tap is >= src (out when none): taps never decrease.
template <class A>
STRATA_HD_INLINE int64_t linear_first_reaching(int64_t src, int64_t in, int64_t out, A scale, bool align_corners) {
  int64_t lo = 0, hi = out;
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (linear_taps<A>(mid, in, scale, align_corners).i0 < src)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

// The bilinear input gradient at (h, w). An output reaches input row h through its first tap
// (i0 == h) or its second (i1 == h, so i0 is h - 1 or h): the outputs with i0 in [h - 1, h]. Each
// output's four taps are added in the CPU scatter's order (r0c0, r0c1, r1c0, r1c1).
template <class T>
STRATA_HD_INLINE T bilinear_grad_at(const T* gplane, const PoolDims& d, int64_t h, int64_t w, compute_t<T> scale_h,
                                    compute_t<T> scale_w, bool align_corners, T acc) {
  using A = compute_t<T>;
  const int64_t oy0 = linear_first_reaching<A>(h - 1, d.ih, d.oh, scale_h, align_corners);
  const int64_t oy1 = linear_first_reaching<A>(h + 1, d.ih, d.oh, scale_h, align_corners);
  const int64_t ox0 = linear_first_reaching<A>(w - 1, d.iw, d.ow, scale_w, align_corners);
  const int64_t ox1 = linear_first_reaching<A>(w + 1, d.iw, d.ow, scale_w, align_corners);
  for (int64_t oy = oy0; oy < oy1; ++oy) {
    const LinearTaps<A> row = linear_taps<A>(oy, d.ih, scale_h, align_corners);
    for (int64_t ox = ox0; ox < ox1; ++ox) {
      const LinearTaps<A> col = linear_taps<A>(ox, d.iw, scale_w, align_corners);
      const A g = static_cast<A>(gplane[oy * d.ow + ox]);
      const int64_t rows[2] = {row.i0, row.i1}, cols[2] = {col.i0, col.i1};
      const A row_w[2] = {row.l0, row.l1}, col_w[2] = {col.l0, col.l1};
      for (int a = 0; a < 2; ++a)
        for (int b = 0; b < 2; ++b)
          if (rows[a] == h && cols[b] == w)
            acc = static_cast<T>(add_rn(static_cast<A>(acc), mul_rn(mul_rn(row_w[a], col_w[b]), g)));
    }
  }
  return acc;
}

}  // namespace strata::kernels
