// Forward and backward-weight of thin convolutions (groups == 1, Cin < 8: a CNN's first layer;
// the reference CNN's cnn_l1 is 1 -> 32 channels, 28x28, 3x3, padding 1, batch 128) without the
// GEMM. With K = Cin * kh * kw (9 at cnn_l1) rows of the im2col matrix, the GEMM has one tiny
// dimension: backward-weight (gw = gy x cols^T, a 32 x 9 result over a reduction of
// 128 * 784 pixels) spent its time copying gy (12.8 MB at cnn_l1) side by side into a wide
// matrix, packing it and in a strided micro-kernel.
//
// Input rows. Row k = (c * kh + i) * kw + j of an image's (virtual) im2col matrix is
// x[c][oh*sh - ph + i*dh][ow*sw - pw + j*dw] (0 outside the image) at pixel p = oh * wo + ow. With
// vertical stride 1 every such row is a contiguous run of one of kw horizontally shifted,
// zero-padded copies of each channel (xs[c][j][r][ow] = x[c][r - ph][ow*sw - pw + j*dw]): an
// image is copied kw times (not kh * kw), once for all its pixels, and the kernels read the rows
// in place with no bounds checks (against im2col rows per chunk: 1.05 -> 0.88 ms at cnn_l1, one
// thread). Strided convolutions copy im2col rows per chunk of output rows.
//
// Backward-weight: gw[o][k] = sum over images n and pixels p of gy[n][o][p] * row_k[p], gy read in
// place. Vectorized along pixels (8 floats / 4 doubles; GCC vector extensions compiled for
// x86-64-v3 and baseline through target_clones): a register block of 4 output channels x 3 rows
// keeps 12 vector accumulators, each step loads 4 gy and 3 x vectors for 12 multiply-adds. The
// accumulators keep their lanes across pixels and images (reduced at the end of a work
// unit); pixels go in chunks whose block of gy and x rows stays in L1, and the first pass over
// a block prefetches the gy rows of the next one (1.36 -> 1.04 ms at cnn_l1). Threads take FIXED
// work units of images, or of bands of rows of one heavy image (sized from the shapes only, never
// the thread count); each unit's partial sums go to their own slot and the slots are added in
// unit order in double, so the result is identical for any thread count.
//
// Forward (stride 1 only: over strided im2col rows the GEMM path was faster, 1.50 vs 1.98 ms for
// 3 -> 32 channels at 64x64 stride 2, 7.6 vs 12.3 ms for a 7x7 stride-2 RGB stem): one image per
// task, y[o][p] = bias[o] + sum over k of w[o][k] * row_k[p] in blocks of 4 output channels x 3
// pixel vectors (12 accumulators over all K, weights pre-broadcast into vectors), stored straight
// into y. Backward-data stays on im2col + GEMM (a first layer's input needs no gradient).
//
// Measured (bench_conv pass_*_cnn_l1, STRATA_CONV_THIN=0 for the im2col path, the same binary,
// interleaved, best of 5-7, two sittings on the shared 2-core Zen 3 box at load 4-6; ms):
//   one thread, CPU time:  backward-weight 2.87 / 3.18 -> 0.91 / 0.94 (3.2-3.4x),
//                          forward 1.37 / 1.54 -> 0.94 / 1.05 (1.45x)
//   two threads, wall:     backward-weight 6.52 / 6.06 -> 1.70 / 1.66, forward 2.75 / 2.95 ->
//                          1.86 / 2.38 (inflated by the load: 2-3x the quiet-box figures)
// conv2d + backward through autograd (conv3x3_fwdbwd_cnn_l1, backward-data included), one
// thread, CPU: 7.15 -> 4.22 ms.
// Other thin shapes (one thread, CPU ms, im2col -> here): 3 -> 32 channels 3x3 at 32x32 batch
// 128: forward 4.87 -> 3.10, backward-weight 11.7 -> 3.3; 3 -> 32 channels 7x7 stride 1 at 56x56
// batch 8: forward 3.86 -> 3.48, backward-weight 4.88 -> 2.97; 3 -> 32 channels 3x3 stride 2 at
// 64x64 batch 32: backward-weight 3.83 -> 1.73. Whole reference-CNN epoch on one thread
// (bench_fashion_cnn, user CPU): 64.9 -> 63.5 s.
#include "kernels/cpu/conv_thin.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/cpu/conv_common.h"
#include "kernels/cpu/parallel.h"

