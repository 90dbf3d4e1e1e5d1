// parallel_for: every index runs exactly once for any range, grain and thread count; nested calls
// run inline; a worker's exception reaches the caller (and the pool keeps working); changing the
// thread count repeatedly is safe, including right after a parallel region.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "kernels/cpu/parallel.h"
#include "strata.h"
#include "support/expect_error.h"

namespace strata {
namespace {

class ThreadCount {
 public:
  explicit ThreadCount(int n) : saved_(get_num_threads()) { set_num_threads(n); }
  ~ThreadCount() { set_num_threads(saved_); }

 private:
  int saved_;
};

// Counts how often each index of [begin, end) is visited.
void expect_exact_cover(int64_t begin, int64_t end, int64_t grain) {
  std::vector<std::atomic<int>> hits(static_cast<size_t>(std::max<int64_t>(end - begin, 0)));
  std::atomic<int> bad_ranges{0};
  parallel_for(begin, end, grain, [&](int64_t lo, int64_t hi) {
    if (lo < begin || hi > end || lo >= hi) ++bad_ranges;
    for (int64_t i = lo; i < hi; ++i) hits[i - begin].fetch_add(1);
  });
  EXPECT_EQ(bad_ranges.load(), 0);
  for (size_t i = 0; i < hits.size(); ++i)
    ASSERT_EQ(hits[i].load(), 1) << "index " << begin + static_cast<int64_t>(i) << " of [" << begin << ", " << end
                                 << ") grain " << grain << " threads " << get_num_threads();
}

TEST(ParallelFor, CoversTheRangeExactlyOnce) {
  for (int threads : {1, 2, 3, 4}) {
    ThreadCount tc(threads);
    for (auto [b, e, g] : std::vector<std::tuple<int64_t, int64_t, int64_t>>{
             {0, 0, 1}, {0, 1, 1}, {0, 7, 1}, {5, 12, 2}, {0, 1000, 1}, {0, 1000, 999}, {0, 1000, 1000},
             {-50, 50, 3}, {0, 100003, 4096}, {10, 9, 1}, {0, 64, 0}}) {
      expect_exact_cover(b, e, g);
    }
  }
}

TEST(ParallelFor, ChunksRespectTheGrain) {
  ThreadCount tc(4);
  std::mutex m;
  std::vector<std::pair<int64_t, int64_t>> chunks;
  parallel_for(0, 10000, 3000, [&](int64_t lo, int64_t hi) {
    std::lock_guard<std::mutex> lock(m);
    chunks.push_back({lo, hi});
  });
  EXPECT_LE(chunks.size(), 3u);  // 10000 / 3000 chunks at most
  for (auto [lo, hi] : chunks) EXPECT_GE(hi - lo, 3000);
}

TEST(ParallelFor, UsesSeveralThreads) {
  ThreadCount tc(4);
  std::mutex m;
  std::set<std::thread::id> ids;
  for (int rep = 0; rep < 20 && ids.size() < 2; ++rep) {
    parallel_for(0, 4, 1, [&](int64_t, int64_t) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      std::lock_guard<std::mutex> lock(m);
      ids.insert(std::this_thread::get_id());
    });
  }
  EXPECT_GE(ids.size(), 2u);
}

TEST(ParallelFor, NestedCallsRunInline) {
  ThreadCount tc(4);
  std::atomic<int> inner_total{0}, nested_threads_mismatch{0};
  EXPECT_FALSE(in_parallel_region());
  parallel_for(0, 8, 1, [&](int64_t lo, int64_t hi) {
    EXPECT_TRUE(in_parallel_region());
    const auto me = std::this_thread::get_id();
    for (int64_t i = lo; i < hi; ++i) {
      parallel_for(0, 1000, 1, [&](int64_t a, int64_t b) {
        if (std::this_thread::get_id() != me) ++nested_threads_mismatch;
        inner_total += static_cast<int>(b - a);
      });
    }
  });
  EXPECT_FALSE(in_parallel_region());
  EXPECT_EQ(inner_total.load(), 8000);
  EXPECT_EQ(nested_threads_mismatch.load(), 0);
}

TEST(ParallelFor, WorkerExceptionsReachTheCaller) {
  ThreadCount tc(4);
  for (int rep = 0; rep < 20; ++rep) {
    // Throw from the last chunk, which a worker (not the caller) runs.
    EXPECT_STRATA_ERROR(parallel_for(0, 4000, 1000,
                                     [&](int64_t lo, int64_t) {
                                       if (lo >= 3000) STRATA_THROW(ValueError, "chunk {} failed", lo);
                                     }),
                        ValueError, {"chunk 3000 failed"});
    EXPECT_FALSE(in_parallel_region());
  }
  EXPECT_THROW(parallel_for(0, 4000, 1000, [](int64_t lo, int64_t) {
                 if (lo == 0) throw std::runtime_error("caller chunk");
               }),
               std::runtime_error);
  // The pool still works afterwards.
  expect_exact_cover(0, 10000, 100);
}

TEST(ParallelFor, ExceptionOnTheInlinePathResetsTheRegionFlag) {
  ThreadCount tc(1);
  EXPECT_THROW(parallel_for(0, 10, 1, [](int64_t, int64_t) { throw std::runtime_error("x"); }), std::runtime_error);
  EXPECT_FALSE(in_parallel_region());
}

TEST(ParallelFor, SetNumThreadsRepeatedly) {
  const int saved = get_num_threads();
  for (int rep = 0; rep < 5; ++rep) {
    for (int n : {1, 2, 3, 4, 3, 1, 4, 2}) {
      set_num_threads(n);
      EXPECT_EQ(get_num_threads(), n);
      expect_exact_cover(0, 5000, 10);
      // Elementwise kernels on the pool right after the change.
      Tensor x = arange(0.0, 100000.0, 1.0, {.dtype = DType::F64});
      EXPECT_EQ((x * 2.0).to_vector<double>()[99999], 199998.0);
    }
  }
  set_num_threads(saved);
  EXPECT_STRATA_ERROR(set_num_threads(0), ValueError, {"set_num_threads", "0"});
  EXPECT_EQ(get_num_threads(), saved);
}

TEST(ParallelFor, CallsFromSeveralThreadsAtOnce) {
  ThreadCount tc(3);
  std::vector<std::thread> callers;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    callers.emplace_back([&] {
      for (int rep = 0; rep < 50; ++rep) {
        std::vector<std::atomic<int>> hits(3000);
        parallel_for(0, 3000, 100, [&](int64_t lo, int64_t hi) {
          for (int64_t i = lo; i < hi; ++i) hits[i].fetch_add(1);
        });
        for (auto& h : hits)
          if (h.load() != 1) ++failures;
      }
    });
  }
  for (auto& c : callers) c.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace strata
