// The matmul family against hand-computed values and a naive triple loop in double: every rank
// combination, broadcast batches, transposed / sliced / permuted operands, every floating dtype,
// empty dims, the fused-bias ops, einsum's patterns, gradients, and the messages of bad calls.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "kernels/matmul.h"
#include "tensor/allocator.h"
#include "strata.h"

namespace strata {
namespace {

template <class E, class F>
void expect_error(F&& f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "expected an error containing '" << needle << "'";
  } catch (const E& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << "message: " << e.what();
  } catch (const Error& e) {
    ADD_FAILURE() << "wrong error type for '" << needle << "': " << e.what();
  }
}

Tensor random(const Shape& shape, DType dt = DType::F32, uint64_t seed = 1) {
  Generator gen(seed);
  return (rand(shape, {.dtype = DType::F64}, &gen) * 2.0 - 1.0).to(dt);
}

Shape batch_of(const Shape& s) {
  Shape b = s;
  b.resize(b.size() - 2);
  return b;
}

// numpy's matmul for operands of >= 2 dims, by the textbook triple loop in double.
Tensor naive_matmul(const Tensor& a, const Tensor& b) {
  const int64_t m = a.size(-2), k = a.size(-1), n = b.size(-1);
  Shape batch = broadcast_shapes("naive", batch_of(a.shape()), batch_of(b.shape()));
  Shape sa = batch, sb = batch, so = batch;
  sa.push_back(m), sa.push_back(k), sb.push_back(k), sb.push_back(n), so.push_back(m), so.push_back(n);
  NoGradGuard g;
  auto av = a.to(DType::F64).expand(sa).contiguous().to_vector<double>();
  auto bv = b.to(DType::F64).expand(sb).contiguous().to_vector<double>();
  const int64_t count = batch.numel();
  std::vector<double> out(count * m * n, 0.0);
  for (int64_t t = 0; t < count; ++t)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double acc = 0;
        for (int64_t p = 0; p < k; ++p) acc += av[t * m * k + i * k + p] * bv[t * k * n + p * n + j];
        out[t * m * n + i * n + j] = acc;
      }
  return tensor<double>(out, so);
}

void expect_close(const Tensor& got, const Tensor& want, double tol) {
  ASSERT_EQ(got.shape(), want.shape());
  auto g = got.to(DType::F64).to_vector<double>();
  auto w = want.to(DType::F64).to_vector<double>();
  for (size_t i = 0; i < g.size(); ++i) ASSERT_NEAR(g[i], w[i], tol * (1.0 + std::abs(w[i]))) << "element " << i;
}

void expect_values(const Tensor& got, const Shape& shape, const std::vector<double>& want) {
  ASSERT_EQ(got.shape(), shape);
  auto g = got.to(DType::F64).to_vector<double>();
  ASSERT_EQ(g.size(), want.size());
  for (size_t i = 0; i < g.size(); ++i) EXPECT_DOUBLE_EQ(g[i], want[i]) << "element " << i;
}

Tensor a23() { return tensor({1, 2, 3, 4, 5, 6}, {2, 3}); }
Tensor b32() { return tensor({7, 8, 9, 10, 11, 12}, {3, 2}); }

// ---- hand-computed values ----------------------------------------------------------------------

TEST(Matmul, TwoByThreeTimesThreeByTwoGivesHandComputedProduct) {
  expect_values(matmul(a23(), b32()), {2, 2}, {58, 64, 139, 154});
  expect_values(mm(a23(), b32()), {2, 2}, {58, 64, 139, 154});
}

TEST(Matmul, VectorTimesVectorIsZeroDimDot) {
  expect_values(matmul(tensor({1, 2, 3}), tensor({4, 5, 6})), {}, {32});
  expect_values(dot(tensor({1, 2, 3}), tensor({4, 5, 6})), {}, {32});
}

TEST(Matmul, MatrixTimesVectorDropsTheAppendedDim) {
  expect_values(matmul(a23(), tensor({1, 0, -1})), {2}, {-2, -2});
}

TEST(Matmul, VectorTimesMatrixDropsThePrependedDim) {
  expect_values(matmul(tensor({1, 2}), a23()), {3}, {9, 12, 15});
}

