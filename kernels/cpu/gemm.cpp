// The GEMM driver: argument checks, run-time ISA choice, cache blocking, packing and threading
// around the register-blocked micro-kernels of microkernel.h.
//
// Loop nest for one thread's block of C (rows i0..i1, columns j0..j1), outermost first:
//   ic  over m in blocks of m_l3 rows     pack op(A)[ic.., pc..] into MR-row panels   (L3)
//   pc  over k in blocks of KC
//   jc  over n in blocks of n_l2 columns  pack op(B)[pc.., jc..] into NR-col panels   (L2)
//   ir  over MR-row panels of A           the A micro-panel (MR x KC) stays in L1
//   jr  over NR-col panels of B           B micro-panels stream from L2
//     micro-kernel: MR x NR tile of C, kc steps, C = alpha*acc + beta*C (beta = 1 after pc = 0)
// The broadcast operand (A, MR values per k) stays in L1 and the vector operand (B, NR values per
// k) streams from L2, as in BLIS. Blocks are balanced (k = 784 is cut 4 x 196, not 3 x 256 + 16).
//
// Small problems skip packing that would not pay for itself: with few columns (n <= 2*NR) each
// A panel is used once or twice, so the kernel reads op(A) in place through strides; with few
// rows (m <= 2*MR) and B not transposed, full-width B panels are read in place (ld = ldb); below
// 64^3 multiply-adds neither is packed. Only edge panels (m % MR rows, n % NR columns) are then
// packed, zero-padded, so the kernel never reads outside A or B.
//
// Threads (strata::parallel_for) each take a rectangle of C and run the loop nest on their own
// packing buffers: the grid (rows x columns of rectangles) is chosen to minimise the largest
// rectangle's work plus the packing it repeats. Sharing packed B blocks between threads (BLIS
// style, with a barrier per block) was tried: it saved at most 2-3% at 256^3 on an idle machine
// and lost more than that whenever another process held a core, so threads stay independent.
// Batched GEMM with many products runs the products in parallel instead. Packing buffers are thread_local, 64-byte aligned and only grow:
// page faults cost more than the packing itself on small VMs.
#include "kernels/cpu/gemm.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string_view>
#include <type_traits>

#include "kernels/cpu/microkernel.h"
#include "kernels/cpu/parallel.h"
#include "tensor/error.h"

