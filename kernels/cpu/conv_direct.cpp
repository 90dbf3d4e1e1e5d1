// Direct (implicit-GEMM) convolution on the GEMM's micro-kernel (microkernel.h): forward and
// backward-weight for any stride, backward-data for stride 1.
//
// Why (perf, r18_s1 = batch 32, 64 -> 64, 56x56, 3x3, one thread, Zen 3): the im2col path spent
// a quarter of its time outside the micro-kernel (forward: 74% micro-kernel, the rest im2col's
// memcpy and the GEMM's B packing; backward-data 80% + col2im; backward-weight 62%, the rest
// im2col, a copy of gy, transposing B and page faults), and backward-weight's im2col of one image
// ran on one thread while the other waited. A stride-1 convolution needs no im2col matrix:
//
//  - forward / backward-data ("correlate"): the input is copied once into zero-padded planes
//    (hp x wp). Output pixel (oh, ow) of tap (i, j) reads the padded plane at
//    oh * wp + ow + i * dil_h * wp + j * dil_w, so an NR-pixel B panel [tap][c][NR] is a few
//    short row copies per (channel, tap), packed straight from the image into L1 and used by
//    every MR-row weight panel. One micro-kernel call sums all kh * kw taps (the `segments` of
//    MicroTileArgs; the weights are pre-packed [tap][c][MR]), so the accumulators stay in
//    registers for the whole K = Cin * kh * kw and tiles go straight into y. Panels run over
//    the real output pixels of the whole batch and may straddle two images (7x7 images: a
//    per-image panel grid wasted 23%). Backward-data of a stride-1 convolution is the same
//    correlation of gy with the flipped, transposed weights and padding dil * (k - 1) - pad:
//    no col2im. Packing straight from the unpadded input with clipping (no padded copy) was 3-5%
//    slower at r18_s1 / r18_s4, so the padded copy stays, made in passes of at most ~32 MiB.
//  - the same correlation with B read in place (correlate_in_place): when few output channels
//    share each packed panel and the output rows are cut into short runs (the reference CNN's
//    14x14 and 7x7 outputs), packing cost more than computing a few junk columns. A thread pads
//    one or two images at a time into a buffer that stays in L2, channels an odd number of cache
//    lines apart, and the micro-kernel reads each tap's pixels where they lie, K in channel
//    blocks that fit L1. (Read in place over the whole batch's planes, 13 KiB apart, it had been
//    no faster than packing: a TLB and L1 miss per k step.) plan_in_place says when.
//  - backward-weight: kernels/cpu/conv_direct_weight.cpp.
//
// Measured, CPU time of one pass on one thread (bench_conv pass_*, best of 2-3 on the shared
// box; im2col -> direct, ms): r18_s1 forward 102-112 -> 92-97, backward-data 99-103 -> 92-94,
// backward-weight 118-140 -> 90-93; r18_s2 fwd 101-106 -> 90, bwd-data 98-101 -> 89-91,
// bwd-weight 98-121 -> 87-88; r18_s3 fwd 115 -> 89-97, bwd-data 113 -> 90-94, bwd-weight
// 91-108 -> 86; r18_s4 fwd 118-126 -> 95-108, bwd-data 129-138 -> 94-100, bwd-weight 94-102 ->
// 106. Whole forward+backward on one thread, CPU time against tuned PyTorch (oneDNN) in the
// same sitting: r18_s1 277 vs 286 ms, s2 267 vs 274, s3 263 vs 267, s4 274 vs 307.
// Strided forward and backward-weight (the reference CNN's 3x3 stride-2 layers, see Correlation):
// one thread's CPU time against the im2col path, same sitting, ms: cnn_l2 forward 18.7 -> 18.6,
// backward-weight 20.5 -> 16.1; cnn_l3 forward 19.5 -> 16.0, backward-weight 17.2 -> 16.5.
// In place against packed (one thread, CPU ms): cnn_l2 forward 17.9 -> 15.0, cnn_l3 15.4 -> 13.3,
// r18_s1 92 -> 89 (forward and backward-data).
// Left to others: strided backward-data (conv_strided_data.cpp), fewer than 8 input channels
// (conv_thin.cpp: cnn_l1's 1 -> 32), depthwise (conv.cpp), unpadded 1x1 and fewer than 8 output
// channels per group (im2col + GEMM).
#include "kernels/cpu/conv_direct.h"
#include "kernels/cpu/conv_direct_weight.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <type_traits>
#include <utility>
#include <vector>

#include "kernels/cpu/conv_common.h"
#include "kernels/cpu/microkernel.h"
#include "kernels/cpu/parallel.h"

