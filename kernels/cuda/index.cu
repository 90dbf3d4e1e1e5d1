// CUDA index reads (CudaTable::index_min_max, index_select, gather; kernels/index.h).
//
// index_min_max is how the front ends bounds-check a CUDA index: a grid-stride min/max per
// thread, warp shuffles, one partial pair per block (at most 1024 blocks), and the few partials
// reduced on the host after one small device-to-host copy. The host must wait for the answer
// anyway (an out-of-range index throws IndexError before any kernel reads with it), so this is
// the one synchronization of an indexed op.
//
// gather and index_select on strided tensors are one kernel (kernels/cuda/index_plan.h explains
// the plan): a grid-stride loop over the index positions whose byte offsets come from an
// OffsetCalculator. It moves elements as raw words of the dtype's size (1, 2, 4 or 8 bytes), so
// every dtype shares four instantiations per index type. index_select of a contiguous tensor into
// its contiguous output copies whole rows, vectorized (kernels/cuda/gather_rows.cuh).
#include <climits>

#include "kernels/cuda/gather_rows.cuh"
#include "kernels/cuda/index_plan.h"
#include "kernels/index.h"

namespace strata::cuda {
namespace {

constexpr int kMinMaxMaxBlocks = 1024;

template <class I>
__global__ void min_max_kernel(int64_t n, OffsetCalculator<1> oc, const char* __restrict__ index,
                               int64_t* __restrict__ partial) {
  int64_t lo = LLONG_MAX, hi = LLONG_MIN;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) {
    const int64_t v = static_cast<int64_t>(*reinterpret_cast<const I*>(index + oc.get(i)[0]));
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
  }
#pragma unroll
  for (int s = 16; s > 0; s >>= 1) {
    const int64_t a = __shfl_down_sync(0xffffffffu, lo, s), b = __shfl_down_sync(0xffffffffu, hi, s);
    lo = a < lo ? a : lo;
    hi = b > hi ? b : hi;
  }
  __shared__ int64_t warp_lo[kThreads / 32], warp_hi[kThreads / 32];
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  if (lane == 0) {
    warp_lo[warp] = lo;
    warp_hi[warp] = hi;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    for (int w = 1; w < kThreads / 32; ++w) {
      lo = warp_lo[w] < lo ? warp_lo[w] : lo;
      hi = warp_hi[w] > hi ? warp_hi[w] : hi;
    }
    partial[2 * blockIdx.x] = lo;
    partial[2 * blockIdx.x + 1] = hi;
  }
}

std::pair<int64_t, int64_t> index_min_max(const Tensor& index) {
  const int64_t n = index.numel();
  if (n == 0) return {LLONG_MAX, LLONG_MIN};  // the CPU's answer for no values
  const Tensor* ops[1] = {&index};
  const auto oc = make_offset_calculator<1>(ops);
  const unsigned blocks = std::min<unsigned>(grid_for(n, kThreads), kMinMaxMaxBlocks);
  const Tensor partial = empty({static_cast<int64_t>(blocks), 2}, {.dtype = DType::I64, .device = index.device()});
  {
    const cudaStream_t stream = stream_for(index.device());
    DeviceGuard guard(index.device().index);
    const char* p = static_cast<const char*>(index.raw_data());
    int64_t* out = static_cast<int64_t*>(partial.raw_data());
    if (index.dtype() == DType::I32) {
      min_max_kernel<int32_t><<<blocks, kThreads, 0, stream>>>(n, oc, p, out);
    } else {
      min_max_kernel<int64_t><<<blocks, kThreads, 0, stream>>>(n, oc, p, out);
    }
    STRATA_CUDA_LAUNCH_CHECK(stream);
  }
  const std::vector<int64_t> v = partial.to_vector<int64_t>();  // waits for the kernel
  int64_t lo = LLONG_MAX, hi = LLONG_MIN;
  for (size_t b = 0; b < v.size(); b += 2) {
    lo = std::min(lo, v[b]);
    hi = std::max(hi, v[b + 1]);
  }
  return {lo, hi};
}

template <class W, class I>
__global__ void indexed_read_kernel(IndexedPlan p, const char* __restrict__ self, const char* __restrict__ index,
                                    char* __restrict__ other) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < p.n; i += step) {
    const Array<int64_t, 3> off = p.oc.get(i);
    *reinterpret_cast<W*>(other + off[2]) =
        *reinterpret_cast<const W*>(self + indexed_self_offset<I>(p, index, off));
  }
}

template <class W>
void launch_read_as(const IndexedPlan& p, const Tensor& self, const Tensor& index, const Tensor& other,
                    cudaStream_t stream) {
  const char* s = static_cast<const char*>(self.raw_data());
  const char* ix = static_cast<const char*>(index.raw_data());
  char* o = static_cast<char*>(other.raw_data());
  if (index.dtype() == DType::I32) {
    indexed_read_kernel<W, int32_t><<<grid_for(p.n, kThreads), kThreads, 0, stream>>>(p, s, ix, o);
  } else {
    indexed_read_kernel<W, int64_t><<<grid_for(p.n, kThreads), kThreads, 0, stream>>>(p, s, ix, o);
  }
  STRATA_CUDA_LAUNCH_CHECK(stream);
}

// other[p] = self[p with p[dim] = index[p]] over the plan's positions.
void indexed_read(const IndexedPlan& p, const Tensor& self, const Tensor& index, const Tensor& other) {
  if (p.n == 0) return;
  const cudaStream_t stream = stream_for(other.device());
  DeviceGuard guard(other.device().index);
  switch (self.itemsize()) {
    case 1: return launch_read_as<uint8_t>(p, self, index, other, stream);
    case 2: return launch_read_as<uint16_t>(p, self, index, other, stream);
    case 4: return launch_read_as<uint32_t>(p, self, index, other, stream);
    default: return launch_read_as<uint64_t>(p, self, index, other, stream);
  }
}

void index_select(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& out) {
  if (out.numel() == 0) return;
  if (x.is_contiguous() && out.is_contiguous()) {
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < dim; ++d) outer *= x.size(d);
    for (int64_t d = dim + 1; d < x.dim(); ++d) inner *= x.size(d);
    return gather_rows(static_cast<const char*>(x.raw_data()), index, outer, x.size(dim), inner * x.itemsize(),
                       static_cast<char*>(out.raw_data()), out.device());
  }
  indexed_read(plan_index_1d(x, dim, index, out), x, index, out);
}

void gather(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& out) {
  indexed_read(plan_indexed(x, dim, index, out, false), x, index, out);
}

const bool g_registered = register_kernels([](kernels::CudaTable& t) {
  t.index_min_max = &index_min_max;
  t.index_select = &index_select;
  t.gather = &gather;
});

}  // namespace
}  // namespace strata::cuda
