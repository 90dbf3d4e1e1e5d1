// The CUDA runtime layer (kernels/cuda/cuda_check.*, stream.cu, allocator.cu, copy.cu): status
// codes as DeviceError, the kernel table and allocator registered at start-up, streams and
// events, the caching allocator's statistics on a real device, pinned staging, host<->device
// copies (to(), copy_, clone, fill_) across dtypes and layouts.
//
// Tests that need a device skip themselves, with the reason, when none is usable. Those marked
// "no GPU needed" run in every CUDA build (CI included): they call the runtime on a machine
// without a usable driver and check that it fails cleanly.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "kernels/cuda_table.h"
#include "strata.h"
#include "support/expect_error.h"
#include "tensor/allocator.h"
#include "tensor/device_detail.h"
#ifdef STRATA_WITH_CUDA
#include "kernels/cuda/cuda_api.h"
#endif

namespace strata {
namespace {

#define SKIP_WITHOUT_CUDA()                                                                  \
  if (!cuda_is_available())                                                                  \
  GTEST_SKIP() << "no CUDA device: " << detail::cuda_unavailable_reason(Device::cuda(0))

// Exact equality of two tensors' values (brought to the CPU, compared in f64).
::testing::AssertionResult same_values(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape()) return ::testing::AssertionFailure() << "shapes differ";
  const Tensor x = a.to(Device::cpu()).to(DType::F64).contiguous();
  const Tensor y = b.to(Device::cpu()).to(DType::F64).contiguous();
  for (int64_t i = 0; i < x.numel(); ++i)
    if (x.data<double>()[i] != y.data<double>()[i])
      return ::testing::AssertionFailure() << "element " << i << ": " << x.data<double>()[i] << " vs "
                                           << y.data<double>()[i];
  return ::testing::AssertionSuccess();
}

#ifdef STRATA_WITH_CUDA

TEST(CudaRuntime, KernelTableAndAllocatorAreRegisteredInEveryCudaBuild) {  // no GPU needed
  const kernels::CudaTable& t = kernels::cuda_table();
  EXPECT_NE(t.unary, nullptr);
  EXPECT_NE(t.binary, nullptr);
  EXPECT_NE(t.where, nullptr);
  EXPECT_NE(t.lerp, nullptr);
  EXPECT_NE(t.copy, nullptr);
  EXPECT_NE(t.fill, nullptr);
  EXPECT_NE(t.unary_backward, nullptr);
  EXPECT_NE(t.reduce, nullptr);
  EXPECT_NE(t.gemm, nullptr);
  if (!cuda_is_available()) {
    // The allocator is registered, but allocator_for refuses a missing device with the reason.
    EXPECT_STRATA_ERROR(allocator_for(Device::cuda()), DeviceError, {"cannot allocate on cuda:0", "no CUDA device"});
  }
}

TEST(CudaRuntime, AKernelForAMissingDeviceIsRefusedBeforeTheRuntime) {  // no GPU needed
  // A tensor that claims to live on a CUDA device that does not exist (from_blob) must get a
  // DeviceError naming the op and the reason, not reach the runtime.
  const int n = cuda_device_count();
  std::vector<float> host(4, 0.0f);
  Tensor fake = from_blob(host.data(), {4}, DType::F32, {}, Device::cuda(n));
  EXPECT_STRATA_ERROR(fake.fill_(1.0), DeviceError, {"fill: cannot run on", fmt::format("cuda:{}", n)});
  EXPECT_STRATA_ERROR(fake.to(DType::F64), DeviceError, {"cuda:"});
}

TEST(CudaRuntime, AFailingRuntimeCallBecomesDeviceErrorWithCallFileAndLine) {  // no GPU needed
  // Without a driver cudaSetDevice fails (insufficient driver); with one, device 1000 does not exist.
  EXPECT_STRATA_ERROR(cuda::set_device(1000), DeviceError,
                      {"CUDA error", "cudaSetDevice(device)", "kernels/cuda/stream.cu:"});
}

TEST(CudaRuntime, SyncAfterLaunchIsOptIn) {  // no GPU needed
  const char* env = std::getenv("STRATA_CUDA_SYNC");
  const bool from_env = env && std::string(env) != "" && std::string(env) != "0";
  EXPECT_EQ(cuda::sync_after_launch(), from_env);
  cuda::set_sync_after_launch(true);
  EXPECT_TRUE(cuda::sync_after_launch());
  if (cuda_is_available()) {  // ops still work with a synchronize after each launch
    const Tensor y = (ones({1000}, {.device = Device::cuda()}) * 3.0).to(Device::cpu());
    EXPECT_EQ(y.data<float>()[999], 3.0f);
  }
  cuda::set_sync_after_launch(false);
  EXPECT_FALSE(cuda::sync_after_launch());
}

TEST(CudaRuntime, CurrentStreamIsPerThreadAndRestoredByTheGuard) {
  SKIP_WITHOUT_CUDA();
  EXPECT_EQ(cuda::current_stream(0), cuda::default_stream(0));
  const cuda::Stream s = cuda::create_stream(0);
  EXPECT_NE(s.handle, nullptr);
  {
    cuda::StreamGuard g(s);
    EXPECT_EQ(cuda::current_stream(0), s);
    cuda::Stream other_thread_sees;
    std::thread([&] { other_thread_sees = cuda::current_stream(0); }).join();
    EXPECT_EQ(other_thread_sees, cuda::default_stream(0));
    // Work queued on s gives the right values.
    const Tensor y = ones({4096}, {.device = Device::cuda()}) * 2.0 + 1.0;
    cuda::synchronize(s);
    EXPECT_TRUE(cuda::query(s));
    EXPECT_TRUE(same_values(y, full({4096}, 3.0)));
  }
  EXPECT_EQ(cuda::current_stream(0), cuda::default_stream(0));
  cuda::destroy_stream(s);
}

TEST(CudaRuntime, EventsOrderStreamsAndMeasureTime) {
  SKIP_WITHOUT_CUDA();
  const cuda::Stream a = cuda::create_stream(0), b = cuda::create_stream(0);
  cuda::Event start, done;
  Tensor x;
  {
    cuda::StreamGuard g(a);
    start.record(a);
    x = ones({1 << 20}, {.device = Device::cuda()}) * 5.0;
    done.record(a);
  }
  done.wait(b);  // b's later work runs after a's
  Tensor y;
  {
    cuda::StreamGuard g(b);
    cuda::record_stream(x, b);
    y = x + 1.0;
  }
  cuda::synchronize(b);
  done.synchronize();
  EXPECT_TRUE(done.query());
  EXPECT_GE(start.elapsed_ms(done), 0.0f);
  EXPECT_TRUE(same_values(y, full({1 << 20}, 6.0)));
  cuda::Event no_timing(false);
  no_timing.record(a);
  EXPECT_STRATA_ERROR(start.elapsed_ms(no_timing), DeviceError, {"enable_timing"});
  cuda::destroy_stream(a);
  cuda::destroy_stream(b);
}

TEST(CudaRuntime, CachingAllocatorReusesFreedBlocksAndReportsStatistics) {
  SKIP_WITHOUT_CUDA();
  cuda::synchronize_device(0);
  cuda::empty_cache();
  cuda::reset_peak_memory_stats(0);
  const DeviceAllocatorStats before = cuda::memory_stats(0);
  const void* first = nullptr;
  {
    Tensor t = empty({1000}, {.device = Device::cuda()});  // 4000 bytes -> a 4096-byte block
    first = t.raw_data();
    const DeviceAllocatorStats s = cuda::memory_stats(0);
    EXPECT_EQ(s.allocated_bytes, before.allocated_bytes + 4096);
    EXPECT_GE(s.reserved_bytes, before.reserved_bytes);
  }
  Tensor again = empty({1000}, {.device = Device::cuda()});
  EXPECT_EQ(again.raw_data(), first) << "the freed block was not reused";
  EXPECT_GE(cuda::memory_stats(0).num_cache_hits, before.num_cache_hits + 1);
  EXPECT_GE(cuda::memory_stats(0).peak_allocated_bytes, 4096u);
  again = Tensor();
  cuda::empty_cache();
  EXPECT_EQ(cuda::memory_stats(0).allocated_bytes, before.allocated_bytes);
}

TEST(CudaRuntime, OutOfMemoryIsADeviceErrorNamingTheSize) {
  SKIP_WITHOUT_CUDA();
  EXPECT_STRATA_ERROR(empty({int64_t{1} << 45}, {.dtype = DType::U8, .device = Device::cuda()}), DeviceError,
                      {"cuda:0: out of memory", std::to_string(int64_t{1} << 45)});
}

TEST(CudaRuntime, PinnedBlocksAreCachedAndReused) {
  SKIP_WITHOUT_CUDA();
  cuda::pinned_empty_cache();
  void* p = cuda::pinned_alloc(10000);
  ASSERT_NE(p, nullptr);
  cuda::pinned_free(p, cuda::current_stream(0));
  EXPECT_EQ(cuda::pinned_cached_bytes(), 16384u);
  cuda::synchronize(cuda::current_stream(0));
  void* q = cuda::pinned_alloc(9000);
  EXPECT_EQ(q, p);
  cuda::pinned_free(q, cuda::current_stream(0));
  cuda::synchronize_device(0);
  cuda::pinned_empty_cache();
  EXPECT_EQ(cuda::pinned_cached_bytes(), 0u);
}

#endif  // STRATA_WITH_CUDA

TEST(CudaCopy, RoundTripsEveryDtypeThroughTheDevice) {
  SKIP_WITHOUT_CUDA();
  for (DType dt : {DType::F32, DType::F64, DType::F16, DType::BF16, DType::I64, DType::I32, DType::U8, DType::Bool}) {
    const Tensor x = (arange(0, 1001, 1, {.dtype = DType::F32}) * 0.37 - 50.0).to(dt);
    const Tensor d = x.to(Device::cuda());
    EXPECT_EQ(d.device(), Device::cuda());
    EXPECT_EQ(d.dtype(), dt);
    EXPECT_TRUE(same_values(x, d.to(Device::cpu()))) << dtype_name(dt);
  }
}

TEST(CudaCopy, ConvertsDtypesOnTheDeviceLikeTheCpu) {
  SKIP_WITHOUT_CUDA();
  const Tensor x = arange(0, 300, 1, {.dtype = DType::F32}) * 0.73 - 100.0;
  for (DType from : {DType::F32, DType::F64, DType::BF16, DType::I64, DType::U8, DType::Bool}) {
    for (DType to : {DType::F32, DType::F16, DType::BF16, DType::I32, DType::U8, DType::Bool}) {
      const Tensor src = x.to(from);
      EXPECT_TRUE(same_values(src.to(to), src.to(Device::cuda()).to(to)))
          << dtype_name(from) << " -> " << dtype_name(to);
    }
  }
}

TEST(CudaCopy, NonContiguousSourcesAndDestinationsOnBothSides) {
  SKIP_WITHOUT_CUDA();
  const Tensor base = arange(0, 60, 1, {.dtype = DType::F32}).reshape({6, 10});
  // host view -> device
  EXPECT_TRUE(same_values(base.t().contiguous(), base.t().to(Device::cuda())));
  // device view -> host
  const Tensor d = base.to(Device::cuda());
  EXPECT_TRUE(same_values(base.slice(1, 1, 10, 3), d.slice(1, 1, 10, 3).to(Device::cpu())));
  // copy_ into a device view from a host tensor, and into a host view from a device tensor
  Tensor dst = zeros({10, 6}, {.device = Device::cuda()});
  dst.t().copy_(base);
  EXPECT_TRUE(same_values(base.t().contiguous(), dst));
  Tensor host = zeros({10, 6});
  host.t().copy_(d);
  EXPECT_TRUE(same_values(base.t().contiguous(), host));
  // a broadcast source
  Tensor rows = zeros({4, 10}, {.device = Device::cuda()});
  rows.copy_(arange(0, 10, 1, {.dtype = DType::F32}));
  EXPECT_TRUE(same_values(arange(0, 10, 1, {.dtype = DType::F32}).expand({4, 10}).contiguous(), rows));
  // clone on the device keeps the device
  const Tensor c = d.t().clone();
  EXPECT_EQ(c.device(), Device::cuda());
  EXPECT_TRUE(same_values(base.t(), c));
}

TEST(CudaCopy, FillWritesEveryDtypeAndStridedViews) {
  SKIP_WITHOUT_CUDA();
  for (DType dt : {DType::F32, DType::F16, DType::BF16, DType::I64, DType::U8, DType::Bool}) {
    Tensor t = empty({3, 1001}, {.dtype = dt, .device = Device::cuda()});
    t.fill_(2.75);
    EXPECT_TRUE(same_values(full({3, 1001}, 2.75, {.dtype = dt}), t)) << dtype_name(dt);
  }
  Tensor z = zeros({8, 9}, {.device = Device::cuda()});
  z.slice(1, 0, 9, 2).fill_(-1.0);
  Tensor ref = zeros({8, 9});
  ref.slice(1, 0, 9, 2).fill_(-1.0);
  EXPECT_TRUE(same_values(ref, z));
}

TEST(CudaCopy, BetweenTwoDevices) {
  SKIP_WITHOUT_CUDA();
  if (cuda_device_count() < 2) GTEST_SKIP() << "needs two CUDA devices, found " << cuda_device_count();
  const Tensor x = arange(0, 1000, 1, {.dtype = DType::F32});
  const Tensor on1 = x.to(Device::cuda(0)).to(Device::cuda(1));
  EXPECT_EQ(on1.device(), Device::cuda(1));
  EXPECT_TRUE(same_values(x, on1));
  EXPECT_TRUE(same_values(x, on1.to(Device::cuda(0))));
}

}  // namespace
}  // namespace strata