namespace strata::kernels::cpu {
namespace {

using detail::KernelSet;
using detail::MicroTileArgs;

std::atomic<bool> g_direct_enabled{true};

std::atomic<bool> g_in_place_enabled{true};

// Below this many input or output channels per group im2col wins: few input channels make the
// per-tap reduction short, few output channels leave most of an MR-row tile empty while the B
// panel is packed all the same (cnn_l1's backward-data, 32 -> 1 channel, ran 10x slower).
constexpr int64_t kMinChannels = 8;


// dst[0, n) = src[0, n) for the rows of a B panel and the runs of a tile: one fixed-size copy per
// length up to 16,
// which the compiler emits as a few moves. (A loop, even of SSE2 moves, was turned back into a
// memmove call, whose call and spills cost a sixth of cnn_l2's forward.)
template <class T, size_t... N>
inline void copy_short_impl(T* __restrict dst, const T* __restrict src, int64_t n, std::index_sequence<N...>) {
  const bool done = ((n == static_cast<int64_t>(N + 1) ? (std::memcpy(dst, src, (N + 1) * sizeof(T)), true) : false) || ...);
  if (!done) std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(T));
}
template <class T>
inline void copy_short(T* __restrict dst, const T* __restrict src, int64_t n) {
  if (n == 16) return static_cast<void>(std::memcpy(dst, src, 16 * sizeof(T)));  // an NR-wide panel row
  if (n == 8) return static_cast<void>(std::memcpy(dst, src, 8 * sizeof(T)));
  copy_short_impl(dst, src, n, std::make_index_sequence<16>{});
}

// A correlation y[n][o][oh][ow] = sum over c, taps (i, j) of A_tap(o, c) *
// x[n][c][oh * sh + i * dh - ph][ow * sw + j * dw - pw] with zero padding (ph, pw), dilation
// (dh, dw) and stride (sh, sw). The padded planes hold exactly the rows and columns some output
// pixel reads (input rows or columns past them are never read, so they are not copied).
//
// Strided convolutions: each padded plane is stored as sh * sw phase planes of hq x wq, phase
// (a, b) holding the padded pixels (r * sh + a, q * sw + b). Tap (i, j) of output pixel (oh, ow)
// is then pixel (oh + i * dh / sh, ow + j * dw / sw) of phase (i * dh % sh, j * dw % sw): the B
// panel's rows are contiguous runs again, packed exactly as for stride 1 (gathering every
// second element per tap instead cost the reference CNN's stride-2 forward ~25% more time in
// packing). Stride 1 is the single phase hq x wq = hp x wp.
struct Correlation {
  int64_t n, ci, h, w;  // input images
  int64_t co, ho, wo;   // output images
  int64_t kh, kw, dh, dw, ph, pw, groups;
  int64_t sh = 1, sw = 1;
  int64_t hp() const { return (ho - 1) * sh + dh * (kh - 1) + 1; }
  int64_t wp() const { return (wo - 1) * sw + dw * (kw - 1) + 1; }
  int64_t hq() const { return (hp() + sh - 1) / sh; }
  int64_t wq() const { return (wp() + sw - 1) / sw; }
  int64_t plane() const { return sh * sw * hq() * wq(); }  // all phases of one channel
  int64_t cig() const { return ci / groups; }
  int64_t cog() const { return co / groups; }
  int64_t taps() const { return kh * kw; }
};

// Copies one image plane [h][w] into a zero-padded plane [hp][wp] (image at row ph, column pw).
template <class T>
void pad_plane(const T* src, int64_t h, int64_t w, int64_t ph, int64_t pw, int64_t hp, int64_t wp, T* dst) {
  const int64_t left = std::min(pw, wp), cols = std::max<int64_t>(std::min(w, wp - pw), 0);
  for (int64_t r = 0; r < hp; ++r) {
    T* row = dst + r * wp;
    const int64_t ih = r - ph;
    if (ih < 0 || ih >= h) {
      std::fill(row, row + wp, T(0));
      continue;
    }
    std::fill(row, row + left, T(0));
    std::memcpy(row + left, src + ih * w, sizeof(T) * cols);
    std::fill(row + left + cols, row + wp, T(0));
  }
}

// The strided counterpart of pad_plane: one padded plane as its sh * sw phase planes (see
// Correlation), written to dst [sh * sw][hq][wq].
template <class T>
void pad_phase_plane(const T* src, const Correlation& cr, T* dst, int64_t phase_stride) {
  const int64_t hq = cr.hq(), wq = cr.wq();
  if (cr.sw == 2) {
    // Zero the phase planes, then split each input row into its even and odd columns, which land
    // in phases (a, pw & 1) and (a, (pw + 1) & 1). (Row by row per phase, with a scalar strided
    // loop, this copy was a tenth of the reference CNN's stride-2 forward; its rows are 7-15 wide.)
    for (int64_t ph = 0; ph < cr.sh * 2; ++ph)
      std::memset(dst + ph * phase_stride, 0, sizeof(T) * static_cast<size_t>(hq * wq));
    const int64_t q_even = cr.pw >> 1, q_odd = (cr.pw + 1) >> 1;
    const int64_t n_even = std::clamp<int64_t>(std::min((cr.w + 1) / 2, wq - q_even), 0, cr.w);
    const int64_t n_odd = std::clamp<int64_t>(std::min(cr.w / 2, wq - q_odd), 0, cr.w);
    const int64_t vec = std::min(n_even, n_odd);  // pairs (even, odd) moved together
    for (int64_t ih = 0; ih < cr.h; ++ih) {
      const int64_t padded = ih + cr.ph, a = padded % cr.sh, r = padded / cr.sh;
      if (r >= hq) continue;
      const T* in = src + ih * cr.w;
      T* even = dst + (a * 2 + (cr.pw & 1)) * phase_stride + r * wq + q_even;
      T* odd = dst + (a * 2 + ((cr.pw + 1) & 1)) * phase_stride + r * wq + q_odd;
      int64_t k = 0;
#if defined(__SSE2__)
      if constexpr (std::is_same_v<T, float>) {
        for (; k + 4 <= vec; k += 4) {  // reads in[2k .. 2k + 7], 2k + 7 < 2 * vec <= w
          const __m128 lo = _mm_loadu_ps(in + 2 * k), hi = _mm_loadu_ps(in + 2 * k + 4);
          _mm_storeu_ps(even + k, _mm_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0)));
          _mm_storeu_ps(odd + k, _mm_shuffle_ps(lo, hi, _MM_SHUFFLE(3, 1, 3, 1)));
        }
      }
#endif
      for (int64_t e = k; e < n_even; ++e) even[e] = in[2 * e];
      for (int64_t o = k; o < n_odd; ++o) odd[o] = in[2 * o + 1];
    }
    return;
  }
  for (int64_t a = 0; a < cr.sh; ++a)
    for (int64_t b = 0; b < cr.sw; ++b) {
      T* phase = dst + (a * cr.sw + b) * phase_stride;
      // Columns q with 0 <= q * sw + b - pw < w come from the input, the rest are padding.
      const int64_t q0 = std::min(wq, std::max<int64_t>(0, ceil_div(cr.pw - b, cr.sw)));
      const int64_t q1 = std::max(q0, std::min(wq, ceil_div(cr.w + cr.pw - b, cr.sw)));
      for (int64_t r = 0; r < hq; ++r) {
        T* row = phase + r * wq;
        const int64_t ih = r * cr.sh + a - cr.ph;
        if (ih < 0 || ih >= cr.h) {
          std::fill(row, row + wq, T(0));
          continue;
        }
        const T* in = src + ih * cr.w + (q0 * cr.sw + b - cr.pw);
        std::fill(row, row + q0, T(0));
        for (int64_t q = q0; q < q1; ++q) row[q] = in[(q - q0) * cr.sw];
        std::fill(row + q1, row + wq, T(0));
      }
    }
}