namespace strata::kernels::cpu {
namespace detail {
namespace {

// ---- portable fallback micro-kernels -----------------------------------------------------------
// GCC/Clang vector extensions: 128-bit vectors on any target (SSE2 on x86-64). Tile 4 x 8 (f32)
// and 4 x 4 (f64): 8 accumulators, leaving registers for the separate multiply and add.
typedef float F32x4 __attribute__((vector_size(16)));
typedef double F64x2 __attribute__((vector_size(16)));

template <class T, class Reg>
struct GenericVec {
  using scalar = T;
  using reg = Reg;
  static constexpr int width = sizeof(Reg) / sizeof(T);
  static reg zero() { return reg{}; }
  static reg load(const T* p) {
    reg r;
    std::memcpy(&r, p, sizeof(r));
    return r;
  }
  static void store(T* p, reg r) { std::memcpy(p, &r, sizeof(r)); }
  static reg set1(T x) { return reg{} + x; }
  static reg broadcast(const T* p) { return set1(*p); }
  static reg fmadd(reg a, reg b, reg c) { return a * b + c; }
  static reg mul(reg a, reg b) { return a * b; }
  static void prefetch(const T* p) { __builtin_prefetch(p); }
};

constexpr KernelSet<float> kGenericF32 =
    KernelSetFor<GenericVec<float, F32x4>, 4, 2>::make("generic", 256, 256, 1024);
constexpr KernelSet<double> kGenericF64 =
    KernelSetFor<GenericVec<double, F64x2>, 4, 2>::make("generic", 256, 128, 512);

}  // namespace

const KernelSet<float>* generic_kernels_f32() { return &kGenericF32; }
const KernelSet<double>* generic_kernels_f64() { return &kGenericF64; }

namespace {

// ---- run-time ISA choice -----------------------------------------------------------------------
enum class Isa : int { kGeneric = 0, kAvx2 = 1, kAvx512 = 2 };
constexpr const char* kIsaNames[] = {"generic", "avx2", "avx512"};

bool parse_isa(std::string_view name, Isa* out) {
  for (int i = 0; i < 3; ++i) {
    if (name == kIsaNames[i]) {
      *out = static_cast<Isa>(i);
      return true;
    }
  }
  return false;
}

bool cpu_supports(Isa isa) {
  switch (isa) {
    case Isa::kGeneric:
      return true;
#if defined(__x86_64__) || defined(__i386__)
    case Isa::kAvx2:
      __builtin_cpu_init();
      return avx2_kernels_f32() != nullptr && __builtin_cpu_supports("avx2") &&
             __builtin_cpu_supports("fma");
    case Isa::kAvx512:
      __builtin_cpu_init();
      return avx512_kernels_f32() != nullptr && __builtin_cpu_supports("avx512f") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx2") &&
             __builtin_cpu_supports("fma");
#endif
    default:
      return false;
  }
}

Isa best_isa() {
  if (cpu_supports(Isa::kAvx512)) return Isa::kAvx512;
  if (cpu_supports(Isa::kAvx2)) return Isa::kAvx2;
  return Isa::kGeneric;
}

// The best path, lowered (never raised) by STRATA_GEMM_ISA.
Isa default_isa() {
  Isa isa = best_isa();
  if (const char* env = std::getenv("STRATA_GEMM_ISA")) {
    Isa wanted;
    if (parse_isa(env, &wanted) && static_cast<int>(wanted) < static_cast<int>(isa)) isa = wanted;
  }
  return isa;
}

std::atomic<int>& active_isa() {
  static std::atomic<int> isa{static_cast<int>(default_isa())};
  return isa;
}

template <class T>
const KernelSet<T>& kernels_for_isa() {
  const Isa isa = static_cast<Isa>(active_isa().load(std::memory_order_relaxed));
  if constexpr (std::is_same_v<T, float>) {
    if (isa == Isa::kAvx512) return *avx512_kernels_f32();
    if (isa == Isa::kAvx2) return *avx2_kernels_f32();
    return *generic_kernels_f32();
  } else {
    if (isa == Isa::kAvx512) return *avx512_kernels_f64();
    if (isa == Isa::kAvx2) return *avx2_kernels_f64();
    return *generic_kernels_f64();
  }
}

}  // namespace

const KernelSet<float>& active_kernels_f32() { return kernels_for_isa<float>(); }
const KernelSet<double>& active_kernels_f64() { return kernels_for_isa<double>(); }

namespace {

// ---- packing buffers ---------------------------------------------------------------------------
template <class T>
class PackBuffer {
 public:
  PackBuffer() = default;
  PackBuffer(const PackBuffer&) = delete;
  PackBuffer& operator=(const PackBuffer&) = delete;
  ~PackBuffer() { std::free(data_); }

  T* get(int64_t elements) {
    const size_t bytes = static_cast<size_t>(elements) * sizeof(T);
    if (bytes > capacity_) {
      // Grow by at least half again, in whole 4 KiB pages, so repeated calls settle quickly.
      size_t want = std::max(bytes, capacity_ + capacity_ / 2);
      want = (want + 4095) & ~size_t{4095};
      std::free(data_);
      data_ = static_cast<T*>(std::aligned_alloc(64, want));
      if (data_ == nullptr) {
        capacity_ = 0;
        throw std::bad_alloc();
      }
      capacity_ = want;
    }
    return data_;
  }

 private:
  T* data_ = nullptr;
  size_t capacity_ = 0;
};

template <class T>
struct PackBuffers {
  PackBuffer<T> a, b;
};

template <class T>
PackBuffers<T>& thread_pack_buffers() {
  thread_local PackBuffers<T> buffers;
  return buffers;
}

// ---- the blocked algorithm ---------------------------------------------------------------------
template <class T>
struct GemmArgs {
  bool trans_a, trans_b;
  int64_t m, n, k;
  T alpha;
  const T* a;
  int64_t lda;
  const T* b;
  int64_t ldb;
  T beta;
  T* c;
  int64_t ldc;

