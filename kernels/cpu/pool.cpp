// CPU pooling and upsampling kernels.
//
// Every tensor arrives contiguous as [planes, H, W] (kernels/pool.h). Forward kernels split the
// work over (plane, output row) pairs: each output row is written by one thread. Backward
// kernels accumulate into the input gradient, so they split over whole planes and walk each
// plane's outputs in row-major order: the sums are formed in the same order for any thread count.
// Arithmetic is in compute_t<T> (float for f16 / bf16); window bounds are clamped before the
// inner loops so those carry no bounds checks. The window and sampling geometry lives in
// kernels/pool_functors.h, shared with the CUDA kernels.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/cpu/parallel.h"
#include "kernels/pool.h"
#include "kernels/pool_functors.h"
#include "tensor/dtype.h"

namespace strata::kernels::cpu {
namespace {

using Dims = PoolDims;

// x [planes, ih, iw] and out [planes, oh, ow].
Dims dims_of(const Tensor& in, const Tensor& out) {
  return {in.size(0), in.size(1), in.size(2), out.size(1), out.size(2)};
}

// Work items of at least ~16k touched elements per chunk.
int64_t grain_for(int64_t work_per_item) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(1, work_per_item)); }

// The maximum of one window and its position, taps (i, j) in [th) x [tw). The common path is
// branch-free (on real data the winner's position is unpredictable): maxss for the value and a
// masked select for the position. A NaN anywhere sends the window through the exact scalar rule
// (the last NaN wins, as in PyTorch).
template <bool Indexed, class A, class T>
void window_max(const T* xplane, const Pool2dParams& p, const Dims& d, int64_t h0, int64_t w0, TapRange th,
                TapRange tw, A& best, int64_t& best_at) {
  best = -std::numeric_limits<A>::infinity();
  best_at = (h0 + th.lo * p.dh) * d.iw + (w0 + tw.lo * p.dw);
  bool nan = false;
  for (int64_t i = th.lo; i < th.hi; ++i) {
    const int64_t row_at = (h0 + i * p.dh) * d.iw + w0;
    for (int64_t j = tw.lo; j < tw.hi; ++j) {
      const int64_t at = row_at + j * p.dw;
      const A v = static_cast<A>(xplane[at]);
      nan |= v != v;
      if constexpr (Indexed) best_at += (at - best_at) & -static_cast<int64_t>(v > best);
      best = best < v ? v : best;
    }
  }
  if (!nan) return;
  for (int64_t i = th.lo; i < th.hi; ++i)
    for (int64_t j = tw.lo; j < tw.hi; ++j) {
      const int64_t at = (h0 + i * p.dh) * d.iw + w0 + j * p.dw;
      const A v = static_cast<A>(xplane[at]);
      if (v != v) {
        best = v;
        best_at = at;
      }
    }
}

// One output row of a max pool; Indexed = false skips the argmax bookkeeping.
template <bool Indexed, class T>
void max_pool_row(const T* xplane, const Pool2dParams& p, const Dims& d, const std::vector<TapRange>& cols,
                  int64_t oy, T* orow, int64_t* irow) {
  using A = compute_t<T>;
  const int64_t h0 = oy * p.sh - p.ph;
  const TapRange th = taps_inside(h0, p.dh, p.kh, d.ih);
  for (int64_t ox = 0; ox < d.ow; ++ox) {
    A best;
    int64_t best_at;
    window_max<Indexed>(xplane, p, d, h0, ox * p.sw - p.pw, th, cols[ox], best, best_at);
    orow[ox] = static_cast<T>(best);
    if constexpr (Indexed) irow[ox] = best_at;
  }
}
}  // namespace

void max_pool2d(const Tensor& x, const Pool2dParams& p, const Tensor& out, const Tensor& indices) {
  const Dims d = dims_of(x, out);
  std::vector<TapRange> cols(d.ow);  // the in-range taps of each output column, shared by all rows
  for (int64_t ox = 0; ox < d.ow; ++ox) cols[ox] = taps_inside(ox * p.sw - p.pw, p.dw, p.kw, d.iw);
  visit_floating(x.dtype(), "max_pool2d", [&]<class T>() {
    const T* xp = x.data<T>();
    T* op = out.data<T>();
    int64_t* ip = indices.defined() ? indices.data<int64_t>() : nullptr;
    parallel_for(0, d.planes * d.oh, grain_for(d.ow * p.kh * p.kw), [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r) {
        const T* xplane = xp + (r / d.oh) * d.ih * d.iw;
        if (ip)
          max_pool_row<true>(xplane, p, d, cols, r % d.oh, op + r * d.ow, ip + r * d.ow);
        else
          max_pool_row<false>(xplane, p, d, cols, r % d.oh, op + r * d.ow, nullptr);
      }
    });
  });
}