// Copies the images [n][c][h][w] into their padded (stride 1) or phase (strided) planes
// [n][c][plane], followed by `slack` zeros.
template <class T>
void pad_images(const T* x, const Correlation& cr, T* xp, int64_t slack) {
  const int64_t planes = cr.n * cr.ci, plane = cr.plane();
  parallel_for(0, planes, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t pl = lo; pl < hi; ++pl) {
      const T* src = x + pl * cr.h * cr.w;
      if (cr.sh == 1 && cr.sw == 1)
        pad_plane(src, cr.h, cr.w, cr.ph, cr.pw, cr.hq(), cr.wq(), xp + pl * plane);
      else
        pad_phase_plane(src, cr, xp + pl * plane, cr.hq() * cr.wq());
    }
  });
  std::fill(xp + planes * plane, xp + planes * plane + slack, T(0));
}

// Packs the weights of every (group, MR-row panel) as [channel block][tap][c][MR], zero-padded
// rows: value(g, row, tap, c) is A_tap(row, c) of group g. Channel blocks of `cblock` channels
// (the last one shorter; one block by default) let a micro-kernel call sum the taps of a block
// only.
template <class T, class F>
std::vector<T> pack_weights(const Correlation& cr, int mr, F&& value, int64_t cblock = 0) {
  const int64_t cog = cr.cog(), cig = cr.cig(), taps = cr.taps(), ncp = ceil_div(cog, mr);
  if (cblock <= 0) cblock = cig;
  std::vector<T> out(static_cast<size_t>(cr.groups * ncp * taps * cig * mr), T(0));
  T* p = out.data();
  for (int64_t g = 0; g < cr.groups; ++g)
    for (int64_t ir = 0; ir < ncp; ++ir)
      for (int64_t c0 = 0; c0 < cig; c0 += cblock)
        for (int64_t t = 0; t < taps; ++t)
          for (int64_t c = c0; c < std::min(cig, c0 + cblock); ++c, p += mr)
            for (int64_t r = 0; r < mr && ir * mr + r < cog; ++r) p[r] = value(g, ir * mr + r, t, c);
  return out;
}

// Tap (i, j) of Correlation as an offset into one channel's planes: its phase plane, then the
// shift inside it. Phase planes lie phase_stride apart (hq * wq unless several images' planes
// of a phase are stacked).
std::vector<int64_t> tap_offsets(const Correlation& cr, int64_t phase_stride) {
  std::vector<int64_t> offs(static_cast<size_t>(cr.taps()));
  for (int64_t i = 0; i < cr.kh; ++i)
    for (int64_t j = 0; j < cr.kw; ++j) {
      const int64_t di = i * cr.dh, dj = j * cr.dw;
      offs[i * cr.kw + j] = ((di % cr.sh) * cr.sw + dj % cr.sw) * phase_stride + di / cr.sh * cr.wq() + dj / cr.sw;
    }
  return offs;
}

