#pragma once
// The caching device allocator's logic, in plain C++: which cached block serves a request, how
// blocks are split and merged, when memory can be reused across streams, and the statistics.
// It never calls a device runtime: the memory comes from a RawDeviceBackend (cudaMalloc/cudaFree
// and CUDA events in kernels/cuda/allocator.cu, a fake in tests/kernels/test_caching_allocator.cpp),
// so the whole policy is tested on machines without a GPU, and it is built on every machine.
//
// The scheme (after PyTorch's CUDA caching allocator, re-derived, not copied):
//   - Requests are rounded up to multiples of 512 bytes (kMinBlockSize).
//   - Small requests (<= 1 MiB) are cut from 2 MiB segments (the small pool); requests up to
//     10 MiB from 20 MiB segments; larger ones get a segment of their size rounded up to 2 MiB
//     (both in the large pool). A device allocation (cudaMalloc) is slow and synchronizing, so
//     segments are kept and cut into blocks.
//   - A request takes the smallest free block of its pool, on its stream, that fits (best fit);
//     the rest is split off as a free block when it is at least 512 bytes (small pool) or more
//     than 1 MiB (large pool). A freed block merges with free neighbours of its segment.
//   - Streams: each segment belongs to the stream it was allocated for, and its blocks are only
//     reused for requests on that stream (work on one stream runs in order, so the next user of
//     the memory runs after the last one). A block that was also used on another stream
//     (record_stream) goes back to the pool only when an event recorded on each such stream at
//     free time has completed.
//   - Out of memory: when the backend refuses, the cached free segments are released and the
//     request retried once; then a DeviceError names the request and the statistics.
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace strata {

// An opaque stream or event handle of the backend (a cudaStream_t / cudaEvent_t cast to an int).
using StreamId = uint64_t;
using EventId = uint64_t;

// The raw memory and synchronization the allocator sits on.
class RawDeviceBackend {
 public:
  virtual ~RawDeviceBackend() = default;
  // A new device allocation of exactly `nbytes`, or nullptr when the device is out of memory
  // (other failures throw).
  virtual void* raw_alloc(size_t nbytes) = 0;
  virtual void raw_free(void* ptr) = 0;
  // An event recorded now on `stream`, its completion query, and its release.
  virtual EventId record_event(StreamId stream) = 0;
  virtual bool event_done(EventId event) = 0;
  virtual void destroy_event(EventId event) = 0;
};

struct DeviceAllocatorStats {
  size_t allocated_bytes = 0;       // in blocks handed out (rounded sizes)
  size_t reserved_bytes = 0;        // in segments obtained from the backend
  size_t peak_allocated_bytes = 0;  // since construction or reset_peak_stats()
  size_t peak_reserved_bytes = 0;
  size_t requested_bytes = 0;  // as asked for, before rounding (blocks handed out)
  uint64_t num_allocs = 0;     // allocate() calls that returned memory
  uint64_t num_frees = 0;
  uint64_t num_cache_hits = 0;    // served from a cached block, no backend call
  uint64_t num_segments = 0;      // segments currently held
  uint64_t num_raw_allocs = 0;    // backend allocations, ever
  uint64_t num_raw_frees = 0;
  uint64_t num_oom_retries = 0;   // backend refusals followed by freeing the cache and a retry
  uint64_t num_ooms = 0;          // requests that failed even after the retry
};

class DeviceCachingAllocator {
 public:
  static constexpr size_t kMinBlockSize = 512;
  static constexpr size_t kSmallSize = size_t{1} << 20;          // largest "small" request
  static constexpr size_t kSmallSegment = size_t{2} << 20;       // segment of the small pool
  static constexpr size_t kLargeSegment = size_t{20} << 20;      // segment for requests < kMidSize
  static constexpr size_t kMidSize = size_t{10} << 20;
  static constexpr size_t kLargeRounding = size_t{2} << 20;      // larger requests round to this

  // `device_name` ("cuda:0") is used in error messages.
  DeviceCachingAllocator(RawDeviceBackend& backend, std::string device_name);
  ~DeviceCachingAllocator();  // releases every segment (blocks still handed out leak to the backend's end)
  DeviceCachingAllocator(const DeviceCachingAllocator&) = delete;
  DeviceCachingAllocator& operator=(const DeviceCachingAllocator&) = delete;

  // A block of at least `nbytes` for use on `stream`. nbytes == 0 returns nullptr.
  void* allocate(size_t nbytes, StreamId stream);
  // Gives back a block from allocate(); it becomes reusable on its stream at once, on other
  // recorded streams' behalf only after their events complete. Unknown pointers throw.
  void deallocate(void* ptr);
  // Marks that `ptr`'s memory is also used by work on `stream` (not its allocation stream).
  void record_stream(void* ptr, StreamId stream);

  // Releases every cached segment that has no block in use (after completing pending events
  // that are done).
  void empty_cache();
  DeviceAllocatorStats stats() const;
  void reset_peak_stats();

  // The size a request is rounded to, and the segment size a miss would allocate for it.
  static size_t round_size(size_t nbytes);
  static size_t segment_size(size_t rounded);

  // For tests: the number of free cached blocks, and blocks waiting for events.
  size_t cached_block_count() const;
  size_t pending_block_count() const;

 private:
  struct Block {
    size_t size = 0;
    size_t requested = 0;
    char* ptr = nullptr;
    StreamId stream = 0;
    bool allocated = false;
    bool small_pool = false;
    Block* prev = nullptr;  // neighbours inside the same segment
    Block* next = nullptr;
    std::vector<StreamId> other_streams;  // record_stream()
    int pending_events = 0;
  };
  struct BlockLess {
    bool operator()(const Block* a, const Block* b) const;
  };
  using Pool = std::set<Block*, BlockLess>;

  Pool& pool_of(bool small) { return small ? small_pool_ : large_pool_; }
  Block* find_free_block(Pool& pool, size_t size, StreamId stream);
  Block* new_segment(size_t size, StreamId stream, bool small);
  void free_block(Block* block);  // back into its pool, merged with free neighbours
  void process_events();
  size_t release_cached_segments();  // returns bytes released
  void note_allocated(long long delta);

  RawDeviceBackend& backend_;
  std::string device_name_;
  mutable std::mutex mutex_;
  Pool small_pool_, large_pool_;
  std::unordered_map<void*, Block*> active_;  // handed-out blocks by pointer
  std::vector<std::pair<EventId, Block*>> pending_;  // events a freed block waits on
  DeviceAllocatorStats stats_;
};

}  // namespace strata