void max_pool2d_backward(const Tensor& grad_out, const Tensor& indices, const Tensor& grad_in) {
  const Dims d = dims_of(grad_in, grad_out);
  visit_floating(grad_in.dtype(), "max_pool2d_backward", [&]<class T>() {
    const T* gp = grad_out.data<T>();
    const int64_t* ip = indices.data<int64_t>();
    T* gi = grad_in.data<T>();
    const int64_t out_plane = d.oh * d.ow, in_plane = d.ih * d.iw;
    parallel_for(0, d.planes, grain_for(out_plane + in_plane), [&](int64_t lo, int64_t hi) {
      for (int64_t plane = lo; plane < hi; ++plane) {
        T* dst = gi + plane * in_plane;
        for (int64_t k = plane * out_plane; k < (plane + 1) * out_plane; ++k)
          dst[ip[k]] = static_cast<T>(static_cast<compute_t<T>>(dst[ip[k]]) + static_cast<compute_t<T>>(gp[k]));
      }
    });
  });
}


void avg_pool2d(const Tensor& x, const Pool2dParams& p, const Tensor& out) {
  const Dims d = dims_of(x, out);
  visit_floating(x.dtype(), "avg_pool2d", [&]<class T>() {
    using A = compute_t<T>;
    const T* xp = x.data<T>();
    T* op = out.data<T>();
    parallel_for(0, d.planes * d.oh, grain_for(d.ow * p.kh * p.kw), [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r) {
        const int64_t plane = r / d.oh, oy = r % d.oh;
        const T* xplane = xp + plane * d.ih * d.iw;
        for (int64_t ox = 0; ox < d.ow; ++ox) {
          const AvgWindow win = avg_window(p, d, oy, ox);
          A sum = 0;
          for (int64_t h = win.h0; h < win.h1; ++h)
            for (int64_t w = win.w0; w < win.w1; ++w) sum += static_cast<A>(xplane[h * d.iw + w]);
          op[r * d.ow + ox] = static_cast<T>(win.divisor > 0 ? sum / static_cast<A>(win.divisor) : A(0));
        }
      }
    });
  });
}

void avg_pool2d_backward(const Tensor& grad_out, const Pool2dParams& p, const Tensor& grad_in) {
  const Dims d = dims_of(grad_in, grad_out);
  visit_floating(grad_in.dtype(), "avg_pool2d_backward", [&]<class T>() {
    using A = compute_t<T>;
    const T* gp = grad_out.data<T>();
    T* gi = grad_in.data<T>();
    parallel_for(0, d.planes, grain_for(d.oh * d.ow * p.kh * p.kw), [&](int64_t lo, int64_t hi) {
      for (int64_t plane = lo; plane < hi; ++plane) {
        T* dst = gi + plane * d.ih * d.iw;
        const T* src = gp + plane * d.oh * d.ow;
        for (int64_t oy = 0; oy < d.oh; ++oy)
          for (int64_t ox = 0; ox < d.ow; ++ox) {
            const AvgWindow win = avg_window(p, d, oy, ox);
            if (win.divisor <= 0) continue;
            const A share = static_cast<A>(src[oy * d.ow + ox]) / static_cast<A>(win.divisor);
            for (int64_t h = win.h0; h < win.h1; ++h)
              for (int64_t w = win.w0; w < win.w1; ++w) {
                T& g = dst[h * d.iw + w];
                g = static_cast<T>(static_cast<A>(g) + share);
              }
          }
      }
    });
  });
}

void adaptive_avg_pool2d(const Tensor& x, const Tensor& out) {
  const Dims d = dims_of(x, out);
  visit_floating(x.dtype(), "adaptive_avg_pool2d", [&]<class T>() {
    using A = compute_t<T>;
    const T* xp = x.data<T>();
    T* op = out.data<T>();
    const int64_t row_work = d.ow * (d.ih / d.oh + 1) * (d.iw / d.ow + 1);
    parallel_for(0, d.planes * d.oh, grain_for(row_work), [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r) {
        const int64_t plane = r / d.oh, oy = r % d.oh;
        const T* xplane = xp + plane * d.ih * d.iw;
        const int64_t h0 = adaptive_start(oy, d.ih, d.oh), h1 = adaptive_end(oy, d.ih, d.oh);
        for (int64_t ox = 0; ox < d.ow; ++ox) {
          const int64_t w0 = adaptive_start(ox, d.iw, d.ow), w1 = adaptive_end(ox, d.iw, d.ow);
          A sum = 0;
          for (int64_t h = h0; h < h1; ++h)
            for (int64_t w = w0; w < w1; ++w) sum += static_cast<A>(xplane[h * d.iw + w]);
          op[r * d.ow + ox] = static_cast<T>(sum / static_cast<A>((h1 - h0) * (w1 - w0)));
        }
      }
    });
  });
}