// Runs the correlation with pre-packed weights; bias (per output channel) may be null.
template <class T>
void correlate_images(const T* x, const Correlation& cr, const std::vector<T>& apack, const T* bias, T* y) {
  const KernelSet<T>& ks = kernels<T>();
  const int mr = ks.mr, nr = ks.nr;
  const int64_t wq = cr.wq(), plane = cr.plane();
  const int64_t cig = cr.cig(), cog = cr.cog(), taps = cr.taps(), ncp = ceil_div(cog, mr);
  T* xp = scratch<T, 0>(cr.n * cr.ci * plane + nr);
  pad_images(x, cr, xp, nr);

  const std::vector<int64_t> offs = tap_offsets(cr, cr.hq() * cr.wq());

  // Tasks: chunks of nc output pixels of the whole batch (pixel index nn * howo + p), nc a
  // multiple of NR from the shapes only. Panels may straddle two images, so small images
  // (7x7 = 49 pixels) fill whole NR-pixel panels (per-image panels wasted 23% at r18_s4).
  const int64_t howo = cr.ho * cr.wo, total = cr.n * howo;
  // (Any chunking gives the same bits: every output element is one tile's full reduction. At
  // least 4 chunks per thread keep two threads even on small batches of small images.)
  const int64_t per_thread = ceil_div(total, 4 * static_cast<int64_t>(get_num_threads()));
  const int64_t nc = std::clamp<int64_t>(ceil_div(per_thread, nr) * nr, nr, 24 * nr);
  const int64_t chunks = ceil_div(total, nc);
  parallel_for(0, chunks, 1, [&](int64_t lo, int64_t hi) {
    T* bbuf = scratch<T, 4>(taps * cig * nr);
    alignas(64) T tmp[64 * 64];  // an edge tile that straddles two images (MR * NR <= 4096)
    struct Run {
      int64_t dst, src, len;  // bbuf column, offset of the pixel in the padded planes, pixels
    };
    std::vector<Run> runs;
    MicroTileArgs<T> tile;
    tile.alpha = T(1);
    tile.beta = T(0);
    tile.kc = taps * cig;
    tile.b = bbuf;
    tile.b_k_stride = nr;
    for (int64_t task = lo; task < hi; ++task) {
      const int64_t p0 = task * nc, p1 = std::min(p0 + nc, total);
      for (int64_t g = 0; g < cr.groups; ++g) {
        const T* xg = xp + g * cig * plane;
        for (int64_t jr = p0; jr < p1; jr += nr) {
          // B panel [tap][c][NR]: NR output pixels (runs along output rows) of every shifted
          // plane, in L1 for the co-panels below.
          const int n_valid = static_cast<int>(std::min<int64_t>(nr, p1 - jr));
          runs.clear();
          for (int64_t v = jr; v < jr + n_valid;) {
            const int64_t nn = v / howo, p = v % howo, oh = p / cr.wo, ow = p % cr.wo;
            const int64_t len = std::min(cr.wo - ow, jr + n_valid - v);
            runs.push_back({v - jr, nn * cr.ci * plane + oh * wq + ow, len});
            v += len;
          }
          const bool whole = runs.size() == 1 && n_valid == nr;
          for (int64_t c = 0; c < cig; ++c) {
            const T* src = xg + c * plane;
            // The last tap row meets new lines of every plane: fetch them a few panels ahead
            // (one stream per channel is more than the hardware prefetcher follows).
            __builtin_prefetch(src + runs[0].src + offs[taps - 1] + 4 * nr);
            for (int64_t t = 0; t < taps; ++t) {
              T* d = bbuf + (t * cig + c) * nr;
              if (whole) {
                copy_short(d, src + runs[0].src + offs[t], nr);
                continue;
              }
              if (c + 1 < cig) {
                // Runs copied NR wide (one unrolled vector copy instead of a short scalar loop:
                // panels of small images, 14 or 7 pixels wide, are all runs). What spills past a
                // run is overwritten by the next run, zeroed below, or lands in the row of tap t,
                // channel c + 1, which is written after this one. The source has NR of slack.
                for (const Run& r : runs) copy_short(d + r.dst, src + r.src + offs[t], nr);
              } else {  // the spill would reach row (t + 1, 0), already written
                for (const Run& r : runs) copy_short(d + r.dst, src + r.src + offs[t], r.len);
              }
              for (int k = n_valid; k < nr; ++k) d[k] = T(0);
            }
          }
          // C: straight into y when the panel lies in one image, else through tmp.
          const int64_t n_first = jr / howo, n_last = (jr + n_valid - 1) / howo;
          const bool direct = n_first == n_last;
          tile.n_valid = direct ? n_valid : nr;
          tile.ldc = direct ? howo : nr;
          for (int64_t ir = 0; ir < ncp; ++ir) {
            const int64_t o0 = g * cog + ir * mr;
            tile.a = apack.data() + (g * ncp + ir) * taps * cig * mr;
            tile.m_valid = static_cast<int>(std::min<int64_t>(mr, cog - ir * mr));
            tile.c = direct ? y + (n_first * cr.co + o0) * howo + jr % howo : tmp;
            ks.packed_kernel(tile);
            if (direct) continue;
            for (int r = 0; r < tile.m_valid; ++r)
              for (int k = 0; k < n_valid; ++k) {
                const int64_t v = jr + k;
                y[(v / howo * cr.co + o0 + r) * howo + v % howo] = tmp[r * nr + k];
              }
          }
        }
        if (bias) {
          for (int64_t v = p0; v < p1;) {
            const int64_t nn = v / howo, p = v % howo, end = std::min(p1, (nn + 1) * howo);
            for (int64_t o = 0; o < cog; ++o) {
              const T b = bias[g * cog + o];
              T* row = y + (nn * cr.co + g * cog + o) * howo;
              for (int64_t u = p; u < p + (end - v); ++u) row[u] += b;
            }
            v = end;
          }
        }
      }
    }
  });
}

