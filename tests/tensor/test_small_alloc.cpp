// The allocation fast paths of tiny ops: the thread-local small-object lists (tensor/
// small_alloc.h) behind TensorImpl, StorageImpl, autograd nodes and edge lists, and the per-thread
// block cache of the CPU data allocator (tensor/allocator.cpp). Blocks are reused on the same
// thread, survive being freed on another thread, sizes past the cached range still work, the
// allocator's statistics stay exact through the thread cache, and large blocks are aligned for
// huge pages.
#include <gtest/gtest.h>

#include <cstring>
#include <thread>
#include <vector>

#include "strata.h"
#include "tensor/allocator.h"
#include "tensor/small_alloc.h"

namespace strata {
namespace {

TEST(SmallAlloc, AFreedBlockIsReusedForTheSameSizeClass) {
  void* a = detail::small_alloc(100);
  detail::small_free(a, 100);
  void* b = detail::small_alloc(97);  // same 16-byte class (97..112)
#if !defined(__SANITIZE_ADDRESS__)
  EXPECT_EQ(a, b);
#endif
  std::memset(b, 0xab, 97);  // usable for the requested size
  detail::small_free(b, 97);
}

TEST(SmallAlloc, LargeAndZeroSizesAreServed) {
  void* big = detail::small_alloc(detail::kMaxSmallObject + 1);
  std::memset(big, 1, detail::kMaxSmallObject + 1);
  detail::small_free(big, detail::kMaxSmallObject + 1);
  void* zero = detail::small_alloc(0);
  EXPECT_NE(zero, nullptr);
  detail::small_free(zero, 0);
  detail::small_free(nullptr, 16);  // no-op
}

TEST(SmallAlloc, BlocksFreedOnAnotherThreadStayValid) {
  std::vector<void*> blocks;
  for (int i = 0; i < 3000; ++i) {  // more than one thread list keeps per class
    void* p = detail::small_alloc(48);
    std::memset(p, i & 0xff, 48);
    blocks.push_back(p);
  }
  std::thread([&] {
    for (void* p : blocks) detail::small_free(p, 48);
  }).join();  // the thread exits: its lists go back to the system
  for (int i = 0; i < 3000; ++i) detail::small_free(detail::small_alloc(48), 48);
}

TEST(SmallAlloc, PoolAllocatorWorksInContainersAndSharedPointers) {
  std::vector<int64_t, PoolAllocator<int64_t>> v;
  for (int64_t i = 0; i < 1000; ++i) v.push_back(i);  // grows past the pooled sizes
  EXPECT_EQ(v[999], 999);
  auto sp = std::allocate_shared<std::vector<int>>(PoolAllocator<std::vector<int>>(), 3, 7);
  EXPECT_EQ((*sp)[2], 7);
}

TEST(CpuAllocatorCache, SmallTensorsReuseBlocksAndStatisticsStayExact) {
  const CpuAllocatorStats before = cpu_allocator_stats();
  { Tensor warm = empty({16}); }  // a block of this size is now cached on this thread
  const CpuAllocatorStats mid = cpu_allocator_stats();
  {
    Tensor t = empty({16});
    const CpuAllocatorStats during = cpu_allocator_stats();
    EXPECT_EQ(during.allocations, mid.allocations + 1);
    EXPECT_EQ(during.cache_hits, mid.cache_hits + 1);
    EXPECT_EQ(during.allocated_bytes, mid.allocated_bytes + 64);  // 64 bytes: the smallest bin
    EXPECT_EQ(during.cached_bytes + 64, mid.cached_bytes);
  }
  const CpuAllocatorStats after = cpu_allocator_stats();
  EXPECT_EQ(after.allocated_bytes, before.allocated_bytes);
  EXPECT_EQ(after.cached_bytes, mid.cached_bytes);
  EXPECT_GE(after.peak_allocated_bytes, before.allocated_bytes + 64);
}

TEST(CpuAllocatorCache, TensorsFreedOnAnotherThreadAndEmptyCache) {
  const size_t allocated_before = cpu_allocator_stats().allocated_bytes;
  std::vector<Tensor> ts;
  for (int i = 0; i < 200; ++i) ts.push_back(full({i + 1}, 1.5));  // bins of 64 .. 832 bytes
  std::thread([&] { ts.clear(); }).join();  // freed there, cached there, given back at its exit
  EXPECT_EQ(cpu_allocator_stats().allocated_bytes, allocated_before);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(sum(full({i + 1}, 2.0)).item<double>(), 2.0 * (i + 1));
  cpu_allocator_empty_cache();
  EXPECT_EQ(cpu_allocator_stats().allocated_bytes, allocated_before);
  Tensor again = ones({3});
  EXPECT_EQ(sum(again).item<double>(), 3.0);
}

TEST(CpuAllocatorCache, LargeBlocksAreHugePageAligned) {
  // 2 MiB and more: 2 MiB-aligned (so the kernel can back them with transparent huge pages).
  const size_t allocated_before = cpu_allocator_stats().allocated_bytes;
  {
    Tensor big = full({1 << 20}, 3.0);  // 4 MiB of f32
    EXPECT_EQ(reinterpret_cast<uintptr_t>(big.raw_data()) % (size_t{2} << 20), 0u);
    EXPECT_EQ(sum(big).item<double>(), 3.0 * (1 << 20));
    Tensor small = empty({1000});  // 4000 bytes: ordinary 64-byte alignment suffices
    EXPECT_EQ(reinterpret_cast<uintptr_t>(small.raw_data()) % 64, 0u);
  }
  EXPECT_EQ(cpu_allocator_stats().allocated_bytes, allocated_before);
}

}  // namespace
}  // namespace strata