TEST(Matmul, BatchedTimesVectorAndVectorTimesBatched) {
  Tensor a = random({2, 3, 4}, DType::F64, 3), v = random({4}, DType::F64, 4);
  expect_close(matmul(a, v), naive_matmul(a, v.unsqueeze(1)).squeeze(-1), 1e-12);
  Tensor b = random({2, 4, 5}, DType::F64, 5);
  expect_close(matmul(v, b), naive_matmul(v.unsqueeze(0), b).squeeze(-2), 1e-12);
  EXPECT_EQ(matmul(v, b).shape(), Shape({2, 5}));
}

TEST(Matmul, OuterIsColumnTimesRow) {
  expect_values(outer(tensor({1, 2}), tensor({3, 4, 5})), {2, 3}, {3, 4, 5, 6, 8, 10});
}

TEST(Matmul, AddmmScalesAndBroadcastsTheInput) {
  // beta * c + alpha * a @ b with c a row broadcast over the 2 rows.
  Tensor c = tensor({1, -1}, {2});
  expect_values(addmm(c, a23(), b32(), 2.0, 0.5), {2, 2}, {2 + 29, -2 + 32, 2 + 69.5, -2 + 77});
}

TEST(Matmul, AddmmWithBetaZeroIgnoresNaNInTheInput) {
  Tensor c = full({2, 2}, std::numeric_limits<double>::quiet_NaN());
  expect_values(addmm(c, a23(), b32(), 0.0, 1.0), {2, 2}, {58, 64, 139, 154});
}

TEST(Matmul, LinearIsInputTimesWeightTransposedPlusBias) {
  Tensor x = a23();                                      // [2, 3]
  Tensor w = tensor({1, 0, 0, 0, 1, 0, 1, 1, 1, 0, 0, 2}, {4, 3});  // [4, 3]
  Tensor bias = tensor({10, 20, 30, 40});
  expect_values(linear(x, w, bias), {2, 4}, {11, 22, 36, 46, 14, 25, 45, 52});
  expect_values(linear(x, w), {2, 4}, {1, 2, 6, 6, 4, 5, 15, 12});
  expect_values(linear(tensor({1, 2, 3}), w, bias), {4}, {11, 22, 36, 46});
}

TEST(Matmul, LinearFlattensLeadingDimsOfAThreeDimInput) {
  Tensor x = random({2, 5, 6}, DType::F64, 7), w = random({3, 6}, DType::F64, 8), b = random({3}, DType::F64, 9);
  Tensor want = naive_matmul(x.reshape({10, 6}), w.t()) + b;
  expect_close(linear(x, w, b), want.reshape({2, 5, 3}), 1e-12);
  // The same through a permuted (non-contiguous) input.
  Tensor xp = x.permute({2, 0, 1}).contiguous().permute({1, 2, 0});
  ASSERT_FALSE(xp.is_contiguous());
  expect_close(linear(xp, w, b), want.reshape({2, 5, 3}), 1e-12);
}

// ---- against the naive loop ------------------------------------------------------------------

struct Case {
  Shape a, b;
};

TEST(Matmul, EveryRankAndBroadcastCombinationMatchesNaiveLoop) {
  const std::vector<Case> cases = {
      {{3, 4}, {4, 5}},          {{2, 3, 4}, {4, 5}},       {{3, 4}, {2, 4, 5}},    {{2, 3, 4}, {2, 4, 5}},
      {{2, 1, 3, 4}, {3, 4, 5}}, {{2, 1, 3, 4}, {1, 3, 4, 5}}, {{1, 3, 4}, {2, 4, 5}}, {{2, 3, 3, 1, 4}, {3, 4, 2}},
      {{4, 1, 7}, {7, 1}},       {{1, 7}, {3, 7, 2}},       {{2, 2, 1, 1}, {2, 1, 1}}};
  for (DType dt : {DType::F32, DType::F64}) {
    for (const Case& c : cases) {
      Tensor a = random(c.a, dt, 11), b = random(c.b, dt, 12);
      SCOPED_TRACE(fmt::format("{} @ {} {}", c.a, c.b, dt));
      expect_close(matmul(a, b), naive_matmul(a, b), dt == DType::F32 ? 1e-5 : 1e-12);
    }
  }
}

