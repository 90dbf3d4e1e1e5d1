// The CUDA backend's device query: the first piece of kernels/cuda, and the one every other
// piece relies on. The allocator (allocator.cu) and the kernel table entries (elementwise_*.cu,
// copy.cu) register unconditionally at start-up without touching the runtime; allocator_for()
// refuses CUDA devices when this query reports none, so no kernel is reached without a device.
//
// It installs strata::detail::g_cuda_device_count at static-initialization time. That works only
// if this object file reaches the final link: strata_kernels_cuda is a static library whose
// objects nothing references by name, so the root CMakeLists.txt links it with
// $<LINK_LIBRARY:WHOLE_ARCHIVE,...> (see the comment there). tests/kernels/test_cuda_available.cpp
// checks that the hook is installed in every CUDA build.
//
// Any runtime error counts as "no GPU": cudaErrorInsufficientDriver on a machine with the
// toolkit but an old or absent driver, cudaErrorNoDevice on a machine without a GPU, ... A CPU
// program must keep working on a machine where the CUDA runtime is unhappy.
#include <cuda_runtime.h>

#include "tensor/device_detail.h"

namespace strata::cuda {
namespace {

int query_device_count() {
  int n = 0;
  const cudaError_t status = cudaGetDeviceCount(&n);
  if (status != cudaSuccess) {
    (void)cudaGetLastError();  // clear the error so later runtime calls do not see it
    return 0;
  }
  return n < 0 ? 0 : n;
}

// The count cannot change during a process (devices are enumerated once by the driver); the
// first query initializes the runtime, which costs up to a few hundred ms on a real GPU, so it
// happens lazily and once.
int device_count() {
  static const int n = query_device_count();
  return n;
}

// Installs the hook before main(). g_cuda_device_count is constant-initialized (nullptr), so
// this dynamic initializer cannot run before it, whatever the order of translation units.
const bool g_registered = [] {
  strata::detail::g_cuda_device_count = &device_count;
  return true;
}();

}  // namespace
}  // namespace strata::cuda
