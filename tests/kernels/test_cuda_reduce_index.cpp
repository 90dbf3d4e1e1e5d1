// CPU/CUDA parity of argmax/argmin (max/min with indices) and cumsum on CUDA
// (kernels/cuda/reduce_index.cu): every dim of the parity layouts (contiguous, transposed,
// stepped slice, misaligned), short lines (warp per line), long lines (block per line, several
// cumsum tiles), lanes (reduced dim not innermost), ties (bf16 and small integers: the first
// occurrence must win), NaN (the first NaN wins), every dtype, empty tensors, the reverse cumsum
// (cumsum's gradient) and cumsum's autograd backward. Each GPU test skips itself with the reason
// when no CUDA device is usable; the front-end error test at the end needs no GPU.
//
// Tolerances: indices, integer sums and max/min values exactly; floating cumsum: both devices
// accumulate in f64 in different orders and round to the output dtype, so f32 rtol 1e-6 / atol
// 1e-6, bf16 one rounding (1e-2), f64 1e-12.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <type_traits>
#include <vector>

#include "kernels/reduce.h"
#include "kernels/reduce_index_functors.h"
#include "strata.h"
#include "support/cuda_parity.h"
#include "support/expect_error.h"

namespace strata {
namespace {

using testing::all_close;
using testing::Tol;

constexpr Tol kExact{0, 0};
Tol cumsum_tol(DType dt) {
  if (dt == DType::F32) return {1e-6, 1e-6};
  if (is_floating(dt)) return testing::parity_tol(dt);
  return kExact;
}

// Values with many ties for narrow dtypes (integers in [0, 4), bf16 rounding).
Tensor values_of(const Shape& shape, DType dt, uint64_t seed) {
  if (!is_floating(dt)) return testing::parity_values(shape, DType::F32, seed, 0.0, dt == DType::Bool ? 2.0 : 4.0).to(dt);
  return testing::parity_values(shape, dt, seed);
}

// argmax, argmin and max/min (values and indices) over `dim` on both devices.
void expect_arg_parity(const Tensor& cpu, const Tensor& cuda, int64_t dim, const std::string& what) {
  EXPECT_TRUE(all_close(argmax(cpu, dim), argmax(cuda, dim), kExact, what + " argmax"));
  EXPECT_TRUE(all_close(argmin(cpu, dim, true), argmin(cuda, dim, true), kExact, what + " argmin keepdim"));
  const auto [mv, mi] = max(cpu, dim);
  const auto [gv, gi] = max(cuda, dim);
  EXPECT_TRUE(all_close(mv, gv, kExact, what + " max values"));
  EXPECT_TRUE(all_close(mi, gi, kExact, what + " max indices"));
  const auto [nv, ni] = min(cpu, dim);
  const auto [hv, hi] = min(cuda, dim);
  EXPECT_TRUE(all_close(nv, hv, kExact, what + " min values"));
  EXPECT_TRUE(all_close(ni, hi, kExact, what + " min indices"));
}

TEST(CudaArgReduce, EveryDimOfEveryLayoutAndDtypeMatchesTheCpu) {
  SKIP_WITHOUT_CUDA();
  int checked = 0;
  for (DType dt : {DType::F32, DType::BF16, DType::F64, DType::F16, DType::I64, DType::I32, DType::U8, DType::Bool}) {
    if (is_floating(dt)) {
      for (const auto& l : testing::parity_layouts(dt, 200)) {
        for (int64_t dim : {0, 1, -1}) {
          expect_arg_parity(l.cpu, l.cuda, dim, fmt::format("{} {} dim {}", l.name, dt, dim));
          ++checked;
        }
      }
    }
    const Tensor x = values_of({37, 65}, dt, 201);
    for (int64_t dim : {0, 1}) {
      expect_arg_parity(x, x.to(Device::cuda()), dim, fmt::format("{} dim {}", dt, dim));
      ++checked;
    }
  }
  EXPECT_EQ(checked, 4 * 4 * 3 + 8 * 2);
}

TEST(CudaArgReduce, LongLinesLanesAndThreeDimsMatchTheCpu) {
  SKIP_WITHOUT_CUDA();
  for (DType dt : {DType::F32, DType::BF16, DType::I32}) {
    const Tensor rows = values_of({3, 5000}, dt, 210);  // block per line (longer than 2048)
    expect_arg_parity(rows, rows.to(Device::cuda()), 1, fmt::format("long rows {}", dt));
    const Tensor mid = values_of({3, 1500}, dt, 211);   // warp per line, 47 elements per lane
    expect_arg_parity(mid, mid.to(Device::cuda()), 1, fmt::format("warp rows {}", dt));
    const Tensor cols = values_of({5000, 3}, dt, 212);  // lanes
    expect_arg_parity(cols, cols.to(Device::cuda()), 0, fmt::format("lanes {}", dt));
    const Tensor cube = values_of({4, 300, 5}, dt, 213);
    for (int64_t dim : {0, 1, 2}) expect_arg_parity(cube, cube.to(Device::cuda()), dim, fmt::format("3-d {} dim {}", dt, dim));
  }
  // The flattened argmax and a 0-d input.
  const Tensor x = values_of({40, 70}, DType::F32, 214);
  EXPECT_EQ(argmax(x.to(Device::cuda())).item<int64_t>(), argmax(x).item<int64_t>());
  EXPECT_EQ(argmax(full({}, 2.0).to(Device::cuda()), 0).item<int64_t>(), 0);
}

TEST(CudaArgReduce, TheFirstNanAndTheFirstOfEqualValuesWin) {
  SKIP_WITHOUT_CUDA();
  for (int64_t len : {50, 5000}) {  // warp and block lines
    Tensor x = full({3, len}, 1.0);
    x.slice(0, 0, 1).slice(1, len - 3, len - 2).fill_(std::nan(""));
    x.slice(0, 0, 1).slice(1, len - 1, len).fill_(std::nan(""));
    x.slice(0, 1, 2).slice(1, 17, 18).fill_(5.0);
    x.slice(0, 1, 2).slice(1, 40, 41).fill_(5.0);
    const Tensor idx = argmax(x.to(Device::cuda()), 1).cpu();
    EXPECT_EQ(idx.to_vector<int64_t>(), (std::vector<int64_t>{len - 3, 17, 0})) << len;
    const Tensor imin = argmin(x.to(Device::cuda()), 1).cpu();
    EXPECT_EQ(imin.to_vector<int64_t>(), (std::vector<int64_t>{len - 3, 0, 0})) << len;
    expect_arg_parity(x, x.to(Device::cuda()), 1, fmt::format("nan and ties, {}", len));
    expect_arg_parity(x.t().contiguous(), x.t().contiguous().to(Device::cuda()), 0, fmt::format("nan lanes, {}", len));
  }
}

TEST(CudaArgReduce, EmptyOutputsAreFine) {
  SKIP_WITHOUT_CUDA();
  const Tensor e = empty({0, 5}, {.device = Device::cuda()});
  EXPECT_EQ(argmax(e, 1).shape(), Shape({0}));
  EXPECT_EQ(max(e, 1).first.shape(), Shape({0}));
}

TEST(CudaCumsum, EveryDimLayoutAndDtypeMatchesTheCpu) {
  SKIP_WITHOUT_CUDA();
  int checked = 0;
  for (DType dt : {DType::F32, DType::BF16, DType::F64, DType::I64, DType::I32, DType::U8, DType::Bool}) {
    if (is_floating(dt)) {
      for (const auto& l : testing::parity_layouts(dt, 220)) {
        for (int64_t dim : {0, 1, -1}) {
          EXPECT_TRUE(all_close(cumsum(l.cpu, dim), cumsum(l.cuda, dim), cumsum_tol(dt),
                                fmt::format("cumsum {} {} dim {}", l.name, dt, dim)));
          ++checked;
        }
      }
    }
    for (const Shape& s : {Shape({6, 10}), Shape({3, 2000}), Shape({2, 5000}), Shape({4, 300, 5}), Shape({5000, 3})}) {
      const Tensor x = values_of(s, dt, 221);
      for (int64_t dim = 0; dim < static_cast<int64_t>(s.ndim()); ++dim) {
        EXPECT_TRUE(all_close(cumsum(x, dim), cumsum(x.to(Device::cuda()), dim), cumsum_tol(dt),
                              fmt::format("cumsum {} {} dim {}", s.str(), dt, dim)));
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 3 * 4 * 3 + 7 * 11);
}

TEST(CudaCumsum, ReverseAndBackwardMatchTheCpu) {
  SKIP_WITHOUT_CUDA();
  for (const Shape& s : {Shape({7, 10}), Shape({3, 3000}), Shape({9, 4, 6})}) {
    const Tensor x = testing::parity_values(s, DType::F32, 230);
    for (int64_t dim = 0; dim < static_cast<int64_t>(s.ndim()); ++dim) {
      Tensor ref = empty(s), got = empty(s, {.device = Device::cuda()});
      kernels::cumsum(x, dim, ref, /*reverse=*/true);
      kernels::cumsum(x.to(Device::cuda()), dim, got, /*reverse=*/true);
      EXPECT_TRUE(all_close(ref, got, cumsum_tol(DType::F32), fmt::format("reverse {} dim {}", s.str(), dim)));
      Tensor a = x.detach().clone().requires_grad_(), b = x.detach().clone().to(Device::cuda()).requires_grad_();
      const Tensor u = testing::parity_values(s, DType::F32, 231);
      sum(cumsum(a, dim) * u).backward();
      sum(cumsum(b, dim) * u.to(Device::cuda())).backward();
      EXPECT_TRUE(all_close(a.grad(), b.grad(), cumsum_tol(DType::F32), fmt::format("backward {} dim {}", s.str(), dim)));
    }
  }
  // Exact integer values: 1..n sums.
  const Tensor ones = full({4, 3000}, 1.0, {.dtype = DType::I32}).to(Device::cuda());
  const Tensor c = cumsum(ones, 1).cpu();
  EXPECT_EQ(c.dtype(), DType::I64);
  EXPECT_EQ(c.select(0, 3).select(0, 2999).item<int64_t>(), 3000);
  EXPECT_EQ(c.select(0, 0).select(0, 1023).item<int64_t>(), 1024);  // the last value of the first tile
  EXPECT_EQ(cumsum(empty({0, 4}, {.device = Device::cuda()}), 1).shape(), Shape({0, 4}));
}

// ---- the GPU's combine on the CPU (kernels/reduce_index_functors.h; no GPU needed) ----
// Folding (value, index) pairs in any tree order with arg_wins gives the sequential scan's answer.
TEST(CudaArgReduceMath, ArgWinsCombinesPartialResultsInAnyOrderLikeTheSequentialScan) {
  const float nan = std::nanf("");
  const std::vector<std::vector<float>> rows = {
      {1, 3, 3, 2, 3, 0, -1, 3}, {2, nan, 5, nan, 5, 1, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 0}, {-0.0f, 0.0f, -1, -1, 4, 4, 2, 1}};
  for (const auto& row : rows) {
    auto scan = [&](auto is_max) {
      constexpr bool kMax = decltype(is_max)::value;
      int64_t bi = 0;
      for (int64_t i = 1; i < static_cast<int64_t>(row.size()); ++i)
        if (kernels::arg_better<kMax>(row[i], row[bi])) bi = i;
      // Butterfly over 8 partials, each starting as its own element: merge from both sides.
      std::vector<int64_t> part = {0, 1, 2, 3, 4, 5, 6, 7};
      for (int o = 4; o > 0; o /= 2) {
        std::vector<int64_t> next = part;
        for (int p = 0; p < 8; ++p) {
          const int64_t a = part[p], b = part[p ^ o];
          next[p] = kernels::arg_wins<kMax>(row[b], b, row[a], a) ? b : a;
        }
        part = next;
      }
      for (int p = 0; p < 8; ++p) EXPECT_EQ(part[p], bi) << (kMax ? "max" : "min") << " partial " << p;
    };
    scan(std::true_type{});
    scan(std::false_type{});
  }
}

// ---- front-end errors on CUDA tensors (no GPU needed) ----
TEST(CudaArgReduce, BadCallsOnCudaTensorsThrowTheFrontEndsErrors) {
  std::vector<float> host(8, 0.0f);
  const Device fake = Device::cuda(cuda_device_count());  // never usable
  const Tensor empty_dim = from_blob(host.data(), {3, 0}, DType::F32, {}, fake);
  EXPECT_STRATA_ERROR(argmax(empty_dim, 1), IndexError, {"argmax: cannot reduce over dim 1 of size 0", "[3, 0]"});
  EXPECT_STRATA_ERROR(argmax(from_blob(host.data(), {0}, DType::F32, {}, fake)), IndexError,
                      {"argmax: the tensor is empty"});
  EXPECT_STRATA_ERROR(cumsum(from_blob(host.data(), {2, 4}, DType::F32, {}, fake), 2), IndexError, {"cumsum"});
}

}  // namespace
}  // namespace strata