// The correlation with B read in place: no B panel is packed at all.
//
// A thread pads a group of images at a time into its own buffer, laid out [c][phase][image][hq][wq]
// (a few hundred KiB at most, so it stays in L2 while every panel of the group reads it). The two
// vectors of a B row (NR = 2 x W positions) are then read where they lie: k steps of a segment are
// the channels, a channel's planes apart, and the segments are the taps (tap_offsets). The price is
// junk positions, computed and dropped on the way from the tile to y, so a plan is used only while
// they are a small share (kInPlaceWaste). Two plans:
//  - flat: one image per group; a panel is NR consecutive positions oh * wq + ow of the padded-width
//    grid, the junk being the columns ow >= wo and the panel tail (cnn_l2: 14-wide outputs in
//    15-wide phase rows, 224 positions for 196 pixels);
//  - rows: when a padded row fits one vector (wq <= W, as the 7x7 outputs of a stride-2 layer in
//    8-wide phase rows), each vector is one output row, the two rows of a panel taken in order
//    over a pair of images (b_vec_stride of the micro-kernel: the second row need not follow the
//    first), so only the columns ow >= wo are junk (cnn_l3: 8 positions per 7 pixels).
// Against packing the panels from runs of a row (correlate_images): cnn_l2 forward, 1 thread, CPU ms,
// 18.3 -> 15.5 (packing had cost 60% of the micro-kernel's time).
//
// When: the junk costs (computed - real) / real more multiply-adds, packing costs about a copy of
// each B row per run it is cut into (~1 + NR / wo runs per panel), shared by the ceil(Cout / MR)
// tiles that use the panel. In place when the junk share is below that (kPackingWeight: fitted on
// one-thread CPU time, packed -> in place, ms: cnn_l2 17.9 -> 15.0, cnn_l3 15.4 -> 13.3, r18_s1
// 92 -> 89; and the two it rightly leaves packed: r18_s2 88.7 vs 91.3, r18_s3 85.4 vs 93.5),
// and never beyond kInPlaceWaste.
constexpr double kInPlaceWaste = 1.2;  // computed positions / real output pixels
constexpr double kPackingWeight = 1.1;

// B read per channel block (cblock x taps x NR values) stays in L1 next to the A micro-panel.
constexpr int64_t kInPlaceBlockBytes = 20 << 10;

struct InPlacePlan {
  int64_t group = 1;         // images padded together
  int64_t phase_stride = 0;  // between a channel's phase planes: group * hq * wq
  int64_t channel = 0;       // between channels: phases * phase_stride
  int64_t per_image = 0;     // between the planes of consecutive images of a phase: hq * wq
  int64_t cblock = 0;        // channels per micro-kernel call (pack_weights' channel blocks)
  // Per panel: position of its first vector in a channel's phase-(0, 0) planes and the distance to
  // its second vector; its real pixels as runs [first_run[j], first_run[j + 1]).
  std::vector<int64_t> start, vec_stride, first_run;
  struct Run {
    int col;                 // tile column
    int64_t image, pixel, len;  // image of the group, output pixel oh * wo + ow
  };
  std::vector<Run> runs;
};

