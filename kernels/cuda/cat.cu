// CUDA cat and nonzero (CudaTable::cat, nonzero; kernels/index.h).
//
// cat: out is contiguous, viewed as [outer, out_row] bytes; each input that is contiguous and of
// out's dtype is a block of `bytes` per outer row at byte `at` of the row. Up to kCatBatch such
// inputs go to one launch (their pointers, positions and sizes passed by value, blockIdx.y picks
// the input), copied in the widest unit (16..1 bytes) that divides every size and position and
// to which every pointer is aligned: cat of many small tensors is one launch, not one per input.
// Inputs of another dtype or layout are copied into their slice of out by the copy kernel
// (kernels::copy converts and walks any strides), as on the CPU.
//
// nonzero (x contiguous): three passes, row-major order as on the CPU. (1) one block per tile of
// kTile elements counts its non-zeros (__syncthreads_count); (2) the host, which must know the
// total to allocate the [n, ndim] result anyway, copies the tile counts back and turns them into
// each tile's start (exclusive prefix sum), then sends those to the device; (3) each thread of a
// tile takes kItems consecutive elements, a block-wide exclusive scan of the per-thread counts
// (warp shuffles, then across the warps in shared memory) gives its first output row, and it
// writes the coordinates of its non-zeros in order.
#include <algorithm>
#include <numeric>
#include <vector>

#include "kernels/cuda/loops.cuh"
#include "kernels/elementwise.h"
#include "kernels/index.h"

namespace strata::cuda {
namespace {

constexpr int kCatBatch = 32;

struct CatBatch {
  int count = 0;
  const char* src[kCatBatch] = {};
  int64_t at[kCatBatch] = {};     // units from the start of an out row
  int64_t units[kCatBatch] = {};  // units per outer row of this input
};

template <class V>
__global__ void cat_kernel(CatBatch batch, int64_t outer, int64_t out_row, V* __restrict__ out) {
  const int t = blockIdx.y;
  const V* __restrict__ src = reinterpret_cast<const V*>(batch.src[t]);
  const int64_t row = batch.units[t], at = batch.at[t], total = outer * row;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t u = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; u < total; u += step) {
    const int64_t o = u / row;
    out[o * out_row + at + (u - o * row)] = src[u];
  }
}

struct CatBlock {
  const char* src;
  int64_t at, bytes;  // byte position in an out row, bytes per outer row
};

template <class V>
void launch_cat_as(const std::vector<CatBlock>& blocks, int64_t outer, int64_t out_row_bytes, char* out,
                   cudaStream_t stream) {
  constexpr int64_t w = sizeof(V);
  for (size_t first = 0; first < blocks.size(); first += kCatBatch) {
    CatBatch batch;
    int64_t most = 0;
    for (size_t i = first; i < blocks.size() && batch.count < kCatBatch; ++i, ++batch.count) {
      batch.src[batch.count] = blocks[i].src;
      batch.at[batch.count] = blocks[i].at / w;
      batch.units[batch.count] = blocks[i].bytes / w;
      most = std::max(most, blocks[i].bytes / w);
    }
    const dim3 grid(grid_for(outer * most, kThreads), static_cast<unsigned>(batch.count));
    cat_kernel<V><<<grid, kThreads, 0, stream>>>(batch, outer, out_row_bytes / w, reinterpret_cast<V*>(out));
    STRATA_CUDA_LAUNCH_CHECK(stream);
  }
}

void cat(const std::vector<Tensor>& inputs, int64_t dim, const Tensor& out) {
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < dim; ++d) outer *= out.size(d);
  for (int64_t d = dim + 1; d < out.dim(); ++d) inner *= out.size(d);
  const int64_t item = out.itemsize();
  const int64_t out_row = out.size(dim) * inner * item;
  std::vector<CatBlock> blocks;
  int64_t at = 0;
  for (const Tensor& t : inputs) {
    const int64_t size = t.size(dim);
    if (t.numel() > 0) {
      if (t.dtype() == out.dtype() && t.is_contiguous()) {
        blocks.push_back({static_cast<const char*>(t.raw_data()), at * inner * item, size * inner * item});
      } else {
        kernels::copy(t, out.narrow(dim, at, size));  // converts dtype, walks any layout
      }
    }
    at += size;
  }
  if (blocks.empty() || outer == 0) return;
  char* dst = static_cast<char*>(out.raw_data());
  // The widest unit dividing every size and position, with every pointer aligned to it.
  int w = 16;
  auto fits = [&](int64_t v) { return v % w == 0; };
  while (w > 1) {
    bool ok = fits(out_row) && aligned_to(dst, w);
    for (const CatBlock& b : blocks) ok = ok && fits(b.at) && fits(b.bytes) && aligned_to(b.src, w);
    if (ok) break;
    w /= 2;
  }
  const cudaStream_t stream = stream_for(out.device());
  DeviceGuard guard(out.device().index);
  switch (w) {
    case 16: return launch_cat_as<uint4>(blocks, outer, out_row, dst, stream);
    case 8: return launch_cat_as<uint2>(blocks, outer, out_row, dst, stream);
    case 4: return launch_cat_as<uint32_t>(blocks, outer, out_row, dst, stream);
    case 2: return launch_cat_as<uint16_t>(blocks, outer, out_row, dst, stream);
    default: return launch_cat_as<uint8_t>(blocks, outer, out_row, dst, stream);
  }
}

// ---- nonzero ----

