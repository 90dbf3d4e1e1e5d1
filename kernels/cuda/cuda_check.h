#pragma once
// CUDA and cuBLAS status codes become strata::DeviceError, with the file and line of the call,
// the call's text and the runtime's error string:
//
//   STRATA_CUDA_CHECK(cudaMemcpyAsync(dst, src, n, cudaMemcpyDeviceToHost, stream));
//   my_kernel<<<grid, block, 0, stream>>>(...);
//   STRATA_CUDA_LAUNCH_CHECK(stream);
//
// STRATA_CUDA_LAUNCH_CHECK reads the launch error (bad configuration, no kernel image for the
// device) and, in the opt-in debug mode (environment STRATA_CUDA_SYNC=1, read once), also
// synchronizes the stream so that a fault inside the kernel is reported at its launch instead of
// at some later call. Only .cu files include this header (it needs the CUDA headers).
#include <cublas_v2.h>
#include <cuda_runtime.h>

namespace strata::cuda {

[[noreturn]] void throw_cuda_error(cudaError_t status, const char* call, const char* file, int line);
[[noreturn]] void throw_cublas_error(cublasStatus_t status, const char* call, const char* file, int line);

// True when STRATA_CUDA_SYNC is set to a non-empty value other than "0" (read once per process).
bool sync_after_launch();
// Test hook: overrides the environment (for the debug-mode tests).
void set_sync_after_launch(bool on);

// The launch check: cudaGetLastError, then, in debug mode, cudaStreamSynchronize(stream).
void check_launch(cudaStream_t stream, const char* what, const char* file, int line);

}  // namespace strata::cuda

#define STRATA_CUDA_CHECK(expr)                                                        \
  do {                                                                                 \
    const cudaError_t strata_cuda_status_ = (expr);                                    \
    if (strata_cuda_status_ != cudaSuccess) [[unlikely]]                               \
      ::strata::cuda::throw_cuda_error(strata_cuda_status_, #expr, __FILE__, __LINE__); \
  } while (0)

#define STRATA_CUBLAS_CHECK(expr)                                                        \
  do {                                                                                   \
    const cublasStatus_t strata_cublas_status_ = (expr);                                 \
    if (strata_cublas_status_ != CUBLAS_STATUS_SUCCESS) [[unlikely]]                     \
      ::strata::cuda::throw_cublas_error(strata_cublas_status_, #expr, __FILE__, __LINE__); \
  } while (0)

#define STRATA_CUDA_LAUNCH_CHECK(stream) ::strata::cuda::check_launch((stream), "kernel launch", __FILE__, __LINE__)
