// cuDNN error reporting, handles and descriptors (see cudnn_common.h). Compiled only when the
// build found cuDNN (STRATA_WITH_CUDNN); without it the conv and batch-norm families use their own
// kernels only.
#if STRATA_WITH_CUDNN
#include "kernels/cuda/cudnn_common.h"

#include "kernels/cuda/cuda_api.h"
#include "kernels/cuda/stream_internal.h"
#include "tensor/error.h"

namespace strata::cuda {

namespace {
constexpr int kMaxDevicesForHandles = 64;
constexpr int kDeviceErrorKind = strata::detail::error_kind<DeviceError>();
}  // namespace

void throw_cudnn_error(cudnnStatus_t status, const char* call, const char* file, int line) {
  strata::detail::throw_error_kind(
      kDeviceErrorKind,
      fmt::format("cuDNN error {} ({}) in `{}`", static_cast<int>(status), cudnnGetErrorString(status), call), file,
      line);
}

cudnnHandle_t cudnn_handle_for(Device device) {
  STRATA_CHECK(device.index >= 0 && device.index < kMaxDevicesForHandles, DeviceError,
               "cuDNN: device index {} out of range", device.index);
  thread_local cudnnHandle_t handles[kMaxDevicesForHandles] = {};
  cudnnHandle_t& h = handles[device.index];
  if (!h) {
    DeviceGuard g(device.index);
    STRATA_CUDNN_CHECK(cudnnCreate(&h));
  }
  STRATA_CUDNN_CHECK(cudnnSetStream(h, stream_for(device)));
  return h;
}

cudnnDataType_t cudnn_data_type(DType dtype, const char* op) {
  switch (dtype) {
    case DType::F32: return CUDNN_DATA_FLOAT;
    case DType::F64: return CUDNN_DATA_DOUBLE;
    case DType::F16: return CUDNN_DATA_HALF;
    case DType::BF16: return CUDNN_DATA_BFLOAT16;
    default: STRATA_THROW(DTypeError, "{}: cuDNN has no {} tensors", op, dtype_name(dtype));
  }
}

CudnnTensorDesc::CudnnTensorDesc(DType dtype, const int64_t sizes[4], const int64_t strides[4], const char* op) {
  int dims[4], st[4];
  for (int i = 0; i < 4; ++i) {
    STRATA_CHECK(sizes[i] <= INT32_MAX && strides[i] <= INT32_MAX, ShapeError,
                 "{}: cuDNN descriptors take 32-bit sizes and strides (size {}, stride {})", op, sizes[i], strides[i]);
    dims[i] = static_cast<int>(sizes[i]);
    st[i] = static_cast<int>(strides[i]);
  }
  STRATA_CUDNN_CHECK(cudnnCreateTensorDescriptor(&desc_));
  const cudnnStatus_t s = cudnnSetTensorNdDescriptor(desc_, cudnn_data_type(dtype, op), 4, dims, st);
  if (s != CUDNN_STATUS_SUCCESS) {
    cudnnDestroyTensorDescriptor(desc_);
    throw_cudnn_error(s, "cudnnSetTensorNdDescriptor", __FILE__, __LINE__);
  }
}

CudnnTensorDesc::~CudnnTensorDesc() { cudnnDestroyTensorDescriptor(desc_); }

}  // namespace strata::cuda
#endif  // STRATA_WITH_CUDNN