constexpr int kNzThreads = 256;
constexpr int kItems = 8;
constexpr int64_t kTile = kNzThreads * kItems;
constexpr int kMaxNonzeroDims = 16;

struct NzShape {
  int ndim = 0;
  int64_t sizes[kMaxNonzeroDims] = {};
};

template <class T>
__device__ __forceinline__ bool is_set(T v) {
  if constexpr (std::is_same_v<T, bool>) {
    return v;
  } else {
    return static_cast<compute_t<T>>(v) != compute_t<T>(0);
  }
}

template <class T>
__global__ void nonzero_count_kernel(const T* __restrict__ x, int64_t n, int64_t* __restrict__ counts) {
  const int64_t base = static_cast<int64_t>(blockIdx.x) * kTile;
  int total = 0;
#pragma unroll
  for (int k = 0; k < kItems; ++k) {  // coalesced: element base + k * threads + thread
    const int64_t i = base + k * kNzThreads + threadIdx.x;
    total += __syncthreads_count(i < n && is_set(x[i]));
  }
  if (threadIdx.x == 0) counts[blockIdx.x] = total;
}

template <class T>
__global__ void nonzero_write_kernel(const T* __restrict__ x, int64_t n, const int64_t* __restrict__ tile_start,
                                     NzShape shape, int64_t* __restrict__ out) {
  const int64_t first = static_cast<int64_t>(blockIdx.x) * kTile + static_cast<int64_t>(threadIdx.x) * kItems;
  unsigned set = 0;  // bit k: element first + k is non-zero
#pragma unroll
  for (int k = 0; k < kItems; ++k) set |= static_cast<unsigned>(first + k < n && is_set(x[first + k])) << k;
  const int mine = __popc(set);
  // Block-wide exclusive scan of `mine`: inclusive within each warp, then the warps' totals.
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  int incl = mine;
#pragma unroll
  for (int s = 1; s < 32; s <<= 1) {
    const int v = __shfl_up_sync(0xffffffffu, incl, s);
    if (lane >= s) incl += v;
  }
  __shared__ int warp_total[kNzThreads / 32];
  if (lane == 31) warp_total[warp] = incl;
  __syncthreads();
  int before = 0;
  for (int w = 0; w < warp; ++w) before += warp_total[w];
  int64_t row = tile_start[blockIdx.x] + before + incl - mine;
  if (mine == 0) return;
  // Each non-zero's coordinates straight from its linear index (innermost dim first): no
  // per-thread coordinate array, so nothing goes to local memory.
  for (int k = 0; k < kItems; ++k) {
    if (!((set >> k) & 1u)) continue;
    int64_t* w = out + row * shape.ndim;
    int64_t rem = first + k;
#pragma unroll
    for (int d = kMaxNonzeroDims - 1; d >= 0; --d) {
      if (d >= shape.ndim) continue;
      const int64_t size = shape.sizes[d];
      w[d] = rem % size;
      rem /= size;
    }
    ++row;
  }
}

Tensor nonzero(const Tensor& x) {
  const int64_t n = x.numel(), nd = x.dim();
  const Device device = x.device();
  STRATA_CHECK(nd <= kMaxNonzeroDims, DeviceError, "nonzero: CUDA supports at most {} dims, got shape {}",
               kMaxNonzeroDims, x.shape());
  if (n == 0) return empty({0, nd}, {.dtype = DType::I64, .device = device});
  const int64_t tiles = (n + kTile - 1) / kTile;
  STRATA_CHECK(tiles < (int64_t{1} << 31), DeviceError, "nonzero: {} elements are too many for one launch", n);
  const Tensor counts = empty({tiles}, {.dtype = DType::I64, .device = device});
  const cudaStream_t stream = stream_for(device);
  visit_dtype(x.dtype(), [&]<class T>() {
    DeviceGuard guard(device.index);
    nonzero_count_kernel<T><<<static_cast<unsigned>(tiles), kNzThreads, 0, stream>>>(
        static_cast<const T*>(x.raw_data()), n, static_cast<int64_t*>(counts.raw_data()));
    STRATA_CUDA_LAUNCH_CHECK(stream);
  });
  std::vector<int64_t> start = counts.to_vector<int64_t>();  // waits for the counts
  const int64_t total = std::accumulate(start.begin(), start.end(), int64_t{0});
  std::exclusive_scan(start.begin(), start.end(), start.begin(), int64_t{0});
  Tensor out = empty({total, nd}, {.dtype = DType::I64, .device = device});
  if (total == 0 || nd == 0) return out;
  const Tensor starts = tensor<int64_t>(start, {tiles}).to(device);
  NzShape shape;
  shape.ndim = static_cast<int>(nd);
  for (int64_t d = 0; d < nd; ++d) shape.sizes[d] = x.size(d);
  visit_dtype(x.dtype(), [&]<class T>() {
    DeviceGuard guard(device.index);
    nonzero_write_kernel<T><<<static_cast<unsigned>(tiles), kNzThreads, 0, stream>>>(
        static_cast<const T*>(x.raw_data()), n, static_cast<const int64_t*>(starts.raw_data()), shape,
        static_cast<int64_t*>(out.raw_data()));
    STRATA_CUDA_LAUNCH_CHECK(stream);
  });
  return out;
}

const bool g_registered = register_kernels([](kernels::CudaTable& t) {
  t.cat = &cat;
  t.nonzero = &nonzero;
});

}  // namespace
}  // namespace strata::cuda
