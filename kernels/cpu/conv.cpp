// CPU convolution: im2col + the project's GEMM (kernels/cpu/gemm.h), for what the direct
// path (kernels/cpu/conv_direct.cpp, tried first, faster on the ResNet stage shapes and the
// reference CNN's stride-2 layers) and the thin-input path (kernels/cpu/conv_thin.cpp: Cin < 8,
// forward at stride 1 and backward-weight) leave to it: strided backward-data, thin backward-data
// and strided thin forward, conv_transpose2d's output_padding.
//
// Approach (measured on the 2-core Zen 3 dev box with bench/bench_conv.cpp, 2 threads):
//  - forward and backward-data run over images in parallel (parallel_for, one image per task), each
//    task with its own thread_local im2col buffer that is reused across calls (no page faults after
//    the first call); the GEMM inside a parallel region runs single-threaded. Against images in
//    sequence with the threaded GEMM: 3x3 cnn_l2 / r18_s1 / r18_s4 forward were equal within noise
//    (11.5 vs 11.4, 12.5 vs 12.2, 12.0 vs 13.0 GFLOP/s on a heavily shared box), the 1x1 r50_s3
//    forward 23.5 vs 10.8 GFLOP/s: per-image GEMMs are small and splitting them costs more than
//    splitting images. With one image the loop is sequential and the GEMM is threaded instead.
//  - backward-weight sums over images, so it cannot split images across threads without making the
//    result depend on the thread count. It gathers a fixed number of images (chosen from the
//    shapes only) side by side into one wide im2col matrix and runs one threaded GEMM per block,
//    whose long reduction dim (B * Ho * Wo) keeps the GEMM efficient.
//  - forward and backward-data im2col an image in chunks of output rows (rows_per_chunk: about
//    2^17 elements, the L2 size) rather than whole (7 MiB for r18_s1's 64 x 56 x 56 image); the
//    GEMM writes each chunk's columns in place through ldc. On the shared box the change was
//    within noise (r18_s1 fwd+bwd 15.2 -> 15.7 GFLOP/s); it keeps the scratch buffers small.
//  - a 1x1, stride-1, unpadded convolution skips im2col: the image is already the [Cin, H*W] matrix.
//  - depthwise convolutions (groups == Cin > 1) have their own direct kernels (below).
// Results are identical for any thread count (each output element has one fixed summation order).
#include <algorithm>
#include <cstring>
#include <type_traits>
#include <vector>

#include "kernels/conv.h"
#include "kernels/cpu/conv_common.h"
#include "kernels/cpu/conv_direct.h"
#include "kernels/cpu/conv_thin.h"
#include "kernels/cpu/conv_strided_data.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/parallel.h"

