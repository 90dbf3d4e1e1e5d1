// Backward-data of strided convolutions (gx = conv^T(gy, w), conv_transpose2d's forward) on the
// GEMM's micro-kernel (microkernel.h), split by output phase: no im2col column matrix, no col2im.
//
// Why this shape. With stride s, gx pixel (r * sh + a, q * sw + b) of phase (a, b) receives
// exactly the taps (i, j) with (a + ph - i * dh) % sh == 0 and (b + pw - j * dw) % sw == 0, each
// from gy pixel (r + di, q + dj), di = (a + ph - i * dh) / sh (dj likewise): every phase is a
// stride-1 correlation of gy over a "grid" of ceil(H / sh) x ceil(W / sw) pixels, and every tap
// belongs to exactly one phase, so the phases together do the im2col path's multiply-adds and
// every gx element is one register tile's full reduction, written once (no zeroing, no
// read-modify-write, a fixed summation order: identical bits for any thread count).
//  - tasks run over chunks of grid pixels of the whole batch (panels may straddle images, as in
//    conv_direct.cpp), in blocks of NR-pixel panels. A block's B rows [shift][co][block pixels]
//    are made once and shared by every phase: a (shift, channel) row is gy seen through the
//    shift, which for consecutive grid rows is consecutive gy whenever the grid is as wide as gy
//    (3x3 stride 2 padding 1: one memcpy per image and row, then zeros where the shift leaves
//    gy). 4 shifts for 3x3 stride 2 padding 1. A panel reads its NR columns with the row length
//    as k stride.
//  - a phase's micro-kernel call sums its taps as `segments` (MicroTileArgs), B restarting at the
//    tap's shift, A the weights pre-packed [phase][gx-channel panel][tap][co][MR], so the
//    accumulators stay in registers for the phase's whole K = Cout * taps. For each row a of
//    phases and gx-channel panel (its A chunk in L1) every panel of the block runs: the tiles of
//    phases (a, 0 .. sw-1) go to a small buffer and from there, interleaved, into contiguous
//    runs of gx row r * sh + a.
//  - the next block's gy rows are prefetched a slice of channels at a time (one stream per
//    channel is more than the hardware prefetcher follows: 3-4% at 28x28 images).
// What did not work (same measure as below): gy padded once per phase, four separate
// correlations: 1.2-1.7x slower than im2col (an earlier attempt); one zero-padded copy of gy and
// B panels packed NR pixels at a time, run by run: cnn_l2 18.6 ms (slower than im2col), the
// packing as costly as the stores it made; for 3x3 stride 2, the GEMM C = W^T x gy with gy read
// in place and col2im folded into the tile's write (vector adds of three tile rows into one gx
// row): cnn_l2 16.2 (no better than the phases), cnn_l3 16.3 (49-pixel images waste a third of
// the last NR panel), r18_down4 64.5; a write-prefetch of the gx lines: no effect; cnn_l2's last,
// 2-row gx-channel panel of both phase rows in one 4-row tile (6 tile-segments instead of 9):
// 15.3 -> 15.5, no gain.
// Convolutions with a phase no tap reaches (1x1 stride 2, dilation = stride) go to im2col: the
// path would be mostly a strided memset (ResNet's 1x1 stride-2 at 56x56: 9.7 vs 8.7 ms).
//
// Measured: single-thread CPU time (STRATA_NUM_THREADS=1, Google Benchmark's CPU column, best
// of 4 interleaved runs on the shared 2-core Zen 3 box, ms; before = the build without this
// file, same sitting):
//   bench_conv pass_bwd_data_cnn_l2 (128 x 32 x 28 x 28 <- 64 x 14 x 14): 16.7 -> 15.6
//   bench_conv pass_bwd_data_cnn_l3 (128 x 64 x 14 x 14 <- 128 x 7 x 7):  17.8 -> 13.0
//   bench_conv conv3x3_fwdbwd_cnn_l2 52.3 -> 50.7, conv3x3_fwdbwd_cnn_l3 49.8 -> 44.7
//   bench_strided_data (im2col "off" -> "on"): r18_down2 (32 x 64 x 56 x 56, 3x3 s2) 51.6 -> 48.6,
//   r18_down3 53.2 -> 46.3, r18_down4 66.1 -> 45.7, c48_28 32.8 -> 29.3, c40_14 7.5 -> 6.2.
// cnn_l2 stays short of the 1.3x aimed at: its 32 gx channels fill 6-row tiles to 32/36 (the
// micro-kernel alone is ~11 of the 15.6 ms) and writing the 12.8 MB of gx costs ~2 ms either way.
#include "kernels/cpu/conv_strided_data.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <type_traits>
#include <vector>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "kernels/cpu/conv_direct.h"
#include "kernels/cpu/conv_common.h"
#include "kernels/cpu/microkernel.h"
#include "kernels/cpu/parallel.h"

