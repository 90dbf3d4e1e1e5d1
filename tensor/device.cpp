// Device queries. The CUDA backend, when linked in, installs detail::g_cuda_device_count from
// kernels/cuda/device.cu; this file never touches the CUDA runtime itself, so strata_tensor
// builds and runs without a CUDA toolkit.
#include "tensor/device.h"

#include "tensor/device_detail.h"

namespace strata {
namespace detail {
// Set by the CUDA backend when it is linked in and a device answers.
int (*g_cuda_device_count)() = nullptr;

bool cuda_backend_linked() { return g_cuda_device_count != nullptr; }

std::string cuda_unavailable_reason(Device device) {
  if (device.is_cpu()) return {};
  if (!cuda_backend_linked()) return "Strata was built without the CUDA backend (nvcc was not found at configure time)";
  const int n = g_cuda_device_count();
  if (n == 0)
    return "no CUDA device is available (the CUDA backend is built in, but the runtime reports 0 devices "
           "or no usable driver)";
  if (device.index < 0 || device.index >= n)
    return fmt::format("{} does not exist ({} CUDA device{})", device, n, n == 1 ? "" : "s");
  return {};
}
}  // namespace detail

int cuda_device_count() { return detail::g_cuda_device_count ? detail::g_cuda_device_count() : 0; }
bool cuda_is_available() { return cuda_device_count() > 0; }

}  // namespace strata