TEST(Matmul, LargeProductsMatchNaiveLoop) {
  for (DType dt : {DType::F32, DType::F64}) {
    Tensor a = random({67, 129}, dt, 13), b = random({129, 45}, dt, 14);
    expect_close(matmul(a, b), naive_matmul(a, b), dt == DType::F32 ? 1e-4 : 1e-12);
    Tensor ab = random({3, 33, 70}, dt, 15), bb = random({3, 70, 41}, dt, 16);
    expect_close(bmm(ab, bb), naive_matmul(ab, bb), dt == DType::F32 ? 1e-4 : 1e-12);
  }
}

TEST(Matmul, TransposedSlicedAndPermutedOperandsMatchNaiveLoop) {
  Tensor a = random({6, 5}, DType::F64, 17), b = random({7, 6}, DType::F64, 18);
  expect_close(matmul(a.t(), b.t()), naive_matmul(a.t(), b.t()), 1e-12);             // both (1, ld)
  Tensor wide = random({5, 12}, DType::F64, 19);
  Tensor sliced = wide.slice(1, 0, 12, 2);                                            // stride 2: copied
  expect_close(matmul(sliced, a), naive_matmul(sliced, a), 1e-12);
  Tensor cols = wide.slice(1, 3, 9);                                                  // ld 12 > 6 columns
  expect_close(matmul(cols, a), naive_matmul(cols, a), 1e-12);
  Tensor p = random({4, 2, 6}, DType::F64, 20).transpose(0, 1);                       // [2, 4, 6], not foldable
  Tensor w = random({6, 3}, DType::F64, 21);
  expect_close(matmul(p, w), naive_matmul(p, w), 1e-12);
  Tensor bt = random({2, 3, 6}, DType::F64, 22).transpose(1, 2);                      // batched (1, ld)
  expect_close(matmul(p, bt), naive_matmul(p, bt), 1e-12);
  Tensor row = random({1, 6}, DType::F64, 23).expand({4, 6});                         // broadcast row: copied
  expect_close(matmul(row, w), naive_matmul(row, w), 1e-12);
}

TEST(Matmul, HalfPrecisionComputesInFloatAndKeepsItsDtype) {
  for (DType dt : {DType::F16, DType::BF16}) {
    Tensor a = random({5, 16}, dt, 24), b = random({16, 3}, dt, 25);
    Tensor r = matmul(a, b);
    EXPECT_EQ(r.dtype(), dt);
    expect_close(r, naive_matmul(a, b), dt == DType::F16 ? 1e-2 : 5e-2);
    EXPECT_EQ(linear(a, b.t()).dtype(), dt);
    EXPECT_EQ(addmm(random({3}, dt), a, b).dtype(), dt);
  }
}

// ---- empty dims ----------------------------------------------------------------------------------

TEST(Matmul, ContractionOverAnEmptyDimGivesZeros) {
  expect_values(matmul(zeros({2, 0}), zeros({0, 3})), {2, 3}, std::vector<double>(6, 0.0));
  expect_values(matmul(empty({2, 0}), empty({2, 0, 3})), {2, 2, 3}, std::vector<double>(12, 0.0));
  expect_values(dot(zeros({0}), zeros({0})), {}, {0});
  expect_values(linear(zeros({2, 0}), zeros({3, 0}), tensor({1, 2, 3})), {2, 3}, {1, 2, 3, 1, 2, 3});
  expect_values(addmm(full({2, 2}, 2.0), zeros({2, 0}), zeros({0, 2}), 1.5), {2, 2}, {3, 3, 3, 3});
}

TEST(Matmul, EmptyRowsColumnsAndBatchesGiveEmptyResults) {
  EXPECT_EQ(matmul(zeros({0, 4}), zeros({4, 3})).shape(), Shape({0, 3}));
  EXPECT_EQ(matmul(zeros({2, 4}), zeros({4, 0})).shape(), Shape({2, 0}));
  EXPECT_EQ(matmul(zeros({0, 2, 4}), zeros({4, 3})).shape(), Shape({0, 2, 3}));
  EXPECT_EQ(bmm(zeros({0, 2, 4}), zeros({0, 4, 3})).shape(), Shape({0, 2, 3}));
  EXPECT_EQ(linear(zeros({0, 5, 4}), zeros({3, 4}), zeros({3})).shape(), Shape({0, 5, 3}));
}

// ---- layout rule -----------------------------------------------------------------------------

