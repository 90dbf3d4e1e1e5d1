#pragma once
// Internal to the CPU GEMM: the contract between the blocking driver (gemm.cpp) and the per-ISA
// micro-kernels (microkernel_avx512.cpp, microkernel_avx2.cpp, the generic one in gemm.cpp).
//
// Why a template here: every ISA runs the same register-blocked algorithm; only the vector type
// (SSE-width generic, AVX2 ymm, AVX-512 zmm) and the tile shape differ. Each ISA file instantiates
// micro_tile<> with its own vector traits, compiled with its own -m flags. Everything below is in
// an anonymous namespace, so each translation unit gets a private copy: an inline function built
// with -mavx512f can never be merged by the linker into code that runs on an AVX2-only CPU.
//
// Layouts (all row-major; T is float or double):
//   packed A  (MR-row panel):  for each k, MR consecutive values op(A)(i0..i0+MR-1, k); tail rows 0.
//   packed B  (NR-col panel):  for each k, NR consecutive values op(B)(k, j0..j0+NR-1); tail cols 0.
// A micro-tile computes the MR x NR block  C = alpha * A_panel * B_panel + beta * C.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace strata::kernels::cpu::detail {

// One call of a micro-kernel: an MR x NR tile of C over kc steps of k.
template <class T>
struct MicroTileArgs {
  int64_t kc = 0;
  // Packed kernel: A is an MR-row panel.  Strided kernel: op(A)(i, p) = a[i*a_row_stride + p*a_k_stride]
  // (op(A) read in place; only full MR-row tiles).
  const T* a = nullptr;
  int64_t a_row_stride = 0;
  int64_t a_k_stride = 0;
  // op(B)(p, j) = b[p*b_k_stride + j]: a packed NR-col panel (stride NR) or B read in place.
  const T* b = nullptr;
  int64_t b_k_stride = 0;
  T* c = nullptr;
  int64_t ldc = 0;
  int m_valid = 0;  // rows / columns of the tile that lie inside C
  int n_valid = 0;
  T alpha = 1;
  T beta = 0;  // 0: C is written without being read
  // Packed kernel only: the k loop runs `segments` times over kc steps each, B restarting at
  // b + b_offsets[s] for segment s while A runs on (the A panel holds segments * kc steps). The
  // direct convolution (conv_direct.cpp) sums the kh * kw shifted taps this way without
  // leaving registers. segments == 1 with b_offsets == nullptr is the plain GEMM tile.
  int segments = 1;
  const int64_t* b_offsets = nullptr;
  // Packed kernel only: vector v of a B row starts at b + v * b_vec_stride (0: v * width, the
  // contiguous NR values). The direct convolution points each vector at its own image row.
  int64_t b_vec_stride = 0;
};

// One ISA's kernels for element type T and the cache blocking tuned for them.
template <class T>
struct KernelSet {
  using MicroKernelFn = void (*)(const MicroTileArgs<T>&);
  // Packs the block op(A)[0:rows, 0:kc] (a points at its (0,0) element) into MR-row panels.
  using PackAFn = void (*)(bool trans, const T* a, int64_t lda, int64_t rows, int64_t kc, T* dst);
  // Packs the block op(B)[0:kc, 0:cols] into NR-column panels.
  using PackBFn = void (*)(bool trans, const T* b, int64_t ldb, int64_t kc, int64_t cols, T* dst);

  const char* isa;
  int mr, nr;          // micro-tile
  int64_t kc;          // k block: the A micro-panel (MR x KC) stays in L1
  int64_t n_l2;        // B block columns: the packed B block (KC x n_l2) stays in L2
  int64_t m_l3;        // A block rows: the packed A block (m_l3 x KC) stays in L3
  MicroKernelFn packed_kernel;   // A from a packed panel
  MicroKernelFn strided_kernel;  // A read in place through strides (small n: no A packing)
  PackAFn pack_a;
  PackBFn pack_b;
};

// The kernels the GEMM uses right now (run-time ISA choice, STRATA_GEMM_ISA, gemm_force_isa).
const KernelSet<float>& active_kernels_f32();
const KernelSet<double>& active_kernels_f64();

