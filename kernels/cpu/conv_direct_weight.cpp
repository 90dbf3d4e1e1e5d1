// The direct convolution's backward-weight (conv_direct.cpp decides when it applies), split from
// the forward correlation because it shares none of its layouts.
//
// gw[co][c][tap] = sum over images and output pixels of gy * shifted x. The reduction runs along
//  pixels, so both operands are laid out pixel-major once per block of images: gy as MR-row
//  panels [pixel][MR], the padded image phase-split (as the forward's Correlation) and
//  channel-blocked [channel panel][image][phase][pixel][NR]; a task's B panel is then kc
//  NR-channel rows copied in one run per output row at any stride (junk pixels of the padding
//  are never summed: summing over the padded planes cost 65% more multiply-adds at 7x7).
//  Blocking as in the GEMM: a block's panels in L2 (~512 KiB), a pixel chunk of gy panels
//  per task, the task's B panel in L1. Threads own disjoint (group, tap, channel panel) tiles
//  of gw and every element sums images and pixel chunks in one fixed order, so the result is
//  identical for any thread count.
//  Why this shape for the stride-2 layers (perf, cnn_l2, one thread): the micro-kernel was 61%
//  of the pass, the scalar transposes of x and gy into panels 29% and the B gather (a 64-byte
//  copy per output pixel, every second pixel row of the padded plane) 8%. Phase planes make the
//  gather a memcpy per output row; x rows of 4 channels are split into their two column phases
//  and transposed in SSE registers straight into the panel (a staging copy, even vectorized,
//  cost twice as much: short rows, per-row overhead); gy is transposed 4 x 4 (6-row panels:
//  24 contiguous values per 4 pixels); the next panel's x is prefetched (the loads stalled);
//  blocks shrank from 2048 pixels (2.8 MiB of panels at cnn_l3) to what fits L2. Now the
//  micro-kernel is ~75% of the pass. Tried and dropped (no gain within the noise): AVX2 8 x 8
//  row splits (the x phase is bound by loading x, not by shuffles), prefetching the next
//  block during phase 2, inline copies instead of memcpy, 1 MiB blocks, SIMD zero fills.
//
// Measured, backward-weight after the phase-split panels (STRATA_NUM_THREADS=1 bench_conv
// --benchmark_filter=pass_bwd_weight, CPU column, old and new binaries interleaved, best of 6,
// box under load 4-5, ms): cnn_l2 15.9 -> 12.5, cnn_l3 14.9 -> 11.3; best of 3: r18_s1 92.6 ->
// 87.5, r18_s2 89.4 -> 84.6, r18_s3 86.7 -> 84.3, r18_s4 93.4 -> 87.6. Blocks run as a pipeline
// (see backward_weight_impl): 2-thread wall, cnn_l2 7.56 -> 6.79 ms, cnn_l3 6.66 -> 6.01, r18_s1
// 50.5 -> 45.9.
#include "kernels/cpu/conv_direct_weight.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "kernels/cpu/conv_common.h"
#include "kernels/cpu/microkernel.h"
#include "kernels/cpu/parallel.h"