TEST(MatmulLayout, RowAndColumnMajorReachTheGemmOthersNeedACopy) {
  using kernels::matrix_layout;
  auto row = matrix_layout(3, 4, 4, 1);
  EXPECT_TRUE(row.gemm_ready);
  EXPECT_FALSE(row.trans);
  EXPECT_EQ(row.ld, 4);
  Tensor t = zeros({4, 3}).t();  // [3, 4] with strides (1, 3)
  auto col = matrix_layout(t);
  EXPECT_TRUE(col.gemm_ready);
  EXPECT_TRUE(col.trans);
  EXPECT_EQ(col.ld, 3);
  EXPECT_EQ(matrix_layout(zeros({3, 8}).slice(1, 2, 6)).ld, 8);      // a column window keeps ld
  EXPECT_FALSE(matrix_layout(zeros({3, 8}).slice(1, 0, 8, 2)).gemm_ready);  // step 2
  EXPECT_FALSE(matrix_layout(zeros({1, 4}).expand({3, 4})).gemm_ready);     // broadcast rows
  EXPECT_TRUE(matrix_layout(zeros({4, 1}).expand({4, 1})).gemm_ready);      // size-1 dims take any stride
  EXPECT_TRUE(matrix_layout(3, 1, 5, 0).gemm_ready);
  EXPECT_TRUE(matrix_layout(0, 4, 0, 1).gemm_ready);
}

// Tensors allocated by f (the GEMM's packing buffers are not tensors).
template <class F>
uint64_t allocations_during(F&& f) {
  NoGradGuard g;
  const uint64_t before = cpu_allocator_stats().allocations;
  f();
  return cpu_allocator_stats().allocations - before;
}

TEST(MatmulLayout, TransposedOperandsAndContiguousLinearInputsAreNotCopied) {
  Tensor a = random({6, 5}), b = random({7, 6}), x = random({4, 3, 6}), w = random({5, 6});
  Tensor bt = random({4, 2, 6}).transpose(1, 2), bias = random({5}), k = random({4, 2, 6});
  Tensor sliced = random({5, 12}).slice(1, 0, 12, 2);
  EXPECT_EQ(allocations_during([&] { matmul(a.t(), b.t()); }), 1u);        // only the result
  EXPECT_EQ(allocations_during([&] { matmul(x, bt); }), 1u);                // batched (1, ld) operand
  EXPECT_EQ(allocations_during([&] { matmul(x, w.t()); }), 1u);             // folded into one GEMM
  EXPECT_EQ(allocations_during([&] { linear(x, w, bias); }), 1u);              // bias copied into the result
  EXPECT_EQ(allocations_during([&] { einsum("bij,bkj->bik", {x, k}); }), 1u);
  EXPECT_EQ(allocations_during([&] { matmul(sliced, a); }), 2u);           // a step-2 slice is copied once
}

// ---- gradients -----------------------------------------------------------------------------------

TEST(MatmulGrad, MmBackwardGivesGradTimesTransposes) {
  Tensor a = a23().to(DType::F64).requires_grad_(), b = b32().to(DType::F64).requires_grad_();
  Tensor y = mm(a, b);
  EXPECT_EQ(y.grad_fn()->name(), "MmBackward");
  sum(y).backward();
  // dA = ones(2,2) @ B^T: row sums of B; dB = A^T @ ones(2,2): column sums of A.
  expect_values(a.grad(), {2, 3}, {15, 19, 23, 15, 19, 23});
  expect_values(b.grad(), {3, 2}, {5, 5, 7, 7, 9, 9});
}

TEST(MatmulGrad, BroadcastBatchGradientIsSummedBackToTheOperandShape) {
  Tensor a = random({3, 4}, DType::F64, 26).requires_grad_();
  Tensor b = random({2, 4, 5}, DType::F64, 27).requires_grad_();
  Tensor y = matmul(a, b);
  EXPECT_EQ(y.grad_fn()->name(), "BmmBackward");
  sum(y).backward();
  NoGradGuard g;
  Tensor want_a = naive_matmul(ones({2, 3, 5}, {.dtype = DType::F64}), b.transpose(1, 2));
  expect_close(a.grad(), sum(want_a, {0}), 1e-12);
  expect_close(b.grad(), naive_matmul(a.t(), ones({3, 5}, {.dtype = DType::F64})).unsqueeze(0).expand({2, 4, 5}), 1e-12);
}

