// CPU/CUDA parity of the embedding kernels (kernels/cuda/embedding.cu): the lookup for every
// floating dtype, row widths that take every copy unit, i32/i64 and multi-dim indices and a
// non-contiguous table; the dense backward (sort-based, deterministic) with repeated indices,
// padding_idx and enough indices to need the global merge steps of the bitonic sort, run twice to
// check it is bit-for-bit reproducible; embedding_bag in Sum / Mean / Max with offsets (empty bags
// included), fixed 2-d bags and padding_idx, forward and backward. Tests that need a GPU skip.
//
// Tolerances: the lookup is exact. The backward sums each row's gradients in index order, as the
// CPU does, so f32 is exact too; bf16/f16 accumulate in f32 and round once where the CPU rounds
// after every add: the parity default 1e-2 with small-integer gradients (exact sums) keeps that
// exact as well. Bags: the same accumulation type and order as the CPU: f32 exact, bf16 1e-2.
// Bag backward goes through index_select / scatter_add (atomics): f32 rtol 1e-5 / atol 1e-5.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kernels/cuda_table.h"
#include "strata.h"
#include "support/cuda_parity.h"
#include "support/expect_error.h"

namespace strata {
namespace {

using testing::all_close;
using Tol = testing::Tol;
constexpr Tol kExact{0, 0};

Tensor values(const Shape& shape, DType dt, uint64_t seed) { return testing::parity_values(shape, dt, seed); }
Tensor int_values(const Shape& shape, DType dt, uint64_t seed) {
  return floor(testing::parity_values(shape, DType::F32, seed, -3, 3)).to(dt);
}
Tensor rows(const Shape& shape, int64_t vocab, DType dt, uint64_t seed) {
  Generator gen(seed);
  return floor(rand(shape, {}, &gen) * static_cast<double>(vocab)).to(dt);
}
Tensor cuda(const Tensor& t) { return t.to(Device::cuda()); }

TEST(CudaEmbedding, LookupMatchesTheCpuForEveryFloatingDTypeRowWidthAndIndexKind) {
  SKIP_WITHOUT_CUDA();
  for (DType dt : {DType::F32, DType::BF16, DType::F16, DType::F64}) {
    for (int64_t d : {1, 3, 4, 8, 33, 64}) {  // 2..512-byte rows: units of 1 to 16 bytes
      for (DType it : {DType::I64, DType::I32}) {
        const Tensor w = values({50, d}, dt, 1);
        const Tensor idx = rows({4, 7}, 50, it, 2);
        ASSERT_TRUE(all_close(embedding(w, idx), embedding(cuda(w), cuda(idx)), kExact, "d " + std::to_string(d)));
      }
    }
  }
  // A transposed table (the front end packs it) and an empty index.
  const Tensor wt = values({16, 30}, DType::F32, 3).t();
  const Tensor idx = rows({9}, 30, DType::I64, 4);
  EXPECT_TRUE(all_close(embedding(wt, idx), embedding(cuda(wt), cuda(idx)), kExact, "transposed table"));
  const Tensor none = zeros({0, 3}, {.dtype = DType::I64});
  EXPECT_TRUE(all_close(embedding(wt, none), embedding(cuda(wt), cuda(none)), kExact, "empty"));
}

TEST(CudaEmbedding, DenseBackwardMatchesTheCpuAndIsReproducible) {
  SKIP_WITHOUT_CUDA();
  // n: one tile, exactly a tile, and several tiles (global merge steps) of the 2048-key sort.
  for (int64_t n : {1, 7, 2048, 5000, 40000}) {
    for (int64_t padding : {-1, 3}) {
      const int64_t vocab = 97, dim = 19;
      const Tensor idx = rows({n}, vocab, n % 2 ? DType::I32 : DType::I64, 10 + n);
      const Tensor g = values({n, dim}, DType::F32, 11 + n);
      const Tensor want = embedding_backward(g, idx, vocab, padding);
      const Tensor got = embedding_backward(cuda(g), cuda(idx), vocab, padding);
      ASSERT_TRUE(all_close(want, got, kExact, "n " + std::to_string(n)));
      const Tensor again = embedding_backward(cuda(g), cuda(idx), vocab, padding);
      ASSERT_TRUE(all_close(got.cpu(), again, kExact, "rerun n " + std::to_string(n)));
    }
  }
  for (DType dt : {DType::BF16, DType::F16, DType::F64}) {
    const Tensor idx = rows({3000}, 40, DType::I64, 20);
    const Tensor g = int_values({3000, 5}, dt, 21);  // sums up to ~200: exact in bf16 too
    ASSERT_TRUE(all_close(embedding_backward(g, idx, 40, 0), embedding_backward(cuda(g), cuda(idx), 40, 0), kExact,
                          "dtype"));
  }
}

TEST(CudaEmbedding, AutogradThroughTheLookupMatchesTheCpu) {
  SKIP_WITHOUT_CUDA();
  auto run = [](Device dev) {
    Tensor w = values({30, 8}, DType::F32, 30).to(dev).requires_grad_();
    const Tensor idx = rows({5, 40}, 30, DType::I64, 31).to(dev);
    sum(embedding(w, idx, {.padding_idx = 2}) * values({5, 40, 8}, DType::F32, 32).to(dev)).backward();
    return w.grad();
  };
  EXPECT_TRUE(all_close(run(Device::cpu()), run(Device::cuda()), kExact, "weight.grad"));
}

TEST(CudaEmbedding, BagsMatchTheCpuInEveryModeForwardAndBackward) {
  SKIP_WITHOUT_CUDA();
  const Tensor idx = rows({40}, 25, DType::I64, 40);
  // Bags of 0, 3, 0, 10, 1 and the rest (26) indices.
  const Tensor offsets = tensor<int64_t>({0, 0, 3, 3, 13, 14}, {6});
  for (DType dt : {DType::F32, DType::BF16}) {
    const Tol tol = dt == DType::F32 ? kExact : testing::parity_tol(dt);
    for (EmbeddingBagMode mode : {EmbeddingBagMode::Sum, EmbeddingBagMode::Mean, EmbeddingBagMode::Max}) {
      for (int64_t padding : {-1, 4}) {
        const EmbeddingBagOptions opts{.mode = mode, .padding_idx = padding};
        const std::string what = "mode " + std::to_string(static_cast<int>(mode)) + " padding " + std::to_string(padding);
        const Tensor w = values({25, 6}, dt, 41);
        ASSERT_TRUE(all_close(embedding_bag(w, idx, offsets, opts),
                              embedding_bag(cuda(w), cuda(idx), cuda(offsets), opts), tol, what));
        const Tensor fixed = rows({7, 5}, 25, DType::I32, 42);
        ASSERT_TRUE(all_close(embedding_bag(w, fixed, Tensor(), opts), embedding_bag(cuda(w), cuda(fixed), Tensor(), opts),
                              tol, what + " fixed bags"));
        if (dt != DType::F32) continue;
        auto grad = [&](Device dev) {
          Tensor wg = w.to(dev).requires_grad_();
          sum(embedding_bag(wg, idx.to(dev), offsets.to(dev), opts) * values({6, 6}, DType::F32, 43).to(dev))
              .backward();
          return wg.grad();
        };
        ASSERT_TRUE(all_close(grad(Device::cpu()), grad(Device::cuda()), Tol{1e-5, 1e-5}, what + " backward"));
      }
    }
  }
  // NaN sticks in Max as on the CPU.
  Tensor w = values({5, 3}, DType::F32, 44);
  w.narrow(0, 2, 1).fill_(std::nan(""));
  const Tensor nan_idx = tensor<int64_t>({0, 2, 1}, {1, 3});
  EXPECT_TRUE(all_close(embedding_bag(w, nan_idx, Tensor(), {.mode = EmbeddingBagMode::Max}),
                        embedding_bag(cuda(w), cuda(nan_idx), Tensor(), {.mode = EmbeddingBagMode::Max}), kExact,
                        "NaN max"));
}

TEST(CudaEmbedding, OutOfRangeIndicesOnCudaThrowTheCpusIndexError) {
  SKIP_WITHOUT_CUDA();
  const Tensor w = cuda(values({10, 4}, DType::F32, 50));
  EXPECT_STRATA_ERROR(embedding(w, cuda(tensor<int64_t>({1, 10}, {2}))), IndexError,
                      {"embedding:", "index 10", "table of 10 rows"});
  EXPECT_STRATA_ERROR(embedding(w, cuda(tensor<int32_t>({-2, 1}, {2}))), IndexError, {"embedding:", "index -2"});
  EXPECT_STRATA_ERROR(embedding_bag(w, cuda(tensor<int64_t>({1, 11}, {1, 2})), Tensor()), IndexError,
                      {"embedding_bag:", "index 11"});
}

TEST(CudaEmbedding, BadCallsOnCudaTensorsThrowTheFrontEndErrorBeforeAnyKernel) {  // no GPU needed
  std::vector<float> ws(12, 0.0f), fs(3, 0.0f);
  const Tensor w = from_blob(ws.data(), {4, 3}, DType::F32, {}, Device::cuda());
  const Tensor float_idx = from_blob(fs.data(), {3}, DType::F32, {}, Device::cuda());
  EXPECT_STRATA_ERROR(embedding(w, float_idx), DTypeError, {"embedding:", "i64 or i32"});
  EXPECT_STRATA_ERROR(embedding(w, zeros({3}, {.dtype = DType::I64})), DeviceError, {"embedding:", "indices are on cpu"});
  std::vector<int64_t> is(1, 0);
  const Tensor idx = from_blob(is.data(), {0}, DType::I64, {}, Device::cuda());  // empty: no range check
  EXPECT_STRATA_ERROR(embedding_bag(w, idx, zeros({1}, {.dtype = DType::I64})), DeviceError,
                      {"embedding_bag:", "offsets are on cpu"});
}

TEST(CudaEmbedding, TheFamilyIsRegisteredInTheCudaTable) {  // no GPU needed
  const kernels::CudaTable& t = kernels::cuda_table();
  EXPECT_NE(t.embedding_forward, nullptr);
  EXPECT_NE(t.embedding_dense_backward, nullptr);
  EXPECT_NE(t.embedding_bag_forward, nullptr);
}

}  // namespace
}  // namespace strata