// nullptr when the ISA was not compiled in (non-x86 builds).
const KernelSet<float>* avx512_kernels_f32();
const KernelSet<double>* avx512_kernels_f64();
const KernelSet<float>* avx2_kernels_f32();
const KernelSet<double>* avx2_kernels_f64();
const KernelSet<float>* generic_kernels_f32();
const KernelSet<double>* generic_kernels_f64();

namespace {

// ---- the register-blocked micro-kernel ---------------------------------------------------------
// V provides: scalar (float or double), reg, width, zero(), load(p), store(p, r), broadcast(p),
// fmadd(a, b, c) = a*b + c, mul(a, b), set1(x), prefetch(p).
// The accumulators acc[MR][NV] are NV vectors per row of the tile (NR = NV * width); with the
// loops fully unrolled they live in registers for the whole k loop.
// kAStride: the packed A panel's row count (MR unless this is a short-tile variant that computes
// only the first MR rows of a wider panel).
template <class V, int MR, int NV, bool kPackedA, int kAStride = MR>
inline void micro_tile(const MicroTileArgs<typename V::scalar>& t) {
  using T = typename V::scalar;
  using reg = typename V::reg;
  constexpr int W = V::width;
  constexpr int NR = NV * W;
  reg acc[MR][NV];
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[i][v] = V::zero();

  // Touch the C tile early so its lines arrive while we compute.
  if (t.beta != T(0)) {
#pragma GCC unroll 32
    for (int i = 0; i < MR; ++i) V::prefetch(t.c + i * t.ldc);
  }

  const T* a = t.a;
  const T* b = t.b;
  const int64_t kc = t.kc;
  const int64_t bs = t.b_k_stride;
  if constexpr (kPackedA) {
    const int64_t vs = t.b_vec_stride != 0 ? t.b_vec_stride : W;
    for (int s = 0; s < t.segments; ++s) {
      if (t.b_offsets != nullptr) b = t.b + t.b_offsets[s];
#pragma GCC unroll 4
      for (int64_t p = 0; p < kc; ++p) {
        reg bv[NV];
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) bv[v] = V::load(b + v * vs);
#pragma GCC unroll 32
        for (int i = 0; i < MR; ++i) {
          const reg ai = V::broadcast(a + i);
#pragma GCC unroll 4
          for (int v = 0; v < NV; ++v) acc[i][v] = V::fmadd(ai, bv[v], acc[i][v]);
        }
        a += kAStride;
        b += bs;
      }
    }
  } else {
    const int64_t rs = t.a_row_stride;
    const int64_t ks = t.a_k_stride;
#pragma GCC unroll 2
    for (int64_t p = 0; p < kc; ++p) {
      reg bv[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) bv[v] = V::load(b + v * W);
#pragma GCC unroll 32
      for (int i = 0; i < MR; ++i) {
        const reg ai = V::broadcast(a + i * rs);
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[i][v] = V::fmadd(ai, bv[v], acc[i][v]);
      }
      a += ks;
      b += bs;
    }
  }

  // Write back: C = alpha * acc + beta * C. A full tile goes straight to C; an edge tile goes
  // through a small buffer so that nothing outside C is read or written.
  const reg alpha = V::set1(t.alpha);
  if (t.m_valid == MR && t.n_valid == NR) {
    if (t.beta == T(0)) {
#pragma GCC unroll 32
      for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) V::store(t.c + i * t.ldc + v * W, V::mul(alpha, acc[i][v]));
    } else {
      const reg beta = V::set1(t.beta);
#pragma GCC unroll 32
      for (int i = 0; i < MR; ++i) {
        T* crow = t.c + i * t.ldc;
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v)
          V::store(crow + v * W, V::fmadd(alpha, acc[i][v], V::mul(beta, V::load(crow + v * W))));
      }
    }
    return;
  }
  alignas(64) T tile[MR * NR];
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) V::store(tile + i * NR + v * W, V::mul(alpha, acc[i][v]));
  for (int i = 0; i < t.m_valid; ++i) {
    T* crow = t.c + i * t.ldc;
    const T* trow = tile + i * NR;
    if (t.beta == T(0)) {
      for (int j = 0; j < t.n_valid; ++j) crow[j] = trow[j];
    } else {
      for (int j = 0; j < t.n_valid; ++j) crow[j] = trow[j] + t.beta * crow[j];
    }
  }
}

