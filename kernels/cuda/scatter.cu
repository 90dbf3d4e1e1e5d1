// CUDA index writes (CudaTable::scatter, index_add; kernels/index.h), on the plans of
// kernels/cuda/index_plan.h.
//
// scatter (assign) is deterministic and matches the CPU exactly: one thread per outer position
// (every dim but `dim`) walks the index along dim in order, so among duplicate indices the last
// one wins, and no two threads write the same element (the front ends guarantee the written
// tensor has no repeated elements). It moves raw words of the dtype's size.
//
// scatter_add and index_add run one thread per index position and add with atomics, for full
// parallelism whatever the shape. Integer and bool results are exact and deterministic; floating
// results are NOT bit-for-bit deterministic: duplicate targets are summed in whatever order the
// atomics land, so they may differ from the CPU (which sums in index order) and between runs by
// rounding. Native atomicAdd for f32, f64, f16 and bf16 (sm_70 / sm_80 and up), i32 and i64
// (two's complement wrap, as on the CPU); u8 through a compare-and-swap on its aligned 32-bit
// word (the caching allocator rounds blocks to 512 bytes, so the word is inside the block); bool
// "adds" as logical or, a plain store of true that racing writers agree on.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "kernels/cuda/index_plan.h"
#include "kernels/cuda/loops.cuh"
#include "kernels/index.h"

namespace strata::cuda {
namespace {

using kernels::ScatterMode;

template <class W, class I>
__global__ void scatter_assign_kernel(IndexedPlan p, char* __restrict__ self, const char* __restrict__ index,
                                      const char* __restrict__ other) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < p.n; i += step) {
    const Array<int64_t, 3> off = p.oc.get(i);
    const char* ip = index + off[1];
    const char* op = other + off[2];
    char* sp = self + off[0];
    for (int64_t j = 0; j < p.k; ++j) {
      const int64_t at = static_cast<int64_t>(*reinterpret_cast<const I*>(ip + j * p.index_dim_stride));
      *reinterpret_cast<W*>(sp + at * p.self_dim_stride) = *reinterpret_cast<const W*>(op + j * p.other_dim_stride);
    }
  }
}

__device__ __forceinline__ void atomic_add_to(float* p, float v) { atomicAdd(p, v); }
__device__ __forceinline__ void atomic_add_to(double* p, double v) { atomicAdd(p, v); }
__device__ __forceinline__ void atomic_add_to(Half* p, Half v) {
  atomicAdd(reinterpret_cast<__half*>(p), __ushort_as_half(v.bits));
}
__device__ __forceinline__ void atomic_add_to(BFloat16* p, BFloat16 v) {
  atomicAdd(reinterpret_cast<__nv_bfloat16*>(p), __ushort_as_bfloat16(v.bits));
}
__device__ __forceinline__ void atomic_add_to(int64_t* p, int64_t v) {
  atomicAdd(reinterpret_cast<unsigned long long*>(p), static_cast<unsigned long long>(v));
}
__device__ __forceinline__ void atomic_add_to(int32_t* p, int32_t v) { atomicAdd(p, v); }
__device__ __forceinline__ void atomic_add_to(uint8_t* p, uint8_t v) {
  const uintptr_t addr = reinterpret_cast<uintptr_t>(p);
  unsigned int* word = reinterpret_cast<unsigned int*>(addr & ~uintptr_t{3});
  const unsigned int shift = static_cast<unsigned int>(addr & 3) * 8;
  unsigned int old = *word, assumed;
  do {
    assumed = old;
    const unsigned int sum = ((assumed >> shift) + v) & 0xffu;  // wraps like the CPU's u8 add
    old = atomicCAS(word, assumed, (assumed & ~(0xffu << shift)) | (sum << shift));
  } while (old != assumed);
}
__device__ __forceinline__ void atomic_add_to(bool* p, bool v) {
  if (v) *p = true;
}

template <class T, class I>
__global__ void scatter_add_kernel(IndexedPlan p, char* __restrict__ self, const char* __restrict__ index,
                                   const char* __restrict__ other) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < p.n; i += step) {
    const Array<int64_t, 3> off = p.oc.get(i);
    atomic_add_to(reinterpret_cast<T*>(self + indexed_self_offset<I>(p, index, off)),
                  *reinterpret_cast<const T*>(other + off[2]));
  }
}

template <class I>
void launch_assign(const IndexedPlan& p, char* s, const char* ix, const char* o, int64_t item, cudaStream_t stream) {
  const unsigned grid = grid_for(p.n, kThreads);
  switch (item) {
    case 1: scatter_assign_kernel<uint8_t, I><<<grid, kThreads, 0, stream>>>(p, s, ix, o); break;
    case 2: scatter_assign_kernel<uint16_t, I><<<grid, kThreads, 0, stream>>>(p, s, ix, o); break;
    case 4: scatter_assign_kernel<uint32_t, I><<<grid, kThreads, 0, stream>>>(p, s, ix, o); break;
    default: scatter_assign_kernel<uint64_t, I><<<grid, kThreads, 0, stream>>>(p, s, ix, o); break;
  }
}

// self[p with p[dim] = index[p]] (=|+=) other[p] over the plan's positions.
void indexed_write(ScatterMode mode, const IndexedPlan& p, const Tensor& self, const Tensor& index,
                   const Tensor& other) {
  if (p.n == 0) return;
  const cudaStream_t stream = stream_for(self.device());
  DeviceGuard guard(self.device().index);
  char* s = static_cast<char*>(self.raw_data());
  const char* ix = static_cast<const char*>(index.raw_data());
  const char* o = static_cast<const char*>(other.raw_data());
  const bool i32 = index.dtype() == DType::I32;
  if (mode == ScatterMode::assign) {
    if (i32) {
      launch_assign<int32_t>(p, s, ix, o, self.itemsize(), stream);
    } else {
      launch_assign<int64_t>(p, s, ix, o, self.itemsize(), stream);
    }
  } else {
    visit_dtype(self.dtype(), [&]<class T>() {
      if (i32) {
        scatter_add_kernel<T, int32_t><<<grid_for(p.n, kThreads), kThreads, 0, stream>>>(p, s, ix, o);
      } else {
        scatter_add_kernel<T, int64_t><<<grid_for(p.n, kThreads), kThreads, 0, stream>>>(p, s, ix, o);
      }
    });
  }
  STRATA_CUDA_LAUNCH_CHECK(stream);
}

void scatter(ScatterMode mode, const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src) {
  indexed_write(mode, plan_indexed(out, dim, index, src, mode == ScatterMode::assign), out, index, src);
}

void index_add(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src) {
  if (src.numel() == 0) return;
  indexed_write(ScatterMode::add, plan_index_1d(out, dim, index, src), out, index, src);
}

const bool g_registered = register_kernels([](kernels::CudaTable& t) {
  t.scatter = &scatter;
  t.index_add = &index_add;
});

}  // namespace
}  // namespace strata::cuda