// The plan for MR x NR tiles, or false when neither suits the shapes.
bool plan_in_place(const Correlation& cr, int mr, int nr, int64_t elem_bytes, InPlacePlan& plan) {
  const int64_t real = cr.ho * cr.wo, wq = cr.wq(), hq = cr.hq(), width = nr / 2;
  // Whole images per task: small batches are left to the packed path. (A fixed count, never the
  // thread count: the two paths round differently when K is split into channel blocks.)
  if (real == 0 || cr.n < 4) return false;
  const int64_t phases = cr.sh * cr.sw;
  const auto worth = [&](int64_t computed) {
    const double junk = static_cast<double>(computed - real) / static_cast<double>(real);
    const double packing = (1.0 + static_cast<double>(nr) / static_cast<double>(cr.wo)) /
                           static_cast<double>(ceil_div(cr.cog(), mr));
    return junk <= kInPlaceWaste - 1.0 && junk < kPackingWeight * packing;
  };
  const auto add_run = [&](int col, int64_t image, int64_t pixel, int64_t len) {
    plan.runs.push_back({col, image, pixel, len});
  };
  if (worth(ceil_div(cr.ho * wq, nr) * nr)) {
    plan.group = 1;
    const int64_t panels = ceil_div(cr.ho * wq, nr);
    for (int64_t j = 0; j < panels; ++j) {
      plan.start.push_back(j * nr);
      plan.vec_stride.push_back(width);
      plan.first_run.push_back(static_cast<int64_t>(plan.runs.size()));
      for (int64_t p = j * nr; p < std::min((j + 1) * nr, cr.ho * wq);) {
        const int64_t oh = p / wq, ow = p % wq, end = std::min((j + 1) * nr, (oh + 1) * wq);
        if (ow < cr.wo) add_run(static_cast<int>(p - j * nr), 0, oh * cr.wo + ow, std::min(cr.wo, end - oh * wq) - ow);
        p = end;
      }
    }
  } else if (wq <= width && worth(real / cr.wo * width)) {
    plan.group = 2;
    const int64_t rows = plan.group * cr.ho;  // (image, oh) in order
    const auto position = [&](int64_t r) { return r / cr.ho * hq * wq + r % cr.ho * wq; };
    for (int64_t r = 0; r < rows; r += 2) {
      const int64_t second = std::min(r + 1, rows - 1);  // an odd last row reads itself twice
      plan.start.push_back(position(r));
      plan.vec_stride.push_back(second == r ? width : position(second) - position(r));
      plan.first_run.push_back(static_cast<int64_t>(plan.runs.size()));
      for (int64_t v = 0; v < 2 && r + v < rows; ++v)
        add_run(static_cast<int>(v * width), (r + v) / cr.ho, (r + v) % cr.ho * cr.wo, cr.wo);
    }
  } else {
    return false;
  }
  plan.first_run.push_back(static_cast<int64_t>(plan.runs.size()));
  plan.per_image = hq * wq;
  // Without blocks, K = 576 (r18_s1, cnn_l3) read in place missed L1: 8-14% slower than packing.
  const int64_t widest = std::clamp<int64_t>(kInPlaceBlockBytes / (cr.taps() * nr * elem_bytes), 1, cr.cig());
  plan.cblock = ceil_div(cr.cig(), ceil_div(cr.cig(), widest));  // even blocks: 64 -> 32 + 32
  plan.phase_stride = plan.group * hq * wq;
  // Channels an odd number of cache lines apart: k steps walk the channels, and power-of-two
  // strides (cnn_l3's 2 KiB, r18_s3's 1 KiB) would put every channel's lines in the same few L1 sets.
  const int64_t line = 64 / elem_bytes;
  plan.channel = ceil_div(phases * plan.phase_stride, line) * line;
  if (plan.channel / line % 2 == 0) plan.channel += line;
  return true;
}

