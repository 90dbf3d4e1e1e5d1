// The CUDA side of the caching device allocator: cudaMalloc/cudaFree and CUDA events plugged into
// the policy of tensor/device_caching_allocator.h (tested on the CPU with a fake backend), one
// pool per device, registered as the CUDA allocator that Storage uses. Also the pinned host
// memory cache used to stage host<->device copies.
//
// Registration happens at static initialization and needs no device (nothing here touches the
// runtime until the first CUDA tensor is allocated; allocator_for() refuses CUDA devices when
// none is available). Pools are created on first use and never destroyed: tensors held by static
// objects may be freed after main returns, and the driver reclaims device memory at exit.
#include <cuda_runtime.h>

#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "kernels/cuda/cuda_api.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/stream_internal.h"
#include "tensor/allocator.h"
#include "tensor/tensor.h"

namespace strata::cuda {
namespace {

constexpr int kMaxDevices = 64;

class CudaRawBackend final : public RawDeviceBackend {
 public:
  explicit CudaRawBackend(int device) : device_(device) {}

  void* raw_alloc(size_t nbytes) override {
    DeviceGuard g(device_);
    void* p = nullptr;
    const cudaError_t s = cudaMalloc(&p, nbytes);
    if (s == cudaErrorMemoryAllocation) {
      (void)cudaGetLastError();  // not sticky: the caller releases the cache and retries
      return nullptr;
    }
    STRATA_CUDA_CHECK(s);
    return p;
  }
  void raw_free(void* ptr) override {
    DeviceGuard g(device_);
    STRATA_CUDA_CHECK(cudaFree(ptr));
  }
  EventId record_event(StreamId stream) override {
    DeviceGuard g(device_);
    cudaEvent_t e = nullptr;
    STRATA_CUDA_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
    STRATA_CUDA_CHECK(cudaEventRecord(e, reinterpret_cast<cudaStream_t>(stream)));
    return reinterpret_cast<EventId>(e);
  }
  bool event_done(EventId event) override {
    const cudaError_t s = cudaEventQuery(reinterpret_cast<cudaEvent_t>(event));
    if (s == cudaErrorNotReady) {
      (void)cudaGetLastError();
      return false;
    }
    STRATA_CUDA_CHECK(s);
    return true;
  }
  void destroy_event(EventId event) override { (void)cudaEventDestroy(reinterpret_cast<cudaEvent_t>(event)); }

 private:
  int device_;
};

struct DevicePool {
  CudaRawBackend backend;
  DeviceCachingAllocator allocator;
  explicit DevicePool(int d) : backend(d), allocator(backend, fmt::format("cuda:{}", d)) {}
};

std::mutex g_pools_mutex;
std::array<DevicePool*, kMaxDevices> g_pools{};

DeviceCachingAllocator& pool(int device) {
  STRATA_CHECK(device >= 0 && device < kMaxDevices, DeviceError, "cuda:{}: device index out of range", device);
  std::lock_guard<std::mutex> lock(g_pools_mutex);
  if (!g_pools[device]) g_pools[device] = new DevicePool(device);
  return g_pools[device]->allocator;
}

class CudaAllocator final : public Allocator {
 public:
  void* allocate(size_t nbytes) override { return allocate_on(Device::cuda(current_device()), nbytes); }
  void deallocate(void* ptr, size_t nbytes) override { deallocate_on(Device::cuda(current_device()), ptr, nbytes); }
  void* allocate_on(Device device, size_t nbytes) override {
    const StreamId stream = reinterpret_cast<StreamId>(stream_for(device));
    return pool(device.index).allocate(nbytes, stream);
  }
  void deallocate_on(Device device, void* ptr, size_t) override { pool(device.index).deallocate(ptr); }
};

// ---- pinned host memory: blocks by exact power-of-two size class, reused once their last
// ---- copy has finished (an event recorded on the stream they were given back with)
class PinnedPool {
 public:
  void* allocate(size_t nbytes) {
    const size_t size = size_class(nbytes);
    std::lock_guard<std::mutex> lock(mutex_);
    auto& free_list = free_[size];
    for (auto it = free_list.begin(); it != free_list.end(); ++it) {
      if (!it->event || cudaEventQuery(it->event) == cudaSuccess) {
        void* p = it->ptr;
        if (it->event) (void)cudaEventDestroy(it->event);
        free_list.erase(it);
        cached_ -= size;
        sizes_[p] = size;
        return p;
      }
    }
    (void)cudaGetLastError();  // cudaErrorNotReady from the queries above
    void* p = nullptr;
    STRATA_CUDA_CHECK(cudaHostAlloc(&p, size, cudaHostAllocDefault));
    sizes_[p] = size;
    return p;
  }

