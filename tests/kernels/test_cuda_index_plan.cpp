// The index math of the CUDA gather / scatter kernels (kernels/cuda/index_plan.h) checked on the
// CPU, on every machine: gather, index_select, scatter (serial plan, last duplicate wins),
// scatter_add and index_add are replayed on host tensors exactly as the kernels walk them (one
// position at a time through the plan's OffsetCalculator) and compared with the CPU kernels, for
// contiguous, transposed, stepped, broadcast-index and negative-dim layouts, i32 and i64 indices.
// Sums use integer-valued data so the replay's order cannot matter.
#include <gtest/gtest.h>

#include <vector>

#include "kernels/cuda/index_plan.h"
#include "kernels/index.h"
#include "strata.h"

namespace strata {
namespace {

using cuda::IndexedPlan;

// other[p] = self[p with p[dim] = index[p]], as indexed_read_kernel does.
template <class T, class I>
void replay_read(const IndexedPlan& p, const Tensor& self, const Tensor& index, const Tensor& other) {
  const char* s = static_cast<const char*>(self.raw_data());
  const char* ix = static_cast<const char*>(index.raw_data());
  char* o = static_cast<char*>(other.raw_data());
  for (int64_t i = 0; i < p.n; ++i) {
    const auto off = p.oc.get(i);
    *reinterpret_cast<T*>(o + off[2]) = *reinterpret_cast<const T*>(s + cuda::indexed_self_offset<I>(p, ix, off));
  }
}

// The serial assign walk of scatter_assign_kernel.
template <class T, class I>
void replay_assign(const IndexedPlan& p, const Tensor& self, const Tensor& index, const Tensor& other) {
  char* s = static_cast<char*>(self.raw_data());
  const char* ix = static_cast<const char*>(index.raw_data());
  const char* o = static_cast<const char*>(other.raw_data());
  for (int64_t i = 0; i < p.n; ++i) {
    const auto off = p.oc.get(i);
    for (int64_t j = 0; j < p.k; ++j) {
      const int64_t at = static_cast<int64_t>(*reinterpret_cast<const I*>(ix + off[1] + j * p.index_dim_stride));
      *reinterpret_cast<T*>(s + off[0] + at * p.self_dim_stride) =
          *reinterpret_cast<const T*>(o + off[2] + j * p.other_dim_stride);
    }
  }
}

// The per-position add of scatter_add_kernel (atomics on the GPU), positions in reverse order.
template <class T, class I>
void replay_add(const IndexedPlan& p, const Tensor& self, const Tensor& index, const Tensor& other) {
  char* s = static_cast<char*>(self.raw_data());
  const char* ix = static_cast<const char*>(index.raw_data());
  const char* o = static_cast<const char*>(other.raw_data());
  for (int64_t i = p.n - 1; i >= 0; --i) {
    const auto off = p.oc.get(i);
    *reinterpret_cast<T*>(s + cuda::indexed_self_offset<I>(p, ix, off)) += *reinterpret_cast<const T*>(o + off[2]);
  }
}

void expect_equal(const Tensor& want, const Tensor& got, const std::string& what) {
  ASSERT_EQ(want.shape(), got.shape()) << what;
  const std::vector<double> a = want.to_vector<double>(), b = got.to_vector<double>();
  for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(a[i], b[i]) << what << " element " << i;
}

Tensor values(const Shape& shape, uint64_t seed) {
  Generator gen(seed);
  return floor(rand(shape, {}, &gen) * 200.0 - 100.0);  // integers: sums are exact in f32
}

Tensor indices(const Shape& shape, int64_t hi, DType dt, uint64_t seed) {
  Generator gen(seed);
  return floor(rand(shape, {}, &gen) * static_cast<double>(hi)).to(dt);
}

// x layouts: contiguous [5, 6, 7], transposed (a permuted view), stepped slice.
std::vector<std::pair<std::string, Tensor>> inputs() {
  return {{"contiguous", values({5, 6, 7}, 1)},
          {"permuted", values({7, 5, 6}, 2).permute({1, 2, 0})},
          {"stepped", values({5, 12, 7}, 3).slice(1, 0, 12, 2)}};
}

TEST(CudaIndexPlan, GatherReplayMatchesTheCpuKernel) {
  int checked = 0;
  for (const auto& [name, x] : inputs()) {
    for (int64_t dim = 0; dim < 3; ++dim) {
      for (DType it : {DType::I64, DType::I32}) {
        Shape ishape = x.shape();
        ishape[dim] = 9;                           // longer than x along dim: repeats
        ishape[(dim + 1) % 3] -= 1;                // smaller than x elsewhere
        Tensor index = indices(ishape, x.size(dim), it, 10 + dim);
        if (dim == 1) index = index.transpose(0, 2).contiguous().transpose(0, 2);  // strided index
        Tensor want = empty(ishape), got = empty(ishape);
        kernels::cpu::gather(x, dim, index, want);
        const IndexedPlan p = cuda::plan_indexed(x, dim, index, got, false);
        EXPECT_EQ(p.n, index.numel());
        if (it == DType::I32) replay_read<float, int32_t>(p, x, index, got);
        else replay_read<float, int64_t>(p, x, index, got);
        expect_equal(want, got, "gather " + name + " dim " + std::to_string(dim));
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 18);
}

TEST(CudaIndexPlan, IndexSelectReplayOnStridedInputsAndOutputsMatchesTheCpuKernel) {
  for (const auto& [name, x] : inputs()) {
    for (int64_t dim = 0; dim < 3; ++dim) {
      const Tensor index = indices({11}, x.size(dim), DType::I64, 20 + dim).slice(0, 0, 11, 2);  // stride 2
      Shape shape = x.shape();
      shape[dim] = index.numel();
      const Tensor want = empty(shape);
      kernels::cpu::index_select(x.contiguous(), dim, index.contiguous(), want);
      // A transposed output: the general (strided) path of the CUDA kernel.
      const Tensor got = empty({shape[2], shape[1], shape[0]}).permute({2, 1, 0});
      const IndexedPlan p = cuda::plan_index_1d(x, dim, index, got);
      replay_read<float, int64_t>(p, x, index, got);
      expect_equal(want, got, "index_select " + name + " dim " + std::to_string(dim));
    }
  }
}

TEST(CudaIndexPlan, SerialScatterReplayKeepsTheLastDuplicateLikeTheCpu) {
  for (int64_t dim = 0; dim < 3; ++dim) {
    const Tensor base = values({4, 5, 6}, 30);
    Shape ishape = base.shape();
    ishape[dim] = 8;  // more steps than the dim has: duplicates for sure
    const Tensor index = indices(ishape, base.size(dim), DType::I32, 31 + dim);
    const Tensor src = values({8, 8, 8}, 40).slice(0, 0, ishape[0]).slice(1, 0, ishape[1]).slice(2, 0, ishape[2]);
    const Tensor want = base.clone(), got = base.clone();
    kernels::cpu::scatter(kernels::ScatterMode::assign, want, dim, index, src);
    const IndexedPlan p = cuda::plan_indexed(got, dim, index, src, true);
    EXPECT_EQ(p.k, 8);
    EXPECT_EQ(p.n, index.numel() / 8);
    replay_assign<float, int32_t>(p, got, index, src);
    expect_equal(want, got, "scatter dim " + std::to_string(dim));
  }
}

TEST(CudaIndexPlan, ScatterAddAndIndexAddReplaysMatchTheCpuKernels) {
  for (int64_t dim = 0; dim < 3; ++dim) {
    const Tensor base = values({4, 5, 6}, 50).transpose(0, 2).contiguous().transpose(0, 2);  // strided out
    Shape ishape = base.shape();
    ishape[dim] = 7;
    const Tensor index = indices(ishape, base.size(dim), DType::I64, 51 + dim);
    const Tensor src = values(ishape, 52);
    Tensor want = base.clone(), got = base.clone();
    kernels::cpu::scatter(kernels::ScatterMode::add, want, dim, index, src);
    replay_add<float, int64_t>(cuda::plan_indexed(got, dim, index, src, false), got, index, src);
    expect_equal(want, got, "scatter_add dim " + std::to_string(dim));

    const Tensor index1 = indices({7}, base.size(dim), DType::I64, 60 + dim);
    want = base.clone();
    got = base.clone();
    kernels::cpu::index_add(want, dim, index1, src);
    replay_add<float, int64_t>(cuda::plan_index_1d(got, dim, index1, src), got, index1, src);
    expect_equal(want, got, "index_add dim " + std::to_string(dim));
  }
}

TEST(CudaIndexPlan, EmptyIndexOrEmptyDimGivesNoWork) {
  const Tensor x = values({3, 4}, 70);
  const Tensor index = zeros({3, 0}, {.dtype = DType::I64});
  const Tensor out = empty({3, 0});
  EXPECT_EQ(cuda::plan_indexed(x, 1, index, out, false).n, 0);
  EXPECT_EQ(cuda::plan_indexed(x, 1, index, out, true).n, 0);  // k == 0: nothing to walk
}

}  // namespace
}  // namespace strata