void adaptive_avg_pool2d_backward(const Tensor& grad_out, const Tensor& grad_in) {
  const Dims d = dims_of(grad_in, grad_out);
  visit_floating(grad_in.dtype(), "adaptive_avg_pool2d_backward", [&]<class T>() {
    using A = compute_t<T>;
    const T* gp = grad_out.data<T>();
    T* gi = grad_in.data<T>();
    parallel_for(0, d.planes, grain_for(d.ih * d.iw + d.oh * d.ow), [&](int64_t lo, int64_t hi) {
      for (int64_t plane = lo; plane < hi; ++plane) {
        T* dst = gi + plane * d.ih * d.iw;
        const T* src = gp + plane * d.oh * d.ow;
        for (int64_t oy = 0; oy < d.oh; ++oy) {
          const int64_t h0 = adaptive_start(oy, d.ih, d.oh), h1 = adaptive_end(oy, d.ih, d.oh);
          for (int64_t ox = 0; ox < d.ow; ++ox) {
            const int64_t w0 = adaptive_start(ox, d.iw, d.ow), w1 = adaptive_end(ox, d.iw, d.ow);
            const A share = static_cast<A>(src[oy * d.ow + ox]) / static_cast<A>((h1 - h0) * (w1 - w0));
            for (int64_t h = h0; h < h1; ++h)
              for (int64_t w = w0; w < w1; ++w) {
                T& g = dst[h * d.iw + w];
                g = static_cast<T>(static_cast<A>(g) + share);
              }
          }
        }
      }
    });
  });
}

void adaptive_max_pool2d(const Tensor& x, const Tensor& out, const Tensor& indices) {
  const Dims d = dims_of(x, out);
  visit_floating(x.dtype(), "adaptive_max_pool2d", [&]<class T>() {
    using A = compute_t<T>;
    const T* xp = x.data<T>();
    T* op = out.data<T>();
    int64_t* ip = indices.data<int64_t>();
    const int64_t row_work = d.ow * (d.ih / d.oh + 1) * (d.iw / d.ow + 1);
    parallel_for(0, d.planes * d.oh, grain_for(row_work), [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r) {
        const int64_t plane = r / d.oh, oy = r % d.oh;
        const T* xplane = xp + plane * d.ih * d.iw;
        const int64_t h0 = adaptive_start(oy, d.ih, d.oh), h1 = adaptive_end(oy, d.ih, d.oh);
        for (int64_t ox = 0; ox < d.ow; ++ox) {
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
          op[r * d.ow + ox] = static_cast<T>(best);
          ip[r * d.ow + ox] = best_at;
        }
      }
    });
  });
}


void upsample_nearest2d(const Tensor& x, double scale_h, double scale_w, const Tensor& out) {
  const Dims d = dims_of(x, out);
  visit_dtype(x.dtype(), [&]<class T>() {
    const T* xp = x.data<T>();
    T* op = out.data<T>();
    std::vector<int64_t> src_w(d.ow);
    for (int64_t ox = 0; ox < d.ow; ++ox) src_w[ox] = nearest_source(ox, d.iw, d.ow, scale_w);
    parallel_for(0, d.planes * d.oh, grain_for(d.ow), [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r) {
        const int64_t plane = r / d.oh, oy = r % d.oh;
        const T* xrow = xp + (plane * d.ih + nearest_source(oy, d.ih, d.oh, scale_h)) * d.iw;
        T* orow = op + r * d.ow;
        for (int64_t ox = 0; ox < d.ow; ++ox) orow[ox] = xrow[src_w[ox]];
      }
    });
  });
}

