#pragma once
// Backend-internal helpers shared by the .cu files (needs the CUDA headers): the stream that work
// on a tensor's device goes to, and the launch configuration of the elementwise-style kernels.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "tensor/device.h"

namespace strata::cuda {

// The calling thread's current stream on `device` (a CUDA device).
cudaStream_t stream_for(Device device);

// Grid for a grid-stride loop over `n` work items with `threads` per block: enough blocks to
// fill the machine several times over, never more than the work needs.
inline unsigned grid_for(int64_t n, int threads) {
  const int64_t blocks = (n + threads - 1) / threads;
  return static_cast<unsigned>(std::clamp<int64_t>(blocks, 1, 132 * 32));  // 132 SMs (H100 SXM) x 32
}

}  // namespace strata::cuda
