#pragma once
// cuDNN plumbing shared by the families that call it (conv, batch norm): status codes become
// strata::DeviceError like CUDA's and cuBLAS's (cuda_check.h), one handle per (thread, device)
// bound to the current stream, and RAII descriptors so an exception between create and destroy
// leaks nothing. Only .cu files of builds with cuDNN (STRATA_WITH_CUDNN) include this header.
#include <cudnn.h>

#include <cstdint>
#include <vector>

#include "tensor/device.h"
#include "tensor/dtype.h"

namespace strata::cuda {

[[noreturn]] void throw_cudnn_error(cudnnStatus_t status, const char* call, const char* file, int line);

// The calling thread's cuDNN handle for `device`, created on first use, set to the device's
// current stream (stream_for) on every call.
cudnnHandle_t cudnn_handle_for(Device device);

// The cuDNN data type of a Strata dtype (f32, f64, f16, bf16); DTypeError naming `op` otherwise.
cudnnDataType_t cudnn_data_type(DType dtype, const char* op);

// A 4-d (N, C, H, W) tensor descriptor with explicit strides, so views need no copy.
class CudnnTensorDesc {
 public:
  CudnnTensorDesc(DType dtype, const int64_t sizes[4], const int64_t strides[4], const char* op);
  ~CudnnTensorDesc();
  CudnnTensorDesc(const CudnnTensorDesc&) = delete;
  CudnnTensorDesc& operator=(const CudnnTensorDesc&) = delete;
  cudnnTensorDescriptor_t get() const { return desc_; }

 private:
  cudnnTensorDescriptor_t desc_ = nullptr;
};

}  // namespace strata::cuda

#define STRATA_CUDNN_CHECK(expr)                                                          \
  do {                                                                                    \
    const cudnnStatus_t strata_cudnn_status_ = (expr);                                    \
    if (strata_cudnn_status_ != CUDNN_STATUS_SUCCESS) [[unlikely]]                        \
      ::strata::cuda::throw_cudnn_error(strata_cudnn_status_, #expr, __FILE__, __LINE__); \
  } while (0)
