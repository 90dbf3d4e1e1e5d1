// Turning CUDA/cuBLAS status codes into DeviceError, and the synchronize-after-launch debug mode
// (see cuda_check.h).
#include "kernels/cuda/cuda_check.h"

#include <atomic>
#include <cstdlib>
#include <string>

#include "tensor/error.h"

namespace strata::cuda {
namespace {

constexpr int kDeviceErrorKind = strata::detail::error_kind<DeviceError>();

bool read_sync_env() {
  const char* v = std::getenv("STRATA_CUDA_SYNC");
  return v != nullptr && v[0] != '\0' && std::string(v) != "0";
}

std::atomic<int> g_sync_override{-1};  // -1: follow the environment

const char* cublas_status_name(cublasStatus_t s) {
  switch (s) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    case CUBLAS_STATUS_LICENSE_ERROR: return "CUBLAS_STATUS_LICENSE_ERROR";
    default: return "unknown cuBLAS status";
  }
}

}  // namespace

void throw_cuda_error(cudaError_t status, const char* call, const char* file, int line) {
  (void)cudaGetLastError();  // clear a sticky-free error so the next call does not report it again
  strata::detail::throw_error_kind(
      kDeviceErrorKind,
      fmt::format("CUDA error {} ({}): {} in `{}`", static_cast<int>(status), cudaGetErrorName(status),
                  cudaGetErrorString(status), call),
      file, line);
}

void throw_cublas_error(cublasStatus_t status, const char* call, const char* file, int line) {
  strata::detail::throw_error_kind(
      kDeviceErrorKind, fmt::format("cuBLAS error {} ({}) in `{}`", static_cast<int>(status), cublas_status_name(status), call),
      file, line);
}

bool sync_after_launch() {
  static const bool env = read_sync_env();
  const int o = g_sync_override.load(std::memory_order_relaxed);
  return o < 0 ? env : o != 0;
}

void set_sync_after_launch(bool on) { g_sync_override.store(on ? 1 : 0, std::memory_order_relaxed); }

void check_launch(cudaStream_t stream, const char* what, const char* file, int line) {
  cudaError_t status = cudaGetLastError();
  if (status != cudaSuccess) throw_cuda_error(status, what, file, line);
  if (sync_after_launch()) {
    status = cudaStreamSynchronize(stream);
    if (status != cudaSuccess) throw_cuda_error(status, "cudaStreamSynchronize after a kernel launch (STRATA_CUDA_SYNC=1)", file, line);
  }
}

}  // namespace strata::cuda
