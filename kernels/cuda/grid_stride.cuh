#pragma once
// The one-thread-per-item kernels' plumbing (pooling, upsampling): a grid-stride loop's first
// item and step, a launcher over n items on a tensor's device and current stream, and the
// planes x height x width view of an NCHW input/output pair.
#include <utility>

#include "kernels/cuda/loops.cuh"
#include "kernels/pool_functors.h"

namespace strata::cuda {

__device__ __forceinline__ int64_t first_item() { return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; }
__device__ __forceinline__ int64_t item_step() { return static_cast<int64_t>(gridDim.x) * blockDim.x; }

// Launches `kernel(args...)` over `n` grid-stride items on `on`'s device and current stream.
template <class... Params, class... Args>
void launch(const Tensor& on, int64_t n, void (*kernel)(Params...), Args&&... args) {
  if (n <= 0) return;
  DeviceGuard guard(on.device().index);
  const cudaStream_t stream = stream_for(on.device());
  kernel<<<grid_for(n, kThreads), kThreads, 0, stream>>>(std::forward<Args>(args)...);
  STRATA_CUDA_LAUNCH_CHECK(stream);
}

inline kernels::PoolDims dims_of(const Tensor& in, const Tensor& out) {
  return {in.size(0), in.size(1), in.size(2), out.size(1), out.size(2)};
}

}  // namespace strata::cuda