TEST(MatmulGrad, LinearBackwardGivesInputWeightAndBiasGradients) {
  Tensor x = a23().to(DType::F64).reshape({1, 2, 3}).requires_grad_();
  Tensor w = tensor({1, 0, 0, 0, 1, 0, 1, 1, 1, 0, 0, 2}, {4, 3}).to(DType::F64).requires_grad_();
  Tensor b = zeros({4}, {.dtype = DType::F64}).requires_grad_();
  Tensor y = linear(x, w, b);
  EXPECT_EQ(y.grad_fn()->name(), "LinearBackward");
  sum(y).backward();
  expect_values(x.grad(), {1, 2, 3}, {2, 2, 3, 2, 2, 3});          // column sums of W
  expect_values(w.grad(), {4, 3}, {5, 7, 9, 5, 7, 9, 5, 7, 9, 5, 7, 9});  // column sums of x
  expect_values(b.grad(), {4}, {2, 2, 2, 2});                      // rows of x
}

TEST(MatmulGrad, AddmmBackwardScalesByAlphaAndBeta) {
  Tensor c = zeros({2}, {.dtype = DType::F64}).requires_grad_();
  Tensor a = a23().to(DType::F64).requires_grad_(), b = b32().to(DType::F64).requires_grad_();
  Tensor y = addmm(c, a, b, 3.0, 2.0);
  EXPECT_EQ(y.grad_fn()->name(), "AddmmBackward");
  sum(y).backward();
  expect_values(c.grad(), {2}, {6, 6});
  expect_values(a.grad(), {2, 3}, {30, 38, 46, 30, 38, 46});
  expect_values(b.grad(), {3, 2}, {10, 10, 14, 14, 18, 18});
}

TEST(MatmulGrad, VectorCasesGetGradientsThroughTheViews) {
  Tensor v = tensor({1, 2, 3}).to(DType::F64).requires_grad_();
  Tensor m = a23().to(DType::F64).requires_grad_();
  sum(matmul(m, v)).backward();
  expect_values(v.grad(), {3}, {5, 7, 9});
  expect_values(m.grad(), {2, 3}, {1, 2, 3, 1, 2, 3});
}

TEST(MatmulGrad, SecondDerivativeOfAProductIsAvailable) {
  Tensor a = random({2, 3}, DType::F64, 28).requires_grad_();
  Tensor b = random({3, 2}, DType::F64, 29).requires_grad_();
  Tensor y = sum(matmul(a, b));
  auto g = autograd::grad({y}, {a}, {}, /*retain_graph=*/true, /*create_graph=*/true);
  // dy/da = ones @ b^T, so d(sum(dy/da))/db = 2 * ones(3, 2) rows summed: every entry 2.
  auto gg = autograd::grad({sum(g[0])}, {b});
  expect_values(gg[0], {3, 2}, {2, 2, 2, 2, 2, 2});
}

// ---- einsum --------------------------------------------------------------------------------------

TEST(Einsum, CommonPatternsMatchTheirDirectOps) {
  Tensor a = random({3, 4}, DType::F64, 30), b = random({4, 5}, DType::F64, 31);
  expect_close(einsum("ij,jk->ik", {a, b}), naive_matmul(a, b), 1e-12);
  expect_close(einsum("ij,jk", {a, b}), naive_matmul(a, b), 1e-12);
  expect_close(einsum(" i j , j k -> i k ", {a, b}), naive_matmul(a, b), 1e-12);
  expect_close(einsum("ij->ji", {a}), a.t(), 0);
  expect_close(einsum("ba", {a}), a.t(), 0);  // implicit output is sorted
  Tensor ba = random({2, 3, 4}, DType::F64, 32), bb = random({2, 4, 5}, DType::F64, 33);
  expect_close(einsum("bij,bjk->bik", {ba, bb}), naive_matmul(ba, bb), 1e-12);
  Tensor bk = random({2, 5, 4}, DType::F64, 34);
  expect_close(einsum("bij,bkj->bik", {ba, bk}), naive_matmul(ba, bk.transpose(1, 2)), 1e-12);
  Tensor q = random({2, 3, 4, 8}, DType::F64, 35), k = random({2, 3, 6, 8}, DType::F64, 36);
  expect_close(einsum("bhqd,bhkd->bhqk", {q, k}), naive_matmul(q, k.transpose(2, 3)), 1e-12);
  Tensor e1 = random({2, 1, 3, 4}, DType::F64, 37), e2 = random({5, 4, 2}, DType::F64, 38);
  expect_close(einsum("...ij,...jk->...ik", {e1, e2}), naive_matmul(e1, e2), 1e-12);
  Tensor u = tensor({1, 2, 3}).to(DType::F64), w = tensor({4, 5, 6}).to(DType::F64);
  expect_values(einsum("i,i->", {u, w}), {}, {32});
  expect_values(einsum("i,j->ij", {u, tensor({1, -1}).to(DType::F64)}), {3, 2}, {1, -1, 2, -2, 3, -3});
}