void upsample_nearest2d_backward(const Tensor& grad_out, double scale_h, double scale_w, const Tensor& grad_in) {
  const Dims d = dims_of(grad_in, grad_out);
  visit_floating(grad_in.dtype(), "upsample_nearest2d_backward", [&]<class T>() {
    using A = compute_t<T>;
    const T* gp = grad_out.data<T>();
    T* gi = grad_in.data<T>();
    std::vector<int64_t> src_w(d.ow);
    for (int64_t ox = 0; ox < d.ow; ++ox) src_w[ox] = nearest_source(ox, d.iw, d.ow, scale_w);
    parallel_for(0, d.planes, grain_for(d.oh * d.ow), [&](int64_t lo, int64_t hi) {
      for (int64_t plane = lo; plane < hi; ++plane)
        for (int64_t oy = 0; oy < d.oh; ++oy) {
          T* dst = gi + (plane * d.ih + nearest_source(oy, d.ih, d.oh, scale_h)) * d.iw;
          const T* src = gp + (plane * d.oh + oy) * d.ow;
          for (int64_t ox = 0; ox < d.ow; ++ox)
            dst[src_w[ox]] = static_cast<T>(static_cast<A>(dst[src_w[ox]]) + static_cast<A>(src[ox]));
        }
    });
  });
}

void upsample_bilinear2d(const Tensor& x, bool align_corners, double scale_h, double scale_w, const Tensor& out) {
  const Dims d = dims_of(x, out);
  visit_floating(x.dtype(), "upsample_bilinear2d", [&]<class T>() {
    using A = compute_t<T>;
    const T* xp = x.data<T>();
    T* op = out.data<T>();
    const A sh = linear_scale<A>(d.ih, d.oh, align_corners, scale_h);
    const A sw = linear_scale<A>(d.iw, d.ow, align_corners, scale_w);
    std::vector<LinearTaps<A>> cols(d.ow);
    for (int64_t ox = 0; ox < d.ow; ++ox) cols[ox] = linear_taps<A>(ox, d.iw, sw, align_corners);
    parallel_for(0, d.planes * d.oh, grain_for(4 * d.ow), [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r) {
        const int64_t plane = r / d.oh, oy = r % d.oh;
        const LinearTaps<A> row = linear_taps<A>(oy, d.ih, sh, align_corners);
        const T* r0 = xp + (plane * d.ih + row.i0) * d.iw;
        const T* r1 = xp + (plane * d.ih + row.i1) * d.iw;
        T* orow = op + r * d.ow;
        for (int64_t ox = 0; ox < d.ow; ++ox) {
          const LinearTaps<A>& c = cols[ox];
          const A top = c.l0 * static_cast<A>(r0[c.i0]) + c.l1 * static_cast<A>(r0[c.i1]);
          const A bottom = c.l0 * static_cast<A>(r1[c.i0]) + c.l1 * static_cast<A>(r1[c.i1]);
          orow[ox] = static_cast<T>(row.l0 * top + row.l1 * bottom);
        }
      }
    });
  });
}

void upsample_bilinear2d_backward(const Tensor& grad_out, bool align_corners, double scale_h, double scale_w,
                                  const Tensor& grad_in) {
  const Dims d = dims_of(grad_in, grad_out);
  visit_floating(grad_in.dtype(), "upsample_bilinear2d_backward", [&]<class T>() {
    using A = compute_t<T>;
    const T* gp = grad_out.data<T>();
    T* gi = grad_in.data<T>();
    const A sh = linear_scale<A>(d.ih, d.oh, align_corners, scale_h);
    const A sw = linear_scale<A>(d.iw, d.ow, align_corners, scale_w);
    std::vector<LinearTaps<A>> cols(d.ow);
    for (int64_t ox = 0; ox < d.ow; ++ox) cols[ox] = linear_taps<A>(ox, d.iw, sw, align_corners);
    auto add = [](T& g, A v) { g = static_cast<T>(static_cast<A>(g) + v); };
    parallel_for(0, d.planes, grain_for(4 * d.oh * d.ow), [&](int64_t lo, int64_t hi) {
      for (int64_t plane = lo; plane < hi; ++plane)
        for (int64_t oy = 0; oy < d.oh; ++oy) {
          const LinearTaps<A> row = linear_taps<A>(oy, d.ih, sh, align_corners);
          T* r0 = gi + (plane * d.ih + row.i0) * d.iw;
          T* r1 = gi + (plane * d.ih + row.i1) * d.iw;
          const T* src = gp + (plane * d.oh + oy) * d.ow;
          for (int64_t ox = 0; ox < d.ow; ++ox) {
            const LinearTaps<A>& c = cols[ox];
            const A g = static_cast<A>(src[ox]);
            add(r0[c.i0], row.l0 * c.l0 * g);
            add(r0[c.i1], row.l0 * c.l1 * g);
            add(r1[c.i0], row.l1 * c.l0 * g);
            add(r1[c.i1], row.l1 * c.l1 * g);
          }
        }
    });
  });
}

}  // namespace strata::kernels::cpu