  void deallocate(void* ptr, Stream stream) {
    if (!ptr) return;
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = sizes_.find(ptr);
    STRATA_CHECK(it != sizes_.end(), DeviceError, "pinned_free: {} was not allocated by pinned_alloc", ptr);
    const size_t size = it->second;
    sizes_.erase(it);
    cudaEvent_t e = nullptr;
    {
      DeviceGuard g(stream.device);
      STRATA_CUDA_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
      STRATA_CUDA_CHECK(cudaEventRecord(e, static_cast<cudaStream_t>(stream.handle)));
    }
    free_[size].push_back({ptr, e});
    cached_ += size;
  }

  size_t cached() {
    std::lock_guard<std::mutex> lock(mutex_);
    return cached_;
  }

  void empty() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [size, list] : free_) {
      for (auto it = list.begin(); it != list.end();) {
        if (it->event && cudaEventQuery(it->event) != cudaSuccess) {
          (void)cudaGetLastError();
          ++it;
          continue;
        }
        if (it->event) (void)cudaEventDestroy(it->event);
        STRATA_CUDA_CHECK(cudaFreeHost(it->ptr));
        cached_ -= size;
        it = list.erase(it);
      }
    }
  }

 private:
  static size_t size_class(size_t n) {
    size_t s = 4096;
    while (s < n) s <<= 1;
    return s;
  }
  struct Cached {
    void* ptr;
    cudaEvent_t event;
  };
  std::mutex mutex_;
  std::map<size_t, std::vector<Cached>> free_;
  std::map<void*, size_t> sizes_;
  size_t cached_ = 0;
};

PinnedPool& pinned_pool() {
  static auto* p = new PinnedPool();  // never destroyed (see the top of the file)
  return *p;
}

const bool g_registered = [] {
  static CudaAllocator allocator;
  register_cuda_allocator(&allocator);
  return true;
}();

int resolve(int device) { return device >= 0 ? device : current_device(); }

}  // namespace

DeviceAllocatorStats memory_stats(int device) { return pool(resolve(device)).stats(); }
void reset_peak_memory_stats(int device) { pool(resolve(device)).reset_peak_stats(); }

void empty_cache() {
  std::vector<DevicePool*> pools;
  {
    std::lock_guard<std::mutex> lock(g_pools_mutex);
    for (DevicePool* p : g_pools)
      if (p) pools.push_back(p);
  }
  for (DevicePool* p : pools) p->allocator.empty_cache();
}

void record_stream(const Tensor& t, Stream stream) {
  STRATA_CHECK(t.device().is_cuda(), DeviceError, "record_stream: the tensor is on {}, not a CUDA device", t.device());
  STRATA_CHECK(t.device().index == stream.device, DeviceError,
               "record_stream: the tensor is on {} but the stream on cuda:{}", t.device(), stream.device);
  pool(stream.device).record_stream(t.storage()->data, stream.id());
}

void* pinned_alloc(size_t nbytes) { return pinned_pool().allocate(nbytes); }
void pinned_free(void* ptr, Stream stream) { pinned_pool().deallocate(ptr, stream); }
size_t pinned_cached_bytes() { return pinned_pool().cached(); }
void pinned_empty_cache() { pinned_pool().empty(); }

}  // namespace strata::cuda