template <class T>
void correlate_in_place(const T* x, const Correlation& cr, const InPlacePlan& plan, const std::vector<T>& apack,
                        const T* bias, T* y) {
  const KernelSet<T>& ks = kernels<T>();
  const int mr = ks.mr, nr = ks.nr;
  const int64_t howo = cr.ho * cr.wo, plane_in = cr.h * cr.w;
  const int64_t cig = cr.cig(), cog = cr.cog(), taps = cr.taps(), ncp = ceil_div(cog, mr);
  const std::vector<int64_t> offs = tap_offsets(cr, plan.phase_stride);
  const int64_t panels = static_cast<int64_t>(plan.start.size());
  // Reads run past the last channel by at most the last panel's reach plus a tap shift.
  int64_t reach = 0;
  for (size_t j = 0; j < plan.start.size(); ++j)
    reach = std::max(reach, plan.start[j] + std::max<int64_t>(plan.vec_stride[j], nr / 2) + nr / 2);
  reach += *std::max_element(offs.begin(), offs.end());
  const int64_t slack = std::max<int64_t>(reach - plan.channel, 0) + nr;
  const int64_t groups_of_images = ceil_div(cr.n, plan.group);

  parallel_for(0, groups_of_images, 1, [&](int64_t lo, int64_t hi) {
    T* xp = scratch<T, 6>(cr.ci * plan.channel + slack);
    T* tiles = scratch<T, 7>(ncp * mr * nr);  // the panel's C tiles, one per MR-row panel
    MicroTileArgs<T> tile;
    tile.alpha = T(1);
    tile.segments = static_cast<int>(taps);
    tile.b_offsets = offs.data();
    tile.b_k_stride = plan.channel;
    tile.ldc = nr;
    tile.n_valid = nr;
    for (int64_t gr = lo; gr < hi; ++gr) {
      const int64_t img0 = gr * plan.group, count = std::min(plan.group, cr.n - img0);
      for (int64_t c = 0; c < cr.ci; ++c)
        for (int64_t b = 0; b < plan.group; ++b) {
          T* dst = xp + c * plan.channel + b * plan.per_image;
          if (b >= count) {  // a missing last image of the group: its planes are only read as junk
            for (int64_t ph = 0; ph < cr.sh * cr.sw; ++ph)
              std::fill(dst + ph * plan.phase_stride, dst + ph * plan.phase_stride + plan.per_image, T(0));
            continue;
          }
          const T* src = x + ((img0 + b) * cr.ci + c) * plane_in;
          if (cr.sh == 1 && cr.sw == 1)
            pad_plane(src, cr.h, cr.w, cr.ph, cr.pw, cr.hq(), cr.wq(), dst);
          else
            pad_phase_plane(src, cr, dst, plan.phase_stride);
        }
      std::fill(xp + cr.ci * plan.channel, xp + cr.ci * plan.channel + slack, T(0));
      for (int64_t g = 0; g < cr.groups; ++g) {
        for (int64_t j = 0; j < panels; ++j) {
          tile.b_vec_stride = plan.vec_stride[j];
          // GEMM-style: a channel block of B stays in L1 while every MR-row panel's tile takes
          // its share; the tiles wait in `tiles` for the next block.
          for (int64_t c0 = 0; c0 < cig; c0 += plan.cblock) {
            const int64_t cb = std::min(plan.cblock, cig - c0);
            tile.kc = cb;
            tile.beta = c0 == 0 ? T(0) : T(1);
            tile.b = xp + (g * cig + c0) * plan.channel + plan.start[j];
            for (int64_t ir = 0; ir < ncp; ++ir) {
              tile.a = apack.data() + ((g * ncp + ir) * cig + c0) * taps * mr;
              tile.m_valid = static_cast<int>(std::min<int64_t>(mr, cog - ir * mr));
              tile.c = tiles + ir * mr * nr;
              ks.packed_kernel(tile);
            }
          }
          for (int64_t ir = 0; ir < ncp; ++ir) {
            const int64_t o0 = g * cog + ir * mr;
            const int rows = static_cast<int>(std::min<int64_t>(mr, cog - ir * mr));
            for (int64_t u = plan.first_run[j]; u < plan.first_run[j + 1]; ++u) {
              const InPlacePlan::Run& run = plan.runs[u];
              if (run.image >= count) continue;
              T* yimg = y + ((img0 + run.image) * cr.co + o0) * howo + run.pixel;
              for (int r = 0; r < rows; ++r) {
                T* yrow = yimg + r * howo;
                const T* trow = tiles + (ir * mr + r) * nr + run.col;
                if (bias == nullptr) {
                  copy_short(yrow, trow, run.len);
                } else {
                  const T b = bias[o0 + r];
                  for (int64_t k = 0; k < run.len; ++k) yrow[k] = trow[k] + b;
                }
              }
            }
          }
        }
      }
    }
  });
}

// The correlation of x with the weights value(g, row, tap, c) (see pack_weights): in place when
// that suits the shapes, else in passes over as many images as fit a padded buffer of about
// 32 MiB (the buffer is per thread and kept for later calls, so it must not grow with the batch).
template <class T, class F>
void correlate(const T* x, const Correlation& cr, F&& value, const T* bias, T* y) {
  if (InPlacePlan plan; g_in_place_enabled.load(std::memory_order_relaxed) && plan_in_place(cr, kernels<T>().mr, kernels<T>().nr, sizeof(T), plan)) {
    correlate_in_place(x, cr, plan, pack_weights<T>(cr, kernels<T>().mr, value, plan.cblock), bias, y);
    return;
  }
  const auto apack = pack_weights<T>(cr, kernels<T>().mr, value);
  const int64_t per_image = std::max<int64_t>(cr.ci * cr.plane() * static_cast<int64_t>(sizeof(T)), 1);
  const int64_t step = std::clamp<int64_t>((int64_t{32} << 20) / per_image, 1, cr.n);
  for (int64_t n0 = 0; n0 < cr.n; n0 += step) {
    Correlation part = cr;
    part.n = std::min(step, cr.n - n0);
    correlate_images(x + n0 * cr.ci * cr.h * cr.w, part, apack, bias, y + n0 * cr.co * cr.ho * cr.wo);
  }
}

bool usable(const Tensor& t) { return t.dtype() == DType::F32 || t.dtype() == DType::F64; }

bool common_ok(const ConvGeometry& g, int64_t cin, int64_t kh, int64_t kw) {
  if (!g_direct_enabled.load(std::memory_order_relaxed)) return false;
  if (g.groups > 1 && g.groups == cin) return false;  // depthwise: conv.cpp's direct kernels
  if (kh == 1 && kw == 1 && g.pad_h == 0 && g.pad_w == 0) return false;  // already a plain GEMM
  return true;
}

