// The caching device allocator's policy (tensor/device_caching_allocator.h), run on the CPU with
// a fake backend: addresses are handed out from a counter and never dereferenced, events complete
// when the test says so, and a capacity makes the backend refuse like a full GPU. These tests run
// on every machine; the CUDA backend (kernels/cuda/allocator.cu) only plugs cudaMalloc/cudaFree
// and CUDA events into the same class.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "tensor/device_caching_allocator.h"
#include "tensor/error.h"

namespace strata {
namespace {

constexpr size_t KiB = 1024, MiB = 1024 * 1024;

class FakeBackend final : public RawDeviceBackend {
 public:
  size_t capacity = size_t{1} << 40;
  size_t in_use = 0;
  std::map<void*, size_t> live;
  int raw_allocs = 0, raw_frees = 0, refusals = 0;
  std::map<EventId, StreamId> events;
  std::set<EventId> done;
  EventId next_event = 1;

  void* raw_alloc(size_t n) override {
    if (in_use + n > capacity) {
      ++refusals;
      return nullptr;
    }
    void* p = reinterpret_cast<void*>(next_addr_);
    next_addr_ += (n + 0xFFFFF) / 0x100000 * 0x100000 + 0x100000;  // gaps between segments
    live[p] = n;
    in_use += n;
    ++raw_allocs;
    return p;
  }
  void raw_free(void* p) override {
    auto it = live.find(p);
    ASSERT_NE(it, live.end()) << "raw_free of a pointer the backend did not allocate";
    in_use -= it->second;
    live.erase(it);
    ++raw_frees;
  }
  EventId record_event(StreamId s) override {
    events[next_event] = s;
    return next_event++;
  }
  bool event_done(EventId e) override { return done.count(e) > 0; }
  void destroy_event(EventId e) override { events.erase(e); }
  void complete_all_events() {
    for (auto& [e, s] : events) done.insert(e);
  }

