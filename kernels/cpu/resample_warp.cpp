// CPU warp_batch (the fused resampler), its input gradient, and warp_points.
//
// An output pixel's source position is computed on the fly from its sample's WarpTransform
// (kernels/resample_functors.h): no grid and no intermediate image exist. For a pure affine
// transform the source pixel coordinate is affine in the output column, so each row starts at
// one position and advances by a constant step (no per-pixel matrix product, no division); a
// perspective transform evaluates the homography per pixel. Rows are then planned and applied
// per channel like grid_sample's (resample_rows.h).
//
// Forward: parallel over (n, output row). Backward: parallel over samples n, rows in order
// (deterministic scatter).
#include <algorithm>
#include <cmath>
#include <type_traits>

#include "kernels/cpu/parallel.h"
#include "kernels/cpu/resample_rows.h"
#include "kernels/resample.h"

namespace strata::kernels::cpu {
namespace {

// Coordinate arithmetic: float for f32, f16, bf16 and integer data (nearest-sampled masks),
// double for f64.
template <class T>
using coord_t = std::conditional_t<std::is_same_v<T, double>, double, float>;

struct Dims {
  int64_t n, c, h, w, oh, ow;
};

// Source pixel coordinates (before padding) of output row `row`: x = x0 + j * dx (affine case).
struct RowLine {
  double x0, dx, y0, dy;
};

// base_coord(j, n) = b0 + b1 * j.
void base_line(int64_t n, bool align_corners, double& b0, double& b1) {
  if (n <= 1) {
    b0 = b1 = 0.0;
  } else if (align_corners) {
    b0 = -1.0;
    b1 = 2.0 / static_cast<double>(n - 1);
  } else {
    b0 = 1.0 / static_cast<double>(n) - 1.0;
    b1 = 2.0 / static_cast<double>(n);
  }
}

RowLine affine_row(const WarpTransform& t, const Dims& d, int64_t row, bool align_corners) {
  double b0, b1;
  base_line(d.ow, align_corners, b0, b1);
  const double yn = base_coord(row, d.oh, align_corners);
  // unnormalize(c) = s * c + (size - 1) / 2 with s = (size - 1) / 2 or size / 2.
  const double sx = unnormalize_scale<double>(d.w, align_corners), sy = unnormalize_scale<double>(d.h, align_corners);
  const double cx = 0.5 * static_cast<double>(d.w - 1), cy = 0.5 * static_cast<double>(d.h - 1);
  return {sx * (t.a[0] * b0 + t.a[1] * yn + t.a[2]) + cx, sx * t.a[0] * b1,
          sy * (t.a[3] * b0 + t.a[4] * yn + t.a[5]) + cy, sy * t.a[3] * b1};
}

// The run of columns j in [lo, hi) where c(j) = c0 + step * j, rounded to A, lies in
// [0, limit) (limit = size - 1: both bilinear taps inside). Solved in double, then shrunk until
// the end points pass the exact per-pixel test (c is monotonic in j).
template <class A>
void inside_run(double c0, double step, int64_t n, int64_t size, int64_t& lo, int64_t& hi) {
  const double limit = static_cast<double>(size - 1);
  auto ok = [&](int64_t j) {
    const A c = static_cast<A>(c0 + step * static_cast<double>(j));
    return c >= A(0) && c < static_cast<A>(limit);
  };
  if (step == 0.0) {
    lo = 0;
    hi = ok(0) ? n : 0;
    return;
  }
  double a = (0.0 - c0) / step, b = (limit - c0) / step;
  if (a > b) std::swap(a, b);
  lo = std::clamp<int64_t>(static_cast<int64_t>(std::ceil(std::max(a, -1.0))) - 1, 0, n);
  hi = std::clamp<int64_t>(static_cast<int64_t>(std::floor(std::min(b, static_cast<double>(n)))) + 2, 0, n);
  while (lo < hi && !ok(lo)) ++lo;
  while (hi > lo && !ok(hi - 1)) --hi;
}

// ---- the fast row planners (bilinear with border or reflection padding) ----------------------
// Every padded position lies inside the image, so a whole row takes the interior form (a
// position on the last row or column uses the previous tap with fraction 1). First the raw source
// pixel coordinates of the row (affine: linear in j; perspective: the affine map and the
// homography composed into one 3x3 matrix, so numerator and denominator are linear in j and a
// pixel costs one division), then padding and taps. Reflection is unrolled into its two mirror
// steps, exact while a position stays within one image span of the mirror lines. Coordinates are
// monotonic along a row (affine: linear; perspective: a ratio of linear functions whose
// denominator keeps its sign), so the row's end points decide: a row reaching beyond one span,
// non-finite, or whose denominator changes sign or vanishes is planned by the exact per-pixel
// path instead. Branch-free loops the compiler vectorizes.

template <class A>
STRATA_RESAMPLE_CLONES void affine_coords(const RowLine& l, int32_t n, A* __restrict xs, A* __restrict ys) {
  const A x0 = static_cast<A>(l.x0), dx = static_cast<A>(l.dx), y0 = static_cast<A>(l.y0), dy = static_cast<A>(l.dy);
  for (int32_t j = 0; j < n; ++j) {
    xs[j] = x0 + dx * static_cast<A>(j);
    ys[j] = y0 + dy * static_cast<A>(j);
  }
}

// A perspective row: source pixel x(j) = sx * (nx0 + nxd j) / (d0 + dd j) + cx, likewise y.
struct ProjectiveLine {
  double nx0, nxd, ny0, nyd, d0, dd;
};

ProjectiveLine projective_row(const WarpTransform& t, const Dims& d, int64_t row, bool align_corners) {
  double m[3][3];  // H * [[a0, a1, a2], [a3, a4, a5], [0, 0, 1]]
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c)
      m[r][c] = t.h[3 * r] * t.a[c] + t.h[3 * r + 1] * t.a[3 + c] + (c == 2 ? t.h[3 * r + 2] : 0.0);
  double b0, b1;
  base_line(d.ow, align_corners, b0, b1);
  const double yn = base_coord(row, d.oh, align_corners);
  auto start = [&](int r) { return m[r][0] * b0 + m[r][1] * yn + m[r][2]; };
  return {start(0), m[0][0] * b1, start(1), m[1][0] * b1, start(2), m[2][0] * b1};
}

// Whether the denominator keeps one sign, away from 0, over the row's n pixels.
bool projective_row_ok(const ProjectiveLine& l, int64_t n) {
  const double a = l.d0, b = l.d0 + l.dd * static_cast<double>(n - 1);
  const double tiny = 1e-6 * (std::abs(l.d0) + std::abs(l.dd) * static_cast<double>(n));
  return (a > tiny && b > tiny) || (a < -tiny && b < -tiny);
}

template <class A>
STRATA_RESAMPLE_CLONES void projective_coords(const ProjectiveLine& l, A sx, A cx, A sy, A cy, int32_t n,
                                              A* __restrict xs, A* __restrict ys) {
  const A nx0 = static_cast<A>(l.nx0), nxd = static_cast<A>(l.nxd), ny0 = static_cast<A>(l.ny0);
  const A nyd = static_cast<A>(l.nyd), d0 = static_cast<A>(l.d0), dd = static_cast<A>(l.dd);
  for (int32_t j = 0; j < n; ++j) {
    const A jf = static_cast<A>(j);
    const A inv = A(1) / (d0 + dd * jf);
    xs[j] = sx * ((nx0 + nxd * jf) * inv) + cx;
    ys[j] = sy * ((ny0 + nyd * jf) * inv) + cy;
  }
}

// Whether the padded fast path is exact for coordinates between c(first) and c(last): finite,
// and for reflection within one span of the mirror lines [lo, hi].
template <class A>
bool padded_ends_ok(A first, A last, A lo, A hi, bool reflect) {
  const A min = reflect ? lo - (hi - lo) : A(-1e7), max = reflect ? hi + (hi - lo) : A(1e7);
  return first >= min && first <= max && last >= min && last <= max;  // NaN fails
}

// Padding and taps of raw coordinates.
template <class A>
STRATA_RESAMPLE_CLONES void plan_padded(const A* __restrict xs, const A* __restrict ys, int32_t n, int64_t w,
                                        int64_t h, bool reflect, A xlo, A xhi, A ylo, A yhi,
                                        int32_t* __restrict off, A* __restrict fx, A* __restrict fy) {
  const A wmax = A(w - 1), hmax = A(h - 1), wlast = A(w - 2), hlast = A(h - 2);
  const int32_t stride = static_cast<int32_t>(w);
  for (int32_t j = 0; j < n; ++j) {
    A x = xs[j], y = ys[j];
    if (reflect) {
      x = xlo + std::abs(x - xlo);
      x = xhi - std::abs(xhi - x);
      y = ylo + std::abs(y - ylo);
      y = yhi - std::abs(yhi - y);
    }
    x = std::min(std::max(x, A(0)), wmax);
    y = std::min(std::max(y, A(0)), hmax);
    // The top-left tap: at most the second-to-last pixel (the last one then gets fraction 1).
    const int32_t ix = static_cast<int32_t>(std::min(x, wlast)), iy = static_cast<int32_t>(std::min(y, hlast));
    off[j] = iy * stride + ix;
    fx[j] = x - static_cast<A>(ix);
    fy[j] = y - static_cast<A>(iy);
  }
}

// Padding and the nearest pixel (round half to even) of raw coordinates.
template <class A>
STRATA_RESAMPLE_CLONES void plan_padded_nearest(const A* __restrict xs, const A* __restrict ys, int32_t n, int64_t w,
                                                int64_t h, bool reflect, A xlo, A xhi, A ylo, A yhi,
                                                int32_t* __restrict off) {
  const A wmax = A(w - 1), hmax = A(h - 1);
  const int32_t stride = static_cast<int32_t>(w);
  for (int32_t j = 0; j < n; ++j) {
    A x = xs[j], y = ys[j];
    if (reflect) {
      x = xlo + std::abs(x - xlo);
      x = xhi - std::abs(xhi - x);
      y = ylo + std::abs(y - ylo);
      y = yhi - std::abs(yhi - y);
    }
    x = std::min(std::max(x, A(0)), wmax);
    y = std::min(std::max(y, A(0)), hmax);
    off[j] = static_cast<int32_t>(std::nearbyint(y)) * stride + static_cast<int32_t>(std::nearbyint(x));
  }
}

// The fast planner for one row; false when the row needs the exact path.
template <class A>
bool plan_fast_row(const WarpTransform& t, bool perspective, const Dims& d, int64_t row, const SampleParams& p,
                   RowPlan<A>& plan) {
  const bool nearest = p.mode == SampleMode::Nearest;
  if (p.padding == Padding::Zeros || d.ow < 1 || (!nearest && (d.w < 2 || d.h < 2))) return false;
  const int32_t n = static_cast<int32_t>(d.ow);
  A* xs = plan.raw_x.data();
  A* ys = plan.raw_y.data();
  if (perspective) {
    const ProjectiveLine l = projective_row(t, d, row, p.align_corners);
    if (!projective_row_ok(l, d.ow)) return false;
    const A sx = unnormalize_scale<A>(d.w, p.align_corners), sy = unnormalize_scale<A>(d.h, p.align_corners);
    const A cx = A(0.5) * A(d.w - 1), cy = A(0.5) * A(d.h - 1);
    projective_coords<A>(l, sx, cx, sy, cy, n, xs, ys);
  } else {
    affine_coords<A>(affine_row(t, d, row, p.align_corners), n, xs, ys);
  }
  const bool reflect = p.padding == Padding::Reflection;
  const A xlo = reflect_lo<A>(d.w, p.align_corners), xhi = reflect_hi<A>(d.w, p.align_corners);
  const A ylo = reflect_lo<A>(d.h, p.align_corners), yhi = reflect_hi<A>(d.h, p.align_corners);
  if (!padded_ends_ok(xs[0], xs[n - 1], xlo, xhi, reflect) || !padded_ends_ok(ys[0], ys[n - 1], ylo, yhi, reflect))
    return false;
  if (nearest) {
    plan_padded_nearest<A>(xs, ys, n, d.w, d.h, reflect, xlo, xhi, ylo, yhi, plan.nearest.data());
    return true;
  }
  plan_padded<A>(xs, ys, n, d.w, d.h, reflect, xlo, xhi, ylo, yhi, plan.inner_off.data(), plan.inner_fx.data(),
                 plan.inner_fy.data());
  plan.inner_lo = 0;
  plan.inner_hi = d.ow;
  return true;
}

// Plans output row `row` of a sample with transform `t`.
template <class A>
void plan_warp_row(const WarpTransform& t, bool perspective, const Dims& d, int64_t row, const SampleParams& p,
                   RowPlan<A>& plan) {
  plan.inner_lo = plan.inner_hi = 0;
  if (plan_fast_row(t, perspective, d, row, p, plan)) return;
  if (!perspective) {
    const RowLine l = affine_row(t, d, row, p.align_corners);
    int64_t lo = 0, hi = 0;
    if (p.mode == SampleMode::Bilinear && d.w > 1 && d.h > 1) {
      int64_t xlo, xhi, ylo, yhi;
      inside_run<A>(l.x0, l.dx, d.ow, d.w, xlo, xhi);
      inside_run<A>(l.y0, l.dy, d.ow, d.h, ylo, yhi);
      lo = std::max(xlo, ylo);
      hi = std::max(lo, std::min(xhi, yhi));
    }
    // Interior: both coordinates in [0, size - 1), no padding, four taps inside.
    for (int64_t j = lo; j < hi; ++j) {
      const double jd = static_cast<double>(j);
      const A x = static_cast<A>(l.x0 + l.dx * jd), y = static_cast<A>(l.y0 + l.dy * jd);
      const int32_t ix = static_cast<int32_t>(x), iy = static_cast<int32_t>(y);
      plan.inner_off[j] = iy * static_cast<int32_t>(d.w) + ix;
      plan.inner_fx[j] = x - static_cast<A>(ix);
      plan.inner_fy[j] = y - static_cast<A>(iy);
    }
    plan.inner_lo = lo;
    plan.inner_hi = hi;
    auto general = [&](int64_t j) {
      const double jd = static_cast<double>(j);
      const A x = pad_coord(static_cast<A>(l.x0 + l.dx * jd), d.w, p.padding, p.align_corners).coord;
      const A y = pad_coord(static_cast<A>(l.y0 + l.dy * jd), d.h, p.padding, p.align_corners).coord;
      plan.set(j, x, y, d.w, d.h, p.mode);
    };
    for (int64_t j = 0; j < lo; ++j) general(j);
    for (int64_t j = hi; j < d.ow; ++j) general(j);
    return;
  }
  // Perspective: the homography per pixel. Border and reflection keep every tap inside, so those
  // rows take the interior form throughout.
  const bool inner = p.mode == SampleMode::Bilinear && p.padding != Padding::Zeros && d.w > 1 && d.h > 1;
  for (int64_t j = 0; j < d.ow; ++j) {
    Padded<A> sx, sy;
    warp_source(t, true, row, j, d.oh, d.ow, d.h, d.w, p, sx, sy);
    const A x = sx.coord, y = sy.coord;
    if (inner)
      plan.set_inner(j, x, y, d.w, d.h);
    else
      plan.set(j, x, y, d.w, d.h, p.mode);
  }
  if (inner) plan.inner_hi = d.ow;
}

const WarpTransform* transforms_of(const Tensor& t) {
  return reinterpret_cast<const WarpTransform*>(t.data<double>());
}

template <class T>
void forward_typed(const Tensor& input, const Tensor& transforms, bool perspective, const SampleParams& p,
                   const Tensor& out) {
  using A = coord_t<T>;
  const Dims d{input.size(0), input.size(1), input.size(2), input.size(3), out.size(2), out.size(3)};
  const WarpTransform* tf = transforms_of(transforms);
  const T* in = input.data<T>();
  T* o = out.data<T>();
  const int64_t plane = d.h * d.w, oplane = d.oh * d.ow;
  parallel_for(0, d.n * d.oh, resample_grain(d.ow * d.c), [&](int64_t lo, int64_t hi) {
    RowPlan<A> plan;
    plan.resize(d.ow, p.mode);
    for (int64_t item = lo; item < hi; ++item) {
      const int64_t n = item / d.oh, row = item % d.oh;
      plan_warp_row(tf[n], perspective, d, row, p, plan);
      const T* src = in + n * d.c * plane;
      T* dst = o + n * d.c * oplane + row * d.ow;
      if (p.mode == SampleMode::Nearest)
        for (int64_t c = 0; c < d.c; ++c) apply_nearest(plan.nearest, src + c * plane, dst + c * oplane, d.ow);
      else
        apply_bilinear(plan, src, plane, dst, oplane, d.c, d.ow, d.w);
    }
  });
}

template <class T>
void backward_typed(const Tensor& grad_out, const Tensor& transforms, bool perspective, const SampleParams& p,
                    const Tensor& grad_input) {
  using A = compute_t<T>;
  const Dims d{grad_input.size(0), grad_input.size(1), grad_input.size(2), grad_input.size(3), grad_out.size(2),
               grad_out.size(3)};
  const WarpTransform* tf = transforms_of(transforms);
  const T* go = grad_out.data<T>();
  T* gin = grad_input.data<T>();
  const int64_t plane = d.h * d.w, oplane = d.oh * d.ow;
  parallel_for(0, d.n, 1, [&](int64_t lo, int64_t hi) {
    RowPlan<A> plan;
    plan.resize(d.ow, p.mode);
    for (int64_t n = lo; n < hi; ++n)
      for (int64_t row = 0; row < d.oh; ++row) {
        plan_warp_row(tf[n], perspective, d, row, p, plan);
        for (int64_t c = 0; c < d.c; ++c) {
          const T* g = go + (n * d.c + c) * oplane + row * d.ow;
          T* dst = gin + (n * d.c + c) * plane;
          if (p.mode == SampleMode::Nearest)
            scatter_nearest(plan.nearest, g, dst, d.ow);
          else
            scatter_bilinear(plan, g, dst, d.ow, d.w);
        }
      }
  });
}

}  // namespace

