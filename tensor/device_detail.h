#pragma once
// The seam between tensor/ (always built) and the CUDA backend (kernels/cuda, built only when
// nvcc is found). The backend fills these hooks when it is linked in; tensor/ never includes a
// CUDA header, so a CPU-only build has no CUDA dependency at all.
#include <string>

#include "tensor/device.h"

namespace strata::detail {

// Number of usable CUDA devices, as the runtime reports it. Null in a build without the CUDA
// backend. Set by kernels/cuda/device.cu; any runtime error there counts as 0 devices.
extern int (*g_cuda_device_count)();

// True when the CUDA backend is linked into this program (it installed g_cuda_device_count).
bool cuda_backend_linked();

// Why memory on `device` cannot be had: "Strata was built without the CUDA backend", "no CUDA
// device is available (...)", "cuda:3 does not exist (1 device)". Empty when it can.
std::string cuda_unavailable_reason(Device device);

}  // namespace strata::detail