namespace strata::kernels::cpu {
namespace {

struct Dims {
  int64_t n, cin, h, w, cout, kh, kw, ho, wo;
  int64_t cin_g() const { return cin / groups; }
  int64_t cout_g() const { return cout / groups; }
  int64_t k() const { return cin_g() * kh * kw; }  // rows of one group's im2col matrix
  int64_t hw() const { return h * w; }
  int64_t howo() const { return ho * wo; }
  int64_t groups = 1;
};

// x [n, cin, h, w], w [cout, cin/g, kh, kw], y [n, cout, ho, wo].
Dims dims_of(const Tensor& x, const Tensor& w, const Tensor& y, int64_t groups) {
  Dims d{x.size(0), x.size(1), x.size(2), x.size(3), w.size(0), w.size(2), w.size(3), y.size(2), y.size(3)};
  d.groups = groups;
  return d;
}

bool is_pointwise(const Dims& d, const ConvGeometry& g) {
  return d.kh == 1 && d.kw == 1 && g.stride_h == 1 && g.stride_w == 1 && g.pad_h == 0 && g.pad_w == 0;
}


// Output rows per chunk of the forward and backward-data passes: the im2col chunk
// (K x rows * wo) is kept near 2^17 elements (512 KiB in f32, the size of a Zen 3 L2), so it is
// still in cache when the GEMM reads it.
int64_t rows_per_chunk(const Dims& d) {
  const int64_t row_elems = std::max<int64_t>(d.groups * d.k() * d.wo, 1);
  return std::clamp<int64_t>((int64_t{1} << 17) / row_elems, 1, std::max<int64_t>(d.ho, 1));
}

// cols[(c * kh + i) * kw + j][(oh - oh0) * wo + ow] = x[c][oh*sh - ph + i*dh][ow*sw - pw + j*dw]
// (0 outside the image) for output rows oh in [oh0, oh1) and channels [0, channels) of one
// image; cols rows have stride ld.
template <class T>
void im2col(const T* x, int64_t channels, const Dims& d, const ConvGeometry& g, T* cols, int64_t ld, int64_t oh0,
            int64_t oh1) {
  for (int64_t c = 0; c < channels; ++c) {
    const T* xc = x + c * d.hw();
    for (int64_t i = 0; i < d.kh; ++i) {
      int64_t oh_lo, oh_hi;
      valid_range(d.h, d.ho, g.stride_h, g.pad_h, i * g.dil_h, oh_lo, oh_hi);
      oh_lo = std::clamp(oh_lo, oh0, oh1);
      oh_hi = std::clamp(oh_hi, oh_lo, oh1);
      for (int64_t j = 0; j < d.kw; ++j) {
        T* row = cols + ((c * d.kh + i) * d.kw + j) * ld - oh0 * d.wo;  // indexed by oh * wo + ow
        int64_t ow_lo, ow_hi;
        valid_range(d.w, d.wo, g.stride_w, g.pad_w, j * g.dil_w, ow_lo, ow_hi);
        std::fill(row + oh0 * d.wo, row + oh_lo * d.wo, T(0));
        for (int64_t oh = oh_lo; oh < oh_hi; ++oh) {
          T* r = row + oh * d.wo;
          const T* src = xc + (oh * g.stride_h - g.pad_h + i * g.dil_h) * d.w + (j * g.dil_w - g.pad_w);
          std::fill(r, r + ow_lo, T(0));
          if (g.stride_w == 1) {
            std::memcpy(r + ow_lo, src + ow_lo, sizeof(T) * (ow_hi - ow_lo));
          } else {
            for (int64_t ow = ow_lo; ow < ow_hi; ++ow) r[ow] = src[ow * g.stride_w];
          }
          std::fill(r + ow_hi, r + d.wo, T(0));
        }
        std::fill(row + oh_hi * d.wo, row + oh1 * d.wo, T(0));
      }
    }
  }
}

// The adjoint of im2col over output rows [oh0, oh1): x[c][ih][iw] += cols[...] (cols rows of
// (oh1 - oh0) * wo elements). x must be zeroed by the caller.
template <class T>
void col2im(const T* cols, int64_t channels, const Dims& d, const ConvGeometry& g, T* x, int64_t oh0, int64_t oh1) {
  const int64_t ld = (oh1 - oh0) * d.wo;
  for (int64_t c = 0; c < channels; ++c) {
    T* xc = x + c * d.hw();
    for (int64_t i = 0; i < d.kh; ++i) {
      int64_t oh_lo, oh_hi;
      valid_range(d.h, d.ho, g.stride_h, g.pad_h, i * g.dil_h, oh_lo, oh_hi);
      oh_lo = std::clamp(oh_lo, oh0, oh1);
      oh_hi = std::clamp(oh_hi, oh_lo, oh1);
      for (int64_t j = 0; j < d.kw; ++j) {
        const T* row = cols + ((c * d.kh + i) * d.kw + j) * ld - oh0 * d.wo;
        int64_t ow_lo, ow_hi;
        valid_range(d.w, d.wo, g.stride_w, g.pad_w, j * g.dil_w, ow_lo, ow_hi);
        for (int64_t oh = oh_lo; oh < oh_hi; ++oh) {
          const T* r = row + oh * d.wo;
          T* dst = xc + (oh * g.stride_h - g.pad_h + i * g.dil_h) * d.w + (j * g.dil_w - g.pad_w);
          if (g.stride_w == 1) {
            for (int64_t ow = ow_lo; ow < ow_hi; ++ow) dst[ow] += r[ow];
          } else {
            for (int64_t ow = ow_lo; ow < ow_hi; ++ow) dst[ow * g.stride_w] += r[ow];
          }
        }
      }
    }
  }
}

template <class T>
void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b, int64_t ldb,
          T beta, T* c, int64_t ldc) {
  if constexpr (std::is_same_v<T, float>)
    gemm_f32(ta, tb, m, n, k, 1.0f, a, lda, b, ldb, beta, c, ldc);
  else
    gemm_f64(ta, tb, m, n, k, 1.0, a, lda, b, ldb, beta, c, ldc);
}

// body(image) for every image: in parallel over images when there are several, else inline.
template <class F>
void for_each_image(int64_t n, F&& body) {
  if (n == 1) return body(0);
  parallel_for(0, n, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) body(i);
  });
}

template <class T>
void add_bias(T* y, const T* bias, int64_t channels, int64_t plane) {
  for (int64_t c = 0; c < channels; ++c) {
    const T b = bias[c];
    T* p = y + c * plane;
    for (int64_t i = 0; i < plane; ++i) p[i] += b;
  }
}