  // Address of op(A)(i, p) and op(B)(p, j).
  const T* a_at(int64_t i, int64_t p) const { return trans_a ? a + p * lda + i : a + i * lda + p; }
  const T* b_at(int64_t p, int64_t j) const { return trans_b ? b + j * ldb + p : b + p * ldb + j; }
};

int64_t ceil_div(int64_t x, int64_t y) { return (x + y - 1) / y; }
int64_t round_up(int64_t x, int64_t unit) { return ceil_div(x, unit) * unit; }

// A block size close to `target` that cuts `total` into equal blocks, a multiple of `unit`.
int64_t balanced_block(int64_t total, int64_t target, int64_t unit) {
  if (total <= target) return total;
  return round_up(ceil_div(total, ceil_div(total, target)), unit);
}

constexpr double kSmallProductFma = 64.0 * 64.0 * 64.0;

// Which operands are packed, from the shape of the whole problem.
struct PackingPlan {
  bool pack_a;  // false: full MR-row panels are read in place (tails are still packed)
  bool pack_b;  // false: full NR-col panels are read in place (B not transposed)
};

template <class T>
PackingPlan plan_packing(const KernelSet<T>& ks, const GemmArgs<T>& g) {
  PackingPlan plan;
  plan.pack_a = g.n > 2 * ks.nr;
  plan.pack_b = g.trans_b || g.m > 2 * ks.mr;
  // Small products (operands in L1/L2 already): packing costs more than it saves (-15% time
  // at 32^3..64^3 without it).
  if (static_cast<double>(g.m) * g.n * g.k <= kSmallProductFma) {
    plan.pack_a = false;
    plan.pack_b = g.trans_b;
  }
  return plan;
}

// One (ic, pc, jc) block: rows ic.. (mc of them) of C, columns jc.. (nc), k range pc.. (kc),
// with its operands in place or packed.
template <class T>
struct Block {
  int64_t ic, mc, pc, kc, jc, nc;
  int64_t a_in_place;      // rows [0, a_in_place) of the block read op(A) in place
  const T* a_pack;         // MR-row panels, the first one holding row a_pack_row of the block
  int64_t a_pack_row;
  int64_t b_in_place;      // columns [0, b_in_place) read op(B) in place
  const T* b_pack;         // NR-col panels from column b_in_place on
};

// The micro-kernel calls for rows [row_begin, row_end) of a block (multiples of MR apart) and
// all its columns. The A micro-panel (MR x kc) stays in L1 across the jr loop.
template <class T>
void multiply_block(const KernelSet<T>& ks, const GemmArgs<T>& g, const Block<T>& blk,
                    MicroTileArgs<T>& tile, int64_t row_begin, int64_t row_end) {
  const int mr = ks.mr, nr = ks.nr;
  tile.kc = blk.kc;
  tile.beta = blk.pc == 0 ? g.beta : T(1);
  for (int64_t ir = row_begin; ir < row_end; ir += mr) {
    const bool a_strided = ir < blk.a_in_place;
    const auto kernel = a_strided ? ks.strided_kernel : ks.packed_kernel;
    if (a_strided) {
      tile.a = g.a_at(blk.ic + ir, blk.pc);
      tile.a_row_stride = g.trans_a ? 1 : g.lda;
      tile.a_k_stride = g.trans_a ? g.lda : 1;
    } else {
      tile.a = blk.a_pack + (ir - blk.a_pack_row) * blk.kc;
    }
    tile.m_valid = static_cast<int>(std::min<int64_t>(mr, row_end - ir));
    T* c_row = g.c + (blk.ic + ir) * g.ldc + blk.jc;
    for (int64_t jr = 0; jr < blk.nc; jr += nr) {
      if (jr < blk.b_in_place) {
        tile.b = g.b_at(blk.pc, blk.jc + jr);
        tile.b_k_stride = g.ldb;
      } else {
        tile.b = blk.b_pack + (jr - blk.b_in_place) * blk.kc;
        tile.b_k_stride = nr;
      }
      tile.n_valid = static_cast<int>(std::min<int64_t>(nr, blk.nc - jr));
      tile.c = c_row + jr;
      kernel(tile);
    }
  }
}

// Cache block sizes for a region of C: balanced, so no block is a sliver.
struct BlockSizes {
  int64_t kc, m, n;
};
template <class T>
BlockSizes block_sizes(const KernelSet<T>& ks, int64_t k, int64_t rows, int64_t cols) {
  return {balanced_block(k, ks.kc, 8), balanced_block(rows, ks.m_l3, ks.mr),
          balanced_block(cols, ks.n_l2, ks.nr)};
}

// C[i0:i1, j0:j1] on the calling thread, with its own packing buffers.
template <class T>
void gemm_block(const KernelSet<T>& ks, const GemmArgs<T>& g, PackingPlan plan, int64_t i0,
                int64_t i1, int64_t j0, int64_t j1) {
  const int mr = ks.mr, nr = ks.nr;
  const BlockSizes bs = block_sizes(ks, g.k, i1 - i0, j1 - j0);
  PackBuffers<T>& buffers = thread_pack_buffers<T>();
  T* a_pack = buffers.a.get(round_up(bs.m, mr) * bs.kc);
  T* b_pack = buffers.b.get(round_up(bs.n, nr) * bs.kc);

  MicroTileArgs<T> tile;
  tile.ldc = g.ldc;
  tile.alpha = g.alpha;
  Block<T> blk;
  blk.a_pack = a_pack;
  blk.b_pack = b_pack;
  for (blk.ic = i0; blk.ic < i1; blk.ic += bs.m) {
    blk.mc = std::min(bs.m, i1 - blk.ic);
    blk.a_in_place = plan.pack_a ? 0 : blk.mc / mr * mr;  // the tail rows are always packed
    blk.a_pack_row = blk.a_in_place;
    for (blk.pc = 0; blk.pc < g.k; blk.pc += bs.kc) {
      blk.kc = std::min(bs.kc, g.k - blk.pc);
      if (blk.mc > blk.a_in_place) {
        ks.pack_a(g.trans_a, g.a_at(blk.ic + blk.a_in_place, blk.pc), g.lda, blk.mc - blk.a_in_place,
                  blk.kc, a_pack);
      }
      for (blk.jc = j0; blk.jc < j1; blk.jc += bs.n) {
        blk.nc = std::min(bs.n, j1 - blk.jc);
        blk.b_in_place = plan.pack_b ? 0 : blk.nc / nr * nr;
        if (blk.nc > blk.b_in_place) {
          ks.pack_b(g.trans_b, g.b_at(blk.pc, blk.jc + blk.b_in_place), g.ldb, blk.kc,
                    blk.nc - blk.b_in_place, b_pack);
        }
        multiply_block(ks, g, blk, tile, 0, blk.mc);
      }
    }
  }
}

// C = beta * C, the whole answer when k == 0 or alpha == 0.
template <class T>
void scale_c(const GemmArgs<T>& g) {
  if (g.beta == T(1)) return;
  for (int64_t i = 0; i < g.m; ++i) {
    T* row = g.c + i * g.ldc;
    if (g.beta == T(0)) {
      std::fill(row, row + g.n, T(0));
    } else {
      for (int64_t j = 0; j < g.n; ++j) row[j] *= g.beta;
    }
  }
}

// Below this many multiply-adds a second thread costs more than it saves.
constexpr double kMinParallelFma = 96.0 * 96.0 * 96.0;
// Cost of packing one element, in multiply-adds (packing is memory-bound, FMAs run 16 a cycle).
constexpr double kPackCostInFma = 12.0;

struct ThreadGrid {
  int rows = 1, cols = 1;  // rectangles of C along m and n
};

// The grid of C rectangles (one per thread) with the smallest largest-rectangle cost.
template <class T>
ThreadGrid choose_grid(const KernelSet<T>& ks, const GemmArgs<T>& g, PackingPlan plan, int threads) {
  ThreadGrid best;
  const double m_panels = static_cast<double>(ceil_div(g.m, ks.mr));
  const double n_panels = static_cast<double>(ceil_div(g.n, ks.nr));
  double best_cost = -1;
  for (int used = threads; used >= 1; --used) {
    for (int rows = 1; rows <= used; ++rows) {
      if (used % rows != 0) continue;
      const int cols = used / rows;
      if (rows > m_panels || cols > n_panels) continue;
      const double part_m = std::ceil(m_panels / rows) * ks.mr;
      const double part_n = std::ceil(n_panels / cols) * ks.nr;
      const double k = static_cast<double>(g.k);
      double cost = part_m * part_n * k;
      cost += kPackCostInFma * k * ((plan.pack_a ? part_m : 0.0) + (plan.pack_b ? part_n : 0.0));
      if (best_cost < 0 || cost < best_cost * 0.98) {  // prefer more threads only when it pays
        best_cost = cost;
        best = {rows, cols};
      }
    }
  }
  return best;
}

// Splits [0, total) into `parts` runs of whole `unit`s; returns the start of run `index`.
int64_t split_point(int64_t total, int64_t unit, int parts, int index) {
  const int64_t units = ceil_div(total, unit);
  return std::min(total, units * index / parts * unit);
}

template <class T>
void gemm_run(const GemmArgs<T>& g) {
  if (g.m == 0 || g.n == 0) return;
  if (g.k == 0 || g.alpha == T(0)) {
    scale_c(g);
    return;
  }
  const KernelSet<T>& ks = kernels_for_isa<T>();
  const PackingPlan plan = plan_packing(ks, g);
  int threads = in_parallel_region() ? 1 : get_num_threads();
  if (static_cast<double>(g.m) * g.n * g.k < kMinParallelFma) threads = 1;
  const ThreadGrid grid = threads > 1 ? choose_grid(ks, g, plan, threads) : ThreadGrid{};
  const int parts = grid.rows * grid.cols;
  if (parts == 1) {
    gemm_block(ks, g, plan, 0, g.m, 0, g.n);
    return;
  }
  parallel_for(0, parts, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t part = lo; part < hi; ++part) {
      const int r = static_cast<int>(part / grid.cols), c = static_cast<int>(part % grid.cols);
      const int64_t i0 = split_point(g.m, ks.mr, grid.rows, r);
      const int64_t i1 = split_point(g.m, ks.mr, grid.rows, r + 1);
      const int64_t j0 = split_point(g.n, ks.nr, grid.cols, c);
      const int64_t j1 = split_point(g.n, ks.nr, grid.cols, c + 1);
      if (i0 < i1 && j0 < j1) gemm_block(ks, g, plan, i0, i1, j0, j1);
    }
  });
}

// ---- argument checks ---------------------------------------------------------------------------
template <class T>
void check_args(const char* name, const GemmArgs<T>& g, bool check_pointers = true) {
  STRATA_CHECK(g.m >= 0 && g.n >= 0 && g.k >= 0, ValueError,
               "{}: sizes must be non-negative, got m={} n={} k={}", name, g.m, g.n, g.k);
  const int64_t a_cols = g.trans_a ? g.m : g.k;
  const int64_t b_cols = g.trans_b ? g.k : g.n;
  STRATA_CHECK(g.lda >= std::max<int64_t>(1, a_cols), ValueError,
               "{}: lda={} is smaller than the {} columns of A as stored", name, g.lda, a_cols);
  STRATA_CHECK(g.ldb >= std::max<int64_t>(1, b_cols), ValueError,
               "{}: ldb={} is smaller than the {} columns of B as stored", name, g.ldb, b_cols);
  STRATA_CHECK(g.ldc >= std::max<int64_t>(1, g.n), ValueError,
               "{}: ldc={} is smaller than n={}", name, g.ldc, g.n);
  if (!check_pointers) return;
  const bool uses_ab = g.m > 0 && g.n > 0 && g.k > 0 && g.alpha != T(0);
  STRATA_CHECK(!uses_ab || (g.a != nullptr && g.b != nullptr), ValueError,
               "{}: A or B is null for a {}x{}x{} product", name, g.m, g.n, g.k);
  STRATA_CHECK(g.m == 0 || g.n == 0 || g.c != nullptr, ValueError, "{}: C is null", name);
}

template <class T>
void gemm_checked(const char* name, const GemmArgs<T>& g) {
  check_args(name, g);
  gemm_run(g);
}

template <class T>
void gemm_batched(bool trans_a, bool trans_b, int64_t batch, int64_t m, int64_t n, int64_t k,
                  T alpha, const T* a, int64_t lda, int64_t stride_a, const T* b, int64_t ldb,
                  int64_t stride_b, T beta, T* c, int64_t ldc, int64_t stride_c) {
  const char* name = "gemm_batched";
  STRATA_CHECK(batch >= 0, ValueError, "{}: batch must be non-negative, got {}", name, batch);
  STRATA_CHECK(stride_a >= 0 && stride_b >= 0 && stride_c >= 0, ValueError,
               "{}: strides must be non-negative, got {} {} {}", name, stride_a, stride_b, stride_c);
  STRATA_CHECK(batch <= 1 || m == 0 || n == 0 || stride_c != 0, ValueError,
               "{}: stride_c is 0, so {} products would write the same C", name, batch);
  const GemmArgs<T> first{trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc};
  check_args(name, first, /*check_pointers=*/batch > 0);
  if (batch == 0 || m == 0 || n == 0) return;

  auto product = [&](int64_t i) {
    GemmArgs<T> g = first;
    g.a = a + i * stride_a;
    g.b = b + i * stride_b;
    g.c = c + i * stride_c;
    gemm_run(g);
  };
  // Parallel over the batch when it spreads evenly over the threads; each product then runs on
  // one thread (gemm_run sees in_parallel_region()). Otherwise each product is threaded itself.
  const int threads = in_parallel_region() ? 1 : get_num_threads();
  const bool even = batch % threads == 0 || batch >= 4 * threads;
  if (threads > 1 && batch >= threads && even) {
    parallel_for(0, batch, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) product(i);
    });
  } else {
    for (int64_t i = 0; i < batch; ++i) product(i);
  }
}

}  // namespace
}  // namespace detail