namespace strata::kernels::cpu {
namespace {

using detail::KernelSet;
using detail::MicroTileArgs;

// The start of the block after the one at p (blocks of `step` in [0, n)): a last partial block
// becomes a whole one overlapping its predecessor, so the vector loops below need no scalar tail
// (14- and 7-wide rows had one; they only copy, so writing a value twice is harmless).
inline int64_t next_block(int64_t p, int64_t step, int64_t n) {
  return p + step < n && p + 2 * step > n ? n - step : p + step;
}

// dst[p * ds + r] = src[r * ld + p] for r < rows and p < cols: `rows` source rows become the
// columns of a ds-wide panel (x's channel rows -> NR-channel pixel rows, gy's channel rows -> MR
// panels). SSE2 (every x86-64; <emmintrin.h> comes with microkernel.h) moves 4 x 4 float and
// 2 x 2 double blocks through registers: the scalar loop, a store every 64 bytes, was a third of
// the reference CNN's stride-2 backward-weight on one thread.
template <class T>
void transpose_rows(const T* src, int64_t ld, int rows, int64_t cols, T* dst, int64_t ds) {
  int64_t p = 0;
#if defined(__SSE2__)
  // Blocks of 4 (float) or 2 (double) columns, every row group inside: each destination row
  // (often one 64-byte line) is finished while it is in L1.
  if constexpr (std::is_same_v<T, float>) {
    if (rows == 6 && ds == 6) {  // gy's AVX2 MR-row panels: 4 columns are 24 contiguous values
      for (; p + 4 <= cols; p = next_block(p, 4, cols)) {
        const float* s = src + p;
        float* d = dst + p * 6;
        __m128 a0 = _mm_loadu_ps(s), a1 = _mm_loadu_ps(s + ld);
        __m128 a2 = _mm_loadu_ps(s + 2 * ld), a3 = _mm_loadu_ps(s + 3 * ld);
        const __m128 r4 = _mm_loadu_ps(s + 4 * ld), r5 = _mm_loadu_ps(s + 5 * ld);
        _MM_TRANSPOSE4_PS(a0, a1, a2, a3);  // a_k: rows 0-3 of column p + k
        const __m128 lo = _mm_unpacklo_ps(r4, r5), hi = _mm_unpackhi_ps(r4, r5);  // rows 4-5, columns p..p+3
        _mm_storeu_ps(d, a0);
        _mm_storeu_ps(d + 4, _mm_movelh_ps(lo, a1));
        _mm_storeu_ps(d + 8, _mm_shuffle_ps(a1, lo, _MM_SHUFFLE(3, 2, 3, 2)));
        _mm_storeu_ps(d + 12, a2);
        _mm_storeu_ps(d + 16, _mm_movelh_ps(hi, a3));
        _mm_storeu_ps(d + 20, _mm_shuffle_ps(a3, hi, _MM_SHUFFLE(3, 2, 3, 2)));
      }
    }
    for (; p + 4 <= cols; p = next_block(p, 4, cols)) {
      const float* s = src + p;
      float* d = dst + p * ds;
      int r = 0;
      for (; r + 4 <= rows; r += 4) {
        __m128 x0 = _mm_loadu_ps(s + (r + 0) * ld), x1 = _mm_loadu_ps(s + (r + 1) * ld);
        __m128 x2 = _mm_loadu_ps(s + (r + 2) * ld), x3 = _mm_loadu_ps(s + (r + 3) * ld);
        _MM_TRANSPOSE4_PS(x0, x1, x2, x3);
        _mm_storeu_ps(d + r, x0);
        _mm_storeu_ps(d + ds + r, x1);
        _mm_storeu_ps(d + 2 * ds + r, x2);
        _mm_storeu_ps(d + 3 * ds + r, x3);
      }
      if (r + 2 <= rows) {
        const __m128 x0 = _mm_loadu_ps(s + r * ld), x1 = _mm_loadu_ps(s + (r + 1) * ld);
        const __m128 lo = _mm_unpacklo_ps(x0, x1), hi = _mm_unpackhi_ps(x0, x1);
        _mm_storel_pi(reinterpret_cast<__m64*>(d + r), lo);
        _mm_storeh_pi(reinterpret_cast<__m64*>(d + ds + r), lo);
        _mm_storel_pi(reinterpret_cast<__m64*>(d + 2 * ds + r), hi);
        _mm_storeh_pi(reinterpret_cast<__m64*>(d + 3 * ds + r), hi);
        r += 2;
      }
      for (; r < rows; ++r)
        for (int k = 0; k < 4; ++k) d[k * ds + r] = s[r * ld + k];
    }
  } else if constexpr (std::is_same_v<T, double>) {
    for (; p + 2 <= cols; p = next_block(p, 2, cols)) {
      const double* s = src + p;
      double* d = dst + p * ds;
      int r = 0;
      for (; r + 2 <= rows; r += 2) {
        const __m128d x0 = _mm_loadu_pd(s + r * ld), x1 = _mm_loadu_pd(s + (r + 1) * ld);
        _mm_storeu_pd(d + r, _mm_unpacklo_pd(x0, x1));
        _mm_storeu_pd(d + ds + r, _mm_unpackhi_pd(x0, x1));
      }
      for (; r < rows; ++r) {
        d[r] = s[r * ld];
        d[ds + r] = s[r * ld + 1];
      }
    }
  }
#endif
  for (; p < cols; ++p)
    for (int r = 0; r < rows; ++r) dst[p * ds + r] = src[r * ld + p];
}

// The layout backward-weight reads its B panels from: every image of a block zero-padded as in
// Correlation (the rows and columns some output pixel reads), split into its sh * sw phase planes
// (phase (a, b) holds padded pixel (r * sh + a, q * sw + b); stride 1 is the single padded plane)
// and channel-blocked: [group][channel panel][image][phase][hq][wq][NR]. Tap (i, j) of output
// pixel (oh, ow) is pixel (oh + i * dh / sh, ow + j * dw / sw) of phase (i * dh % sh, j * dw % sw),
// so the B rows of consecutive output pixels of a row are consecutive NR-channel rows for any
// stride: one memcpy per output row.
struct PhaseLayout {
  int64_t h, w;      // input images
  int64_t sh, sw, ph, pw;
  int64_t hp, wp;    // padded planes
  int64_t hq, wq;    // phase planes: ceil(hp / sh) x ceil(wp / sw)
  int64_t nr;        // channels per panel
  int64_t plane() const { return sh * sw * hq * wq; }  // pixels of one image of a channel panel
};

// d0[m] = s[2 * m] and d1[m] = s[2 * m + 1] for m < pairs: a row of a stride-2 input split into
// its two column phases. In registers (SSE2): the vectorized plain loop spent more time in its
// alias checks and tails than in copying (the reference CNN's rows are 28 values).
template <class T>
inline void split_pairs(const T* __restrict s, int64_t pairs, T* __restrict d0, T* __restrict d1) {
  int64_t m = 0;
#if defined(__SSE2__)
  if constexpr (std::is_same_v<T, float>) {
    for (; m + 4 <= pairs; m += 4) {
      const __m128 a = _mm_loadu_ps(s + 2 * m), b = _mm_loadu_ps(s + 2 * m + 4);
      _mm_storeu_ps(d0 + m, _mm_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0)));
      _mm_storeu_ps(d1 + m, _mm_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1)));
    }
  } else if constexpr (std::is_same_v<T, double>) {
    for (; m + 2 <= pairs; m += 2) {
      const __m128d a = _mm_loadu_pd(s + 2 * m), b = _mm_loadu_pd(s + 2 * m + 2);
      _mm_storeu_pd(d0 + m, _mm_unpacklo_pd(a, b));
      _mm_storeu_pd(d1 + m, _mm_unpackhi_pd(a, b));
    }
  }