template <class T>
void forward_impl(const Tensor& xt, const Tensor& wt, const Tensor& bt, const Tensor& yt, const ConvGeometry& g) {
  const Correlation cr{xt.size(0), xt.size(1), xt.size(2), xt.size(3), wt.size(0), yt.size(2), yt.size(3),
                       wt.size(2), wt.size(3), g.dil_h, g.dil_w, g.pad_h, g.pad_w, g.groups, g.stride_h, g.stride_w};
  const T* w = wt.data<T>();
  const int64_t cig = cr.cig(), cog = cr.cog(), taps = cr.taps();
  const auto value = [&](int64_t gi, int64_t r, int64_t t, int64_t c) { return w[((gi * cog + r) * cig + c) * taps + t]; };
  correlate<T>(xt.data<T>(), cr, value, bt.defined() ? bt.data<T>() : nullptr, yt.data<T>());
}

template <class T>
void backward_data_impl(const Tensor& gyt, const Tensor& wt, const Tensor& bt, const Tensor& gxt,
                        const ConvGeometry& g) {
  const int64_t kh = wt.size(2), kw = wt.size(3);
  // gx = correlation of gy with w[co][c] flipped, padding dil * (k - 1) - pad.
  const Correlation cr{gyt.size(0), gyt.size(1), gyt.size(2), gyt.size(3), gxt.size(1), gxt.size(2), gxt.size(3),
                       kh, kw, g.dil_h, g.dil_w, g.dil_h * (kh - 1) - g.pad_h, g.dil_w * (kw - 1) - g.pad_w, g.groups};
  const T* w = wt.data<T>();
  const int64_t cig = cr.cig(), cog = cr.cog(), taps = cr.taps();  // cig: Cout / groups, cog: Cin / groups
  const auto value = [&](int64_t gi, int64_t r, int64_t t, int64_t c) {
    return w[((gi * cig + c) * cog + r) * taps + (taps - 1 - t)];
  };
  correlate<T>(gyt.data<T>(), cr, value, bt.defined() ? bt.data<T>() : nullptr, gxt.data<T>());
}

}  // namespace

bool conv2d_direct_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& y,
                           const ConvGeometry& g) {
  const int64_t cin = x.size(1), kh = w.size(2), kw = w.size(3);
  if (!usable(x) || !common_ok(g, cin, kh, kw) || cin / g.groups < kMinChannels) return false;
  if (w.size(0) / g.groups < kMinChannels || y.size(2) == 0 || y.size(3) == 0) return false;
  if (x.dtype() == DType::F64)
    forward_impl<double>(x, w, bias, y, g);
  else
    forward_impl<float>(x, w, bias, y, g);
  return true;
}

bool conv2d_direct_backward_data(const Tensor& gy, const Tensor& w, const Tensor& bias, const Tensor& gx,
                                 const ConvGeometry& g) {
  const int64_t cin = gx.size(1), cout = gy.size(1), kh = w.size(2), kw = w.size(3);
  if (!usable(gx) || !common_ok(g, cin, kh, kw) || cout / g.groups < kMinChannels) return false;
  if (cin / g.groups < kMinChannels) return false;
  // A strided convolution's backward-data scatters (a transposed convolution): im2col path.
  // (Splitting it into sh * sw stride-1 correlations of gy by output phase was tried: 1.2-1.7x
  // slower than im2col + col2im at the reference CNN's shapes, each phase's K = Cout * taps being
  // short and gy padded once per phase.)
  if (g.stride_h != 1 || g.stride_w != 1) return false;
  const int64_t ph = g.dil_h * (kh - 1) - g.pad_h, pw = g.dil_w * (kw - 1) - g.pad_w;
  // The flipped correlation needs non-negative padding and gx exactly the forward's input size
  // (conv_transpose2d's output_padding makes it larger: im2col path).
  if (ph < 0 || pw < 0) return false;
  if (gx.size(2) != gy.size(2) + 2 * ph - g.dil_h * (kh - 1)) return false;
  if (gx.size(3) != gy.size(3) + 2 * pw - g.dil_w * (kw - 1)) return false;
  if (gx.dtype() == DType::F64)
    backward_data_impl<double>(gy, w, bias, gx, g);
  else
    backward_data_impl<float>(gy, w, bias, gx, g);
  return true;
}

bool conv2d_direct_backward_weight(const Tensor& x, const Tensor& gy, const Tensor& gw, const ConvGeometry& g) {
  const int64_t cin = x.size(1), kh = gw.size(2), kw = gw.size(3);
  if (!usable(x) || !common_ok(g, cin, kh, kw) || cin / g.groups < kMinChannels) return false;
  if (gy.size(1) / g.groups < kMinChannels) return false;
  if (gy.size(2) == 0 || gy.size(3) == 0) return false;
  direct_backward_weight(x, gy, gw, g);
  return true;
}

void conv2d_set_direct_enabled(bool enabled) { g_direct_enabled.store(enabled); }
bool conv2d_direct_enabled() { return g_direct_enabled.load(); }
void conv2d_set_in_place_enabled(bool enabled) { g_in_place_enabled.store(enabled); }

}  // namespace strata::kernels::cpu
