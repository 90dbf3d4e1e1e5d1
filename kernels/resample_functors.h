#pragma once
// Per-pixel math of the resampling ops (grid_sample, warp_batch, warp_points), written once as
// __host__ __device__ functions so the CPU kernels (kernels/cpu/resample_*.cpp) and the CUDA
// kernels (kernels/cuda/resample.cu, warp_batch.cu) compute the same source positions, weights
// and coordinate gradients.
//
// Coordinates follow PyTorch's grid_sample: a normalized coordinate in [-1, 1] spans the image;
// with align_corners -1 and 1 are the centres of the corner pixels, without they are the outer
// edges of the corner pixels. `A` is the arithmetic type (float for f32/f16/bf16, double for f64).
#include <cmath>
#include <cstdint>

#include "tensor/macros.h"

namespace strata::kernels {

enum class SampleMode : uint8_t { Bilinear, Nearest };
enum class Padding : uint8_t { Zeros, Border, Reflection };

struct SampleParams {
  SampleMode mode = SampleMode::Bilinear;
  Padding padding = Padding::Zeros;
  bool align_corners = false;
};

// ---- normalized <-> pixel coordinates -----------------------------------------------------------

// The normalized coordinate of output pixel i of n (PyTorch's affine_grid base grid): n points
// from -1 to 1 with align_corners, the pixel centres of [-1, 1] cut into n cells without; 0 when
// n == 1 in both cases.
STRATA_HD inline double base_coord(int64_t i, int64_t n, bool align_corners) {
  if (n <= 1) return 0.0;
  return align_corners ? -1.0 + 2.0 * static_cast<double>(i) / static_cast<double>(n - 1)
                       : (2.0 * static_cast<double>(i) + 1.0) / static_cast<double>(n) - 1.0;
}

// Pixel coordinate of normalized `coord` in an image dim of `size` pixels, and d(pixel)/d(coord).
template <class A>
STRATA_HD inline A unnormalize(A coord, int64_t size, bool align_corners) {
  return align_corners ? (coord + A(1)) / A(2) * A(size - 1) : ((coord + A(1)) * A(size) - A(1)) / A(2);
}
template <class A>
STRATA_HD inline A unnormalize_scale(int64_t size, bool align_corners) {
  return align_corners ? A(size - 1) / A(2) : A(size) / A(2);
}

// ---- padding ----------------------------------------------------------------------------------
// A source pixel coordinate and the derivative of the padded coordinate w.r.t. the raw one.
template <class A>
struct Padded {
  A coord;
  A grad;  // 0, 1 or -1
};

// Clamp into [0, size - 1] (border padding, and the last step of reflection). The derivative is
// 0 at and past the ends, as in PyTorch.
template <class A>
STRATA_HD inline Padded<A> clip_coord(A x, int64_t size) {
  const A hi = A(size - 1);
  if (!(x > A(0))) return {A(0), A(0)};  // also NaN
  if (x >= hi) return {hi, A(0)};
  return {x, A(1)};
}

// Reflect x into [lo, hi] = [twice_lo / 2, twice_hi / 2] any number of times (PyTorch's
// reflect_coordinates): with align_corners the mirror lines are the corner pixel centres
// (lo = 0, hi = size - 1), without they are the image edges (lo = -0.5, hi = size - 0.5).
template <class A>
STRATA_HD inline Padded<A> reflect_coord(A x, A lo, A hi) {
  if (lo == hi) return {A(0), A(0)};
  const A span = hi - lo;
  A d = x - lo;
  A sign = A(1);
  if (d < A(0)) {
    sign = A(-1);
    d = -d;
  }
  const A extra = std::fmod(d, span);
  const int64_t flips = static_cast<int64_t>(std::floor(d / span));
  if (flips % 2 == 0) return {extra + lo, sign};
  return {span - extra + lo, -sign};
}

// The mirror lines of reflection padding for an image dim of `size` pixels.
template <class A>
STRATA_HD inline A reflect_lo(int64_t /*size*/, bool align_corners) {
  return align_corners ? A(0) : A(-0.5);
}
template <class A>
STRATA_HD inline A reflect_hi(int64_t size, bool align_corners) {
  return align_corners ? A(size - 1) : A(size) - A(0.5);
}

// A pixel coordinate after padding, and d(result)/d(x). Zeros: unchanged (taps outside the
// image read as zero). Border: clamped. Reflection: mirrored, then clamped.
template <class A>
STRATA_HD inline Padded<A> pad_coord(A x, int64_t size, Padding padding, bool align_corners) {
  if (padding == Padding::Zeros) return {x, A(1)};
  if (padding == Padding::Border) return clip_coord(x, size);
  // Inside the mirror lines reflection is the identity: skip the fmod.
  const A lo = reflect_lo<A>(size, align_corners), hi = reflect_hi<A>(size, align_corners);
  Padded<A> r = (x >= lo && x <= hi) ? Padded<A>{x, A(1)} : reflect_coord(x, lo, hi);
  const Padded<A> c = clip_coord(r.coord, size);
  return {c.coord, r.grad * c.grad};
}

// Normalized coordinate -> padded source pixel coordinate (PyTorch's
// grid_sampler_compute_source_index), with the derivative d(pixel)/d(normalized).
template <class A>
STRATA_HD inline Padded<A> source_coord(A coord, int64_t size, const SampleParams& p) {
  const Padded<A> r = pad_coord(unnormalize(coord, size, p.align_corners), size, p.padding, p.align_corners);
  return {r.coord, r.grad * unnormalize_scale<A>(size, p.align_corners)};
}

// Keeps a coordinate where converting its floor to an integer is defined: NaN and anything far
// outside [0, size) become -2 or size + 1, positions whose taps are all outside the image.
template <class A>
STRATA_HD inline A safe_coord(A x, int64_t size) {
  if (!(x >= A(-2))) return A(-2);
  if (x > A(size + 1)) return A(size + 1);
  return x;
}

// ---- interpolation taps -------------------------------------------------------------------------

// The four bilinear taps around (x, y): top-left corner (x0, y0) and the fractional parts.
// Tap weights: (1-fx)(1-fy) at (x0, y0), fx(1-fy) at (x0+1, y0), (1-fx)fy at (x0, y0+1), fx fy at
// (x0+1, y0+1). A tap outside the image contributes zero.
template <class A>
struct BilinearPos {
  int64_t x0, y0;
  A fx, fy;
};
template <class A>
STRATA_HD inline BilinearPos<A> bilinear_pos(A x, A y, int64_t w, int64_t h) {
  x = safe_coord(x, w);
  y = safe_coord(y, h);
  const A fx0 = std::floor(x), fy0 = std::floor(y);
  return {static_cast<int64_t>(fx0), static_cast<int64_t>(fy0), x - fx0, y - fy0};
}

// The nearest pixel (round half to even, PyTorch's nearbyint); -1 when outside [0, size).
template <class A>
STRATA_HD inline int64_t nearest_index(A x, int64_t size) {
  const int64_t i = static_cast<int64_t>(std::nearbyint(safe_coord(x, size)));
  return i >= 0 && i < size ? i : -1;
}

STRATA_HD inline bool inside(int64_t i, int64_t size) { return i >= 0 && i < size; }
STRATA_HD inline int64_t clamp_index(int64_t i, int64_t size) { return i < 0 ? 0 : (i >= size ? size - 1 : i); }

// The four taps of a bilinear sample at pixel (x, y) of a w x h plane, in the order (x0, y0),
// (x0+1, y0), (x0, y0+1), (x0+1, y0+1): flat offsets y * w + x, and weights. A tap outside the
// plane gets weight 0 and the offset of the nearest pixel inside, so every offset can be read
// without a bounds check.
template <class A>
struct BilinearTaps {
  int64_t off[4];
  A w[4];
  bool in[4];  // whether the tap is inside the plane
};
template <class A>
STRATA_HD inline BilinearTaps<A> bilinear_taps(A x, A y, int64_t w, int64_t h) {
  const BilinearPos<A> p = bilinear_pos(x, y, w, h);
  const int64_t x1 = p.x0 + 1, y1 = p.y0 + 1;
  const bool vx0 = inside(p.x0, w), vx1 = inside(x1, w), vy0 = inside(p.y0, h), vy1 = inside(y1, h);
  const int64_t cx0 = clamp_index(p.x0, w), cx1 = clamp_index(x1, w);
  const int64_t cy0 = clamp_index(p.y0, h) * w, cy1 = clamp_index(y1, h) * w;
  const A gx = A(1) - p.fx, gy = A(1) - p.fy;
  BilinearTaps<A> t;
  t.off[0] = cy0 + cx0;
  t.off[1] = cy0 + cx1;
  t.off[2] = cy1 + cx0;
  t.off[3] = cy1 + cx1;
  t.in[0] = vx0 && vy0;
  t.in[1] = vx1 && vy0;
  t.in[2] = vx0 && vy1;
  t.in[3] = vx1 && vy1;
  t.w[0] = t.in[0] ? gx * gy : A(0);
  t.w[1] = t.in[1] ? p.fx * gy : A(0);
  t.w[2] = t.in[2] ? gx * p.fy : A(0);
  t.w[3] = t.in[3] ? p.fx * p.fy : A(0);
  return t;
}

// The gradient of one channel's bilinear sample w.r.t. the padded source pixel coordinates,
// times the output gradient gc, added to (gx, gy). v: the four tap values in bilinear_taps'
// order (0 for a tap outside the plane); fx, fy: the fractions of bilinear_pos.
template <class A>
STRATA_HD inline void add_bilinear_coord_grad(const A (&v)[4], A fx, A fy, A gc, A& gx, A& gy) {
  gx += gc * ((v[1] - v[0]) * (A(1) - fy) + (v[3] - v[2]) * fy);
  gy += gc * ((v[2] - v[0]) * (A(1) - fx) + (v[3] - v[1]) * fx);
}

// ---- warp_batch's transform ---------------------------------------------------------------------

// One sample's transform from output to input normalized coordinates: q = affine(p), then, when
// `perspective`, r = homography(q) = (h0 qx + h1 qy + h2, h3 qx + h4 qy + h5) / (h6 qx + h7 qy + h8)
// (fastai's affine_coord: affine_grid, then the coordinate transform). Stored as 15 doubles per
// sample in a f64 tensor [N, 15].
struct WarpTransform {
  double a[6];  // [[a0, a1, a2], [a3, a4, a5]]: q = (a0 x + a1 y + a2, a3 x + a4 y + a5)
  double h[9];  // row-major 3x3 homography
};

STRATA_HD inline void apply_affine(const double* a, double x, double y, double& ox, double& oy) {
  ox = a[0] * x + a[1] * y + a[2];
  oy = a[3] * x + a[4] * y + a[5];
}

// Homography of (x, y); a zero denominator leaves the point unchanged (as fastai's
// apply_perspective does for the whole grid).
STRATA_HD inline void apply_homography(const double* h, double x, double y, double& ox, double& oy) {
  const double d = h[6] * x + h[7] * y + h[8];
  if (d == 0.0) {
    ox = x;
    oy = y;
    return;
  }
  ox = (h[0] * x + h[1] * y + h[2]) / d;
  oy = (h[3] * x + h[4] * y + h[5]) / d;
}

// Output normalized (x, y) -> input normalized coordinates.
STRATA_HD inline void warp_forward(const WarpTransform& t, bool perspective, double x, double y, double& ox,
                                   double& oy) {
  apply_affine(t.a, x, y, ox, oy);
  if (perspective) apply_homography(t.h, ox, oy, ox, oy);
}

// warp_batch's source position for output pixel (row, col) of an oh x ow output read from an
// h x w input: the transform in double precision, then the padded pixel coordinates in A (with
// their derivatives, unused by the forward). The CPU's exact perspective path and the CUDA
// kernels evaluate it per pixel; the CPU's fast row planners step along a row in f32 and agree
// with it to f32 rounding.
template <class A>
STRATA_HD inline void warp_source(const WarpTransform& t, bool perspective, int64_t row, int64_t col, int64_t oh,
                                  int64_t ow, int64_t h, int64_t w, const SampleParams& p, Padded<A>& x,
                                  Padded<A>& y) {
  double qx, qy;
  warp_forward(t, perspective, base_coord(col, ow, p.align_corners), base_coord(row, oh, p.align_corners), qx, qy);
  x = source_coord(static_cast<A>(qx), w, p);
  y = source_coord(static_cast<A>(qy), h, p);
}

// For warp_points, `t` holds the inverse matrices: input normalized (x, y) -> output coordinates,
// undoing the homography first and then the affine map.
STRATA_HD inline void warp_backward_point(const WarpTransform& inv, bool perspective, double x, double y,
                                          double& ox, double& oy) {
  if (perspective) apply_homography(inv.h, x, y, x, y);
  apply_affine(inv.a, x, y, ox, oy);
}

}  // namespace strata::kernels