#endif
  for (; m < pairs; ++m) {
    d0[m] = s[2 * m];
    d1[m] = s[2 * m + 1];
  }
}

#if defined(__SSE2__)
// channel_panel_of_image for float, column stride 2 and whole groups of 4 channels, without the
// channel-major staging buffer: every input row of 4 channels is split into its two column phases
// and transposed in registers straight into the panel (staging, then transposing, cost the
// reference CNN's second layer twice the time of this).
inline void split_pairs_into_panel(const float* xc, const PhaseLayout& L, int cn, int64_t ih1, int64_t iw1,
                                   float* dst, int64_t prefetch_bytes) {
  const int64_t hw = L.h * L.w, nr = L.nr, wq = L.wq, pairs = iw1 / 2;
  // Input column 2m + e is padded column 2m + e + pw: phase (e + pw) % 2, column m + (e + pw) / 2.
  const int64_t b_even = L.pw & 1, q_even = L.pw >> 1, b_odd = (L.pw + 1) & 1, q_odd = (L.pw + 1) >> 1;
  // Zeros: the lanes past cn, else only the padding rows and columns (not the whole panel).
  if (cn < nr) {
    std::fill(dst, dst + L.plane() * nr, 0.0f);
  } else {
    for (int64_t a = 0; a < L.sh; ++a)
      for (int64_t b = 0; b < 2; ++b)
        for (int64_t rr = 0; rr < L.hq; ++rr) {
          float* row = dst + ((a * 2 + b) * L.hq + rr) * wq * nr;
          const int64_t r = rr * L.sh + a;
          if (r < L.ph || r >= L.ph + ih1) {
            std::fill(row, row + wq * nr, 0.0f);
            continue;
          }
          const int64_t q0 = b == b_even ? q_even : q_odd, q1 = q0 + (b == b_even ? iw1 - pairs : pairs);
          std::fill(row, row + q0 * nr, 0.0f);
          std::fill(row + q1 * nr, row + wq * nr, 0.0f);
        }
  }
  // The loads of x stalled (each row of 4-channel groups is 16 streams 784 bytes apart at
  // cnn_l3): spread prefetches for the next panel's channels, the contiguous run of
  // prefetch_bytes after these, over the rows.
  const char* next = reinterpret_cast<const char*>(xc + cn * hw);
  const int64_t bytes = prefetch_bytes;
  const int64_t ahead = ih1 > 0 ? ceil_div(ceil_div(bytes, 64), ih1) * 64 : 0;
  int64_t a = L.ph % L.sh, rr = L.ph / L.sh;  // padded row ih + ph: row rr of phase (a, .)
  for (int64_t ih = 0; ih < ih1; ++ih, rr += (++a == L.sh), a = a == L.sh ? 0 : a) {
    for (int64_t o = ih * ahead; o < std::min(bytes, (ih + 1) * ahead); o += 64) __builtin_prefetch(next + o);
    float* row_even = dst + (((a * 2 + b_even) * L.hq + rr) * wq + q_even) * nr;
    float* row_odd = dst + (((a * 2 + b_odd) * L.hq + rr) * wq + q_odd) * nr;
    for (int c = 0; c < cn; c += 4) {
      const float* s0 = xc + (c + 0) * hw + ih * L.w;
      const float* s1 = xc + (c + 1) * hw + ih * L.w;
      const float* s2 = xc + (c + 2) * hw + ih * L.w;
      const float* s3 = xc + (c + 3) * hw + ih * L.w;
      float* de = row_even + c;
      float* dodd = row_odd + c;
      int64_t m = 0;
      for (; m + 4 <= pairs; m = next_block(m, 4, pairs)) {
        const __m128 a0 = _mm_loadu_ps(s0 + 2 * m), b0 = _mm_loadu_ps(s0 + 2 * m + 4);
        const __m128 a1 = _mm_loadu_ps(s1 + 2 * m), b1 = _mm_loadu_ps(s1 + 2 * m + 4);
        const __m128 a2 = _mm_loadu_ps(s2 + 2 * m), b2 = _mm_loadu_ps(s2 + 2 * m + 4);
        const __m128 a3 = _mm_loadu_ps(s3 + 2 * m), b3 = _mm_loadu_ps(s3 + 2 * m + 4);
        __m128 e0 = _mm_shuffle_ps(a0, b0, _MM_SHUFFLE(2, 0, 2, 0)), o0 = _mm_shuffle_ps(a0, b0, _MM_SHUFFLE(3, 1, 3, 1));
        __m128 e1 = _mm_shuffle_ps(a1, b1, _MM_SHUFFLE(2, 0, 2, 0)), o1 = _mm_shuffle_ps(a1, b1, _MM_SHUFFLE(3, 1, 3, 1));
        __m128 e2 = _mm_shuffle_ps(a2, b2, _MM_SHUFFLE(2, 0, 2, 0)), o2 = _mm_shuffle_ps(a2, b2, _MM_SHUFFLE(3, 1, 3, 1));
        __m128 e3 = _mm_shuffle_ps(a3, b3, _MM_SHUFFLE(2, 0, 2, 0)), o3 = _mm_shuffle_ps(a3, b3, _MM_SHUFFLE(3, 1, 3, 1));
        _MM_TRANSPOSE4_PS(e0, e1, e2, e3);
        _MM_TRANSPOSE4_PS(o0, o1, o2, o3);
        _mm_storeu_ps(de + (m + 0) * nr, e0);
        _mm_storeu_ps(de + (m + 1) * nr, e1);
        _mm_storeu_ps(de + (m + 2) * nr, e2);
        _mm_storeu_ps(de + (m + 3) * nr, e3);
        _mm_storeu_ps(dodd + (m + 0) * nr, o0);
        _mm_storeu_ps(dodd + (m + 1) * nr, o1);
        _mm_storeu_ps(dodd + (m + 2) * nr, o2);
        _mm_storeu_ps(dodd + (m + 3) * nr, o3);
      }
      for (; m < pairs; ++m) {
        _mm_storeu_ps(de + m * nr, _mm_setr_ps(s0[2 * m], s1[2 * m], s2[2 * m], s3[2 * m]));
        _mm_storeu_ps(dodd + m * nr, _mm_setr_ps(s0[2 * m + 1], s1[2 * m + 1], s2[2 * m + 1], s3[2 * m + 1]));
      }
      if (iw1 & 1) _mm_storeu_ps(de + pairs * nr, _mm_setr_ps(s0[iw1 - 1], s1[iw1 - 1], s2[iw1 - 1], s3[iw1 - 1]));
    }
  }
}
#endif