// ---- packing -----------------------------------------------------------------------------------
// Writes dst[p*S + r] = src[r*ld + p] for r < rows (rows <= S) and p < kc, and zeroes the rows
// [rows, S): `rows` contiguous source rows become the columns of an S-wide panel. With SSE2 (every
// x86-64) groups of 4 float rows (2 double rows) are moved by 4x4 (2x2) register transposes;
// scalar code needed ~2.5 cycles per element, a tenth of a 256^3 product on two threads.
template <int S, class T>
void transpose_into_panel(const T* src, int64_t ld, int rows, int64_t kc, T* dst) {
  int r = 0;
#if defined(__SSE2__)
  if constexpr (std::is_same_v<T, float>) {
    for (; r + 4 <= rows; r += 4) {
      const float* s0 = src + (r + 0) * ld;
      const float* s1 = src + (r + 1) * ld;
      const float* s2 = src + (r + 2) * ld;
      const float* s3 = src + (r + 3) * ld;
      float* d = dst + r;
      int64_t p = 0;
      for (; p + 4 <= kc; p += 4) {
        __m128 x0 = _mm_loadu_ps(s0 + p), x1 = _mm_loadu_ps(s1 + p);
        __m128 x2 = _mm_loadu_ps(s2 + p), x3 = _mm_loadu_ps(s3 + p);
        _MM_TRANSPOSE4_PS(x0, x1, x2, x3);
        _mm_storeu_ps(d + (p + 0) * S, x0);
        _mm_storeu_ps(d + (p + 1) * S, x1);
        _mm_storeu_ps(d + (p + 2) * S, x2);
        _mm_storeu_ps(d + (p + 3) * S, x3);
      }
      for (; p < kc; ++p) {
        d[p * S + 0] = s0[p];
        d[p * S + 1] = s1[p];
        d[p * S + 2] = s2[p];
        d[p * S + 3] = s3[p];
      }
    }
    if (r + 2 <= rows) {
      const float* s0 = src + (r + 0) * ld;
      const float* s1 = src + (r + 1) * ld;
      float* d = dst + r;
      int64_t p = 0;
      for (; p + 4 <= kc; p += 4) {
        const __m128 x0 = _mm_loadu_ps(s0 + p), x1 = _mm_loadu_ps(s1 + p);
        const __m128 lo = _mm_unpacklo_ps(x0, x1), hi = _mm_unpackhi_ps(x0, x1);
        _mm_storel_pi(reinterpret_cast<__m64*>(d + (p + 0) * S), lo);
        _mm_storeh_pi(reinterpret_cast<__m64*>(d + (p + 1) * S), lo);
        _mm_storel_pi(reinterpret_cast<__m64*>(d + (p + 2) * S), hi);
        _mm_storeh_pi(reinterpret_cast<__m64*>(d + (p + 3) * S), hi);
      }
      for (; p < kc; ++p) {
        d[p * S + 0] = s0[p];
        d[p * S + 1] = s1[p];
      }
      r += 2;
    }
  } else if constexpr (std::is_same_v<T, double>) {
    for (; r + 2 <= rows; r += 2) {
      const double* s0 = src + (r + 0) * ld;
      const double* s1 = src + (r + 1) * ld;
      double* d = dst + r;
      int64_t p = 0;
      for (; p + 2 <= kc; p += 2) {
        const __m128d x0 = _mm_loadu_pd(s0 + p), x1 = _mm_loadu_pd(s1 + p);
        _mm_storeu_pd(d + (p + 0) * S, _mm_unpacklo_pd(x0, x1));
        _mm_storeu_pd(d + (p + 1) * S, _mm_unpackhi_pd(x0, x1));
      }
      for (; p < kc; ++p) {
        d[p * S + 0] = s0[p];
        d[p * S + 1] = s1[p];
      }
    }
  }
#endif
  for (; r < rows; ++r) {
    const T* s = src + r * ld;
    for (int64_t p = 0; p < kc; ++p) dst[p * S + r] = s[p];
  }
  for (; r < S; ++r)
    for (int64_t p = 0; p < kc; ++p) dst[p * S + r] = T(0);
}