namespace strata::kernels::cpu {
namespace {

using detail::KernelSet;
using detail::MicroTileArgs;

std::atomic<bool> g_enabled{true};

// Fewer channels per group leave most of an MR-row tile empty (gx side) or the per-tap reduction
// very short (gy side): im2col's business, as for the direct path.
constexpr int64_t kMinChannels = 8;


// d[2k] = t0[k] + bias, d[2k + 1] = t1[k] + bias for 2k, 2k + 1 < count: two phase tiles' rows
// into one contiguous gx run (SSE2 unpacks; the scalar loop stalled on single stores).
template <class T>
inline void interleave2(T* __restrict d, const T* __restrict t0, const T* __restrict t1, int64_t count, T bias) {
  int64_t e = 0;
#if defined(__SSE2__)
  if constexpr (std::is_same_v<T, float>) {
    const __m128 bv = _mm_set1_ps(bias);
    for (; e + 8 <= count; e += 8) {
      const __m128 x = _mm_add_ps(_mm_loadu_ps(t0 + e / 2), bv), y = _mm_add_ps(_mm_loadu_ps(t1 + e / 2), bv);
      _mm_storeu_ps(d + e, _mm_unpacklo_ps(x, y));
      _mm_storeu_ps(d + e + 4, _mm_unpackhi_ps(x, y));
    }
  } else {
    const __m128d bv = _mm_set1_pd(bias);
    for (; e + 4 <= count; e += 4) {
      const __m128d x = _mm_add_pd(_mm_loadu_pd(t0 + e / 2), bv), y = _mm_add_pd(_mm_loadu_pd(t1 + e / 2), bv);
      _mm_storeu_pd(d + e, _mm_unpacklo_pd(x, y));
      _mm_storeu_pd(d + e + 2, _mm_unpackhi_pd(x, y));
    }
  }
#endif
  for (; e + 2 <= count; e += 2) {
    d[e] = t0[e / 2] + bias;
    d[e + 1] = t1[e / 2] + bias;
  }
  if (e < count) d[e] = t0[e / 2] + bias;
}

// One spatial dimension of the phase split: gx has `in` positions, gy `out`.
struct Axis {
  int64_t stride, in, out;
  int64_t grid = 0;            // ceil(in / stride): positions of one phase (the last may lack some)
  int64_t dmin = 0, dmax = 0;  // the range of shifts d
  struct Tap {
    int64_t k, d;  // kernel index, shift: gx position grid * stride + a reads gy position grid + d
  };
  std::vector<std::vector<Tap>> taps;  // per phase a in [0, stride)
  int64_t shifts() const { return dmax - dmin + 1; }
};

Axis make_axis(int64_t stride, int64_t pad, int64_t dil, int64_t k, int64_t in, int64_t out) {
  Axis ax{stride, in, out, 0, 0, 0, {}};
  ax.grid = ceil_div(in, stride);
  ax.taps.resize(static_cast<size_t>(stride));
  bool first = true;
  for (int64_t a = 0; a < stride; ++a)
    for (int64_t i = 0; i < k; ++i) {
      const int64_t num = a + pad - i * dil;  // gx position a + pad = gy position * stride + i * dil
      if (num % stride != 0) continue;
      const int64_t d = num / stride;
      ax.taps[static_cast<size_t>(a)].push_back({i, d});
      ax.dmin = first ? d : std::min(ax.dmin, d);
      ax.dmax = first ? d : std::max(ax.dmax, d);
      first = false;
    }
  return ax;
}

// A phase (a, b): its taps (kernel offset into w's [kh][kw] plane, shift index into the B panel).
struct Phase {
  int64_t a, b;
  std::vector<int64_t> tap_w;      // i * kw + j
  std::vector<int64_t> tap_shift;  // (di - dmin_h) * shifts_w + (dj - dmin_w)
  int64_t a_offset = 0;            // start of the phase's packed weights within a group
};

struct Plan {
  int64_t n, cin, h, w, cout, ho, wo, kh, kw, groups;
  Axis ah, aw;
  std::vector<Phase> phases;
  int64_t cig() const { return cin / groups; }   // gx channels per group (tile rows)
  int64_t cog() const { return cout / groups; }  // gy channels per group (reduction per tap)
  int64_t shifts() const { return ah.shifts() * aw.shifts(); }
};

Plan make_plan(const Tensor& gy, const Tensor& w, const Tensor& gx, const ConvGeometry& g, int mr) {
  Plan p{gx.size(0), gx.size(1), gx.size(2), gx.size(3), gy.size(1), gy.size(2), gy.size(3), w.size(2), w.size(3),
         g.groups,   make_axis(g.stride_h, g.pad_h, g.dil_h, w.size(2), gx.size(2), gy.size(2)),
         make_axis(g.stride_w, g.pad_w, g.dil_w, w.size(3), gx.size(3), gy.size(3)), {}};
  const int64_t ncp = ceil_div(p.cig(), mr);
  int64_t offset = 0;
  for (int64_t a = 0; a < g.stride_h; ++a)
    for (int64_t b = 0; b < g.stride_w; ++b) {
      Phase ph{a, b, {}, {}, offset};
      for (const Axis::Tap& ti : p.ah.taps[static_cast<size_t>(a)])
        for (const Axis::Tap& tj : p.aw.taps[static_cast<size_t>(b)]) {
          ph.tap_w.push_back(ti.k * p.kw + tj.k);
          ph.tap_shift.push_back((ti.d - p.ah.dmin) * p.aw.shifts() + (tj.d - p.aw.dmin));
        }
      offset += static_cast<int64_t>(ph.tap_w.size()) * ncp * p.cog() * mr;
      p.phases.push_back(std::move(ph));
    }
  return p;
}

// The weights of every (group, phase, gx-channel panel) as [tap][co][MR], zero-padded rows:
// A(c, (tap, co)) = w[g * cog + co][c][tap].
template <class T>
std::vector<T> pack_weights(const Plan& p, const T* w, int mr) {
  const int64_t cig = p.cig(), cog = p.cog(), taps = p.kh * p.kw, ncp = ceil_div(cig, mr);
  const int64_t per_group = taps * ncp * cog * mr;
  std::vector<T> out(static_cast<size_t>(p.groups * per_group), T(0));
  for (int64_t g = 0; g < p.groups; ++g)
    for (const Phase& ph : p.phases) {
      const int64_t nt = static_cast<int64_t>(ph.tap_w.size());
      for (int64_t ir = 0; ir < ncp; ++ir)
        for (int64_t t = 0; t < nt; ++t)
          for (int64_t co = 0; co < cog; ++co) {
            T* dst = out.data() + g * per_group + ph.a_offset + ((ir * nt + t) * cog + co) * mr;
            for (int64_t r = 0; r < mr && ir * mr + r < cig; ++r)
              dst[r] = w[((g * cog + co) * cig + ir * mr + r) * taps + ph.tap_w[static_cast<size_t>(t)]];
          }
    }
  return out;
}

// gx of the batch from gy.
template <class T>
void run_images(const T* gy, const Plan& p, const std::vector<T>& apack, const T* bias, T* gx) {
  const KernelSet<T>& ks = kernels<T>();
  const int mr = ks.mr, nr = ks.nr;
  const int64_t cig = p.cig(), cog = p.cog(), ncp = ceil_div(cig, mr), taps = p.kh * p.kw;
  const int64_t nsh = p.shifts(), nshw = p.aw.shifts(), howo = p.ho * p.wo, gy_size = p.n * p.cout * howo;
  const int64_t hw = p.h * p.w, sh = p.ah.stride, sw = p.aw.stride;
  // Tasks: chunks of nc grid pixels of the whole batch (pixel v = image * grid + r * Wq + q), nc
  // a multiple of NR from the shapes and the thread count only (any chunking gives the same bits).
  const int64_t wq = p.aw.grid, grid = p.ah.grid * wq, total = p.n * grid;
  const int64_t per_thread = ceil_div(total, 4 * static_cast<int64_t>(get_num_threads()));
  const int64_t nc = std::clamp<int64_t>(ceil_div(per_thread, nr) * nr, nr, 24 * nr);
  const int64_t chunks = ceil_div(total, nc);
  // Panels per block: the block's B panels (about 192 KiB) stay in L2 while each A chunk (one
  // gx-channel panel of one row of phases) is used by every panel of the block from L1.
  constexpr int64_t kLine = 64 / sizeof(T);
  const int64_t block = std::clamp<int64_t>((192 << 10) / static_cast<int64_t>(nsh * cog * nr * sizeof(T)), 1, 16);
  // The block's B rows [shift][co][row_len]: each (shift, channel) row holds the block's pixels
  // side by side, so it is a few long copies of gy (below); panel i reads its NR columns at
  // i * NR with the row length as k stride. An odd number of cache lines per row spreads the
  // rows over every L1 set.
  const int64_t row_len = (ceil_div(block * nr, kLine) | 1) * kLine;
  // Where each tap's B rows start, per phase (MicroTileArgs::b_offsets).
  std::vector<std::vector<int64_t>> b_offsets;
  for (const Phase& ph : p.phases) {
    b_offsets.emplace_back();
    for (int64_t s : ph.tap_shift) b_offsets.back().push_back(s * cog * row_len);
  }

  parallel_for(0, chunks, 1, [&](int64_t lo, int64_t hi) {
    T* bbuf = scratch<T, 1>(nsh * cog * row_len);
    T* tiles = scratch<T, 2>(sw * mr * nr);  // the tiles of phases (a, 0 .. sw-1)
    struct Run {
      int64_t dst, len;         // B row column (pixel of the block), pixels
      int64_t image, row, col;  // its image, grid row and first grid column
      int64_t gx;               // offset of its first pixel's phase-(0, 0) position in gx
    };
    // How a shift's B rows are made, the same for every channel (gy offsets of channel 0):
    // copies of gy (a run seen through the shift is gy pixels (row + di, col + dj ...), and
    // runs of consecutive rows are consecutive in gy when the grid is as wide as gy: one copy
    // per image), then zeros over what lies outside gy (the copy reads the neighbouring row's
    // pixels there, or the next channel's).
    struct Copy {
      int64_t dst, src, len;
    };
    struct Zero {
      int64_t dst, len;
    };
    std::vector<Run> runs;
    std::vector<size_t> run0;                      // panel i's runs: [run0[i], run0[i + 1])
    std::vector<Copy> copies;
    std::vector<Zero> zeros;
    std::vector<size_t> copy0, zero0;              // shift s's: [copy0[s], copy0[s + 1]) ...
    std::vector<std::pair<int64_t, int64_t>> ahead;  // gy ranges (offset of channel 0, length)
    MicroTileArgs<T> tile;
    tile.alpha = T(1);
    tile.beta = T(0);
    tile.kc = cog;
    tile.b_k_stride = row_len;
    tile.ldc = nr;
    tile.n_valid = nr;
    for (int64_t task = lo; task < hi; ++task) {
      const int64_t p0 = task * nc, p1 = std::min(p0 + nc, total);
      for (int64_t jb = p0; jb < p1; jb += block * nr) {
        const int64_t np = std::min(block, ceil_div(p1 - jb, nr)), pixels = std::min(np * nr, p1 - jb);
        runs.clear(), run0.assign(1, 0);
        for (int64_t pi = 0; pi < np; ++pi) {
          const int64_t jr = jb + pi * nr, end = std::min(jr + nr, p1);
          for (int64_t v = jr; v < end;) {
            const int64_t nn = v / grid, px = v % grid, r = px / wq, q = px % wq;
            const int64_t len = std::min(wq - q, end - v);
            runs.push_back({v - jb, len, nn, r, q, nn * p.cin * hw + r * sh * p.w + q * sw});
            v += len;
          }
          run0.push_back(runs.size());
        }
        copies.clear(), zeros.clear(), copy0.assign(1, 0), zero0.assign(1, 0);
        for (int64_t sft = 0; sft < nsh; ++sft) {
          const int64_t di = sft / nshw + p.ah.dmin, dj = sft % nshw + p.aw.dmin;
          const size_t first = copies.size();
          const auto copy = [&](int64_t dst, int64_t src, int64_t len) {
            if (len <= 0) return;
            if (copies.size() > first) {
              Copy& last = copies.back();
              if (last.dst + last.len == dst && last.src + last.len == src) {
                last.len += len;
                return;
              }
            }
            copies.push_back({dst, src, len});
          };
          const auto zero = [&](int64_t dst, int64_t len) {
            if (len > 0) zeros.push_back({dst, len});
          };
          for (const Run& r : runs) {
            const int64_t oh = r.row + di, ow = r.col + dj;
            if (oh < 0 || oh >= p.ho) {
              zero(r.dst, r.len);
              continue;
            }
            const int64_t z = std::clamp<int64_t>(-ow, 0, r.len);           // leading pixels left of gy
            const int64_t v = std::clamp<int64_t>(p.wo - ow, z, r.len) - z;  // pixels inside gy
            const int64_t src = r.image * p.cout * howo + oh * p.wo + ow;
            if (src >= 0 && src + (p.cout - 1) * howo + r.len <= gy_size) {
              copy(r.dst, src, r.len);  // the whole run: it may merge with its neighbours
            } else {
              copy(r.dst + z, src + z, v);
            }
            zero(r.dst, z);
            zero(r.dst + z + v, r.len - z - v);
          }
          zero(pixels, np * nr - pixels);  // the last panel's columns past the chunk
          copy0.push_back(copies.size());
          zero0.push_back(zeros.size());
        }
        // The next block's gy rows (per image it touches: a range of each channel plane),
        // fetched a slice of channels at a time while this block computes: one stream per
        // channel is more than the hardware prefetcher follows.
        ahead.clear();
        if (jb + pixels < p1) {
          const int64_t v0 = jb + pixels, v1 = std::min(v0 + block * nr, p1) - 1;
          for (int64_t nn = v0 / grid; nn <= v1 / grid; ++nn) {
            const int64_t r0 = nn == v0 / grid ? v0 % grid / wq : 0, r1 = nn == v1 / grid ? v1 % grid / wq : p.ah.grid - 1;
            const int64_t lo = std::clamp<int64_t>(r0 + p.ah.dmin, 0, p.ho), hi = std::clamp<int64_t>(r1 + p.ah.dmax + 1, lo, p.ho);
            if (hi > lo) ahead.push_back({nn * p.cout * howo + lo * p.wo, (hi - lo) * p.wo});
          }
        }
        const int64_t steps = p.groups * sh * ncp;
        int64_t step = 0;
        const auto prefetch_ahead = [&] {
          const int64_t c0 = step * p.cout / steps, c1 = (step + 1) * p.cout / steps;
          ++step;
          for (const auto& [off, len] : ahead)
            for (int64_t c = c0; c < c1; ++c)
              for (int64_t e = 0; e < len; e += kLine) __builtin_prefetch(gy + off + c * howo + e);
        };
        for (int64_t g = 0; g < p.groups; ++g) {
          // The B rows, packed straight from gy (a zero-padded copy of gy first cost a pass over
          // memory; packing NR-pixel panels run by run cost more than the stores it made).
          const T* gyg = gy + g * cog * howo;
          for (int64_t sft = 0; sft < nsh; ++sft)
            for (int64_t co = 0; co < cog; ++co) {
              T* d = bbuf + (sft * cog + co) * row_len;
              const T* src = gyg + co * howo;
              for (size_t k = copy0[sft]; k < copy0[sft + 1]; ++k)
                std::memcpy(d + copies[k].dst, src + copies[k].src, sizeof(T) * copies[k].len);
              for (size_t k = zero0[sft]; k < zero0[sft + 1]; ++k) {
                if (zeros[k].len == 1)  // a pixel past gy's last column: no memset call for it
                  d[zeros[k].dst] = T(0);
                else
                  std::fill_n(d + zeros[k].dst, zeros[k].len, T(0));
              }
            }
          // For each row a of phases and gx-channel panel (its A chunk in L1), every panel of
          // the block: phases (a, 0 .. sw-1) tile by tile, then their tiles interleaved into
          // contiguous runs of gx row r * sh + a (scattered single stores stalled on the store
          // buffer).
          for (int64_t a = 0; a < sh; ++a)
            for (int64_t ir = 0; ir < ncp; ++ir) {
              const int m_valid = static_cast<int>(std::min<int64_t>(mr, cig - ir * mr));
              tile.m_valid = m_valid;
              prefetch_ahead();
              for (int64_t pi = 0; pi < np; ++pi) {
                tile.b = bbuf + pi * nr;
                for (int64_t b = 0; b < sw; ++b) {
                  const size_t ph_i = static_cast<size_t>(a * sw + b);
                  const Phase& ph = p.phases[ph_i];
                  const int64_t nt = static_cast<int64_t>(ph.tap_w.size());
                  T* t = tiles + b * mr * nr;
                  tile.segments = static_cast<int>(nt);
                  tile.b_offsets = b_offsets[ph_i].data();
                  tile.a = apack.data() + g * taps * ncp * cog * mr + ph.a_offset + ir * nt * cog * mr;
                  tile.c = t;
                  ks.packed_kernel(tile);
                }
                for (size_t ri = run0[pi]; ri < run0[pi + 1]; ++ri) {
                  const Run& r = runs[ri];
                  const int64_t ih = r.row * sh + a;
                  if (ih >= p.h) continue;
                  const int64_t count = std::min(p.w - r.col * sw, r.len * sw);  // gx columns of the run
                  for (int rr = 0; rr < m_valid; ++rr) {
                    const int64_t c = g * cig + ir * mr + rr;
                    const T bv = bias ? bias[c] : T(0);
                    T* d = gx + r.gx + c * hw + a * p.w;
                    const T* t0 = tiles + rr * nr + (r.dst - pi * nr);
                    if (sw == 2) {
                      interleave2(d, t0, t0 + mr * nr, count, bv);
                    } else {
                      for (int64_t e = 0; e < count; ++e)
                        d[e] = tiles[e % sw * mr * nr + rr * nr + (r.dst - pi * nr) + e / sw] + bv;
                    }
                  }
                }
              }
            }
        }
      }
    }
  });
}

template <class T>
void backward_data(const Tensor& gyt, const Tensor& wt, const Tensor& bt, const Tensor& gxt, const ConvGeometry& g) {
  const Plan p = make_plan(gyt, wt, gxt, g, kernels<T>().mr);
  const auto apack = pack_weights<T>(p, wt.data<T>(), kernels<T>().mr);
  const T* gy = gyt.data<T>();
  const T* bias = bt.defined() ? bt.data<T>() : nullptr;
  T* gx = gxt.data<T>();
  run_images(gy, p, apack, bias, gx);
}

// Whether every phase a in [0, stride) of a dimension receives at least one tap.
bool every_phase_reached(int64_t stride, int64_t pad, int64_t dil, int64_t k) {
  for (int64_t a = 0; a < stride; ++a) {
    bool reached = false;
    for (int64_t i = 0; i < k && !reached; ++i) reached = (a + pad - i * dil) % stride == 0;
    if (!reached) return false;
  }
  return true;
}

}  // namespace

bool conv2d_strided_backward_data(const Tensor& gy, const Tensor& w, const Tensor& bias, const Tensor& gx,
                                  const ConvGeometry& g) {
  if (!g_enabled.load(std::memory_order_relaxed) || !conv2d_direct_enabled()) return false;
  if (gx.dtype() != DType::F32 && gx.dtype() != DType::F64) return false;
  if (g.stride_h == 1 && g.stride_w == 1) return false;  // the direct path's flipped correlation
  const int64_t cin = gx.size(1), cout = gy.size(1);
  if (g.groups > 1 && g.groups == cin) return false;  // depthwise: conv.cpp's direct kernels
  if (cin / g.groups < kMinChannels || cout / g.groups < kMinChannels) return false;
  if (gx.size(0) == 0 || gx.size(2) == 0 || gx.size(3) == 0 || gy.size(2) == 0 || gy.size(3) == 0) return false;
  // A phase no tap reaches (a kernel narrower than the stride, as 1x1 stride-2 downsampling) is
  // all zeros: the path would be mostly a strided memset (ResNet's 1x1 stride-2 at 56x56 ran
  // 11% slower than im2col).
  if (!every_phase_reached(g.stride_h, g.pad_h, g.dil_h, w.size(2)) ||
      !every_phase_reached(g.stride_w, g.pad_w, g.dil_w, w.size(3)))
    return false;
  if (gx.dtype() == DType::F64)
    backward_data<double>(gy, w, bias, gx, g);
  else
    backward_data<float>(gy, w, bias, gx, g);
  return true;
}

void conv2d_set_strided_data_enabled(bool enabled) { g_enabled.store(enabled); }
bool conv2d_strided_data_enabled() { return g_enabled.load(); }

}  // namespace strata::kernels::cpu
