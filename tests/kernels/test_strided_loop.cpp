// StridedLoop, the iteration helper under every CPU elementwise kernel: for views with any
// strides (permuted, sliced with steps, expanded, more dims than the inline capacity), every
// element is visited exactly once with pointers that match a naive index computation, for any
// thread count; and dims are merged where the layout allows (one flat run when contiguous).
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>

#include "kernels/cpu/loops.h"
#include "strata.h"

namespace strata {
namespace {

// Byte offset of row-major element `flat` of t (relative to t's first element).
int64_t naive_offset(const Tensor& t, int64_t flat) {
  int64_t off = 0;
  for (int64_t d = t.dim() - 1; d >= 0; --d) {
    off += (flat % t.size(d)) * t.stride(d);
    flat /= t.size(d);
  }
  return off * t.itemsize();
}

// Runs a copy through StridedLoop<2> from `src` into a fresh contiguous tensor and checks that
// the result equals the naive gather.
void check_copy(const Tensor& src, int threads) {
  const int saved = get_num_threads();
  set_num_threads(threads);
  Tensor dst = zeros(src.shape(), {.dtype = DType::F64});
  kernels::cpu::StridedLoop<2> loop({&dst, &src});
  std::atomic<int64_t> visited{0};
  loop.run(
      [&](char** p, const int64_t* s, int64_t n) {
        for (int64_t i = 0; i < n; ++i)
          *reinterpret_cast<double*>(p[0] + i * s[0]) = *reinterpret_cast<const double*>(p[1] + i * s[1]);
        visited += n;
      },
      /*grain=*/7);
  set_num_threads(saved);
  EXPECT_EQ(visited.load(), src.numel());
  const double* d = dst.data<double>();
  const char* base = static_cast<const char*>(src.raw_data());
  for (int64_t i = 0; i < src.numel(); ++i)
    ASSERT_EQ(d[i], *reinterpret_cast<const double*>(base + naive_offset(src, i))) << "element " << i;
}

Tensor iota(const Shape& s) { return arange(0.0, static_cast<double>(s.numel()), 1.0, {.dtype = DType::F64}).reshape(s); }

TEST(StridedLoop, VisitsEveryElementOfStridedViews) {
  Tensor x = iota({4, 5, 6});
  std::vector<Tensor> views = {
      x,
      x.permute({2, 0, 1}),
      x.slice(1, 1, 5, 2),
      x.slice(2, 0, 6, 3).transpose(0, 2),
      x.select(1, 3),
      x.slice(0, 1, 2),                                    // size-1 dim
      iota({3, 1}).expand({2, 3, 4}),                      // stride 0
      scalar_tensor(5.0, {.dtype = DType::F64}),           // 0-d
      iota({2, 3, 1, 2, 1, 2, 3, 2}).permute({7, 1, 0, 3, 2, 5, 4, 6}),  // 8 dims
      iota({1, 1, 1}),
  };
  for (int threads : {1, 2, 3}) {
    for (size_t v = 0; v < views.size(); ++v) {
      SCOPED_TRACE("view " + std::to_string(v) + " threads " + std::to_string(threads));
      check_copy(views[v], threads);
    }
  }
}

TEST(StridedLoop, EmptyTensorsRunNothing) {
  Tensor e = zeros({3, 0, 2}, {.dtype = DType::F64});
  kernels::cpu::StridedLoop<1> loop({&e});
  int calls = 0;
  loop.run([&](char**, const int64_t*, int64_t) { ++calls; });
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(loop.numel(), 0);
}

TEST(StridedLoop, ContiguousOperandsMergeIntoOneRun) {
  Tensor a = zeros({8, 16, 4});
  Tensor b = zeros({8, 16, 4});
  kernels::cpu::StridedLoop<2> loop({&a, &b});
  std::mutex m;
  std::vector<int64_t> runs;
  const int saved = get_num_threads();
  set_num_threads(1);
  loop.run([&](char**, const int64_t* s, int64_t n) {
    EXPECT_EQ(s[0], 4);
    EXPECT_EQ(s[1], 4);
    std::lock_guard<std::mutex> lock(m);
    runs.push_back(n);
  });
  set_num_threads(saved);
  EXPECT_EQ(runs, std::vector<int64_t>{512});
  // A broadcast row keeps its own dim (stride 0 across rows): one run per row.
  Tensor c = zeros({8, 64});
  Tensor row = zeros({64}).expand({8, 64});
  kernels::cpu::StridedLoop<2> bl({&c, &row});
  runs.clear();
  set_num_threads(1);
  bl.run([&](char**, const int64_t* s, int64_t n) {
    EXPECT_EQ(s[1], 4);
    runs.push_back(n);
  });
  set_num_threads(saved);
  EXPECT_EQ(runs, std::vector<int64_t>(8, 64));
}

TEST(StridedLoop, SplitsAcrossThreadsAtAnyIndex) {
  // 3 threads over 1001 elements in rows of 13: chunk boundaries fall mid-row.
  Tensor x = iota({77, 13}).t();  // non-contiguous [13, 77]
  check_copy(x, 3);
  check_copy(iota({1001}).slice(0, 0, 1001, 2), 3);
}

}  // namespace
}  // namespace strata
