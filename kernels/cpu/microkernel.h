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
template <class V, int MR, int NV, bool kPackedA>
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
#pragma GCC unroll 4
    for (int64_t p = 0; p < kc; ++p) {
      reg bv[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) bv[v] = V::load(b + v * W);
#pragma GCC unroll 32
      for (int i = 0; i < MR; ++i) {
        const reg ai = V::broadcast(a + i);
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[i][v] = V::fmadd(ai, bv[v], acc[i][v]);
      }
      a += MR;
      b += bs;
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
// op(A)(i, p) = trans ? a[p*lda + i] : a[i*lda + p]
template <int MR, class T>
void pack_a_panels(bool trans, const T* a, int64_t lda, int64_t rows, int64_t kc, T* dst) {
  for (int64_t r0 = 0; r0 < rows; r0 += MR) {
    const int mr = static_cast<int>(std::min<int64_t>(MR, rows - r0));
    if (trans) {
      // Each k step is a contiguous run of rows: a straight copy.
      const T* src = a + r0;
      if (mr == MR) {
        for (int64_t p = 0; p < kc; ++p) std::memcpy(dst + p * MR, src + p * lda, sizeof(T) * MR);
      } else {
        for (int64_t p = 0; p < kc; ++p) {
          int i = 0;
          for (; i < mr; ++i) dst[p * MR + i] = src[p * lda + i];
          for (; i < MR; ++i) dst[p * MR + i] = T(0);
        }
      }
    } else {
      // Transpose: read each row contiguously, scatter it down the panel (which is L1-sized).
      // Groups of four rows keep four read streams and write four adjacent floats at a time.
      const T* src = a + r0 * lda;
      int i = 0;
      for (; i + 4 <= mr; i += 4) {
        const T* s0 = src + (i + 0) * lda;
        const T* s1 = src + (i + 1) * lda;
        const T* s2 = src + (i + 2) * lda;
        const T* s3 = src + (i + 3) * lda;
        T* d = dst + i;
        for (int64_t p = 0; p < kc; ++p) {
          d[p * MR + 0] = s0[p];
          d[p * MR + 1] = s1[p];
          d[p * MR + 2] = s2[p];
          d[p * MR + 3] = s3[p];
        }
      }
      for (; i < mr; ++i) {
        const T* s = src + i * lda;
        for (int64_t p = 0; p < kc; ++p) dst[p * MR + i] = s[p];
      }
      for (; i < MR; ++i)
        for (int64_t p = 0; p < kc; ++p) dst[p * MR + i] = T(0);
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
      const T* src = b + c0;
      if (nr == NR) {
        for (int64_t p = 0; p < kc; ++p) std::memcpy(dst + p * NR, src + p * ldb, sizeof(T) * NR);
      } else {
        for (int64_t p = 0; p < kc; ++p) {
          int j = 0;
          for (; j < nr; ++j) dst[p * NR + j] = src[p * ldb + j];
          for (; j < NR; ++j) dst[p * NR + j] = T(0);
        }
      }
    } else {
      // Transpose: columns of op(B) are contiguous rows of b.
      const T* src = b + c0 * ldb;
      int j = 0;
      for (; j + 4 <= nr; j += 4) {
        const T* s0 = src + (j + 0) * ldb;
        const T* s1 = src + (j + 1) * ldb;
        const T* s2 = src + (j + 2) * ldb;
        const T* s3 = src + (j + 3) * ldb;
        T* d = dst + j;
        for (int64_t p = 0; p < kc; ++p) {
          d[p * NR + 0] = s0[p];
          d[p * NR + 1] = s1[p];
          d[p * NR + 2] = s2[p];
          d[p * NR + 3] = s3[p];
        }
      }
      for (; j < nr; ++j) {
        const T* s = src + j * ldb;
        for (int64_t p = 0; p < kc; ++p) dst[p * NR + j] = s[p];
      }
      for (; j < NR; ++j)
        for (int64_t p = 0; p < kc; ++p) dst[p * NR + j] = T(0);
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
  static void packed(const MicroTileArgs<T>& t) { micro_tile<V, MR, NV, true>(t); }
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