// Depthwise convolutions (groups == Cin, any channel multiplier Cout / Cin) run directly: per
// group the im2col GEMM would have one input channel (K = kh * kw), far too thin for the GEMM.
// Every output plane is a sum of kh * kw shifted, scaled input planes.
bool is_depthwise(const Dims& d) { return d.groups > 1 && d.groups == d.cin; }

template <class T>
void depthwise_forward(const T* x, const T* w, const T* bias, T* y, const Dims& d, const ConvGeometry& g) {
  const int64_t mult = d.cout / d.cin, P = d.howo();
  parallel_for(0, d.n * d.cout, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t plane = lo; plane < hi; ++plane) {
      const int64_t n = plane / d.cout, co = plane % d.cout;
      const T* xc = x + (n * d.cin + co / mult) * d.hw();
      const T* wc = w + co * d.kh * d.kw;
      T* yc = y + plane * P;
      std::fill(yc, yc + P, bias ? bias[co] : T(0));
      for (int64_t i = 0; i < d.kh; ++i) {
        int64_t oh_lo, oh_hi;
        valid_range(d.h, d.ho, g.stride_h, g.pad_h, i * g.dil_h, oh_lo, oh_hi);
        for (int64_t j = 0; j < d.kw; ++j) {
          int64_t ow_lo, ow_hi;
          valid_range(d.w, d.wo, g.stride_w, g.pad_w, j * g.dil_w, ow_lo, ow_hi);
          const T wv = wc[i * d.kw + j];
          for (int64_t oh = oh_lo; oh < oh_hi; ++oh) {
            T* r = yc + oh * d.wo;
            const T* src = xc + (oh * g.stride_h - g.pad_h + i * g.dil_h) * d.w + (j * g.dil_w - g.pad_w);
            for (int64_t ow = ow_lo; ow < ow_hi; ++ow) r[ow] += wv * src[ow * g.stride_w];
          }
        }
      }
    }
  });
}

template <class T>
void depthwise_backward_data(const T* gy, const T* w, const T* bias, T* gx, const Dims& d, const ConvGeometry& g) {
  const int64_t mult = d.cout / d.cin, P = d.howo();
  parallel_for(0, d.n * d.cin, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t plane = lo; plane < hi; ++plane) {
      const int64_t n = plane / d.cin, ci = plane % d.cin;
      T* xc = gx + plane * d.hw();
      std::fill(xc, xc + d.hw(), T(0));
      for (int64_t co = ci * mult; co < (ci + 1) * mult; ++co) {
        const T* yc = gy + (n * d.cout + co) * P;
        const T* wc = w + co * d.kh * d.kw;
        for (int64_t i = 0; i < d.kh; ++i) {
          int64_t oh_lo, oh_hi;
          valid_range(d.h, d.ho, g.stride_h, g.pad_h, i * g.dil_h, oh_lo, oh_hi);
          for (int64_t j = 0; j < d.kw; ++j) {
            int64_t ow_lo, ow_hi;
            valid_range(d.w, d.wo, g.stride_w, g.pad_w, j * g.dil_w, ow_lo, ow_hi);
            const T wv = wc[i * d.kw + j];
            for (int64_t oh = oh_lo; oh < oh_hi; ++oh) {
              const T* r = yc + oh * d.wo;
              T* dst = xc + (oh * g.stride_h - g.pad_h + i * g.dil_h) * d.w + (j * g.dil_w - g.pad_w);
              for (int64_t ow = ow_lo; ow < ow_hi; ++ow) dst[ow * g.stride_w] += wv * r[ow];
            }
          }
        }
      }
      if (bias) {
        const T b = bias[ci];
        for (int64_t p = 0; p < d.hw(); ++p) xc[p] += b;
      }
    }
  });
}