 private:
  uintptr_t next_addr_ = 0x7f0000000000;
};

char* as_bytes(void* p) { return static_cast<char*>(p); }

TEST(CachingAllocator, RoundsToMultiplesOf512AndPicksTheSegmentSize) {
  using A = DeviceCachingAllocator;
  EXPECT_EQ(A::round_size(1), 512u);
  EXPECT_EQ(A::round_size(512), 512u);
  EXPECT_EQ(A::round_size(513), 1024u);
  EXPECT_EQ(A::round_size(1000 * 1000), 1000448u);
  EXPECT_EQ(A::segment_size(512), 2 * MiB);
  EXPECT_EQ(A::segment_size(1 * MiB), 2 * MiB);           // still small
  EXPECT_EQ(A::segment_size(1 * MiB + 512), 20 * MiB);     // large, below 10 MiB
  EXPECT_EQ(A::segment_size(10 * MiB - 512), 20 * MiB);
  EXPECT_EQ(A::segment_size(10 * MiB), 10 * MiB);          // own segment, rounded to 2 MiB
  EXPECT_EQ(A::segment_size(11 * MiB + 512), 12 * MiB);
}

TEST(CachingAllocator, ZeroBytesIsNullAndNeedsNoMemory) {
  FakeBackend be;
  DeviceCachingAllocator a(be, "cuda:0");
  EXPECT_EQ(a.allocate(0, 1), nullptr);
  a.deallocate(nullptr);
  EXPECT_EQ(be.raw_allocs, 0);
  EXPECT_EQ(a.stats().num_allocs, 0u);
}

TEST(CachingAllocator, SmallRequestsAreCutFromOneTwoMiBSegment) {
  FakeBackend be;
  DeviceCachingAllocator a(be, "cuda:0");
  void* p = a.allocate(1000, 1);
  void* q = a.allocate(100, 1);
  EXPECT_EQ(be.raw_allocs, 1);
  EXPECT_EQ(be.live.begin()->second, 2 * MiB);
  EXPECT_EQ(as_bytes(q), as_bytes(p) + 1024);  // the split remainder serves the next request
  const DeviceAllocatorStats s = a.stats();
  EXPECT_EQ(s.allocated_bytes, 1024u + 512u);
  EXPECT_EQ(s.requested_bytes, 1100u);
  EXPECT_EQ(s.reserved_bytes, 2 * MiB);
  EXPECT_EQ(s.num_allocs, 2u);
  EXPECT_EQ(s.num_cache_hits, 1u);
  EXPECT_EQ(s.num_segments, 1u);
  a.deallocate(p);
  a.deallocate(q);
}

TEST(CachingAllocator, AFreedBlockIsReusedForTheNextRequestOfItsSize) {
  FakeBackend be;
  DeviceCachingAllocator a(be, "cuda:0");
  void* p = a.allocate(4 * KiB, 1);
  void* keep = a.allocate(4 * KiB, 1);
  a.deallocate(p);
  EXPECT_EQ(a.stats().allocated_bytes, 4 * KiB);
  void* r = a.allocate(3 * KiB + 1, 1);  // rounds to 3.5 KiB: best fit is p's 4 KiB block
  EXPECT_EQ(r, p);
  EXPECT_EQ(be.raw_allocs, 1);
  a.deallocate(r);
  a.deallocate(keep);
}

TEST(CachingAllocator, FreedNeighboursMergeBackIntoTheWholeSegment) {
  FakeBackend be;
  DeviceCachingAllocator a(be, "cuda:0");
  void* p = a.allocate(512, 1);
  void* q = a.allocate(512, 1);
  void* r = a.allocate(512, 1);
  a.deallocate(q);  // hole in the middle
  EXPECT_EQ(a.cached_block_count(), 2u);  // the hole and the tail
  a.deallocate(p);
  a.deallocate(r);
  EXPECT_EQ(a.cached_block_count(), 1u);  // one free block of 2 MiB
  // The whole segment can be handed out again as one block.
  void* big = a.allocate(1 * MiB, 1);
  EXPECT_EQ(big, p);
  EXPECT_EQ(be.raw_allocs, 1);
  a.deallocate(big);
}

TEST(CachingAllocator, LargeRequestsShareTwentyMiBSegmentsAndSplitOnlyAboveOneMiB) {
  FakeBackend be;
  DeviceCachingAllocator a(be, "cuda:0");
  void* p = a.allocate(3 * MiB, 1);
  void* q = a.allocate(5 * MiB, 1);
  EXPECT_EQ(be.raw_allocs, 1);
  EXPECT_EQ(be.live.begin()->second, 20 * MiB);
  EXPECT_EQ(as_bytes(q), as_bytes(p) + 3 * MiB);
  // 12 MiB left: a 11.5 MiB request takes it whole (the 0.5 MiB rest is not worth a block).
  void* r = a.allocate(11 * MiB + 512 * KiB, 1);
  EXPECT_EQ(as_bytes(r), as_bytes(p) + 8 * MiB);
  EXPECT_EQ(be.raw_allocs, 1);
  EXPECT_EQ(a.stats().allocated_bytes, 20 * MiB);
  a.deallocate(p);
  a.deallocate(q);
  a.deallocate(r);
  // Requests of 10 MiB and more get a segment of their own size, rounded to 2 MiB.
  void* huge = a.allocate(21 * MiB, 1);
  EXPECT_EQ(be.raw_allocs, 2);
  EXPECT_EQ(a.stats().reserved_bytes, 20 * MiB + 22 * MiB);
  a.deallocate(huge);
}

TEST(CachingAllocator, SmallRequestsNeverComeFromTheLargePool) {
  FakeBackend be;
  DeviceCachingAllocator a(be, "cuda:0");
  void* big = a.allocate(3 * MiB, 1);
  a.deallocate(big);  // a free 20 MiB segment is cached
  void* small = a.allocate(4 * KiB, 1);
  EXPECT_EQ(be.raw_allocs, 2);  // a new 2 MiB segment
  EXPECT_EQ(a.stats().reserved_bytes, 22 * MiB);
  a.deallocate(small);
}

TEST(CachingAllocator, ABlockFreedOnStreamAIsReusedOnAButNotOnB) {
  FakeBackend be;
  DeviceCachingAllocator a(be, "cuda:0");
  const StreamId A = 11, B = 22;
  void* p = a.allocate(64 * KiB, A);
  a.deallocate(p);
  void* on_b = a.allocate(64 * KiB, B);
  EXPECT_NE(on_b, p);
  EXPECT_EQ(be.raw_allocs, 2);  // B gets its own segment
  void* on_a = a.allocate(64 * KiB, A);
  EXPECT_EQ(on_a, p);
  EXPECT_EQ(be.raw_allocs, 2);
  a.deallocate(on_a);
  a.deallocate(on_b);
}

TEST(CachingAllocator, ABlockUsedOnAnotherStreamWaitsForItsEventBeforeReuse) {
  FakeBackend be;
  DeviceCachingAllocator a(be, "cuda:0");
  const StreamId A = 11, B = 22;
  void* p = a.allocate(8 * KiB, A);
  a.record_stream(p, B);
  a.record_stream(p, B);  // recorded once
  a.record_stream(p, A);  // its own stream: nothing to wait for
  a.deallocate(p);
  ASSERT_EQ(be.events.size(), 1u);
  EXPECT_EQ(be.events.begin()->second, B);  // the event is recorded on the other stream
  EXPECT_EQ(a.pending_block_count(), 1u);
  void* q = a.allocate(8 * KiB, A);
  EXPECT_NE(q, p) << "reused a block while stream B may still be using it";
  be.complete_all_events();
  void* r = a.allocate(8 * KiB, A);
  EXPECT_EQ(r, p);
  EXPECT_EQ(a.pending_block_count(), 0u);
  EXPECT_TRUE(be.events.empty()) << "completed events must be destroyed";
  a.deallocate(q);
  a.deallocate(r);
}

TEST(CachingAllocator, EmptyCacheReleasesOnlySegmentsWithNothingInUse) {
  FakeBackend be;
  DeviceCachingAllocator a(be, "cuda:0");
  void* used = a.allocate(1 * KiB, 1);   // keeps segment 1
  void* freed = a.allocate(4 * MiB, 1);  // segment 2 (20 MiB)
  a.deallocate(freed);
  EXPECT_EQ(a.stats().reserved_bytes, 22 * MiB);
  a.empty_cache();
  EXPECT_EQ(be.raw_frees, 1);
  EXPECT_EQ(a.stats().reserved_bytes, 2 * MiB);
  EXPECT_EQ(a.stats().num_segments, 1u);
  a.deallocate(used);
  a.empty_cache();
  EXPECT_EQ(a.stats().reserved_bytes, 0u);
  EXPECT_TRUE(be.live.empty());
}

TEST(CachingAllocator, PeakStatisticsTrackTheHighWaterMarkUntilReset) {
  FakeBackend be;
  DeviceCachingAllocator a(be, "cuda:0");
  void* p = a.allocate(100 * KiB, 1);
  void* q = a.allocate(200 * KiB, 1);
  a.deallocate(p);
  a.deallocate(q);
  DeviceAllocatorStats s = a.stats();
  EXPECT_EQ(s.allocated_bytes, 0u);
  EXPECT_EQ(s.peak_allocated_bytes, 300 * KiB);
  EXPECT_EQ(s.num_frees, 2u);
  EXPECT_EQ(s.peak_reserved_bytes, 2 * MiB);
  a.reset_peak_stats();
  void* r = a.allocate(10 * KiB, 1);
  EXPECT_EQ(a.stats().peak_allocated_bytes, 10 * KiB);
  a.deallocate(r);
}

TEST(CachingAllocator, OutOfMemoryReleasesTheCacheAndRetries) {
  FakeBackend be;
  be.capacity = 30 * MiB;
  DeviceCachingAllocator a(be, "cuda:0");
  void* other_stream = a.allocate(5 * MiB, 7);  // a 20 MiB segment for stream 7
  a.deallocate(other_stream);                   // cached, but not usable by stream 1
  void* p = a.allocate(5 * MiB, 1);             // needs 20 MiB: only 10 MiB left
  EXPECT_NE(p, nullptr);
  EXPECT_EQ(be.refusals, 1);
  EXPECT_EQ(be.raw_frees, 1);
  const DeviceAllocatorStats s = a.stats();
  EXPECT_EQ(s.num_oom_retries, 1u);
  EXPECT_EQ(s.num_ooms, 0u);
  EXPECT_EQ(s.reserved_bytes, 20 * MiB);
  a.deallocate(p);
}

TEST(CachingAllocator, OutOfMemoryAfterTheRetryThrowsDeviceErrorWithTheSizes) {
  FakeBackend be;
  be.capacity = 30 * MiB;
  DeviceCachingAllocator a(be, "cuda:1");
  void* p = a.allocate(5 * MiB, 1);
  try {
    a.allocate(16 * MiB, 1);
    ADD_FAILURE() << "allocated 16 MiB beyond the capacity";
  } catch (const DeviceError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("cuda:1: out of memory"), std::string::npos) << what;
    EXPECT_NE(what.find(std::to_string(16 * MiB) + " bytes"), std::string::npos) << what;
    EXPECT_NE(what.find(std::to_string(20 * MiB) + " bytes reserved"), std::string::npos) << what;
  }
  EXPECT_EQ(a.stats().num_ooms, 1u);
  EXPECT_EQ(be.refusals, 2);  // first try and the retry
  a.deallocate(p);
  // The allocator still works after an OOM.
  void* q = a.allocate(1 * MiB, 1);
  EXPECT_NE(q, nullptr);
  a.deallocate(q);
}

TEST(CachingAllocator, FreeingAnUnknownPointerThrowsDeviceError) {
  FakeBackend be;
  DeviceCachingAllocator a(be, "cuda:0");
  int x = 0;
  EXPECT_THROW(a.deallocate(&x), DeviceError);
  void* p = a.allocate(512, 1);
  a.deallocate(p);
  EXPECT_THROW(a.deallocate(p), DeviceError);  // double free
  EXPECT_THROW(a.record_stream(p, 2), DeviceError);
}

TEST(CachingAllocator, DestructionReturnsEverySegmentToTheBackend) {
  FakeBackend be;
  {
    DeviceCachingAllocator a(be, "cuda:0");
    void* p = a.allocate(100, 1);
    void* q = a.allocate(15 * MiB, 2);
    a.deallocate(p);
    a.deallocate(q);
  }
  EXPECT_TRUE(be.live.empty());
  EXPECT_EQ(be.raw_frees, 2);
}

}  // namespace
}  // namespace strata
