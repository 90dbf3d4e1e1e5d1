#include "kernels/cuda_table.h"

namespace strata::kernels {
namespace {
CudaTable g_table;
}

const CudaTable& cuda_table() { return g_table; }
void register_cuda_table(const CudaTable& table) { g_table = table; }

void throw_no_cuda_kernel(const char* op, Device device) {
  STRATA_THROW(DeviceError, "{}: no CUDA kernel available for a tensor on {} (Strata was built without "
               "the CUDA backend, or it has not registered this kernel)", op, device);
}

void throw_cuda_device_unusable(const char* op, Device device) {
  STRATA_THROW(DeviceError, "{}: cannot run on {}: {}", op, device, detail::cuda_unavailable_reason(device));
}

}  // namespace strata::kernels
