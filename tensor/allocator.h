#pragma once
// Allocators hand out raw device memory for Storage.
//
// The CPU allocator returns 64-byte aligned blocks and keeps freed blocks in size-class bins
// for reuse: on these VMs a fresh page costs microseconds to fault in, and a training loop frees
// and re-allocates the same sizes every batch. Blocks up to 4 KiB are cached per thread first
// (no lock), so the tensors of tiny ops cost a few instructions to allocate. The CUDA allocator (a caching allocator in
// kernels/cuda) registers itself at start-up when the backend is compiled in.
#include <cstddef>
#include <cstdint>

#include "tensor/device.h"

namespace strata {

class Allocator {
 public:
  virtual ~Allocator() = default;
  virtual void* allocate(size_t nbytes) = 0;
  virtual void deallocate(void* ptr, size_t nbytes) = 0;
  // Device-aware entry points, what Storage calls: the CUDA caching allocator (kernels/cuda/
  // allocator.cu) keeps one pool per device and needs the index. Default: the plain calls.
  virtual void* allocate_on(Device device, size_t nbytes) { return allocate(nbytes); }
  virtual void deallocate_on(Device device, void* ptr, size_t nbytes) { deallocate(ptr, nbytes); }
};

struct CpuAllocatorStats {
  size_t allocated_bytes = 0;  // handed out, not yet returned
  size_t cached_bytes = 0;     // returned and kept for reuse
  size_t peak_allocated_bytes = 0;
  uint64_t allocations = 0, cache_hits = 0;
};

Allocator& cpu_allocator();
CpuAllocatorStats cpu_allocator_stats();
// Gives cached blocks back to the system: the global cache and the calling thread's (other
// threads' small-block caches are kept until those threads exit).
void cpu_allocator_empty_cache();

// The allocator for `device`; throws DeviceError when that backend is not available.
Allocator& allocator_for(Device device);
void register_cuda_allocator(Allocator* allocator);

}  // namespace strata