// The vector helpers are always inlined into the cloned kernels; GCC's note that passing 32-byte
// vectors would change the ABI in the baseline clone concerns calls that never happen.
#pragma GCC diagnostic ignored "-Wpsabi"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define STRATA_THIN_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define STRATA_THIN_CLONES
#endif

namespace strata::kernels::cpu {
namespace {

std::atomic<bool> g_thin_enabled{true};

// Thin: fewer input channels than this (the direct path takes Cin >= 8).
constexpr int64_t kMaxThinChannels = 8;
// Backward-weight's register block: output channels x input rows (12 accumulators + 3 x vectors
// + 1 gy vector = the 16 vector registers of AVX2; one output channel x 9 rows, a single pass
// over gy, was slower: 1.91 against 1.27 ms). The forward's block is 4 channels x 3 vectors.
constexpr int kBlockO = 4;
constexpr int kBlockK = 3;
// Elements of one chunk of im2col rows (per thread, strided convolutions): 8 KiB in f32, so
// that the rows and a block's gy rows stay in L1 (cnn_l1 backward-weight on im2col rows, before
// the shifted copies, one thread: 1.12 ms at 8192, 1.09 at 4096, 1.05 at 2048).
constexpr int64_t kColsElems = 2048;
// Bytes of one row of a chunk of backward-weight with shifted copies (a block's 4 gy and 3 x rows
// stay in L1): 1024 f32 pixels. cnn_l1, one thread: 1.42 ms at 256 pixels, 0.92 at 512 and 1024;
// a 3 -> 32 channel 3x3 layer at 32x32: 3.50, 3.48, 3.26 ms.
constexpr int64_t kShiftedChunkBytes = 4096;
// Strided thin convolutions copy im2col rows per chunk; with more than this many of them (K =
// Cin * kh * kw) the chunks get too short and im2col + GEMM wins (a 7x7 stride-2 RGB stem,
// K = 147: 10.8 ms there against 11.4 here).
constexpr int64_t kMaxStridedK = 32;
// Multiply-adds per work unit of backward-weight: 2^20 gives cnn_l1 units of 5 images (26 units
// of ~1.1 M multiply-adds), enough to balance threads, few enough to make the partials cheap.
constexpr int64_t kChunkWork = int64_t{1} << 20;

template <class T>
struct Simd;
template <>
struct Simd<float> {
  typedef float V __attribute__((vector_size(32)));
  static constexpr int W = 8;
};
template <>
struct Simd<double> {
  typedef double V __attribute__((vector_size(32)));
  static constexpr int W = 4;
};

template <class V, class T>
[[gnu::always_inline]] inline V load(const T* p) {
  V v;
  std::memcpy(&v, p, sizeof(V));
  return v;
}

template <class V, class T>
[[gnu::always_inline]] inline void store(T* p, const V& v) {
  std::memcpy(p, &v, sizeof(V));
}

struct Thin {
  int64_t n, cin, h, w, cout, kh, kw, ho, wo;
  int64_t sh, sw, ph, pw, dh, dw;
  int64_t k() const { return cin * kh * kw; }
  int64_t pixels() const { return ho * wo; }
};

Thin thin_dims(const Tensor& x, const Tensor& w, const Tensor& y, const ConvGeometry& g) {
  return {x.size(0), x.size(1), x.size(2), x.size(3), w.size(0), w.size(2), w.size(3),
          y.size(2), y.size(3), g.stride_h, g.stride_w, g.pad_h, g.pad_w, g.dil_h, g.dil_w};
}


// The input rows of one output pixel chunk. Row k = (c * kh + i) * kw + j of the (virtual) im2col
// matrix holds x[c][oh*sh - ph + i*dh][ow*sw - pw + j*dw] (0 outside the image) at pixel
// oh * wo + ow; rows[k] points at the chunk's first pixel of it, its pixels contiguous.
//
// Stride 1 vertically (shifted copies): the kw horizontally shifted, zero-padded copies of
// each channel, xs[c][j][r][ow] = x[c][r - ph][ow*sw - pw + j*dw] for r in [0, ho + dh*(kh-1)),
// hold every row: row k starts at xs[c][j][oh + i*dh][0], so an image is copied kw (not
// kh * kw) times and once for all its pixel chunks. Otherwise (vertical stride) the chunk's
// im2col rows are copied out (im2col_rows).
template <class T>
[[gnu::always_inline]] inline void copy_row(T* r, const T* x_row, const Thin& d, int64_t ow_lo, int64_t ow_hi) {
  // Plain loops: rows are short, a memcpy call costs more than the copy.
  for (int64_t ow = 0; ow < ow_lo; ++ow) r[ow] = T(0);
  if (d.sw == 1) {
    for (int64_t ow = ow_lo; ow < ow_hi; ++ow) r[ow] = x_row[ow];
  } else {
    for (int64_t ow = ow_lo; ow < ow_hi; ++ow) r[ow] = x_row[ow * d.sw];
  }
  for (int64_t ow = ow_hi; ow < d.wo; ++ow) r[ow] = T(0);
}

int64_t shifted_rows(const Thin& d) { return d.ho + d.dh * (d.kh - 1); }
int64_t shifted_elems(const Thin& d) { return d.cin * d.kw * shifted_rows(d) * d.wo; }
// Shifted copies need stride 1 vertically; they are kept while they fit in L2 (256K elements).
bool uses_shifted_copies(const Thin& d) { return d.sh == 1 && shifted_elems(d) <= (int64_t{1} << 18); }

// The rows [r0, r1) of the shifted copies of one image (the rest of xs is left alone).
template <class T>
[[gnu::always_inline]] inline void shifted_copies(const T* x, const Thin& d, int64_t r0, int64_t r1, T* xs) {
  const int64_t hp = shifted_rows(d);
  for (int64_t c = 0; c < d.cin; ++c) {
    const T* xc = x + c * d.h * d.w;
    for (int64_t j = 0; j < d.kw; ++j) {
      int64_t ow_lo, ow_hi;
      valid_range(d.w, d.wo, d.sw, d.pw, j * d.dw, ow_lo, ow_hi);
      T* plane = xs + (c * d.kw + j) * hp * d.wo;
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t ih = r - d.ph;
        if (ih < 0 || ih >= d.h)
          std::fill(plane + r * d.wo, plane + (r + 1) * d.wo, T(0));
        else
          copy_row(plane + r * d.wo, xc + ih * d.w + (j * d.dw - d.pw), d, ow_lo, ow_hi);
      }
    }
  }
}

template <class T>
void shifted_rows_of_chunk(const T* xs, const Thin& d, int64_t oh0, const T** rows) {
  const int64_t hp = shifted_rows(d);
  for (int64_t c = 0; c < d.cin; ++c)
    for (int64_t i = 0; i < d.kh; ++i)
      for (int64_t j = 0; j < d.kw; ++j)
        rows[(c * d.kh + i) * d.kw + j] = xs + ((c * d.kw + j) * hp + oh0 + i * d.dh) * d.wo;
}

// The im2col rows of output rows [oh0, oh1) of one image, each in `ld` elements of cols.
template <class T>
[[gnu::always_inline]] inline void im2col_rows(const T* x, const Thin& d, int64_t oh0, int64_t oh1, T* cols,
                                               int64_t ld, const T** rows) {
  for (int64_t c = 0; c < d.cin; ++c) {
    const T* xc = x + c * d.h * d.w;
    for (int64_t i = 0; i < d.kh; ++i) {
      for (int64_t j = 0; j < d.kw; ++j) {
        const int64_t k = (c * d.kh + i) * d.kw + j;
        T* row = cols + k * ld;
        rows[k] = row;
        int64_t ow_lo, ow_hi;
        valid_range(d.w, d.wo, d.sw, d.pw, j * d.dw, ow_lo, ow_hi);
        for (int64_t oh = oh0; oh < oh1; ++oh) {
          T* r = row + (oh - oh0) * d.wo;
          const int64_t ih = oh * d.sh - d.ph + i * d.dh;
          if (ih < 0 || ih >= d.h)
            std::fill(r, r + d.wo, T(0));
          else
            copy_row(r, xc + ih * d.w + (j * d.dw - d.pw), d, ow_lo, ow_hi);
        }
      }
    }
  }
}

// acc[a][b] (vectors at acc + a * ld_acc + b * W) += sum over pixels p < count of
// gy[a][p] * rows[b][p], lane p % W. The last, partial vector goes through zeroed copies (rows
// and gy are read only up to count). prefetch: the address of the gy rows of the next block, or 0.
template <class T, int OB, int KB>
[[gnu::always_inline]] inline void accumulate_block(const T* gy, int64_t ld_gy, const T* const* rows, int64_t count,
                                                    T* acc, int64_t ld_acc, uintptr_t prefetch) {
  using V = typename Simd<T>::V;
  constexpr int W = Simd<T>::W;
  const T* r[KB];
  V s[OB][KB];
#pragma GCC unroll 4
  for (int b = 0; b < KB; ++b) r[b] = rows[b];
#pragma GCC unroll 4
  for (int a = 0; a < OB; ++a)
#pragma GCC unroll 3
    for (int b = 0; b < KB; ++b) s[a][b] = load<V>(acc + a * ld_acc + b * W);
  const int64_t full = count / W * W;
  for (int64_t p = 0; p < full; p += W) {
    V c[KB];
#pragma GCC unroll 3
    for (int b = 0; b < KB; ++b) c[b] = load<V>(r[b] + p);
    if (prefetch) {  // addresses in integers: they may lie past the end of gy (a prefetch never faults)
#pragma GCC unroll 4
      for (int a = 0; a < kBlockO; ++a)
        __builtin_prefetch(reinterpret_cast<const void*>(prefetch + static_cast<uintptr_t>(a * ld_gy + p) * sizeof(T)));
    }
#pragma GCC unroll 4
    for (int a = 0; a < OB; ++a) {
      const V g = load<V>(gy + a * ld_gy + p);
#pragma GCC unroll 3
      for (int b = 0; b < KB; ++b) s[a][b] += g * c[b];
    }
  }
  if (full < count) {
    T gt[OB][W] = {}, ct[KB][W] = {};
    for (int a = 0; a < OB; ++a) std::copy(gy + a * ld_gy + full, gy + a * ld_gy + count, gt[a]);
    for (int b = 0; b < KB; ++b) std::copy(r[b] + full, r[b] + count, ct[b]);
    for (int a = 0; a < OB; ++a) {
      const V g = load<V>(gt[a]);
      for (int b = 0; b < KB; ++b) s[a][b] += g * load<V>(ct[b]);
    }
  }
#pragma GCC unroll 4
  for (int a = 0; a < OB; ++a)
#pragma GCC unroll 3
    for (int b = 0; b < KB; ++b) store<V>(acc + a * ld_acc + b * W, s[a][b]);
}

template <class T, int OB>
[[gnu::always_inline]] inline void accumulate_row_of_blocks(const T* gy, int64_t ld_gy, const T* const* rows,
                                                            int64_t count, T* acc, int64_t k, uintptr_t next) {
  constexpr int W = Simd<T>::W;
  int64_t k0 = 0;
  for (; k0 + kBlockK <= k; k0 += kBlockK)
    accumulate_block<T, OB, kBlockK>(gy, ld_gy, rows + k0, count, acc + k0 * W, k * W, k0 == 0 ? next : 0);
  if (k - k0 == 2) accumulate_block<T, OB, 2>(gy, ld_gy, rows + k0, count, acc + k0 * W, k * W, k0 == 0 ? next : 0);
  if (k - k0 == 1) accumulate_block<T, OB, 1>(gy, ld_gy, rows + k0, count, acc + k0 * W, k * W, k0 == 0 ? next : 0);
}

// Adds output rows [oh_begin, oh_end) of images [n0, n1) into acc ([cout][K] vectors of W
// lanes). xs: scratch for the shifted copies of an image or one chunk's im2col rows
// (rows_per_chunk * wo elements per row); rows: K pointers of scratch.
template <class T>
STRATA_THIN_CLONES void accumulate_images(const T* x, const T* gy, const Thin& d, int64_t n0, int64_t n1,
                                          int64_t oh_begin, int64_t oh_end, int64_t rows_per_chunk, T* xs,
                                          const T** rows, T* acc) {
  constexpr int W = Simd<T>::W;
  const int64_t k = d.k(), pixels = d.pixels();
  const bool shifted = uses_shifted_copies(d);
  for (int64_t n = n0; n < n1; ++n) {
    const T* xn = x + n * d.cin * d.h * d.w;
    const T* gyn = gy + n * d.cout * pixels;
    if (shifted) shifted_copies(xn, d, oh_begin, oh_end + d.dh * (d.kh - 1), xs);
    for (int64_t oh0 = oh_begin; oh0 < oh_end; oh0 += rows_per_chunk) {
      const int64_t oh1 = std::min(oh0 + rows_per_chunk, oh_end), count = (oh1 - oh0) * d.wo;
      if (shifted)
        shifted_rows_of_chunk(xs, d, oh0, rows);
      else
        im2col_rows(xn, d, oh0, oh1, xs, rows_per_chunk * d.wo, rows);
      const T* gyc = gyn + oh0 * d.wo;
      // The gy rows the next block reads, prefetched during this block's first pass: the next
      // output channels, else the next chunk of rows or image (a prefetch past the end of gy is
      // harmless: prefetches never fault).
      auto next = [&](int64_t o0) {
        const T* p = o0 + kBlockO < d.cout ? gyc + (o0 + kBlockO) * pixels
                     : oh1 < d.ho          ? gyn + oh1 * d.wo
                                           : gyn + d.cout * pixels;  // at most one past the end
        return reinterpret_cast<uintptr_t>(p);
      };
      int64_t o0 = 0;
      for (; o0 + kBlockO <= d.cout; o0 += kBlockO)
        accumulate_row_of_blocks<T, kBlockO>(gyc + o0 * pixels, pixels, rows, count, acc + o0 * k * W, k, next(o0));
      const T* gyr = gyc + o0 * pixels;
      T* accr = acc + o0 * k * W;
      switch (d.cout - o0) {
        case 3: accumulate_row_of_blocks<T, 3>(gyr, pixels, rows, count, accr, k, next(o0)); break;
        case 2: accumulate_row_of_blocks<T, 2>(gyr, pixels, rows, count, accr, k, next(o0)); break;
        case 1: accumulate_row_of_blocks<T, 1>(gyr, pixels, rows, count, accr, k, next(o0)); break;
        default: break;
      }
    }
  }
}

// Forward: y[o][p] = bias[o] + sum over k of w[o][k] * rows[k][p], k ascending, for a register
// block of OB output channels x PB pixel vectors (4 x 3: 12 accumulators, 3 row vectors and a
// weight vector). wb: the block's weights broadcast, [OB][k][W]; bb: its bias broadcast,
// [OB][W] (GCC vector code has no clean broadcast: splatting a scalar adds a zero or builds the
// vector lane by lane). y: OB rows of ld_y elements, from pixel p.
template <class T, int OB, int PB>
[[gnu::always_inline]] inline void forward_block(const T* wb, int64_t k, const T* bb, const T* const* rows,
                                                 int64_t p, T* y, int64_t ld_y) {
  using V = typename Simd<T>::V;
  constexpr int W = Simd<T>::W;
  V s[OB][PB];
#pragma GCC unroll 4
  for (int a = 0; a < OB; ++a)
#pragma GCC unroll 3
    for (int q = 0; q < PB; ++q) s[a][q] = load<V>(bb + a * W);
  for (int64_t kk = 0; kk < k; ++kk) {
    const T* r = rows[kk] + p;
    V c[PB];
#pragma GCC unroll 3
    for (int q = 0; q < PB; ++q) c[q] = load<V>(r + q * W);
#pragma GCC unroll 4
    for (int a = 0; a < OB; ++a) {
      const V wv = load<V>(wb + (a * k + kk) * W);
#pragma GCC unroll 3
      for (int q = 0; q < PB; ++q) s[a][q] += wv * c[q];
    }
  }
#pragma GCC unroll 4
  for (int a = 0; a < OB; ++a)
#pragma GCC unroll 3
    for (int q = 0; q < PB; ++q) store<V>(y + a * ld_y + p + q * W, s[a][q]);
}

// One block of OB output channels over the pixels [0, count) of a chunk: whole groups of 3
// vectors, then 2 or 1 vectors, then the last count % W pixels one by one (same order of k).
template <class T, int OB>
[[gnu::always_inline]] inline void forward_channels(const T* wb, int64_t k, const T* bb, const T* const* rows,
                                                    int64_t count, T* y, int64_t ld_y) {
  constexpr int W = Simd<T>::W;
  int64_t p = 0;
  for (; p + 3 * W <= count; p += 3 * W) forward_block<T, OB, 3>(wb, k, bb, rows, p, y, ld_y);
  if (p + 2 * W <= count) {
    forward_block<T, OB, 2>(wb, k, bb, rows, p, y, ld_y);
    p += 2 * W;
  } else if (p + W <= count) {
    forward_block<T, OB, 1>(wb, k, bb, rows, p, y, ld_y);
    p += W;
  }
  for (; p < count; ++p)
    for (int a = 0; a < OB; ++a) {
      T acc = bb[a * W];
      for (int64_t kk = 0; kk < k; ++kk) acc += wb[(a * k + kk) * W] * rows[kk][p];
      y[a * ld_y + p] = acc;
    }
}

// The forward of one image, over its shifted copies (xs; rows: K pointers of scratch).
template <class T>
STRATA_THIN_CLONES void forward_image(const T* xn, const T* wb, const T* bb, const Thin& d, T* xs, const T** rows,
                                      T* yn) {
  constexpr int W = Simd<T>::W;
  const int64_t k = d.k(), pixels = d.pixels();
  shifted_copies(xn, d, 0, shifted_rows(d), xs);
  shifted_rows_of_chunk(xs, d, 0, rows);
  int64_t o0 = 0;
  for (; o0 + kBlockO <= d.cout; o0 += kBlockO)
    forward_channels<T, kBlockO>(wb + o0 * k * W, k, bb + o0 * W, rows, pixels, yn + o0 * pixels, pixels);
  const T* wr = wb + o0 * k * W;
  const T* br = bb + o0 * W;
  T* yr = yn + o0 * pixels;
  switch (d.cout - o0) {
    case 3: forward_channels<T, 3>(wr, k, br, rows, pixels, yr, pixels); break;
    case 2: forward_channels<T, 2>(wr, k, br, rows, pixels, yr, pixels); break;
    case 1: forward_channels<T, 1>(wr, k, br, rows, pixels, yr, pixels); break;
    default: break;
  }
}


template <class T>
void forward_impl(const Tensor& xt, const Tensor& wt, const Tensor& bt, const Tensor& yt, const ConvGeometry& g) {
  const Thin d = thin_dims(xt, wt, yt, g);
  const int64_t k = d.k();
  if (d.n == 0 || d.cout == 0 || d.pixels() == 0) return;
  const T* x = xt.data<T>();
  const T* w = wt.data<T>();
  const T* bias = bt.defined() ? bt.data<T>() : nullptr;
  T* y = yt.data<T>();
  constexpr int W = Simd<T>::W;
  std::vector<T> wb(static_cast<size_t>(d.cout * k * W)), bb(static_cast<size_t>(d.cout * W), T(0));
  for (int64_t e = 0; e < d.cout * k; ++e) std::fill(wb.begin() + e * W, wb.begin() + (e + 1) * W, w[e]);
  if (bias)
    for (int64_t o = 0; o < d.cout; ++o) std::fill(bb.begin() + o * W, bb.begin() + (o + 1) * W, bias[o]);
  const int64_t xs_elems = shifted_elems(d);
  // One image per task: every output element is computed by the same code whatever the thread count.
  parallel_for(0, d.n, 1, [&](int64_t lo, int64_t hi) {
    T* xs = scratch<T, 0>(xs_elems);
    thread_local std::vector<const T*> row_pointers;
    row_pointers.resize(static_cast<size_t>(k));
    for (int64_t n = lo; n < hi; ++n)
      forward_image<T>(x + n * d.cin * d.h * d.w, wb.data(), bb.data(), d, xs, row_pointers.data(),
                       y + n * d.cout * d.pixels());
  });
}

template <class T>
void backward_weight_impl(const Tensor& xt, const Tensor& gyt, const Tensor& gwt, const ConvGeometry& g) {
  const Thin d = thin_dims(xt, gwt, gyt, g);
  constexpr int W = Simd<T>::W;
  const int64_t k = d.k(), outputs = d.cout * k;
  T* gw = gwt.data<T>();
  if (d.n == 0 || d.pixels() == 0 || outputs == 0) {
    std::fill(gw, gw + outputs, T(0));
    return;
  }
  const T* x = xt.data<T>();
  const T* gy = gyt.data<T>();
  // Output rows per pixel chunk: a block's gy and x rows stay in L1 (and the chunk's im2col rows).
  const int64_t rows = uses_shifted_copies(d) ? std::clamp<int64_t>(kShiftedChunkBytes / int64_t{sizeof(T)} / d.wo, 1, d.ho)
                                              : std::clamp<int64_t>(kColsElems / (k * d.wo), 1, d.ho);
  const int64_t xs_elems = uses_shifted_copies(d) ? shifted_elems(d) : k * rows * d.wo;
  // Work units of about kChunkWork multiply-adds: several whole images, or (images heavier than
  // that) a band of an image's output rows, so that one big image still keeps the threads busy.
  // From the shapes only, so the partition (and the result) never depends on the thread count.
  const int64_t per_image = std::max<int64_t>(outputs * d.pixels(), 1);
  const int64_t images = std::clamp<int64_t>((kChunkWork + per_image - 1) / per_image, 1, d.n);
  int64_t band = d.ho;  // output rows per unit
  if (per_image > kChunkWork) {
    const int64_t band_rows = std::max<int64_t>(kChunkWork / (outputs * d.wo), 1);
    band = std::min((band_rows + rows - 1) / rows * rows, d.ho);  // whole pixel chunks
  }
  const int64_t bands = (d.ho + band - 1) / band;
  const int64_t chunks = images > 1 ? (d.n + images - 1) / images : d.n * bands;
  std::vector<double> partial(static_cast<size_t>(chunks * outputs));
  parallel_for(0, chunks, 1, [&](int64_t lo, int64_t hi) {
    T* xs = scratch<T, 0>(xs_elems);
    T* acc = scratch<T, 1>(outputs * W);
    thread_local std::vector<const T*> row_pointers;
    row_pointers.resize(static_cast<size_t>(k));
    for (int64_t chunk = lo; chunk < hi; ++chunk) {
      std::fill(acc, acc + outputs * W, T(0));
      const int64_t n0 = images > 1 ? chunk * images : chunk / bands, n1 = std::min(n0 + images, d.n);
      const int64_t oh_begin = images > 1 ? 0 : chunk % bands * band, oh_end = std::min(oh_begin + band, d.ho);
      accumulate_images<T>(x, gy, d, n0, n1, oh_begin, oh_end, rows, xs, row_pointers.data(), acc);
      double* out = partial.data() + chunk * outputs;
      for (int64_t e = 0; e < outputs; ++e) {
        double s = 0.0;
        for (int l = 0; l < W; ++l) s += static_cast<double>(acc[e * W + l]);
        out[e] = s;
      }
    }
  });
  for (int64_t e = 0; e < outputs; ++e) {
    double s = 0.0;
    for (int64_t chunk = 0; chunk < chunks; ++chunk) s += partial[static_cast<size_t>(chunk * outputs + e)];
    gw[e] = static_cast<T>(s);
  }
}

bool thin(const Tensor& x, const ConvGeometry& g) {
  if (!g_thin_enabled.load(std::memory_order_relaxed)) return false;
  if (x.dtype() != DType::F32 && x.dtype() != DType::F64) return false;
  return g.groups == 1 && x.size(1) < kMaxThinChannels;
}

}  // namespace

bool conv2d_thin_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& y, const ConvGeometry& g) {
  // Only with the shifted copies: over im2col rows (strided) the GEMM path was faster.
  if (!thin(x, g) || !uses_shifted_copies(thin_dims(x, w, y, g))) return false;
  if (x.dtype() == DType::F64)
    forward_impl<double>(x, w, bias, y, g);
  else
    forward_impl<float>(x, w, bias, y, g);
  return true;
}

bool conv2d_thin_backward_weight(const Tensor& x, const Tensor& gy, const Tensor& gw, const ConvGeometry& g) {
  if (!thin(x, g)) return false;
  const Thin d = thin_dims(x, gw, gy, g);
  if (!uses_shifted_copies(d) && d.k() > kMaxStridedK) return false;
  if (x.dtype() == DType::F64)
    backward_weight_impl<double>(x, gy, gw, g);
  else
    backward_weight_impl<float>(x, gy, gw, g);
  return true;
}

void conv2d_set_thin_enabled(bool enabled) { g_thin_enabled.store(enabled); }
bool conv2d_thin_enabled() { return g_thin_enabled.load(); }

}  // namespace strata::kernels::cpu
