// CUDA availability without a GPU: a program built with the CUDA backend must run on a machine
// whose driver is absent or too old, report no device, and refuse CUDA tensors with a DeviceError
// that says why, instead of crashing in the runtime.
//
// On a lent GPU machine (docs/gpu-verification.md) the same tests check the other side: the
// device count is positive and matches /dev/nvidia*.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "strata.h"
#include "tensor/device_detail.h"

namespace strata {
namespace {

// An NVIDIA driver exposes /dev/nvidiactl; without it the runtime cannot see a device.
bool nvidia_driver_present() { return std::filesystem::exists("/dev/nvidiactl"); }

TEST(CudaAvailable, BackendHookIsLinkedExactlyInCudaBuilds) {
#ifdef STRATA_WITH_CUDA
  // Fails if the linker dropped kernels/cuda/device.cu (its static initializer installs the hook).
  EXPECT_TRUE(detail::cuda_backend_linked()) << "the CUDA backend is compiled in but its device hook is not installed";
#else
  EXPECT_FALSE(detail::cuda_backend_linked());
#endif
}

TEST(CudaAvailable, DeviceCountIsConsistentAndStable) {
  const int n = cuda_device_count();
  EXPECT_GE(n, 0);
  EXPECT_EQ(cuda_device_count(), n);  // cached, not re-queried into a different answer
  EXPECT_EQ(cuda_is_available(), n > 0);
  if (!nvidia_driver_present()) {
    EXPECT_EQ(n, 0) << "no /dev/nvidiactl, yet the runtime reports devices";
  }
}

TEST(CudaAvailable, AllocatingOnCudaWithoutADeviceThrowsDeviceError) {
  if (cuda_is_available()) GTEST_SKIP() << "a CUDA device is present; this test covers machines without one";
  try {
    Tensor t = empty({2}, {.device = Device::cuda()});
    ADD_FAILURE() << "allocated a tensor on cuda:0 with no device available";
  } catch (const DeviceError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("cannot allocate on cuda:0"), std::string::npos) << what;
#ifdef STRATA_WITH_CUDA
    EXPECT_NE(what.find("no CUDA device is available"), std::string::npos) << what;
#else
    EXPECT_NE(what.find("built without the CUDA backend"), std::string::npos) << what;
#endif
  }
}

TEST(CudaAvailable, MovingATensorToCudaWithoutADeviceThrowsDeviceError) {
  if (cuda_is_available()) GTEST_SKIP() << "a CUDA device is present; this test covers machines without one";
  Tensor x = ones({3});
  EXPECT_THROW(x.to(Device::cuda()), DeviceError);
  EXPECT_THROW(zeros({2, 2}, {.device = Device::cuda(1)}), DeviceError);
}

TEST(CudaAvailable, NonexistentDeviceIndexIsNamed) {
  const int n = cuda_device_count();
  if (n == 0) GTEST_SKIP() << "no CUDA device: the index check needs at least one";
  const std::string reason = detail::cuda_unavailable_reason(Device::cuda(n));
  EXPECT_NE(reason.find(fmt::format("cuda:{} does not exist", n)), std::string::npos) << reason;
  EXPECT_EQ(detail::cuda_unavailable_reason(Device::cuda(0)), "");
}

}  // namespace
}  // namespace strata
