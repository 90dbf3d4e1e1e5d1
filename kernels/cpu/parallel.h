#pragma once
// CPU parallelism for Strata's kernels: one process-wide thread pool.
//
// strata::set_num_threads(n) sets how many threads kernels may use (the calling thread counts as
// one). parallel_for splits [begin, end) into contiguous chunks of at least `grain` indices and
// runs them on the pool; it returns when every chunk is done. Small ranges run inline, so a
// kernel can call it unconditionally.
//
//   strata::parallel_for(0, n, 4096, [&](int64_t lo, int64_t hi) {
//     for (int64_t i = lo; i < hi; ++i) out[i] = a[i] + b[i];
//   });
#include <cstdint>
#include <functional>

namespace strata {

void set_num_threads(int n);  // n >= 1; default: std::thread::hardware_concurrency()
int get_num_threads();
bool in_parallel_region();    // true inside a parallel_for body (nested calls run inline)

namespace detail {
void parallel_run(int64_t begin, int64_t end, int64_t grain,
                  const std::function<void(int64_t, int64_t)>& body);
}

template <class F>
void parallel_for(int64_t begin, int64_t end, int64_t grain, F&& body) {
  if (end <= begin) return;
  if (grain < 1) grain = 1;
  if (end - begin <= grain || get_num_threads() == 1 || in_parallel_region()) {
    body(begin, end);
    return;
  }
  detail::parallel_run(begin, end, grain, std::function<void(int64_t, int64_t)>(body));
}

}  // namespace strata