void gemm_f32(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
              const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
              int64_t ldc) {
  detail::gemm_checked<float>("gemm_f32", {trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc});
}

void gemm_f64(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
              const double* a, int64_t lda, const double* b, int64_t ldb, double beta, double* c,
              int64_t ldc) {
  detail::gemm_checked<double>("gemm_f64", {trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc});
}

void gemm_batched_f32(bool trans_a, bool trans_b, int64_t batch, int64_t m, int64_t n, int64_t k,
                      float alpha, const float* a, int64_t lda, int64_t stride_a, const float* b,
                      int64_t ldb, int64_t stride_b, float beta, float* c, int64_t ldc,
                      int64_t stride_c) {
  detail::gemm_batched<float>(trans_a, trans_b, batch, m, n, k, alpha, a, lda, stride_a, b, ldb,
                              stride_b, beta, c, ldc, stride_c);
}

void gemm_batched_f64(bool trans_a, bool trans_b, int64_t batch, int64_t m, int64_t n, int64_t k,
                      double alpha, const double* a, int64_t lda, int64_t stride_a, const double* b,
                      int64_t ldb, int64_t stride_b, double beta, double* c, int64_t ldc,
                      int64_t stride_c) {
  detail::gemm_batched<double>(trans_a, trans_b, batch, m, n, k, alpha, a, lda, stride_a, b, ldb,
                               stride_b, beta, c, ldc, stride_c);
}

const char* gemm_isa() {
  return detail::kIsaNames[detail::active_isa().load(std::memory_order_relaxed)];
}

bool gemm_isa_supported(const char* isa) {
  detail::Isa parsed;
  return isa != nullptr && detail::parse_isa(isa, &parsed) && detail::cpu_supports(parsed);
}

void gemm_force_isa(const char* isa) {
  if (isa == nullptr || *isa == '\0' || std::string_view(isa) == "auto") {
    detail::active_isa().store(static_cast<int>(detail::default_isa()));
    return;
  }
  detail::Isa parsed;
  STRATA_CHECK(detail::parse_isa(isa, &parsed), ValueError,
               "gemm_force_isa: unknown instruction set '{}' (avx512, avx2, generic or auto)", isa);
  STRATA_CHECK(detail::cpu_supports(parsed), ValueError,
               "gemm_force_isa: this CPU cannot run the '{}' path", isa);
  detail::active_isa().store(static_cast<int>(parsed));
}

}  // namespace strata::kernels::cpu
