// A small fixed thread pool. Each parallel_run splits the range into at most num_threads chunks
// (so a chunk is never smaller than the grain), hands chunks 1..k-1 to workers and runs chunk 0
// on the caller. Workers spin briefly before sleeping: kernels are issued back to back and a
// condition-variable wake-up costs several microseconds.
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
    chunks_ = 0;
    // New workers start at the current generation: the previous region is finished, and a worker
    // that took it for new work would call a body that no longer exists.
    const uint64_t start = generation_.load();
    for (int i = 1; i < n; ++i) workers_.emplace_back([this, i, start] { worker_loop(i, start); });
  }

  void run(int64_t begin, int64_t end, int64_t grain,
           const std::function<void(int64_t, int64_t)>& body) {
    std::lock_guard<std::mutex> run_lock(run_mutex_);  // one parallel region at a time
    const int64_t n = end - begin;
    const int64_t max_chunks = std::max<int64_t>(1, n / grain);
    const int chunks = static_cast<int>(std::min<int64_t>(num_threads_, max_chunks));
    if (chunks <= 1) {
      run_inline(begin, end, body);
      return;
    }
    error_ = nullptr;
    pending_.store(chunks - 1, std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lock(mutex_);  // workers read the region under this lock
      body_ = &body;
      begin_ = begin;
      end_ = end;
      chunks_ = chunks;
      ++generation_;
    }
    cv_.notify_all();
    run_chunk(0);
    // Wait for the workers: spin, then yield.
    while (pending_.load(std::memory_order_acquire) != 0) std::this_thread::yield();
    {
      // A worker that wakes late (it had no chunk) must find nothing to run.
      std::lock_guard<std::mutex> lock(mutex_);
      body_ = nullptr;
      chunks_ = 0;
    }
    if (error_) std::rethrow_exception(error_);
  }

 private:
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

  void run_chunk(int c) {
    const int64_t n = end_ - begin_;
    const int64_t lo = begin_ + n * c / chunks_;
    const int64_t hi = begin_ + n * (c + 1) / chunks_;
    t_in_parallel = true;
    try {
      (*body_)(lo, hi);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex_);
      if (!error_) error_ = std::current_exception();
    }
    t_in_parallel = false;
  }

  void worker_loop(int index, uint64_t seen) {
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
      const int chunks = chunks_;
      lock.unlock();
      if (index < chunks) {
        run_chunk(index);
        pending_.fetch_sub(1, std::memory_order_acq_rel);
      }
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
  const std::function<void(int64_t, int64_t)>* body_ = nullptr;
  int64_t begin_ = 0, end_ = 0;
  int chunks_ = 0;
  std::atomic<int> pending_{0};
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