// Copies `cols` (<= S) contiguous values per k step into an S-wide panel, zero-padded.
template <int S, class T>
void copy_into_panel(const T* src, int64_t ld, int cols, int64_t kc, T* dst) {
  if (cols == S) {
    for (int64_t p = 0; p < kc; ++p) std::memcpy(dst + p * S, src + p * ld, sizeof(T) * S);
    return;
  }
  for (int64_t p = 0; p < kc; ++p) {
    int j = 0;
    for (; j < cols; ++j) dst[p * S + j] = src[p * ld + j];
    for (; j < S; ++j) dst[p * S + j] = T(0);
  }
}

// Prefetches `rows` runs of kc values, ld apart (the source rows of the next panel to transpose:
// short runs far apart defeat the hardware prefetcher).
template <class T>
void prefetch_rows(const T* src, int64_t ld, int64_t rows, int64_t kc) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t p = 0; p < kc; p += 64 / sizeof(T)) __builtin_prefetch(src + r * ld + p);
}

// op(A)(i, p) = trans ? a[p*lda + i] : a[i*lda + p]
template <int MR, class T>
void pack_a_panels(bool trans, const T* a, int64_t lda, int64_t rows, int64_t kc, T* dst) {
  for (int64_t r0 = 0; r0 < rows; r0 += MR) {
    const int mr = static_cast<int>(std::min<int64_t>(MR, rows - r0));
    if (trans) {
      copy_into_panel<MR>(a + r0, lda, mr, kc, dst);  // each k step: a contiguous run of rows
    } else {
      if (r0 + MR < rows) prefetch_rows(a + (r0 + MR) * lda, lda, std::min<int64_t>(MR, rows - r0 - MR), kc);
      transpose_into_panel<MR>(a + r0 * lda, lda, mr, kc, dst);
    }
    dst += MR * kc;
  }
}

// op(B)(p, j) = trans ? b[j*ldb + p] : b[p*ldb + j]
template <int NR, class T>
void pack_b_panels(bool trans, const T* b, int64_t ldb, int64_t kc, int64_t cols, T* dst) {
  for (int64_t c0 = 0; c0 < cols; c0 += NR) {
    const int nr = static_cast<int>(std::min<int64_t>(NR, cols - c0));
    if (!trans) {
      copy_into_panel<NR>(b + c0, ldb, nr, kc, dst);
    } else {
      if (c0 + NR < cols) prefetch_rows(b + (c0 + NR) * ldb, ldb, std::min<int64_t>(NR, cols - c0 - NR), kc);
      transpose_into_panel<NR>(b + c0 * ldb, ldb, nr, kc, dst);
    }
    dst += NR * kc;
  }
}

// ---- one ISA's kernel set ------------------------------------------------------------------------
// Instantiates the kernels and packers for vector traits V and an MR x (NV * width) tile.
template <class V, int MR, int NV>
struct KernelSetFor {
  using T = typename V::scalar;
  static constexpr int NR = NV * V::width;
  // A tile whose panel has fewer valid rows than MR (the last MR-row panel of M) computes only
  // as many rows as it needs, rounded up to a third of MR: the reference CNN's backward-data
  // has M = 32 input channels, 5 full 6-row tiles and one of 2 rows that cost a full one.
  static void packed(const MicroTileArgs<T>& t) {
    if constexpr (MR % 3 == 0) {
      if (t.m_valid <= MR / 3) return micro_tile<V, MR / 3, NV, true, MR>(t);
      if (t.m_valid <= 2 * MR / 3) return micro_tile<V, 2 * MR / 3, NV, true, MR>(t);
    }
    micro_tile<V, MR, NV, true>(t);
  }
  static void strided(const MicroTileArgs<T>& t) { micro_tile<V, MR, NV, false>(t); }
  static void pack_a(bool trans, const T* a, int64_t lda, int64_t rows, int64_t kc, T* dst) {
    pack_a_panels<MR>(trans, a, lda, rows, kc, dst);
  }
  static void pack_b(bool trans, const T* b, int64_t ldb, int64_t kc, int64_t cols, T* dst) {
    pack_b_panels<NR>(trans, b, ldb, kc, cols, dst);
  }
  static constexpr KernelSet<T> make(const char* isa, int64_t kc, int64_t n_l2, int64_t m_l3) {
    return KernelSet<T>{isa, MR, NR, kc, n_l2, m_l3, &packed, &strided, &pack_a, &pack_b};
  }
};

}  // namespace
}  // namespace strata::kernels::cpu::detail
