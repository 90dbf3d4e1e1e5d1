#pragma once
// Whole-row gathers on the GPU, shared by index_select on contiguous tensors (index.cu) and the
// embedding lookup (embedding.cu): dst viewed as [outer, n, row], src as [outer, size, row],
// dst[o, j, :] = src[o, index[j], :]. Rows are copied in the widest unit (16, 8, 4, 2 or 1 bytes)
// that divides the row and to which both base pointers are aligned, so an f32 row of 64 values
// moves as 16 128-bit loads and stores; consecutive threads take consecutive units of a row
// (coalesced on both sides). Grid-stride over outer * n * units, 64-bit index math throughout.
#include <cstdint>

#include "kernels/cuda/loops.cuh"

namespace strata::cuda {
namespace {

template <class V, class I>
__global__ void gather_rows_kernel(int64_t total, int64_t n, int64_t size, int64_t units, const V* __restrict__ src,
                                   const I* __restrict__ index, int64_t index_stride, V* __restrict__ dst) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t u = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; u < total; u += step) {
    const int64_t r = u / units, c = u - r * units;  // dst row r = o * n + j, unit c within it
    const int64_t o = r / n, j = r - o * n;
    const int64_t at = static_cast<int64_t>(index[j * index_stride]);
    dst[u] = src[(o * size + at) * units + c];
  }
}

template <class V>
void launch_gather_rows_as(const char* src, const Tensor& index, int64_t outer, int64_t size, int64_t row_bytes,
                           char* dst, cudaStream_t stream) {
  const int64_t n = index.numel(), units = row_bytes / static_cast<int64_t>(sizeof(V));
  const int64_t total = outer * n * units;
  const unsigned grid = grid_for(total, kThreads);
  const V* s = reinterpret_cast<const V*>(src);
  V* d = reinterpret_cast<V*>(dst);
  if (index.dtype() == DType::I32) {
    gather_rows_kernel<V, int32_t><<<grid, kThreads, 0, stream>>>(
        total, n, size, units, s, static_cast<const int32_t*>(index.raw_data()), index.stride(0), d);
  } else {
    gather_rows_kernel<V, int64_t><<<grid, kThreads, 0, stream>>>(
        total, n, size, units, s, static_cast<const int64_t*>(index.raw_data()), index.stride(0), d);
  }
  STRATA_CUDA_LAUNCH_CHECK(stream);
}

// The widest unit (bytes) that divides `row_bytes` and to which every pointer is aligned.
inline int row_unit(int64_t row_bytes, const void* a, const void* b) {
  for (int w : {16, 8, 4, 2}) {
    if (row_bytes % w == 0 && aligned_to(a, w) && aligned_to(b, w)) return w;
  }
  return 1;
}

// src: [outer, size, row_bytes] contiguous bytes; dst: [outer, index.numel(), row_bytes]
// contiguous; index: 1-d i32/i64 (any stride) on the same device, values in [0, size).
inline void gather_rows(const char* src, const Tensor& index, int64_t outer, int64_t size, int64_t row_bytes,
                        char* dst, Device device) {
  if (outer * index.numel() * row_bytes == 0) return;
  const cudaStream_t stream = stream_for(device);
  DeviceGuard guard(device.index);
  switch (row_unit(row_bytes, src, dst)) {
    case 16: return launch_gather_rows_as<uint4>(src, index, outer, size, row_bytes, dst, stream);
    case 8: return launch_gather_rows_as<uint2>(src, index, outer, size, row_bytes, dst, stream);
    case 4: return launch_gather_rows_as<uint32_t>(src, index, outer, size, row_bytes, dst, stream);
    case 2: return launch_gather_rows_as<uint16_t>(src, index, outer, size, row_bytes, dst, stream);
    default: return launch_gather_rows_as<uint8_t>(src, index, outer, size, row_bytes, dst, stream);
  }
}

}  // namespace
}  // namespace strata::cuda
