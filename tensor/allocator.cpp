// The caching CPU allocator. Two levels:
//   - a per-thread cache for blocks up to 4 KiB (size-class bins, no lock): the tensors of small
//     ops are allocated and freed back to back, and a mutex plus a map lookup per allocation was
//     a large share of a tiny op's cost;
//   - a global cache behind a mutex for larger blocks, and for small blocks that overflow a
//     thread's bins.
// Blocks of 2 MiB and more are backed by transparent huge pages where the kernel allows it.
// Statistics are relaxed atomics, exact once the threads that allocate are quiet. A thread's
// cached blocks move to the global cache when it exits; empty_cache() frees the calling thread's
// cache and the global one.
#include "tensor/allocator.h"

#include <sys/mman.h>

#include <atomic>
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
constexpr size_t kThreadCacheMax = 4096;              // largest block a thread caches
constexpr size_t kThreadBins = kThreadCacheMax / kAlignment;
constexpr size_t kThreadBinBytes = 64 * 1024;  // per bin: at most this many bytes, and >= 16 blocks

// Rounds a request up to its bin: multiples of 64 bytes below 4 KiB, then 1/8 of the next
// power of two, so a reused block wastes at most 12.5%.
size_t bin_size(size_t nbytes) {
  if (nbytes <= 4096) return (nbytes + kAlignment - 1) / kAlignment * kAlignment;
  size_t p = 4096;
  while (p < nbytes) p <<= 1;
  const size_t step = p / 8;
  return (nbytes + step - 1) / step * step;
}

// Blocks of at least 2 MiB are 2 MiB-aligned and asked to be backed by transparent huge pages
// (the kernel's "madvise" mode, common on servers, gives them only on request): one TLB entry and
// one page fault per 2 MiB instead of 512, and the hardware prefetchers of a streaming loop no
// longer stop at every 4 KiB page boundary.
constexpr size_t kHugePage = size_t{2} << 20;

void* system_alloc(size_t size) {
  if (size < kHugePage) return std::aligned_alloc(kAlignment, size);
  void* p = nullptr;
  if (posix_memalign(&p, kHugePage, size) != 0) return nullptr;
#ifdef MADV_HUGEPAGE
  madvise(p, size / kHugePage * kHugePage, MADV_HUGEPAGE);  // advice only: failure is harmless
#endif
  return p;
}

size_t thread_bin_capacity(size_t size) { return std::max<size_t>(16, kThreadBinBytes / size); }

struct CachedBlock {
  CachedBlock* next;
};

// Trivially destructible, so reaching it costs no initialization guard.
struct ThreadBins {
  CachedBlock* head[kThreadBins];
  uint32_t count[kThreadBins];
  bool exit_registered;
  bool exited;  // the thread is exiting: blocks go to the global cache
};
thread_local ThreadBins t_bins{};

class CachingCpuAllocator final : public Allocator {
 public:
  ~CachingCpuAllocator() override { empty_cache(); }

  void* allocate(size_t nbytes) override {
    const size_t size = bin_size(nbytes == 0 ? 1 : nbytes);
    allocations_.fetch_add(1, std::memory_order_relaxed);
    if (size <= kThreadCacheMax) {
      ThreadBins& t = t_bins;
      const size_t bin = size / kAlignment - 1;
      if (CachedBlock* b = t.head[bin]) {
        t.head[bin] = b->next;
        --t.count[bin];
        cache_hits_.fetch_add(1, std::memory_order_relaxed);
        cached_bytes_.fetch_sub(size, std::memory_order_relaxed);
        note_alloc(size);
        return b;
      }
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = free_.find(size);
      if (it != free_.end() && !it->second.empty()) {
        void* p = it->second.back();
        it->second.pop_back();
        cache_hits_.fetch_add(1, std::memory_order_relaxed);
        cached_bytes_.fetch_sub(size, std::memory_order_relaxed);
        note_alloc(size);
        return p;
      }
    }
    void* p = system_alloc(size);
    if (!p) {
      empty_cache();
      p = system_alloc(size);
    }
    if (!p) STRATA_THROW(Error, "cpu allocator: out of memory allocating {} bytes", size);
    note_alloc(size);
    return p;
  }

