// A small fixed thread pool. Each parallel_run splits the range into chunks of at least the
// grain, up to kChunksPerThread per thread, which the caller and the workers claim one at a time
// from a shared counter. On a machine shared with other work a worker is often not scheduled
// when a region starts: the others, the caller included, then take its chunks instead of waiting
// for it. (A claim carries the region's generation, so a worker that wakes late cannot take a
// chunk of a later region.) Workers spin briefly before sleeping: kernels are issued back to back
// and a condition-variable wake-up costs several microseconds. Chunk boundaries depend only on
// the range, the grain and the thread count, never on which thread runs a chunk.
#include "kernels/cpu/parallel.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "tensor/error.h"

namespace strata {
namespace {

thread_local bool t_in_parallel = false;

class ThreadPool {
 public:
  explicit ThreadPool(int n) { resize(n); }
  ~ThreadPool() { stop_workers(); }

  int size() const { return num_threads_; }

  void resize(int n) {
    std::lock_guard<std::mutex> run_lock(run_mutex_);
    stop_workers();
    num_threads_ = n;
    stop_ = false;
    // A new worker starts from the current generation: it must not run a region that ended.
    const uint64_t current = generation_.load();
    for (int i = 1; i < n; ++i) workers_.emplace_back([this, i, current] { worker_loop(i, current); });
  }

  void run(int64_t begin, int64_t end, int64_t grain,
           const std::function<void(int64_t, int64_t)>& body) {
    std::lock_guard<std::mutex> run_lock(run_mutex_);  // one parallel region at a time
    const int64_t n = end - begin;
    const int64_t max_chunks = std::max<int64_t>(1, n / grain);
    const int64_t chunks = std::min<int64_t>({int64_t{num_threads_} * kChunksPerThread, max_chunks, kMaxChunks});
    if (num_threads_ <= 1 || chunks <= 1) {
      run_inline(begin, end, body);
      return;
    }
    body_.store(&body, std::memory_order_relaxed);
    begin_.store(begin, std::memory_order_relaxed);
    end_.store(end, std::memory_order_relaxed);
    chunks_.store(chunks, std::memory_order_relaxed);
    error_ = nullptr;
    done_.store(0, std::memory_order_relaxed);
    uint32_t gen;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      gen = static_cast<uint32_t>(++generation_);
      claim_.store(uint64_t{gen} << 32 | static_cast<uint64_t>(chunks) << 16, std::memory_order_release);
    }
    cv_.notify_all();
    work(gen);
    // Wait for chunks still running on workers: spin, then yield.
    for (int spin = 0; done_.load(std::memory_order_acquire) != chunks;) {
      if (spin < 64) {
        ++spin;
      } else {
        std::this_thread::yield();
      }
    }
    body_.store(nullptr, std::memory_order_relaxed);
    if (error_) std::rethrow_exception(error_);
  }

 private:
  static constexpr int64_t kChunksPerThread = 4;
  static constexpr int64_t kMaxChunks = 0xffff;  // the count must fit its 16 bits of claim_

  void run_inline(int64_t begin, int64_t end, const std::function<void(int64_t, int64_t)>& body) {
    t_in_parallel = true;
    try {
      body(begin, end);
    } catch (...) {
      t_in_parallel = false;
      throw;
    }
    t_in_parallel = false;
  }

  // Claims and runs chunks of region `gen` until none is left (or the region is over). The claim
  // word holds the region's generation and chunk count with the next chunk, so one CAS checks
  // all three: a chunk is only ever taken from a region that still has it.
  void work(uint32_t gen) {
    for (;;) {
      uint64_t cur = claim_.load(std::memory_order_acquire);
      int64_t c;
      for (;;) {
        if ((cur >> 32) != gen) return;  // a later region: not ours
        c = static_cast<int64_t>(cur & 0xffff);
        if (c >= static_cast<int64_t>((cur >> 16) & 0xffff)) return;
        if (claim_.compare_exchange_weak(cur, cur + 1, std::memory_order_acq_rel)) break;
      }
      run_chunk(c);
      done_.fetch_add(1, std::memory_order_release);
    }
  }

  void run_chunk(int64_t c) {
    const int64_t begin = begin_.load(std::memory_order_relaxed);
    const int64_t n = end_.load(std::memory_order_relaxed) - begin;
    const int64_t chunks = chunks_.load(std::memory_order_relaxed);
    const int64_t lo = begin + n * c / chunks;
    const int64_t hi = begin + n * (c + 1) / chunks;
    t_in_parallel = true;
    try {
      (*body_.load(std::memory_order_relaxed))(lo, hi);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex_);
      if (!error_) error_ = std::current_exception();
    }
    t_in_parallel = false;
  }

  void worker_loop(int index, uint64_t seen) {
    (void)index;
    for (;;) {
      // Spin a little for the next generation before blocking.
      bool woke = false;
      for (int spin = 0; spin < 20000; ++spin) {
        if (generation_atomic() != seen || stop_flag()) {
          woke = true;
          break;
        }
      }
      std::unique_lock<std::mutex> lock(mutex_);
      if (!woke) cv_.wait(lock, [&] { return generation_.load() != seen || stop_.load(); });
      if (stop_) return;
      seen = generation_.load();
      lock.unlock();
      work(static_cast<uint32_t>(seen));
    }
  }

  uint64_t generation_atomic() const { return generation_.load(std::memory_order_acquire); }
  bool stop_flag() const { return stop_.load(std::memory_order_acquire); }

  void stop_workers() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& w : workers_) w.join();
    workers_.clear();
  }

  int num_threads_ = 1;
  std::vector<std::thread> workers_;
  std::mutex run_mutex_, mutex_, error_mutex_;
  std::condition_variable cv_;
  std::atomic<uint64_t> generation_{0};  // written under mutex_, read lock-free while spinning
  std::atomic<bool> stop_{false};
  // The running region; read by workers that may wake after it ended, hence atomics.
  std::atomic<const std::function<void(int64_t, int64_t)>*> body_{nullptr};
  std::atomic<int64_t> begin_{0}, end_{0}, chunks_{0};
  std::atomic<uint64_t> claim_{0};  // generation << 32 | chunk count << 16 | next chunk
  std::atomic<int64_t> done_{0};    // chunks finished in the running region
  std::exception_ptr error_;
};

int default_threads() {
  unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

std::atomic<int> g_num_threads{default_threads()};

ThreadPool& pool() {
  static ThreadPool p(g_num_threads.load());
  return p;
}

}  // namespace

void set_num_threads(int n) {
  STRATA_CHECK(n >= 1, ValueError, "set_num_threads: n must be >= 1, got {}", n);
  g_num_threads.store(n);
  if (pool().size() != n) pool().resize(n);
}

int get_num_threads() { return g_num_threads.load(std::memory_order_relaxed); }

bool in_parallel_region() { return t_in_parallel; }

namespace detail {
void parallel_run(int64_t begin, int64_t end, int64_t grain,
                  const std::function<void(int64_t, int64_t)>& body) {
  pool().run(begin, end, grain, body);
}
}  // namespace detail

}  // namespace strata