// gw[co][i][j] = sum over images and output positions of gy * x, accumulated in double in a fixed
// order per output channel (channels run in parallel).
template <class T>
void depthwise_backward_weight(const T* x, const T* gy, T* gw, const Dims& d, const ConvGeometry& g) {
  const int64_t mult = d.cout / d.cin, P = d.howo();
  parallel_for(0, d.cout, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t co = lo; co < hi; ++co) {
      for (int64_t i = 0; i < d.kh; ++i) {
        int64_t oh_lo, oh_hi;
        valid_range(d.h, d.ho, g.stride_h, g.pad_h, i * g.dil_h, oh_lo, oh_hi);
        for (int64_t j = 0; j < d.kw; ++j) {
          int64_t ow_lo, ow_hi;
          valid_range(d.w, d.wo, g.stride_w, g.pad_w, j * g.dil_w, ow_lo, ow_hi);
          double acc = 0.0;
          for (int64_t n = 0; n < d.n; ++n) {
            const T* xc = x + (n * d.cin + co / mult) * d.hw();
            const T* yc = gy + (n * d.cout + co) * P;
            for (int64_t oh = oh_lo; oh < oh_hi; ++oh) {
              const T* r = yc + oh * d.wo;
              const T* src = xc + (oh * g.stride_h - g.pad_h + i * g.dil_h) * d.w + (j * g.dil_w - g.pad_w);
              for (int64_t ow = ow_lo; ow < ow_hi; ++ow)
                acc += static_cast<double>(r[ow]) * static_cast<double>(src[ow * g.stride_w]);
            }
          }
          gw[co * d.kh * d.kw + i * d.kw + j] = static_cast<T>(acc);
        }
      }
    }
  });
}

template <class T>
void forward(const Tensor& xt, const Tensor& wt, const Tensor& bt, const Tensor& yt, const ConvGeometry& g) {
  const Dims d = dims_of(xt, wt, yt, g.groups);
  if (d.n == 0 || d.cout == 0 || d.howo() == 0) return;
  const T* x = xt.data<T>();
  const T* w = wt.data<T>();
  const T* bias = bt.defined() ? bt.data<T>() : nullptr;
  T* y = yt.data<T>();
  if (d.k() == 0) {  // no input channels: an empty sum, y is the bias (the GEMM takes no K = 0)
    for (int64_t i = 0; i < d.n * d.cout; ++i)
      std::fill(y + i * d.howo(), y + (i + 1) * d.howo(), bias ? bias[i % d.cout] : T(0));
    return;
  }
  if (is_depthwise(d)) return depthwise_forward(x, w, bias, y, d, g);
  if (conv2d_direct_forward(xt, wt, bt, yt, g)) return;
  if (conv2d_thin_forward(xt, wt, bt, yt, g)) return;
  const bool pointwise = is_pointwise(d, g);
  const int64_t K = d.k(), P = d.howo();
  for_each_image(d.n, [&](int64_t n) {
    const T* xn = x + n * d.cin * d.hw();
    T* yn = y + n * d.cout * P;
    if (pointwise) {
      for (int64_t gi = 0; gi < d.groups; ++gi)
        gemm<T>(false, false, d.cout_g(), P, K, w + gi * d.cout_g() * K, K, xn + gi * K * P, P, T(0),
                yn + gi * d.cout_g() * P, P);
    } else {
      const int64_t rows = rows_per_chunk(d);
      T* cols = scratch<T, 0>(d.groups * K * rows * d.wo);
      for (int64_t oh0 = 0; oh0 < d.ho; oh0 += rows) {
        const int64_t oh1 = std::min(oh0 + rows, d.ho), cw = (oh1 - oh0) * d.wo;
        im2col(xn, d.cin, d, g, cols, cw, oh0, oh1);
        for (int64_t gi = 0; gi < d.groups; ++gi)
          gemm<T>(false, false, d.cout_g(), cw, K, w + gi * d.cout_g() * K, K, cols + gi * K * cw, cw, T(0),
                  yn + gi * d.cout_g() * P + oh0 * d.wo, P);
      }
    }
    if (bias) add_bias(yn, bias, d.cout, P);
  });
}

template <class T>
void backward_data(const Tensor& gyt, const Tensor& wt, const Tensor& bt, const Tensor& gxt, const ConvGeometry& g) {
  const Dims d = dims_of(gxt, wt, gyt, g.groups);
  if (d.n == 0 || d.cin == 0 || d.hw() == 0) return;
  const T* gy = gyt.data<T>();
  const T* w = wt.data<T>();
  const T* bias = bt.defined() ? bt.data<T>() : nullptr;
  T* gx = gxt.data<T>();
  if (is_depthwise(d)) return depthwise_backward_data(gy, w, bias, gx, d, g);
  if (conv2d_direct_backward_data(gyt, wt, bt, gxt, g)) return;
  if (conv2d_strided_backward_data(gyt, wt, bt, gxt, g)) return;  // stride > 1: phase split
  const bool pointwise = is_pointwise(d, g);
  const int64_t K = d.k(), P = d.howo();
  for_each_image(d.n, [&](int64_t n) {
    const T* gyn = gy + n * d.cout * P;
    T* gxn = gx + n * d.cin * d.hw();
    if (pointwise) {
      for (int64_t gi = 0; gi < d.groups; ++gi)
        gemm<T>(true, false, K, P, d.cout_g(), w + gi * d.cout_g() * K, K, gyn + gi * d.cout_g() * P, P, T(0),
                gxn + gi * K * P, P);
    } else {
      const int64_t rows = rows_per_chunk(d);
      T* cols = scratch<T, 0>(d.groups * K * rows * d.wo);
      std::fill(gxn, gxn + d.cin * d.hw(), T(0));
      for (int64_t oh0 = 0; oh0 < d.ho; oh0 += rows) {
        const int64_t oh1 = std::min(oh0 + rows, d.ho), cw = (oh1 - oh0) * d.wo;
        for (int64_t gi = 0; gi < d.groups; ++gi)
          gemm<T>(true, false, K, cw, d.cout_g(), w + gi * d.cout_g() * K, K, gyn + gi * d.cout_g() * P + oh0 * d.wo,
                  P, T(0), cols + gi * K * cw, cw);
        col2im(cols, d.cin, d, g, gxn, oh0, oh1);
      }
    }
    if (bias) add_bias(gxn, bias, d.cin, d.hw());
  });
}