TEST(Einsum, DiagonalTraceAndSingleOperandSums) {
  Tensor m = tensor({1, 2, 3, 4, 5, 6, 7, 8, 9}, {3, 3});
  expect_values(einsum("ii->i", {m}), {3}, {1, 5, 9});
  expect_values(einsum("ii", {m}), {}, {15});
  expect_values(einsum("ij->i", {m}), {3}, {6, 15, 24});
  expect_values(einsum("ij->", {m}), {}, {45});
  // j appears only in the first operand and not in the output: summed before the product.
  expect_values(einsum("ij,k->ik", {m, tensor({1, 2})}), {3, 2}, {6, 12, 15, 30, 24, 48});
}

TEST(Einsum, ThreeOperandsAndReorderedOutput) {
  Tensor a = random({3, 4}, DType::F64, 39), b = random({4, 5}, DType::F64, 40), c = random({5, 2}, DType::F64, 41);
  expect_close(einsum("ij,jk,kl->il", {a, b, c}), naive_matmul(naive_matmul(a, b), c), 1e-12);
  Tensor x = random({2, 3, 4}, DType::F64, 42);
  expect_close(einsum("bij,jk->kbi", {x, b}), naive_matmul(x, b).permute({2, 0, 1}), 1e-12);
}

TEST(Einsum, LabelsKeptByEveryOperandActAsBatchDims) {
  Tensor a = random({3, 4}, DType::F64, 43), b = random({3, 4}, DType::F64, 44), c = random({3, 4}, DType::F64, 45);
  NoGradGuard g;
  expect_close(einsum("ij,ij->ij", {a, b}), a * b, 1e-12);                   // Hadamard
  expect_close(einsum("ij,ij->", {a, b}), sum(a * b), 1e-12);
  expect_close(einsum("bi,bi->b", {a, b}), sum(a * b, {1}), 1e-12);          // row-wise dots
  expect_close(einsum("ij,ij,ij->i", {a, b, c}), sum(a * b * c, {1}), 1e-12);
  expect_close(einsum("ij,j->ij", {a, random({1}, DType::F64, 46)}),         // size 1 broadcasts
               a * random({1}, DType::F64, 46), 1e-12);
  expect_close(einsum("...,...->...", {a, random({4}, DType::F64, 47)}), a * random({4}, DType::F64, 47), 1e-12);
  EXPECT_EQ(einsum("ij,jk->ik", {zeros({2, 0}), zeros({0, 3})}).shape(), Shape({2, 3}));
  expect_values(einsum("ij,jk->ik", {zeros({2, 0}), zeros({0, 3})}), {2, 3}, std::vector<double>(6, 0.0));
}

TEST(Einsum, MalformedEquationsNameTheEquation) {
  Tensor a = zeros({3, 4}), b = zeros({4, 5});
  expect_error<ValueError>([&] { einsum("ij,jk->ik", {a}); }, "einsum: equation 'ij,jk->ik' has 2 operand terms but 1");
  expect_error<ValueError>([&] { einsum("i1,jk->ik", {a, b}); }, "invalid subscript '1' in equation 'i1,jk->ik'");
  expect_error<ValueError>([&] { einsum("ij,jk->i->k", {a, b}); }, "more than one '->' in equation 'ij,jk->i->k'");
  expect_error<ValueError>([&] { einsum("ij,jk->iz", {a, b}); }, "output subscript 'z' does not appear");
  expect_error<ValueError>([&] { einsum("ij,jk->ii", {a, b}); }, "output subscript 'i' appears more than once");
  expect_error<ValueError>([&] { einsum("ijk,jk->ik", {a, b}); }, "term 'ijk' has 3 subscripts but operand 0 has 2 dims");
  expect_error<ValueError>([&] { einsum("i.j,jk->ik", {a, b}); }, "'.' must be part of an ellipsis");
  expect_error<ValueError>([&] { einsum("......,jk->ik", {a, b}); }, "more than one ellipsis");
  expect_error<ValueError>([&] { einsum("ij", {}); }, "no operands given for equation 'ij'");
  expect_error<ShapeError>([&] { einsum("ij,jk->ik", {a, zeros({5, 5})}); },
                           "subscript 'j' has size 4 in operand 0 (shape [3, 4]) but 5 in operand 1");
  expect_error<ShapeError>([&] { einsum("ii->i", {a}); }, "subscript 'i' repeats in one operand with sizes 3 and 4");
  expect_error<DTypeError>([&] { einsum("ij->j", {zeros({2, 2}, {.dtype = DType::I64})}); }, "einsum: operands");
}

