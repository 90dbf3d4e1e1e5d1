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

// Plans output row `row` of a sample with transform `t`.
template <class A>
void plan_warp_row(const WarpTransform& t, bool perspective, const Dims& d, int64_t row, const SampleParams& p,
                   RowPlan<A>& plan) {
  if (!perspective) {
    const RowLine l = affine_row(t, d, row, p.align_corners);
    for (int64_t j = 0; j < d.ow; ++j) {
      const double jd = static_cast<double>(j);
      const A x = pad_coord(static_cast<A>(l.x0 + l.dx * jd), d.w, p.padding, p.align_corners).coord;
      const A y = pad_coord(static_cast<A>(l.y0 + l.dy * jd), d.h, p.padding, p.align_corners).coord;
      plan.set(j, x, y, d.w, d.h, p.mode);
    }
    return;
  }
  const double yn = base_coord(row, d.oh, p.align_corners);
  for (int64_t j = 0; j < d.ow; ++j) {
    double qx, qy;
    warp_forward(t, true, base_coord(j, d.ow, p.align_corners), yn, qx, qy);
    const A x = source_coord(static_cast<A>(qx), d.w, p).coord;
    const A y = source_coord(static_cast<A>(qy), d.h, p).coord;
    plan.set(j, x, y, d.w, d.h, p.mode);
  }
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
      for (int64_t c = 0; c < d.c; ++c) {
        const T* src = in + (n * d.c + c) * plane;
        T* dst = o + (n * d.c + c) * oplane + row * d.ow;
        if (p.mode == SampleMode::Nearest)
          apply_nearest(plan.nearest, src, dst, d.ow);
        else
          apply_bilinear(plan, src, dst, d.ow);
      }
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
            scatter_bilinear(plan, g, dst, d.ow);
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
