#include "tensor/device.h"

namespace strata {
namespace detail {
// Set by the CUDA backend when it is linked in and a device answers.
int (*g_cuda_device_count)() = nullptr;
}  // namespace detail

int cuda_device_count() { return detail::g_cuda_device_count ? detail::g_cuda_device_count() : 0; }
bool cuda_is_available() { return cuda_device_count() > 0; }

}  // namespace strata
