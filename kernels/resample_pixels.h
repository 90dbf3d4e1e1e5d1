#pragma once
// The per-output-pixel bodies of the CUDA resampling kernels (kernels/cuda/resample.cu,
// warp_batch.cu), as __host__ __device__ functions: a CUDA kernel is a grid-stride loop that calls
// one of these per pixel, and tests/kernels/test_resample_pixels.cpp runs the same functions
// serially on the host against the CPU kernels, so the GPU's index math, padding, taps and
// scatter are tested on machines without a GPU. The math itself is kernels/resample_functors.h.
//
// Layouts (all contiguous, as the front ends hand them over): images [N, C, H, W], grids
// [N, Ho, Wo, 2], outputs [N, C, Ho, Wo]; `idx` is the flat output pixel (n * Ho + i) * Wo + j.
// The backward bodies scatter into grad_input through `add(ptr, value)` (atomicAdd on the GPU,
// += on the host); G is grad_input's accumulation type.
#include <cstdint>

#include "kernels/resample_functors.h"

namespace strata::kernels {

struct ResampleDims {
  int64_t n, c, h, w, oh, ow;
};

// ---- grid_sample --------------------------------------------------------------------------------

// out[n, :, i, j] for output pixel idx: the grid entry is read and the taps computed once, then
// every channel is interpolated at them.
template <class T, class A>
STRATA_HD inline void grid_sample_pixel(const T* in, const T* grid, T* out, const ResampleDims& d,
                                        const SampleParams& p, int64_t idx) {
  const int64_t oplane = d.oh * d.ow, plane = d.h * d.w;
  const int64_t n = idx / oplane, at = idx - n * oplane;
  const A x = source_coord(static_cast<A>(grid[2 * idx]), d.w, p).coord;
  const A y = source_coord(static_cast<A>(grid[2 * idx + 1]), d.h, p).coord;
  const T* src = in + n * d.c * plane;
  T* dst = out + n * d.c * oplane + at;
  if (p.mode == SampleMode::Nearest) {
    const int64_t ix = nearest_index(x, d.w), iy = nearest_index(y, d.h);
    const bool ok = ix >= 0 && iy >= 0;
    const int64_t off = ok ? iy * d.w + ix : 0;
    for (int64_t c = 0; c < d.c; ++c) dst[c * oplane] = ok ? src[c * plane + off] : T(0);
    return;
  }
  const BilinearTaps<A> t = bilinear_taps(x, y, d.w, d.h);
  for (int64_t c = 0; c < d.c; ++c) {
    const T* s = src + c * plane;  // every tap offset is inside the plane (clamped when outside)
    const A v = t.w[0] * static_cast<A>(s[t.off[0]]) + t.w[1] * static_cast<A>(s[t.off[1]]) +
                t.w[2] * static_cast<A>(s[t.off[2]]) + t.w[3] * static_cast<A>(s[t.off[3]]);
    dst[c * oplane] = static_cast<T>(v);
  }
}

// Output pixel idx's share of the gradients: scattered into gin (grad_input, may be null) and
// written to gg (grad_grid of this pixel, may be null; summed over channels in order).
template <class T, class A, class G, class Add>
STRATA_HD inline void grid_sample_backward_pixel(const T* go, const T* in, const T* grid, G* gin, T* gg,
                                                 const ResampleDims& d, const SampleParams& p, int64_t idx,
                                                 const Add& add) {
  const int64_t oplane = d.oh * d.ow, plane = d.h * d.w;
  const int64_t n = idx / oplane, at = idx - n * oplane;
  const Padded<A> sx = source_coord(static_cast<A>(grid[2 * idx]), d.w, p);
  const Padded<A> sy = source_coord(static_cast<A>(grid[2 * idx + 1]), d.h, p);
  const T* g = go + n * d.c * oplane + at;
  if (p.mode == SampleMode::Nearest) {
    const int64_t ix = nearest_index(sx.coord, d.w), iy = nearest_index(sy.coord, d.h);
    if (gin && ix >= 0 && iy >= 0) {
      G* dst = gin + n * d.c * plane + iy * d.w + ix;
      for (int64_t c = 0; c < d.c; ++c) add(dst + c * plane, static_cast<G>(static_cast<A>(g[c * oplane])));
    }
    if (gg) gg[2 * idx] = gg[2 * idx + 1] = T(0);
    return;
  }
  const BilinearPos<A> pos = bilinear_pos(sx.coord, sy.coord, d.w, d.h);
  const BilinearTaps<A> t = bilinear_taps(sx.coord, sy.coord, d.w, d.h);
  A gx = A(0), gy = A(0);
  for (int64_t c = 0; c < d.c; ++c) {
    const A gc = static_cast<A>(g[c * oplane]);
    if (gin) {
      G* dst = gin + (n * d.c + c) * plane;
      for (int k = 0; k < 4; ++k)
        if (t.in[k]) add(dst + t.off[k], static_cast<G>(t.w[k] * gc));
    }
    if (gg) {
      const T* s = in + (n * d.c + c) * plane;
      A v[4];
      for (int k = 0; k < 4; ++k) v[k] = t.in[k] ? static_cast<A>(s[t.off[k]]) : A(0);
      add_bilinear_coord_grad(v, pos.fx, pos.fy, gc, gx, gy);
    }
  }
  if (gg) {
    gg[2 * idx] = static_cast<T>(gx * sx.grad);
    gg[2 * idx + 1] = static_cast<T>(gy * sy.grad);
  }
}

// ---- warp_batch ---------------------------------------------------------------------------------

// Output pixel idx of warp_batch: its sample, its offset in the output plane, and its padded
// source position (transform per pixel in f64, then padding in A).
template <class A>
struct WarpPixel {
  int64_t n, at;
  Padded<A> x, y;
};
template <class A>
STRATA_HD inline WarpPixel<A> warp_pixel(const WarpTransform* tf, bool perspective, const ResampleDims& d,
                                         const SampleParams& p, int64_t idx) {
  const int64_t oplane = d.oh * d.ow;
  WarpPixel<A> px;
  px.n = idx / oplane;
  px.at = idx - px.n * oplane;
  const int64_t row = px.at / d.ow, col = px.at - row * d.ow;
  warp_source(tf[px.n], perspective, row, col, d.oh, d.ow, d.h, d.w, p, px.x, px.y);
  return px;
}

// Bilinear: floating T, A its coordinate and arithmetic type.
template <class T, class A>
STRATA_HD inline void warp_bilinear_pixel(const T* in, const WarpTransform* tf, T* out, const ResampleDims& d,
                                          bool perspective, const SampleParams& p, int64_t idx) {
  const WarpPixel<A> px = warp_pixel<A>(tf, perspective, d, p, idx);
  const BilinearTaps<A> t = bilinear_taps(px.x.coord, px.y.coord, d.w, d.h);
  const int64_t oplane = d.oh * d.ow, plane = d.h * d.w;
  const T* src = in + px.n * d.c * plane;
  T* dst = out + px.n * d.c * oplane + px.at;
  for (int64_t c = 0; c < d.c; ++c) {
    const T* s = src + c * plane;
    const A v = t.w[0] * static_cast<A>(s[t.off[0]]) + t.w[1] * static_cast<A>(s[t.off[1]]) +
                t.w[2] * static_cast<A>(s[t.off[2]]) + t.w[3] * static_cast<A>(s[t.off[3]]);
    dst[c * oplane] = static_cast<T>(v);
  }
}

// Nearest: S is any type of the element's size (the value is copied; a zero is all-zero bits in
// every dtype), A the coordinate type.
template <class S, class A>
STRATA_HD inline void warp_nearest_pixel(const S* in, const WarpTransform* tf, S* out, const ResampleDims& d,
                                         bool perspective, const SampleParams& p, int64_t idx) {
  const WarpPixel<A> px = warp_pixel<A>(tf, perspective, d, p, idx);
  const int64_t ix = nearest_index(px.x.coord, d.w), iy = nearest_index(px.y.coord, d.h);
  const bool ok = ix >= 0 && iy >= 0;
  const int64_t oplane = d.oh * d.ow, plane = d.h * d.w;
  const S* src = in + px.n * d.c * plane + (ok ? iy * d.w + ix : 0);
  S* dst = out + px.n * d.c * oplane + px.at;
  for (int64_t c = 0; c < d.c; ++c) dst[c * oplane] = ok ? src[c * plane] : S(0);
}

// Output pixel idx's share of grad_input (bilinear or nearest, floating T).
template <class T, class A, class G, class Add>
STRATA_HD inline void warp_backward_pixel(const T* go, const WarpTransform* tf, G* gin, const ResampleDims& d,
                                          bool perspective, const SampleParams& p, int64_t idx, const Add& add) {
  const WarpPixel<A> px = warp_pixel<A>(tf, perspective, d, p, idx);
  const int64_t oplane = d.oh * d.ow, plane = d.h * d.w;
  const T* g = go + px.n * d.c * oplane + px.at;
  G* dst = gin + px.n * d.c * plane;
  if (p.mode == SampleMode::Nearest) {
    const int64_t ix = nearest_index(px.x.coord, d.w), iy = nearest_index(px.y.coord, d.h);
    if (ix < 0 || iy < 0) return;
    for (int64_t c = 0; c < d.c; ++c)
      add(dst + c * plane + iy * d.w + ix, static_cast<G>(static_cast<A>(g[c * oplane])));
    return;
  }
  const BilinearTaps<A> t = bilinear_taps(px.x.coord, px.y.coord, d.w, d.h);
  for (int64_t c = 0; c < d.c; ++c) {
    const A gc = static_cast<A>(g[c * oplane]);
    for (int k = 0; k < 4; ++k)
      if (t.in[k]) add(dst + c * plane + t.off[k], static_cast<G>(t.w[k] * gc));
  }
}

// ---- warp_points --------------------------------------------------------------------------------

// Point i of points [N, P, 2] (P = count) through its sample's inverse transform, in f64.
template <class T, class A>
STRATA_HD inline void warp_point(const T* pts, const WarpTransform* inv, T* out, int64_t count, bool perspective,
                                 int64_t i) {
  double x, y;
  warp_backward_point(inv[i / count], perspective, static_cast<double>(static_cast<A>(pts[2 * i])),
                      static_cast<double>(static_cast<A>(pts[2 * i + 1])), x, y);
  out[2 * i] = static_cast<T>(x);
  out[2 * i + 1] = static_cast<T>(y);
}

}  // namespace strata::kernels
