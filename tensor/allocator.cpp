#include "tensor/allocator.h"

#include <cstdlib>
#include <map>
#include <mutex>
#include <new>
#include <vector>

#include "tensor/device_detail.h"

namespace strata {
namespace {

constexpr size_t kAlignment = 64;
constexpr size_t kMaxCachedBytes = size_t{2} << 30;  // keep at most 2 GiB of freed blocks

// Rounds a request up to its bin: multiples of 64 bytes below 4 KiB, then 1/8 of the next
// power of two, so a reused block wastes at most 12.5%.
size_t bin_size(size_t nbytes) {
  if (nbytes <= 4096) return (nbytes + kAlignment - 1) / kAlignment * kAlignment;
  size_t p = 4096;
  while (p < nbytes) p <<= 1;
  const size_t step = p / 8;
  return (nbytes + step - 1) / step * step;
}

class CachingCpuAllocator final : public Allocator {
 public:
  ~CachingCpuAllocator() override { empty_cache(); }

  void* allocate(size_t nbytes) override {
    const size_t size = bin_size(nbytes == 0 ? 1 : nbytes);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++stats_.allocations;
      auto it = free_.find(size);
      if (it != free_.end() && !it->second.empty()) {
        void* p = it->second.back();
        it->second.pop_back();
        stats_.cached_bytes -= size;
        ++stats_.cache_hits;
        note_alloc(size);
        return p;
      }
    }
    void* p = std::aligned_alloc(kAlignment, size);
    if (!p) {
      empty_cache();
      p = std::aligned_alloc(kAlignment, size);
    }
    if (!p) STRATA_THROW(Error, "cpu allocator: out of memory allocating {} bytes", size);
    std::lock_guard<std::mutex> lock(mutex_);
    note_alloc(size);
    return p;
  }

  void deallocate(void* ptr, size_t nbytes) override {
    if (!ptr) return;
    const size_t size = bin_size(nbytes == 0 ? 1 : nbytes);
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.allocated_bytes -= size;
    if (stats_.cached_bytes + size > kMaxCachedBytes) {
      std::free(ptr);
      return;
    }
    free_[size].push_back(ptr);
    stats_.cached_bytes += size;
  }

  void empty_cache() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [size, blocks] : free_)
      for (void* p : blocks) std::free(p);
    free_.clear();
    stats_.cached_bytes = 0;
  }

  CpuAllocatorStats stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
  }

 private:
  void note_alloc(size_t size) {
    stats_.allocated_bytes += size;
    if (stats_.allocated_bytes > stats_.peak_allocated_bytes)
      stats_.peak_allocated_bytes = stats_.allocated_bytes;
  }
  std::mutex mutex_;
  std::map<size_t, std::vector<void*>> free_;
  CpuAllocatorStats stats_;
};

CachingCpuAllocator& caching_cpu_allocator() {
  // Never destroyed: tensors in static objects may be freed after main returns.
  static auto* a = new CachingCpuAllocator();
  return *a;
}

Allocator* g_cuda_allocator = nullptr;

}  // namespace

Allocator& cpu_allocator() { return caching_cpu_allocator(); }
CpuAllocatorStats cpu_allocator_stats() { return caching_cpu_allocator().stats(); }
void cpu_allocator_empty_cache() { caching_cpu_allocator().empty_cache(); }

void register_cuda_allocator(Allocator* allocator) { g_cuda_allocator = allocator; }

Allocator& allocator_for(Device device) {
  if (device.is_cpu()) return cpu_allocator();
  const std::string reason = detail::cuda_unavailable_reason(device);
  STRATA_CHECK(reason.empty(), DeviceError, "cannot allocate on {}: {}", device, reason);
  STRATA_CHECK(g_cuda_allocator != nullptr, DeviceError,
               "cannot allocate on {}: the CUDA backend has no allocator yet (not implemented)", device);
  return *g_cuda_allocator;
}

}  // namespace strata
