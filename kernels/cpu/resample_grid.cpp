// CPU grid_sample, forward and backward (PyTorch's semantics; math in kernels/resample_functors.h).
//
// Forward: parallel over (n, output row); each row is planned once (resample_rows.h) and applied
// to every channel. Backward: parallel over samples n, rows in order, so the scatter into
// grad_input sums in the same order for any thread count; grad_grid of a pixel is written by the
// thread that owns the pixel.
#include "kernels/cpu/parallel.h"
#include "kernels/cpu/resample_rows.h"
#include "kernels/resample.h"

namespace strata::kernels::cpu {
namespace {

struct Dims {
  int64_t n, c, h, w, oh, ow;
};

Dims dims_of(const Tensor& input, const Tensor& grid) {
  return {input.size(0), input.size(1), input.size(2), input.size(3), grid.size(1), grid.size(2)};
}

// Plans output row `row` of sample `n` from the grid.
// Border and reflection keep every bilinear tap inside: those rows take the interior form.
template <class T, class A>
void plan_grid_row(const T* grid, const Dims& d, int64_t n, int64_t row, const SampleParams& p, RowPlan<A>& plan) {
  const T* g = grid + ((n * d.oh + row) * d.ow) * 2;
  const bool inner = p.mode == SampleMode::Bilinear && p.padding != Padding::Zeros && d.w > 1 && d.h > 1;
  for (int64_t j = 0; j < d.ow; ++j) {
    const A x = source_coord(static_cast<A>(g[2 * j]), d.w, p).coord;
    const A y = source_coord(static_cast<A>(g[2 * j + 1]), d.h, p).coord;
    if (inner)
      plan.set_inner(j, x, y, d.w, d.h);
    else
      plan.set(j, x, y, d.w, d.h, p.mode);
  }
  plan.inner_lo = 0;
  plan.inner_hi = inner ? d.ow : 0;
}

template <class T>
void forward_typed(const Tensor& input, const Tensor& grid_t, const SampleParams& p, const Tensor& out) {
  using A = compute_t<T>;
  const Dims d = dims_of(input, grid_t);
  const T* in = input.data<T>();
  const T* grid = grid_t.data<T>();
  T* o = out.data<T>();
  const int64_t plane = d.h * d.w, oplane = d.oh * d.ow;
  parallel_for(0, d.n * d.oh, resample_grain(d.ow * d.c), [&](int64_t lo, int64_t hi) {
    RowPlan<A> plan;
    plan.resize(d.ow, p.mode);
    for (int64_t item = lo; item < hi; ++item) {
      const int64_t n = item / d.oh, row = item % d.oh;
      plan_grid_row(grid, d, n, row, p, plan);
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
void backward_typed(const Tensor& grad_out, const Tensor& input, const Tensor& grid_t, const SampleParams& p,
                    const Tensor& grad_input, const Tensor& grad_grid) {
  using A = compute_t<T>;
  const Dims d = dims_of(input, grid_t);
  const T* in = input.data<T>();
  const T* grid = grid_t.data<T>();
  const T* go = grad_out.data<T>();
  T* gin = grad_input.defined() ? grad_input.data<T>() : nullptr;
  T* gg = grad_grid.defined() ? grad_grid.data<T>() : nullptr;
  const int64_t plane = d.h * d.w, oplane = d.oh * d.ow;
  parallel_for(0, d.n, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t n = lo; n < hi; ++n) {
      for (int64_t row = 0; row < d.oh; ++row) {
        const T* g = grid + ((n * d.oh + row) * d.ow) * 2;
        T* ggrow = gg ? gg + ((n * d.oh + row) * d.ow) * 2 : nullptr;
        for (int64_t j = 0; j < d.ow; ++j) {
          const Padded<A> sx = source_coord(static_cast<A>(g[2 * j]), d.w, p);
          const Padded<A> sy = source_coord(static_cast<A>(g[2 * j + 1]), d.h, p);
          const int64_t at = row * d.ow + j;
          if (p.mode == SampleMode::Nearest) {
            const int64_t ix = nearest_index(sx.coord, d.w), iy = nearest_index(sy.coord, d.h);
            if (gin && ix >= 0 && iy >= 0)
              for (int64_t c = 0; c < d.c; ++c) {
                T& dst = gin[(n * d.c + c) * plane + iy * d.w + ix];
                dst = static_cast<T>(static_cast<A>(dst) + static_cast<A>(go[(n * d.c + c) * oplane + at]));
              }
            if (ggrow) ggrow[2 * j] = ggrow[2 * j + 1] = T(0);
            continue;
          }
          const BilinearPos<A> pos = bilinear_pos(sx.coord, sy.coord, d.w, d.h);
          const BilinearTaps<A> t = bilinear_taps(sx.coord, sy.coord, d.w, d.h);
          A gx = A(0), gy = A(0);
          for (int64_t c = 0; c < d.c; ++c) {
            const A gc = static_cast<A>(go[(n * d.c + c) * oplane + at]);
            const T* src = in + (n * d.c + c) * plane;
            if (gin) {
              T* dst = gin + (n * d.c + c) * plane;
              for (int k = 0; k < 4; ++k)
                if (t.in[k]) dst[t.off[k]] = static_cast<T>(static_cast<A>(dst[t.off[k]]) + t.w[k] * gc);
            }
            if (ggrow) {
              A v[4];
              for (int k = 0; k < 4; ++k) v[k] = t.in[k] ? static_cast<A>(src[t.off[k]]) : A(0);
              add_bilinear_coord_grad(v, pos.fx, pos.fy, gc, gx, gy);
            }
          }
          if (ggrow) {
            ggrow[2 * j] = static_cast<T>(gx * sx.grad);
            ggrow[2 * j + 1] = static_cast<T>(gy * sy.grad);
          }
        }
      }
    }
  });
}

}  // namespace

void grid_sample(const Tensor& input, const Tensor& grid, const SampleParams& params, const Tensor& out) {
  visit_floating(input.dtype(), "grid_sample", [&]<class T>() { forward_typed<T>(input, grid, params, out); });
}

void grid_sample_backward(const Tensor& grad_out, const Tensor& input, const Tensor& grid, const SampleParams& params,
                          const Tensor& grad_input, const Tensor& grad_grid) {
  visit_floating(input.dtype(), "grid_sample_backward", [&]<class T>() {
    backward_typed<T>(grad_out, input, grid, params, grad_input, grad_grid);
  });
}

}  // namespace strata::kernels::cpu
