// CPU/CUDA parity of the indexing family (kernels/cuda/index.cu, scatter.cu, cat.cu): index_select,
// gather, scatter, scatter_add, index_add, cat, stack, nonzero, masked_select and one_hot through
// the public ops on `.to(Device::cuda())` tensors, over every dtype the CPU supports, dims 0..2
// and negative dims, contiguous / permuted / stepped inputs, i64 and i32 indices (contiguous and
// strided), forward and backward (autograd) where differentiable; out-of-range indices on CUDA
// throw the CPU's IndexError. Tests that need a GPU skip themselves with the reason.
//
// Tolerances: index reads and writes (select, gather, scatter, cat, nonzero) move values without
// arithmetic: exact, every dtype. scatter_add / index_add on floats sum duplicates with atomics in
// no fixed order, so their tests add small integers (exact in every dtype and any order) and
// compare exactly too.
// Backward: f32 rtol 1e-5 / atol 1e-5 (gradients of repeated indices are summed by atomics).
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "kernels/cuda_table.h"
#include "kernels/index.h"
#include "strata.h"
#include "support/cuda_parity.h"
#include "support/expect_error.h"

namespace strata {
namespace {

using testing::all_close;
using Tol = testing::Tol;
constexpr Tol kExact{0, 0};

const std::vector<DType> kAllDTypes = {DType::F32, DType::F64, DType::F16, DType::BF16,
                                       DType::I64, DType::I32, DType::U8,  DType::Bool};


// The same values on both devices, with the same view applied after the move (so the CUDA tensor
// has the view's strides as well).
struct Pair {
  Tensor cpu, cuda;
};
using View = std::function<Tensor(const Tensor&)>;
Pair both(const Tensor& base, const View& view = [](const Tensor& t) { return t; }) {
  return {view(base), view(base.to(Device::cuda()))};
}

Tensor values(const Shape& shape, DType dt, uint64_t seed) { return testing::parity_values(shape, dt, seed, -3, 3); }
// Small integers in [-3, 3) in dtype dt: sums of a few are exact in every dtype, whatever the order.
Tensor int_values(const Shape& shape, DType dt, uint64_t seed) {
  return floor(testing::parity_values(shape, DType::F32, seed, -3, 3)).to(dt);
}
Tensor index_values(const Shape& shape, int64_t hi, DType dt, uint64_t seed) {
  Generator gen(seed);
  return floor(rand(shape, {}, &gen) * static_cast<double>(hi)).to(dt);
}

// x [6, 7, 9] as contiguous, permuted and stepped views.
struct XLayout {
  std::string name;
  Shape base;
  View view;
};
std::vector<XLayout> x_layouts() {
  return {{"contiguous", {6, 7, 9}, [](const Tensor& t) { return t; }},
          {"permuted", {9, 6, 7}, [](const Tensor& t) { return t.permute({1, 2, 0}); }},
          {"stepped", {6, 14, 9}, [](const Tensor& t) { return t.slice(1, 0, 14, 2); }}};
}

TEST(CudaIndex, IndexSelectMatchesTheCpuForEveryDTypeLayoutDimAndIndexKind) {
  SKIP_WITHOUT_CUDA();
  int checked = 0;
  for (DType dt : kAllDTypes) {
    for (const XLayout& l : x_layouts()) {
      const Pair x = both(values(l.base, dt, 1), l.view);
      for (int64_t dim : {0, 1, 2, -1, -3}) {
        const int64_t size = x.cpu.size(dim);
        for (DType it : {DType::I64, DType::I32}) {
          // A strided index (every other element) with repeats, longer than the dim.
          const Pair idx = both(index_values({2 * size + 3}, size, it, 7 + dim), [](const Tensor& t) {
            return t.slice(0, 0, t.size(0), 2);
          });
          ASSERT_TRUE(all_close(index_select(x.cpu, dim, idx.cpu), index_select(x.cuda, dim, idx.cuda), kExact,
                                l.name + " dim " + std::to_string(dim)));
          ++checked;
        }
      }
    }
  }
  EXPECT_EQ(checked, 8 * 3 * 5 * 2);
}

TEST(CudaIndex, IndexSelectRowsOfEveryWidthAndEmptyAnd0dInputs) {
  SKIP_WITHOUT_CUDA();
  // Contiguous rows of 1, 2, 3, 4, 8, 16 and 33 bytes and more: every copy unit of gather_rows.
  for (int64_t inner : {1, 2, 3, 4, 8, 16, 33, 64}) {
    for (DType dt : {DType::U8, DType::F32, DType::F64}) {
      const Pair x = both(values({5, 10, inner}, dt, 3));
      const Pair idx = both(index_values({13}, 10, DType::I64, 4));
      ASSERT_TRUE(all_close(index_select(x.cpu, 1, idx.cpu), index_select(x.cuda, 1, idx.cuda), kExact,
                            "inner " + std::to_string(inner)));
    }
  }
  const Pair x = both(values({4, 3}, DType::F32, 5));
  const Pair none = both(zeros({0}, {.dtype = DType::I64}));
  EXPECT_TRUE(all_close(index_select(x.cpu, 0, none.cpu), index_select(x.cuda, 0, none.cuda), kExact, "empty"));
  const Pair scalar = both(full({}, 2.5));
  const Pair zero = both(zeros({1}, {.dtype = DType::I64}));
  EXPECT_TRUE(all_close(index_select(scalar.cpu, 0, zero.cpu), index_select(scalar.cuda, 0, zero.cuda), kExact, "0-d"));
}

TEST(CudaIndex, GatherMatchesTheCpuForEveryDTypeLayoutDimAndIndexKind) {
  SKIP_WITHOUT_CUDA();
  int checked = 0;
  for (DType dt : kAllDTypes) {
    for (const XLayout& l : x_layouts()) {
      const Pair x = both(values(l.base, dt, 11), l.view);
      for (int64_t dim : {0, 1, 2, -1}) {
        for (DType it : {DType::I64, DType::I32}) {
          Shape ishape = x.cpu.shape();
          const int64_t d = dim < 0 ? dim + 3 : dim;
          ishape[d] = 11;
          ishape[(d + 1) % 3] -= 2;
          // The index as a transposed view: strided in every dim.
          const Pair idx = both(index_values({ishape[2], ishape[1], ishape[0]}, x.cpu.size(dim), it, 12 + d),
                                [](const Tensor& t) { return t.permute({2, 1, 0}); });
          ASSERT_TRUE(all_close(gather(x.cpu, dim, idx.cpu), gather(x.cuda, dim, idx.cuda), kExact,
                                l.name + " dim " + std::to_string(dim)));
          ++checked;
        }
      }
    }
  }
  EXPECT_EQ(checked, 8 * 3 * 4 * 2);
}

TEST(CudaIndex, ScatterKeepsTheLastDuplicateLikeTheCpuForEveryDType) {
  SKIP_WITHOUT_CUDA();
  for (DType dt : kAllDTypes) {
    for (int64_t dim : {0, 1, -1}) {
      const Pair x = both(values({5, 6, 7}, dt, 21), [](const Tensor& t) { return t.transpose(0, 2); });  // [7, 6, 5]
      Shape ishape = x.cpu.shape();
      const int64_t d = dim < 0 ? dim + 3 : dim;
      ishape[d] = 12;  // more entries than the dim: duplicates
      const Pair idx = both(index_values(ishape, x.cpu.size(dim), DType::I64, 22 + d));
      const Pair src = both(values({12, 12, 12}, dt, 23), [&](const Tensor& t) {
        return t.slice(0, 0, ishape[0]).slice(1, 0, ishape[1]).slice(2, 0, ishape[2]);
      });
      ASSERT_TRUE(all_close(scatter(x.cpu, dim, idx.cpu, src.cpu), scatter(x.cuda, dim, idx.cuda, src.cuda), kExact,
                            "scatter dim " + std::to_string(dim)));
      const Pair ints = both(int_values({12, 12, 12}, dt, 24), [&](const Tensor& t) {
        return t.slice(0, 0, ishape[0]).slice(1, 0, ishape[1]).slice(2, 0, ishape[2]);
      });
      const Pair xi = both(int_values({5, 6, 7}, dt, 25), [](const Tensor& t) { return t.transpose(0, 2); });
      ASSERT_TRUE(all_close(scatter_add(xi.cpu, dim, idx.cpu, ints.cpu), scatter_add(xi.cuda, dim, idx.cuda, ints.cuda),
                            kExact, "scatter_add dim " + std::to_string(dim)));
    }
  }
}

TEST(CudaIndex, IndexAddAndInPlaceFormsMatchTheCpuForEveryDType) {
  SKIP_WITHOUT_CUDA();
  for (DType dt : kAllDTypes) {
    for (int64_t dim : {0, 1, 2, -2}) {
      const Pair x = both(int_values({6, 7, 9}, dt, 31));
      const int64_t size = x.cpu.size(dim);
      for (DType it : {DType::I64, DType::I32}) {
        const Pair idx = both(index_values({3 * size}, size, it, 32 + size));  // every row hit ~3 times
        Shape sshape = x.cpu.shape();
        sshape[dim < 0 ? dim + 3 : dim] = 3 * size;
        const Pair src = both(int_values(sshape, dt, 33));
        ASSERT_TRUE(all_close(index_add(x.cpu, dim, idx.cpu, src.cpu), index_add(x.cuda, dim, idx.cuda, src.cuda),
                              kExact, "index_add dim " + std::to_string(dim)));
        Tensor a = x.cpu.clone(), b = x.cuda.clone();
        index_add_(a, dim, idx.cpu, src.cpu);
        index_add_(b, dim, idx.cuda, src.cuda);
        ASSERT_TRUE(all_close(a, b, kExact, "index_add_"));
        Tensor ia = idx.cpu.reshape({1, -1, 1}).expand({6, 3 * size, 9}).contiguous();
        if (dim == 1 || dim == -2) {
          Tensor c = x.cpu.clone(), g = x.cuda.clone();
          scatter_add_(c, 1, ia.to(DType::I64), src.cpu.slice(1, 0, 3 * size));
          scatter_add_(g, 1, ia.to(DType::I64).to(Device::cuda()), src.cuda.slice(1, 0, 3 * size));
          ASSERT_TRUE(all_close(c, g, kExact, "scatter_add_"));
        }
      }
    }
  }
}

TEST(CudaIndex, IntegerScatterAddIsExactWithManyCollisions) {
  SKIP_WITHOUT_CUDA();
  // 20000 adds into 3 slots: atomics under heavy contention; u8 wraps like the CPU.
  for (DType dt : {DType::I64, DType::I32, DType::U8}) {
    const Pair x = both(zeros({3}, {.dtype = dt}));
    const Pair idx = both(index_values({20000}, 3, DType::I64, 41));
    const Pair src = both(index_values({20000}, 7, dt, 42));
    ASSERT_TRUE(all_close(index_add(x.cpu, 0, idx.cpu, src.cpu), index_add(x.cuda, 0, idx.cuda, src.cuda), kExact,
                          "contended index_add"));
  }
}

TEST(CudaIndex, BackwardOfIndexSelectGatherScatterAndIndexAddMatchesTheCpu) {
  SKIP_WITHOUT_CUDA();
  const Tol tol{1e-5, 1e-5};
  const Tensor xb = values({6, 7, 9}, DType::F32, 51);
  const Tensor upstream = values({6, 15, 9}, DType::F32, 52);
  const Pair idx1 = both(index_values({15}, 7, DType::I64, 53));
  const Pair idx3 = both(index_values({6, 15, 9}, 7, DType::I64, 54));
  const Pair up = both(upstream);
  auto grads = [&](Device dev, const std::function<Tensor(const Tensor&, const Tensor&, const Tensor&)>& f,
                   const Tensor& idx) {
    Tensor x = xb.to(dev).requires_grad_();
    Tensor src = values({6, 15, 9}, DType::F32, 55).to(dev).requires_grad_();
    sum(f(x, src, idx) * up.cuda.to(dev)).backward();
    return std::pair<Tensor, Tensor>{x.grad(), src.grad()};
  };
  using Fn = std::function<Tensor(const Tensor&, const Tensor&, const Tensor&)>;
  const std::vector<std::tuple<std::string, Fn, bool>> cases = {
      {"index_select", [](const Tensor& x, const Tensor& s, const Tensor& i) { return index_select(x, 1, i) + s; }, true},
      {"gather", [](const Tensor& x, const Tensor& s, const Tensor& i) { return gather(x, 1, i) + s; }, false},
  };
  for (const auto& [name, f, one_d] : cases) {
    const auto [gx_c, gs_c] = grads(Device::cpu(), f, one_d ? idx1.cpu : idx3.cpu);
    const auto [gx_g, gs_g] = grads(Device::cuda(), f, one_d ? idx1.cuda : idx3.cuda);
    EXPECT_TRUE(all_close(gx_c, gx_g, tol, name + " x.grad"));
    EXPECT_TRUE(all_close(gs_c, gs_g, tol, name + " src.grad"));
  }
  // scatter / scatter_add / index_add: gradients for both the input and src.
  for (const std::string name : {"scatter", "scatter_add", "index_add"}) {
    auto run = [&](Device dev) {
      Tensor x = values({6, 7, 9}, DType::F32, 56).to(dev).requires_grad_();
      Tensor src = values({6, 4, 9}, DType::F32, 57).to(dev).requires_grad_();
      const Tensor i3 = index_values({6, 4, 9}, 7, DType::I64, 58).to(dev);
      const Tensor i1 = index_values({4}, 7, DType::I64, 59).to(dev);
      Tensor y = name == "scatter"       ? scatter(x, 1, i3, src)
                 : name == "scatter_add" ? scatter_add(x, 1, i3, src)
                                         : index_add(x, 1, i1, src);
      sum(y * values({6, 7, 9}, DType::F32, 60).to(dev)).backward();
      return std::pair<Tensor, Tensor>{x.grad(), src.grad()};
    };
    const auto [a, b] = run(Device::cpu());
    const auto [c, d] = run(Device::cuda());
    EXPECT_TRUE(all_close(a, c, tol, name + " x.grad"));
    EXPECT_TRUE(all_close(b, d, tol, name + " src.grad"));
  }
}

TEST(CudaIndex, CatAndStackMatchTheCpuWithMixedLayoutsDTypesAndNegativeDims) {
  SKIP_WITHOUT_CUDA();
  for (DType dt : kAllDTypes) {
    for (int64_t dim : {0, 1, 2, -1}) {
      std::vector<Tensor> cpu, gpu;
      for (int i = 0; i < 4; ++i) {
        Shape s = {4, 5, 3};
        s[dim < 0 ? 2 : dim] = i + 1;  // sizes 1..4 along dim: odd row widths
        Pair p = i == 2 ? both(values({s[2], s[1], s[0]}, dt, 61 + i), [](const Tensor& t) { return t.permute({2, 1, 0}); })
                        : both(values(s, dt, 61 + i));
        cpu.push_back(p.cpu);
        gpu.push_back(p.cuda);
      }
      // An empty input and one of another dtype (promotion: converted by the copy kernel).
      Shape e = {4, 5, 3};
      e[dim < 0 ? 2 : dim] = 0;
      const Pair empty_in = both(zeros(e, {.dtype = dt}));
      cpu.push_back(empty_in.cpu);
      gpu.push_back(empty_in.cuda);
      ASSERT_TRUE(all_close(cat(cpu, dim), cat(gpu, dim), kExact, "cat dim " + std::to_string(dim)));
      const Pair other = both(values({4, 5, 3}, DType::I32, 70));
      ASSERT_TRUE(all_close(cat({cpu[0].narrow(dim, 0, 1).expand({4, 5, 3}).contiguous(), other.cpu}, dim),
                            cat({gpu[0].narrow(dim, 0, 1).expand({4, 5, 3}).contiguous(), other.cuda}, dim), kExact,
                            "cat promoted"));
      std::vector<Tensor> scpu = {cpu[0], cpu[0], cpu[0]}, sgpu = {gpu[0], gpu[0], gpu[0]};
      ASSERT_TRUE(all_close(stack(scpu, dim), stack(sgpu, dim), kExact, "stack dim " + std::to_string(dim)));
    }
  }
}

TEST(CudaIndex, CatOfManyInputsUsesSeveralBatchesAndMatchesTheCpu) {
  SKIP_WITHOUT_CUDA();
  for (int64_t inner : {1, 3, 4, 16}) {  // 1-, 3-, 4- and 16-byte rows of u8 / copy units
    std::vector<Tensor> cpu, gpu;
    for (int i = 0; i < 75; ++i) {  // more than one launch's 32 inputs
      const Pair p = both(values({3, i % 5 + 1, inner}, DType::U8, 80 + i));
      cpu.push_back(p.cpu);
      gpu.push_back(p.cuda);
    }
    ASSERT_TRUE(all_close(cat(cpu, 1), cat(gpu, 1), kExact, "75 inputs, inner " + std::to_string(inner)));
  }
  const Pair big = both(values({1000, 300}, DType::F32, 90));
  ASSERT_TRUE(all_close(cat({big.cpu, big.cpu.slice(1, 0, 300, 3)}, 1), cat({big.cuda, big.cuda.slice(1, 0, 300, 3)}, 1),
                        kExact, "large"));
}

TEST(CudaIndex, CatAndStackBackwardMatchTheCpu) {
  SKIP_WITHOUT_CUDA();
  auto run = [](Device dev, bool stacked) {
    Tensor a = values({3, 4}, DType::F32, 91).to(dev).requires_grad_();
    Tensor b = values({3, 4}, DType::F32, 92).to(dev).requires_grad_();
    Tensor y = stacked ? stack({a, b}, -1) : cat({a, b.t().contiguous().t()}, -1);
    sum(y * values(y.shape(), DType::F32, 93).to(dev)).backward();
    return std::pair<Tensor, Tensor>{a.grad(), b.grad()};
  };
  for (bool stacked : {false, true}) {
    const auto [a, b] = run(Device::cpu(), stacked);
    const auto [c, d] = run(Device::cuda(), stacked);
    EXPECT_TRUE(all_close(a, c, kExact, "a.grad"));
    EXPECT_TRUE(all_close(b, d, kExact, "b.grad"));
  }
}

TEST(CudaIndex, NonzeroIsRowMajorLikeTheCpuForEveryDTypeAndShape) {
  SKIP_WITHOUT_CUDA();
  for (DType dt : kAllDTypes) {
    // Sparse values (about a third non-zero) over several tiles of 2048, odd shapes, a
    // transposed view (made contiguous by the front end), 0-d, empty and all-zero inputs.
    auto sparse = [&](const Shape& s, uint64_t seed) {
      Generator gen(seed);
      return clamp_min(floor(rand(s, {}, &gen) * 3.0) - 1.0, 0.0).to(dt);
    };
    const std::vector<Pair> cases = {
        both(sparse({5000}, 1)),
        both(sparse({37, 65, 3}, 2)),
        both(sparse({70, 90}, 3), [](const Tensor& t) { return t.t(); }),
        both(sparse({2, 3, 2, 3, 2, 3}, 4)),
        both(full({}, 1.0, {.dtype = dt})),
        both(full({}, 0.0, {.dtype = dt})),
        both(zeros({4, 0, 3}, {.dtype = dt})),
        both(zeros({100, 50}, {.dtype = dt})),
    };
    for (size_t i = 0; i < cases.size(); ++i)
      ASSERT_TRUE(all_close(nonzero(cases[i].cpu), nonzero(cases[i].cuda), kExact, "case " + std::to_string(i)));
  }
  // -0.0 is zero, NaN is not (f32, bf16).
  for (DType dt : {DType::F32, DType::BF16}) {
    const Pair special = both(tensor<float>({0.0f, -0.0f, std::nanf(""), 1.0f}, {4}).to(dt));
    ASSERT_TRUE(all_close(nonzero(special.cpu), nonzero(special.cuda), kExact, "signed zero / NaN"));
  }
}

TEST(CudaIndex, MaskedSelectAndOneHotRunEndToEndOnCuda) {
  SKIP_WITHOUT_CUDA();
  const Pair x = both(values({37, 65}, DType::F32, 100));
  const Pair mask = both(values({65}, DType::F32, 101) > 0.0);  // broadcast
  EXPECT_TRUE(all_close(masked_select(x.cpu, mask.cpu), masked_select(x.cuda, mask.cuda), kExact, "masked_select"));
  Tensor xc = x.cpu.clone().requires_grad_(), xg = x.cuda.clone().requires_grad_();
  sum(masked_select(xc, mask.cpu)).backward();
  sum(masked_select(xg, mask.cuda)).backward();
  EXPECT_TRUE(all_close(xc.grad(), xg.grad(), kExact, "masked_select backward"));
  const Pair labels = both(index_values({4, 7}, 10, DType::I64, 102));
  EXPECT_TRUE(all_close(one_hot(labels.cpu, 10), one_hot(labels.cuda, 10), kExact, "one_hot"));
  EXPECT_TRUE(all_close(one_hot(labels.cpu, -1), one_hot(labels.cuda, -1), kExact, "one_hot inferred"));
}

TEST(CudaIndex, IndexMinMaxOfStridedAndLargeIndicesMatchesTheCpu) {
  SKIP_WITHOUT_CUDA();
  for (DType it : {DType::I64, DType::I32}) {
    // 3 million values: many per thread; a strided view; extremes planted in the middle.
    Tensor base = index_values({3000000}, 1000, it, 110);
    base.narrow(0, 1234567, 1).fill_(-17);
    base.narrow(0, 2345678, 1).fill_(5000);
    const Pair idx = both(base, [](const Tensor& t) { return t.reshape({1000, 3000}).t(); });
    EXPECT_EQ(kernels::index_min_max(idx.cuda), kernels::index_min_max(idx.cpu));
    EXPECT_EQ(kernels::index_min_max(idx.cuda), (std::pair<int64_t, int64_t>{-17, 5000}));
  }
}

TEST(CudaIndex, OutOfRangeIndicesOnCudaThrowTheCpusIndexError) {
  SKIP_WITHOUT_CUDA();
  const Tensor x = values({4, 5}, DType::F32, 120).to(Device::cuda());
  const Tensor high = tensor<int64_t>({0, 5, 1}, {3}).to(Device::cuda());
  const Tensor low = tensor<int32_t>({0, -1, 1}, {3}).to(Device::cuda());
  EXPECT_STRATA_ERROR(index_select(x, 1, high), IndexError, {"index_select:", "index 5", "dim 1 of size 5"});
  EXPECT_STRATA_ERROR(index_select(x, 1, low), IndexError, {"index_select:", "index -1"});
  const Tensor g = tensor<int64_t>({0, 1, 7, 2}, {2, 2}).to(Device::cuda());
  EXPECT_STRATA_ERROR(gather(x, 1, g), IndexError, {"gather:", "index 7"});
  EXPECT_STRATA_ERROR(scatter(x, 1, g, x), IndexError, {"scatter:", "index 7"});
  EXPECT_STRATA_ERROR(scatter_add(x, 1, g, x), IndexError, {"scatter_add:", "index 7"});
  EXPECT_STRATA_ERROR(index_add(x, 0, high, values({3, 5}, DType::F32, 121).to(Device::cuda())), IndexError,
                      {"index_add:", "index 5", "dim 0 of size 4"});
  EXPECT_STRATA_ERROR(one_hot(tensor<int64_t>({1, 12}, {2}).to(Device::cuda()), 10), IndexError,
                      {"one_hot:", "class 12"});
}

TEST(CudaIndex, BadCallsOnCudaTensorsThrowTheFrontEndErrorBeforeAnyKernel) {  // no GPU needed
  // Tensors that claim a CUDA device (from_blob): the front end's checks do not touch the data.
  std::vector<float> xs(12, 0.0f), fs(3, 0.0f);
  const Tensor x = from_blob(xs.data(), {3, 4}, DType::F32, {}, Device::cuda());
  const Tensor float_index = from_blob(fs.data(), {3}, DType::F32, {}, Device::cuda());
  EXPECT_STRATA_ERROR(index_select(x, 0, float_index), DTypeError, {"index_select:", "i64 or i32"});
  EXPECT_STRATA_ERROR(gather(x, 0, float_index.reshape({3, 1})), DTypeError, {"gather:", "i64 or i32"});
  std::vector<int64_t> is(3, 0);
  const Tensor index = from_blob(is.data(), {3}, DType::I64, {}, Device::cuda());
  EXPECT_STRATA_ERROR(index_select(x, 2, index), IndexError, {"index_select:", "dim 2 is out of range"});
  EXPECT_STRATA_ERROR(index_select(x, 0, index.reshape({1, 3})), ShapeError, {"index_select:", "0-d or 1-d"});
  EXPECT_STRATA_ERROR(cat({x, zeros({3, 4})}, 0), DeviceError, {"cat:", "tensor 1 is on cpu"});
}

TEST(CudaIndex, TheFamilyIsRegisteredInTheCudaTable) {  // no GPU needed
  const kernels::CudaTable& t = kernels::cuda_table();
  EXPECT_NE(t.index_min_max, nullptr);
  EXPECT_NE(t.index_select, nullptr);
  EXPECT_NE(t.index_add, nullptr);
  EXPECT_NE(t.gather, nullptr);
  EXPECT_NE(t.scatter, nullptr);
  EXPECT_NE(t.cat, nullptr);
  EXPECT_NE(t.nonzero, nullptr);
}

}  // namespace
}  // namespace strata
