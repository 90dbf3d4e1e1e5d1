// The pool's chunk claiming (kernels/cpu/parallel.cpp): chunks are taken one at a time from a
// counter that carries the region's generation, so a worker that finishes its last chunk of one
// region while the caller already starts the next can neither steal a chunk of the new region
// under the old one's name nor run one twice. These tests hammer back-to-back regions (the
// window of that race) and check exact coverage, the chunk bounds, and that the caller alone
// finishes a region whose workers are held up.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "kernels/cpu/parallel.h"

namespace strata {
namespace {

class ThreadCount {
 public:
  explicit ThreadCount(int n) : saved_(get_num_threads()) { set_num_threads(n); }
  ~ThreadCount() { set_num_threads(saved_); }

 private:
  int saved_;
};

TEST(ParallelChunks, BackToBackRegionsCoverEveryIndexExactlyOnce) {
  for (int threads : {2, 3}) {
    ThreadCount tc(threads);
    std::vector<std::atomic<int>> hits(97);
    for (int region = 0; region < 3000; ++region) {
      for (auto& h : hits) h.store(0, std::memory_order_relaxed);
      parallel_for(0, 97, 1, [&](int64_t lo, int64_t hi) {
        for (int64_t i = lo; i < hi; ++i) hits[i].fetch_add(1, std::memory_order_relaxed);
      });
      for (size_t i = 0; i < hits.size(); ++i)
        ASSERT_EQ(hits[i].load(), 1) << "index " << i << " in region " << region << " with " << threads << " threads";
    }
  }
}

TEST(ParallelChunks, AtMostFourChunksPerThreadAndNeverBelowTheGrain) {
  ThreadCount tc(2);
  std::mutex m;
  std::vector<std::pair<int64_t, int64_t>> chunks;
  parallel_for(0, 1'000'000, 1000, [&](int64_t lo, int64_t hi) {
    std::lock_guard<std::mutex> lock(m);
    chunks.push_back({lo, hi});
  });
  EXPECT_LE(chunks.size(), 8u);
  EXPECT_GE(chunks.size(), 2u);
  int64_t covered = 0;
  for (auto [lo, hi] : chunks) {
    EXPECT_GE(hi - lo, 1000);
    covered += hi - lo;
  }
  EXPECT_EQ(covered, 1'000'000);
}

TEST(ParallelChunks, ChunkBoundariesDoNotDependOnWhichThreadRunsThem) {
  ThreadCount tc(2);
  auto boundaries = [] {
    std::mutex m;
    std::vector<std::pair<int64_t, int64_t>> chunks;
    parallel_for(0, 100'000, 100, [&](int64_t lo, int64_t hi) {
      std::lock_guard<std::mutex> lock(m);
      chunks.push_back({lo, hi});
    });
    std::sort(chunks.begin(), chunks.end());
    return chunks;
  };
  const auto first = boundaries();
  for (int rep = 0; rep < 50; ++rep) ASSERT_EQ(boundaries(), first);
}

TEST(ParallelChunks, TheCallerTakesTheChunksOfAHeldUpWorker) {
  // One chunk blocks until every other chunk has run: whoever runs it, the remaining chunks must
  // be taken by the other thread, so the region completes instead of waiting on a sleeper.
  ThreadCount tc(2);
  std::atomic<int> finished{0};
  std::atomic<bool> blocked_started{false};
  parallel_for(0, 8, 1, [&](int64_t lo, int64_t hi) {
    if (lo == 0) {
      blocked_started = true;
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
      while (finished.load() < 7 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    } else {
      finished.fetch_add(static_cast<int>(hi - lo));
    }
  });
  EXPECT_TRUE(blocked_started.load());
  EXPECT_EQ(finished.load(), 7);
}

}  // namespace
}  // namespace strata