template <class T>
void backward_weight(const Tensor& xt, const Tensor& gyt, const Tensor& gwt, const ConvGeometry& g) {
  const Dims d = dims_of(xt, gwt, gyt, g.groups);
  T* gw = gwt.data<T>();
  std::fill(gw, gw + gwt.numel(), T(0));
  if (d.n == 0 || d.howo() == 0 || gwt.numel() == 0) return;
  const T* x = xt.data<T>();
  const T* gy = gyt.data<T>();
  if (is_depthwise(d)) return depthwise_backward_weight(x, gy, gw, d, g);
  if (conv2d_direct_backward_weight(xt, gyt, gwt, g)) return;
  if (conv2d_thin_backward_weight(xt, gyt, gwt, g)) return;
  const int64_t K = d.k(), P = d.howo();
  const bool pointwise = is_pointwise(d, g);
  // Images per block: im2col matrix of about 2M elements, from the shapes only (never the thread count).
  const int64_t per_image = pointwise ? d.cin * d.hw() : d.groups * K * P;
  const int64_t block = std::clamp<int64_t>((int64_t{1} << 21) / std::max<int64_t>(per_image + d.cout * P, 1), 1, d.n);
  const int64_t width = block * P;  // columns of the side-by-side matrices
  T* cols = scratch<T, 0>(d.groups * K * width + d.cout * width);
  T* gys = cols + d.groups * K * width;
  for (int64_t n0 = 0; n0 < d.n; n0 += block) {
    const int64_t nb = std::min(block, d.n - n0), wb = nb * P;
    // cols[row][b * P + p] = im2col(x[n0 + b])[row][p];  gys[c][b * P + p] = gy[n0 + b][c][p].
    parallel_for(0, nb, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t b = lo; b < hi; ++b) {
        const T* xn = x + (n0 + b) * d.cin * d.hw();
        if (pointwise) {
          for (int64_t c = 0; c < d.cin; ++c) std::memcpy(cols + c * wb + b * P, xn + c * P, sizeof(T) * P);
        } else {
          im2col(xn, d.cin, d, g, cols + b * P, wb, 0, d.ho);
        }
        const T* gyn = gy + (n0 + b) * d.cout * P;
        for (int64_t c = 0; c < d.cout; ++c) std::memcpy(gys + c * wb + b * P, gyn + c * P, sizeof(T) * P);
      }
    });
    const T beta = n0 == 0 ? T(0) : T(1);
    for (int64_t gi = 0; gi < d.groups; ++gi)
      gemm<T>(false, true, d.cout_g(), K, wb, gys + gi * d.cout_g() * wb, wb, cols + gi * K * wb, wb, beta,
              gw + gi * d.cout_g() * K, K);
  }
}

}  // namespace

void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& y, const ConvGeometry& g) {
  if (x.dtype() == DType::F64) return forward<double>(x, w, bias, y, g);
  forward<float>(x, w, bias, y, g);
}

void conv2d_backward_data(const Tensor& gy, const Tensor& w, const Tensor& bias, const Tensor& gx,
                          const ConvGeometry& g) {
  if (gx.dtype() == DType::F64) return backward_data<double>(gy, w, bias, gx, g);
  backward_data<float>(gy, w, bias, gx, g);
}

void conv2d_backward_weight(const Tensor& x, const Tensor& gy, const Tensor& gw, const ConvGeometry& g) {
  if (gw.dtype() == DType::F64) return backward_weight<double>(x, gy, gw, g);
  backward_weight<float>(x, gy, gw, g);
}

}  // namespace strata::kernels::cpu