// Writes cn (<= NR) channels of one image as a channel panel [phase][hq][wq][NR] (lanes past cn
// zero): each channel is first padded and phase-split into tmp (cn * plane values, channel-major),
// reading the image row by row, then the cn rows of tmp are transposed into dst at once; float
// rows of stride 2 skip tmp (split_pairs_into_panel). prefetch_bytes: how much of x follows these
// channels (the next panel's, for that path's prefetches).
template <class T>
void channel_panel_of_image(const T* xc, const PhaseLayout& L, int cn, T* tmp, T* dst, int64_t prefetch_bytes) {
  const int64_t hw = L.h * L.w, plane = L.plane(), pq = L.hq * L.wq;
  // Input rows and columns inside the padded planes; the rest of tmp is padding.
  const int64_t ih1 = std::max<int64_t>(0, std::min(L.h, L.hp - L.ph));
  const int64_t iw1 = std::max<int64_t>(0, std::min(L.w, L.wp - L.pw));
#if defined(__SSE2__)
  if constexpr (std::is_same_v<T, float>) {
    if (L.sw == 2 && cn % 4 == 0) {
      split_pairs_into_panel(xc, L, cn, ih1, iw1, dst, prefetch_bytes);
      return;
    }
  }
#endif
  std::fill(tmp, tmp + cn * plane, T(0));
  for (int k = 0; k < cn; ++k) {
    // Padded row r = ih + ph is row r / sh of phase (r % sh, 0), counted along without divisions.
    int64_t a = L.ph % L.sh, rr = L.ph / L.sh;
    for (int64_t ih = 0; ih < ih1; ++ih, rr += (++a == L.sh), a = a == L.sh ? 0 : a) {
      const T* in = xc + k * hw + ih * L.w;
      T* base = tmp + k * plane + (a * L.sw * L.hq + rr) * L.wq;  // phase (a, 0)
      if (L.sw == 1) {
        std::memcpy(base + L.pw, in, sizeof(T) * iw1);
      } else if (L.sw == 2) {
        // Input column 2m + e is padded column 2m + e + pw: phase (e + pw) % 2, column
        // m + (e + pw) / 2. One pass over the row writes both phases.
        T* d0 = base + (L.pw & 1) * pq + (L.pw >> 1);
        T* d1 = base + ((L.pw + 1) & 1) * pq + ((L.pw + 1) >> 1);
        split_pairs(in, iw1 / 2, d0, d1);
        if (iw1 & 1) d0[iw1 / 2] = in[iw1 - 1];
      } else {
        for (int64_t iw = 0; iw < iw1; ++iw) {
          const int64_t pc = iw + L.pw;
          base[pc % L.sw * pq + pc / L.sw] = in[iw];
        }
      }
    }
  }
  if (cn < L.nr) std::fill(dst, dst + plane * L.nr, T(0));
  transpose_rows(tmp, plane, cn, plane, dst, L.nr);
}