void warp_batch(const Tensor& input, const Tensor& transforms, bool perspective, const SampleParams& params,
                const Tensor& out) {
  if (params.mode == SampleMode::Nearest)
    visit_dtype(input.dtype(), [&]<class T>() { forward_typed<T>(input, transforms, perspective, params, out); });
  else
    visit_floating(input.dtype(), "warp_batch",
                   [&]<class T>() { forward_typed<T>(input, transforms, perspective, params, out); });
}

void warp_batch_backward(const Tensor& grad_out, const Tensor& transforms, bool perspective,
                         const SampleParams& params, const Tensor& grad_input) {
  visit_floating(grad_input.dtype(), "warp_batch_backward",
                 [&]<class T>() { backward_typed<T>(grad_out, transforms, perspective, params, grad_input); });
}

void warp_points(const Tensor& points, const Tensor& inverse_transforms, bool perspective, const Tensor& out) {
  visit_floating(points.dtype(), "warp_points", [&]<class T>() {
    const WarpTransform* tf = transforms_of(inverse_transforms);
    const T* in = points.data<T>();
    T* o = out.data<T>();
    const int64_t n = points.size(0), count = points.size(1);
    for (int64_t s = 0; s < n; ++s)
      for (int64_t i = 0; i < count; ++i) {
        const int64_t at = (s * count + i) * 2;
        double x, y;
        warp_backward_point(tf[s], perspective, static_cast<double>(static_cast<compute_t<T>>(in[at])),
                            static_cast<double>(static_cast<compute_t<T>>(in[at + 1])), x, y);
        o[at] = static_cast<T>(x);
        o[at + 1] = static_cast<T>(y);
      }
  });
}

}  // namespace strata::kernels::cpu