  void deallocate(void* ptr, size_t nbytes) override {
    if (!ptr) return;
    const size_t size = bin_size(nbytes == 0 ? 1 : nbytes);
    allocated_bytes_.fetch_sub(size, std::memory_order_relaxed);
    if (size <= kThreadCacheMax) {
      ThreadBins& t = t_bins;
      const size_t bin = size / kAlignment - 1;
      if (!t.exited && t.count[bin] < thread_bin_capacity(size) &&
          cached_bytes_.load(std::memory_order_relaxed) + size <= kMaxCachedBytes) {
        if (!t.exit_registered) register_thread_exit();
        auto* b = static_cast<CachedBlock*>(ptr);
        b->next = t.head[bin];
        t.head[bin] = b;
        ++t.count[bin];
        cached_bytes_.fetch_add(size, std::memory_order_relaxed);
        return;
      }
    }
    cache_globally(ptr, size);
  }

  void empty_cache() {
    release_thread_bins(/*to_system=*/true);
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [size, blocks] : free_) {
      for (void* p : blocks) std::free(p);
      cached_bytes_.fetch_sub(size * blocks.size(), std::memory_order_relaxed);
    }
    free_.clear();
  }

  CpuAllocatorStats stats() const {
    CpuAllocatorStats s;
    s.allocated_bytes = allocated_bytes_.load(std::memory_order_relaxed);
    s.cached_bytes = cached_bytes_.load(std::memory_order_relaxed);
    s.peak_allocated_bytes = peak_allocated_bytes_.load(std::memory_order_relaxed);
    s.allocations = allocations_.load(std::memory_order_relaxed);
    s.cache_hits = cache_hits_.load(std::memory_order_relaxed);
    return s;
  }

  // The calling thread's cached blocks go to the global cache, or to the system.
  void release_thread_bins(bool to_system) {
    ThreadBins& t = t_bins;
    for (size_t bin = 0; bin < kThreadBins; ++bin) {
      const size_t size = (bin + 1) * kAlignment;
      while (CachedBlock* b = t.head[bin]) {
        t.head[bin] = b->next;
        cached_bytes_.fetch_sub(size, std::memory_order_relaxed);
        if (to_system) {
          std::free(b);
        } else {
          cache_globally(b, size);
        }
      }
      t.count[bin] = 0;
    }
  }

 private:
  struct ThreadExit {
    ~ThreadExit();
  };
  static void register_thread_exit() {
    static thread_local ThreadExit on_exit;
    (void)on_exit;
    t_bins.exit_registered = true;
  }

  void cache_globally(void* ptr, size_t size) {
    if (cached_bytes_.load(std::memory_order_relaxed) + size > kMaxCachedBytes) {
      std::free(ptr);
      return;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    free_[size].push_back(ptr);
    cached_bytes_.fetch_add(size, std::memory_order_relaxed);
  }

  void note_alloc(size_t size) {
    const size_t now = allocated_bytes_.fetch_add(size, std::memory_order_relaxed) + size;
    size_t peak = peak_allocated_bytes_.load(std::memory_order_relaxed);
    while (now > peak && !peak_allocated_bytes_.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
    }
  }

  std::mutex mutex_;
  std::map<size_t, std::vector<void*>> free_;
  std::atomic<size_t> allocated_bytes_{0}, cached_bytes_{0}, peak_allocated_bytes_{0};
  std::atomic<uint64_t> allocations_{0}, cache_hits_{0};
};

CachingCpuAllocator& caching_cpu_allocator() {
  // Never destroyed: tensors in static objects may be freed after main returns.
  static auto* a = new CachingCpuAllocator();
  return *a;
}

CachingCpuAllocator::ThreadExit::~ThreadExit() {
  caching_cpu_allocator().release_thread_bins(/*to_system=*/false);
  t_bins.exited = true;
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