// gw[(g * cog + co) * cig + c][tap] = sum_n sum_q gy[n][g * cog + co][q] * x[n][g * cig + c][q + off(tap)]
template <class T>
void backward_weight_impl(const Tensor& xt, const Tensor& gyt, const Tensor& gwt, const ConvGeometry& g) {
  const KernelSet<T>& ks = kernels<T>();
  const int mr = ks.mr, nr = ks.nr;
  const int64_t n = xt.size(0), cin = xt.size(1), h = xt.size(2), w = xt.size(3);
  const int64_t cout = gyt.size(1), ho = gyt.size(2), wo = gyt.size(3), kh = gwt.size(2), kw = gwt.size(3);
  const int64_t groups = g.groups, cig = cin / groups, cog = cout / groups, taps = kh * kw;
  const int64_t sh = g.stride_h, sw = g.stride_w;
  PhaseLayout L{h, w, sh, sw, g.pad_h, g.pad_w, 0, 0, 0, 0, nr};
  L.hp = (ho - 1) * sh + g.dil_h * (kh - 1) + 1;
  L.wp = (wo - 1) * sw + g.dil_w * (kw - 1) + 1;
  L.hq = ceil_div(L.hp, sh);
  L.wq = ceil_div(L.wp, sw);
  const int64_t plane = L.plane(), wq = L.wq;
  const int64_t ncp = ceil_div(cog, mr), ncpan = ceil_div(cig, nr);
  const T* x = xt.data<T>();
  const T* gy = gyt.data<T>();

  // Tap (i, j): its phase plane, then the shift inside it (see PhaseLayout).
  std::vector<int64_t> offs(static_cast<size_t>(taps));
  for (int64_t i = 0; i < kh; ++i)
    for (int64_t j = 0; j < kw; ++j) {
      const int64_t di = i * g.dil_h, dj = j * g.dil_w;
      offs[i * kw + j] = ((di % sh) * sw + dj % sw) * L.hq * wq + di / sh * wq + dj / sw;
    }

  // Images per block, from the shapes only: the output pixels of a block form one reduction
  // (kb = nb * ho * wo), split into even chunks of at most kc pixels, so small images (7x7) do
  // not re-read and re-write the whole gw accumulator once per image (nb covers at least one
  // chunk). The reduction runs over real output pixels only: summing over the padded planes
  // (zeros of gy in the junk rows and columns) cost 65% more multiply-adds at 7x7 (r18_s4 1.6x
  // slower than im2col). A block's panels (x and gy) are kept to ~512 KiB so that phase 2 reads
  // what phase 1 wrote from L2 (blocks of 2048 pixels, 2.8 MiB at cnn_l3, made cnn_l3 5% slower;
  // r18 unchanged).
  const int64_t howo = ho * wo;
  const int64_t kc = kernels<T>().kc;  // pixel chunk: an A micro-panel stays in L1
  const int64_t per_image = (groups * ncpan * plane * nr + groups * ncp * howo * mr) * static_cast<int64_t>(sizeof(T));
  const int64_t nb_in_l2 = std::max((int64_t{512} << 10) / per_image, ceil_div(kc, howo));
  const int64_t nb = std::clamp<int64_t>(std::min(ceil_div(2048, howo), nb_in_l2), 1, n);
  // The images, padded, phase-split and channel-blocked (PhaseLayout), so a task's B panel (kc
  // pixels x NR channels) is a few contiguous runs. (Pixel-major NHWC rows Cin apart, read in
  // place or copied out per task, were 1.5x slower at r18_s4: with Cin = 512 the rows fall into
  // a few L1 sets and every row is an L2/L3 miss.)
  T* xtp = scratch<T, 2>(groups * ncpan * nb * plane * nr);
  T* gpack = scratch<T, 3>(groups * ncp * nb * howo * mr);  // gy as MR-row panels [pixel][MR]
  // Accumulator tiles, contiguous MR x NR each: [task = (g, tap, channel panel)][co panel].
  // (A per-thread scratch buffer: a fresh vector of 300 KiB, cnn_l3's, page-faulted on every call.)
  const int64_t acc_size = groups * taps * ncpan * ncp * mr * nr;
  T* acc = scratch<T, 7>(acc_size);
  std::fill(acc, acc + acc_size, T(0));
  const int64_t ntasks = groups * taps * ncpan;
  const int64_t a_block = std::clamp<int64_t>((192 << 10) / static_cast<int64_t>(kc * mr * sizeof(T)), 1, ncp);

  // Blocks run as a pipeline of one parallel region each: phase 2 of block b (its gw tiles, from
  // panels packed before) beside phase 1 of block b + 1 (packing its panels into the other
  // buffer), so a block costs one wake-up and one wait of the pool instead of three (cnn_l2 has
  // 43 blocks per pass). Every gw tile still sums the blocks and pixel chunks in the same order.
  struct Block {
    int64_t n0 = 0, nbc = 0, kb = 0, pstride = 0;
    T* xtp = nullptr;
    T* gpack = nullptr;
  };
  T* xtp2 = scratch<T, 8>(groups * ncpan * nb * plane * nr);
  T* gpack2 = scratch<T, 9>(groups * ncp * nb * howo * mr);
  const int64_t blocks = ceil_div(n, nb);
  const auto block_at = [&](int64_t bi) {
    Block B;
    B.n0 = bi * nb;
    B.nbc = std::min(nb, n - B.n0);
    B.kb = B.nbc * howo;
    B.pstride = B.nbc * plane * nr;  // elements per channel panel
    B.xtp = bi % 2 == 0 ? xtp : xtp2;
    B.gpack = bi % 2 == 0 ? gpack : gpack2;
    return B;
  };
  const int64_t gjobs = groups * ncp;
  const auto phase1_jobs = [&](const Block& B) { return B.nbc * groups * ncpan + gjobs; };
  // Phase 1: the channel panels of every image of the block (jobs [0, nbc * groups * ncpan)),
  // then its gy panels.
  const auto phase1 = [&](const Block& B, int64_t lo, int64_t hi) {
    T* tmp = scratch<T, 6>(nr * plane);
    const int64_t xjobs = B.nbc * groups * ncpan;
    for (int64_t job = lo; job < hi; ++job) {
      if (job < xjobs) {
        const int64_t b = job / (groups * ncpan), gp = job % (groups * ncpan);
        const int64_t gi = gp / ncpan, c0 = gp % ncpan * nr;
        const int cn = static_cast<int>(std::min<int64_t>(nr, cig - c0));
        const int64_t x_at = ((B.n0 + b) * cin + gi * cig + c0) * h * w, x_after = x_at + cn * h * w;
        const int64_t next_bytes = std::min(cn * h * w, n * cin * h * w - x_after) * static_cast<int64_t>(sizeof(T));
        channel_panel_of_image(x + x_at, L, cn, tmp, B.xtp + gp * B.pstride + b * plane * nr, next_bytes);
      } else {
        const int64_t panel = job - xjobs, gi = panel / ncp, ir = panel % ncp;
        const int m_valid = static_cast<int>(std::min<int64_t>(mr, cog - ir * mr));
        T* dst = B.gpack + panel * B.kb * mr;
        for (int64_t b = 0; b < B.nbc; ++b) {
          T* db = dst + b * howo * mr;
          transpose_rows(gy + ((B.n0 + b) * cout + gi * cog + ir * mr) * howo, howo, m_valid, howo, db, mr);
          for (int r = m_valid; r < mr; ++r)
            for (int64_t k = 0; k < howo; ++k) db[k * mr + r] = T(0);
        }
      }
    }
  };
  // Phase 2: tasks [lo, hi) (group, tap, channel panel) accumulate their gw tiles over the block.
  const auto phase2 = [&](const Block& B, int64_t lo, int64_t hi) {
    T* bpanel = scratch<T, 5>(kc * nr);
    MicroTileArgs<T> tile;
    tile.alpha = T(1);
    tile.beta = T(1);
    tile.b = bpanel;
    tile.b_k_stride = nr;
    tile.ldc = nr;
    // GEMM-style blocking: a pixel chunk of a block of gy panels (A, ~192 KiB) stays in L2
    // while every task's B panel (kc rows of NR channels) sits in L1.
    const int64_t kb = B.kb, nchunks = ceil_div(kb, kc), chunk = ceil_div(kb, nchunks);
    for (int64_t v0 = 0; v0 < kb; v0 += chunk) {
      tile.kc = std::min(chunk, kb - v0);
      for (int64_t ic = 0; ic < ncp; ic += a_block)
      for (int64_t task = lo; task < hi; ++task) {
        const int64_t gi = task / (taps * ncpan), t = task / ncpan % taps, cp = task % ncpan;
        // B panel: output pixels v0.. of the block, shifted by the tap, in runs along a row.
        const T* panel = B.xtp + (gi * ncpan + cp) * B.pstride + offs[t] * nr;
        for (int64_t v = v0; v < v0 + tile.kc;) {
          const int64_t b = v / howo, oh = v % howo / wo, ow = v % wo;
          const int64_t run = std::min(wo - ow, v0 + tile.kc - v);
          std::memcpy(bpanel + (v - v0) * nr, panel + (b * plane + oh * wq + ow) * nr, sizeof(T) * run * nr);
          v += run;
        }
        tile.n_valid = static_cast<int>(std::min<int64_t>(nr, cig - cp * nr));
        for (int64_t ir = ic; ir < std::min(ncp, ic + a_block); ++ir) {
          tile.a = B.gpack + ((gi * ncp + ir) * kb + v0) * mr;
          tile.c = acc + (task * ncp + ir) * mr * nr;
          tile.m_valid = static_cast<int>(std::min<int64_t>(mr, cog - ir * mr));
          ks.packed_kernel(tile);
        }
      }
    }
  };

  {
    const Block first = block_at(0);
    parallel_for(0, phase1_jobs(first), 1, [&](int64_t lo, int64_t hi) { phase1(first, lo, hi); });
  }
  for (int64_t bi = 0; bi < blocks; ++bi) {
    const Block cur = block_at(bi);
    const bool more = bi + 1 < blocks;
    const Block next = more ? block_at(bi + 1) : Block{};
    const int64_t jobs = ntasks + (more ? phase1_jobs(next) : 0);
    parallel_for(0, jobs, 1, [&](int64_t lo, int64_t hi) {
      if (lo < ntasks) phase2(cur, lo, std::min(hi, ntasks));
      if (hi > ntasks) phase1(next, std::max(lo, ntasks) - ntasks, hi - ntasks);
    });
  }
  // gw from the tiles (the index arithmetic per element, divisions included, cost 2% at cnn_l3).
  T* gw = gwt.data<T>();
  for (int64_t task = 0; task < ntasks; ++task) {
    const int64_t gi = task / (taps * ncpan), t = task / ncpan % taps, cp = task % ncpan;
    const int64_t cn = std::min<int64_t>(nr, cig - cp * nr);
    for (int64_t ir = 0; ir < ncp; ++ir) {
      const T* tile = acc + (task * ncp + ir) * mr * nr;
      const int64_t rn = std::min<int64_t>(mr, cog - ir * mr);
      for (int64_t r = 0; r < rn; ++r) {
        T* out = gw + ((gi * cog + ir * mr + r) * cig + cp * nr) * taps + t;
        for (int64_t k = 0; k < cn; ++k) out[k * taps] = tile[r * nr + k];
      }
    }
  }
}

}  // namespace

void direct_backward_weight(const Tensor& x, const Tensor& gy, const Tensor& gw, const ConvGeometry& g) {
  if (x.dtype() == DType::F64)
    backward_weight_impl<double>(x, gy, gw, g);
  else
    backward_weight_impl<float>(x, gy, gw, g);
}

}  // namespace strata::kernels::cpu