// ---- errors --------------------------------------------------------------------------------------

TEST(MatmulErrors, MessagesNameTheOpAndTheShapes) {
  expect_error<ShapeError>([] { matmul(zeros({2, 3}), zeros({4, 5})); },
                           "matmul: shapes [2, 3] and [4, 5] cannot be multiplied (3 vs 4)");
  expect_error<ShapeError>([] { matmul(zeros({2, 3}), zeros({4})); },
                           "matmul: shapes [2, 3] and [4] cannot be multiplied (3 vs 4)");
  expect_error<ShapeError>([] { matmul(zeros({2, 3, 4}), zeros({3, 4, 5})); },
                           "matmul: batch dims of shapes [2, 3, 4] and [3, 4, 5] do not broadcast (2 vs 3)");
  expect_error<ShapeError>([] { matmul(zeros({}), zeros({3})); }, "matmul: both operands need at least 1 dim");
  expect_error<ShapeError>([] { mm(zeros({2, 3, 4}), zeros({4, 5})); }, "mm: expected 2-d tensors, got shapes [2, 3, 4]");
  expect_error<ShapeError>([] { mm(zeros({2, 3}), zeros({2, 3})); }, "mm: shapes [2, 3] and [2, 3] cannot be multiplied");
  expect_error<ShapeError>([] { bmm(zeros({2, 3, 4}), zeros({3, 4, 5})); }, "bmm: batch sizes differ");
  expect_error<ShapeError>([] { bmm(zeros({3, 4}), zeros({4, 5})); }, "bmm: expected 3-d tensors");
  expect_error<ShapeError>([] { dot(zeros({3}), zeros({4})); }, "dot: expected 1-d tensors of the same size");
  expect_error<ShapeError>([] { outer(zeros({3, 1}), zeros({4})); }, "outer: expected 1-d tensors");
  expect_error<ShapeError>([] { linear(zeros({2, 5}), zeros({3, 4})); },
                           "linear: input of shape [2, 5] does not match weight of shape [3, 4] (5 vs 4 in_features)");
  expect_error<ShapeError>([] { linear(zeros({2, 4}), zeros({3, 4}), zeros({4})); },
                           "linear: bias of shape [4] does not match weight of shape [3, 4] (expected [3])");
  expect_error<ShapeError>([] { addmm(zeros({3, 3}), zeros({2, 3}), zeros({3, 2})); }, "addmm:");
  expect_error<ShapeError>([] { addmm(zeros({1, 2, 2}), zeros({2, 3}), zeros({3, 2})); },
                           "addmm: input of shape [1, 2, 2] does not broadcast to the product's shape [2, 2]");
}

TEST(MatmulErrors, IntegerAndMixedDtypesAreRejected) {
  Tensor i = zeros({2, 2}, {.dtype = DType::I64});
  expect_error<DTypeError>([&] { matmul(i, i); }, "matmul: i64 operands are not supported");
  expect_error<DTypeError>([&] { mm(zeros({2, 2}), zeros({2, 2}, {.dtype = DType::F64})); },
                           "mm: expected operands of the same dtype, got f32 and f64");
  expect_error<DTypeError>([&] { linear(zeros({2, 2}), zeros({2, 2}), zeros({2}, {.dtype = DType::F64})); },
                           "linear: bias has dtype f64");
  expect_error<ValueError>([] { matmul(Tensor(), zeros({2})); }, "matmul: first input is an undefined tensor");
}

}  // namespace
}  // namespace strata
