// embedding and embedding_bag against hand-computed values and a naive reference: lookups of
// every dtype and index dtype, non-contiguous tables, empty index sets, padding rows, the dense
// gradient (repeats accumulate, padding gets none), thread-count independence of the backward,
// double backward through the recorded path, bag sum/mean/max with empty bags and padding, and
// the messages of bad calls.
#include <gtest/gtest.h>

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

Tensor rows_table(int64_t v, int64_t d, DType dt = DType::F32) {
  std::vector<double> vals;
  for (int64_t r = 0; r < v; ++r)
    for (int64_t c = 0; c < d; ++c) vals.push_back(10.0 * static_cast<double>(r) + static_cast<double>(c));
  return tensor<double>(vals, {v, d}).to(dt);
}

TEST(Embedding, LooksUpRowsForEveryDType) {
  for (DType dt : {DType::F32, DType::F64, DType::F16, DType::BF16, DType::I64, DType::I32}) {
    Tensor w = rows_table(5, 3, dt);
    for (DType it : {DType::I64, DType::I32}) {
      Tensor idx = tensor<int64_t>({4, 0, 4, 2}, {2, 2}).to(it);
      Tensor e = embedding(w, idx);
      ASSERT_EQ(e.shape(), Shape({2, 2, 3}));
      EXPECT_EQ(e.dtype(), dt);
      EXPECT_EQ(e.to(DType::F64).to_vector<double>(),
                (std::vector<double>{40, 41, 42, 0, 1, 2, 40, 41, 42, 20, 21, 22}));
    }
  }
}

TEST(Embedding, NonContiguousTableAndIndices) {
  Tensor w = rows_table(3, 4).t();  // [4, 3], row r of w is column r of the table
  Tensor idx = tensor<int64_t>({3, 1, 0, 2}, {2, 2}).t();  // [[3, 0], [1, 2]]
  Tensor e = embedding(w, idx);
  ASSERT_EQ(e.shape(), Shape({2, 2, 3}));
  EXPECT_EQ(e.to_vector<float>(), (std::vector<float>{3, 13, 23, 0, 10, 20, 1, 11, 21, 2, 12, 22}));
}

TEST(Embedding, EmptyIndicesAndZeroWidth) {
  Tensor e = embedding(rows_table(4, 3), zeros({0, 5}, {.dtype = DType::I64}));
  EXPECT_EQ(e.shape(), Shape({0, 5, 3}));
  Tensor z = embedding(zeros({4, 0}), tensor<int64_t>({1, 2}));
  EXPECT_EQ(z.shape(), Shape({2, 0}));
}

TEST(Embedding, GradientAccumulatesRepeatsAndSkipsPadding) {
  Tensor w = rows_table(4, 2).requires_grad_(true);
  Tensor idx = tensor<int64_t>({1, 3, 1, 0, 1});
  Tensor g = tensor<float>({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, {5, 2});
  Tensor e = embedding(w, idx, {.padding_idx = 0});
  EXPECT_EQ(e.grad_fn()->name(), "EmbeddingBackward");
  e.backward(g);
  // row 0 is padding; row 1 = g0 + g2 + g4; row 2 untouched; row 3 = g1.
  EXPECT_EQ(w.grad().to_vector<float>(), (std::vector<float>{0, 0, 1 + 5 + 9, 2 + 6 + 10, 0, 0, 3, 4}));
  // Padding rows still look up their values in forward.
  EXPECT_EQ(e.to_vector<float>()[6], 0.0f);
}

TEST(Embedding, BackwardSameForAnyThreadCount) {
  const int saved = get_num_threads();
  Generator gen(7);
  Tensor idx = randint(0, 3000, {64, 50}, {.dtype = DType::I64}, &gen);
  Tensor g = randn({64, 50, 33}, {}, &gen);
  std::vector<float> first;
  for (int t : {1, 2, 3, 8}) {
    set_num_threads(t);
    Tensor gw = embedding_backward(g, idx, 3000, 5);
    if (first.empty()) {
      first = gw.to_vector<float>();
      // against a serial double reference
      std::vector<double> ref(3000 * 33, 0.0);
      auto iv = idx.to_vector<int64_t>();
      auto gv = g.to_vector<float>();
      for (size_t i = 0; i < iv.size(); ++i)
        if (iv[i] != 5)
          for (int j = 0; j < 33; ++j) ref[iv[i] * 33 + j] += gv[i * 33 + j];
      for (size_t k = 0; k < ref.size(); ++k) ASSERT_NEAR(first[k], ref[k], 1e-4) << k;
    } else {
      EXPECT_EQ(gw.to_vector<float>(), first) << t << " threads";
    }
  }
  set_num_threads(saved);
}

TEST(Embedding, HalfGradient) {
  Tensor w = rows_table(3, 2, DType::BF16).requires_grad_(true);
  embedding(w, tensor<int32_t>({2, 2})).backward(ones({2, 2}, {.dtype = DType::BF16}));
  EXPECT_EQ(w.grad().dtype(), DType::BF16);
  EXPECT_EQ(w.grad().to(DType::F32).to_vector<float>(), (std::vector<float>{0, 0, 0, 0, 2, 2}));
}

TEST(Embedding, DoubleBackwardThroughRecordedPath) {
  // d/dg of sum(embedding_backward(g) * c) = c[idx]: the recorded path must be differentiable.
  Tensor g = tensor<double>({1, 2, 3, 4, 5, 6}, {3, 2}).requires_grad_(true);
  Tensor idx = tensor<int64_t>({2, 0, 2});
  Tensor c = tensor<double>({1, 2, 3, 4, 5, 6}, {3, 2});
  Tensor gw = embedding_backward(g, idx, 3, 0);
  EXPECT_EQ(gw.to_vector<double>(), (std::vector<double>{0, 0, 0, 0, 1 + 5, 2 + 6}));
  auto dg = autograd::grad({gw}, {g}, {c});
  EXPECT_EQ(dg[0].to_vector<double>(), (std::vector<double>{5, 6, 0, 0, 5, 6}));
}

TEST(EmbeddingBag, SumMeanMaxWithOffsets) {
  Tensor w = rows_table(5, 2);
  Tensor idx = tensor<int64_t>({0, 4, 4, 2, 1});
  Tensor off = tensor<int64_t>({0, 2, 2, 3});  // bags {0, 4}, {}, {4}, {2, 1}
  EXPECT_EQ(embedding_bag(w, idx, off, {.mode = EmbeddingBagMode::Sum}).to_vector<float>(),
            (std::vector<float>{40, 42, 0, 0, 40, 41, 30, 32}));
  EXPECT_EQ(embedding_bag(w, idx, off, {.mode = EmbeddingBagMode::Mean}).to_vector<float>(),
            (std::vector<float>{20, 21, 0, 0, 40, 41, 15, 16}));
  EXPECT_EQ(embedding_bag(w, idx, off, {.mode = EmbeddingBagMode::Max}).to_vector<float>(),
            (std::vector<float>{40, 41, 0, 0, 40, 41, 20, 21}));
  // i32 offsets and indices
  EXPECT_EQ(embedding_bag(w, idx.to(DType::I32), off.to(DType::I32), {.mode = EmbeddingBagMode::Sum})
                .to_vector<float>(),
            (std::vector<float>{40, 42, 0, 0, 40, 41, 30, 32}));
}

TEST(EmbeddingBag, PaddingIsSkippedAndNotCounted) {
  Tensor w = rows_table(4, 1);
  Tensor idx = tensor<int64_t>({1, 3, 3, 3, 2});
  Tensor off = tensor<int64_t>({0, 2, 4});  // {1, 3}, {3, 3} (all padding), {2}
  Tensor m = embedding_bag(w, idx, off, {.mode = EmbeddingBagMode::Mean, .padding_idx = 3});
  EXPECT_EQ(m.to_vector<float>(), (std::vector<float>{10, 0, 20}));
}

TEST(EmbeddingBag, FixedBagsFrom2dIndices) {
  Tensor w = rows_table(4, 2);
  Tensor m = embedding_bag(w, tensor<int64_t>({0, 1, 2, 3}, {2, 2}), Tensor(), {.mode = EmbeddingBagMode::Mean});
  EXPECT_EQ(m.to_vector<float>(), (std::vector<float>{5, 6, 25, 26}));
}

TEST(EmbeddingBag, Gradients) {
  Tensor w = rows_table(4, 2).requires_grad_(true);
  Tensor idx = tensor<int64_t>({1, 3, 1, 2, 0});
  Tensor off = tensor<int64_t>({0, 3, 3});  // {1, 3, 1}, {}, {2, 0}
  Tensor g = tensor<float>({1, 2, 3, 4, 5, 6}, {3, 2});
  embedding_bag(w, idx, off, {.mode = EmbeddingBagMode::Mean}).backward(g);
  EXPECT_EQ(w.grad().to_vector<float>(),
            (std::vector<float>{2.5f, 3, 2 * 1.f / 3, 2 * 2.f / 3, 2.5f, 3, 1.f / 3, 2.f / 3}));
  Tensor w2 = rows_table(4, 2).requires_grad_(true);
  embedding_bag(w2, idx, off, {.mode = EmbeddingBagMode::Sum}).backward(g);
  EXPECT_EQ(w2.grad().to_vector<float>(), (std::vector<float>{5, 6, 2, 4, 5, 6, 1, 2}));
  // Max: the winning row per element (bag 0: row 3; bag 2: row 2); the empty bag sends nothing.
  Tensor w3 = rows_table(4, 2).requires_grad_(true);
  embedding_bag(w3, idx, off, {.mode = EmbeddingBagMode::Max}).backward(g);
  EXPECT_EQ(w3.grad().to_vector<float>(), (std::vector<float>{0, 0, 0, 0, 5, 6, 1, 2}));
}

TEST(EmbeddingErrors, MessagesNameTheOp) {
  Tensor w = rows_table(5, 3);
  expect_error<IndexError>([&] { embedding(w, tensor<int64_t>({1, 5})); }, "embedding: index 5 is out of range for a table of 5 rows");
  expect_error<IndexError>([&] { embedding(w, tensor<int64_t>({-1})); }, "index -1 is out of range");
  expect_error<DTypeError>([&] { embedding(w, tensor<float>({1})); }, "embedding: indices must be i64 or i32");
  expect_error<ShapeError>([&] { embedding(zeros({5}), tensor<int64_t>({1})); }, "embedding: weight must be 2-d");
  expect_error<IndexError>([&] { embedding(w, tensor<int64_t>({1}), {.padding_idx = 5}); }, "padding_idx 5");
  expect_error<IndexError>([&] { embedding_backward(ones({2, 3}), tensor<int64_t>({0, 4}), 4); },
                           "embedding_backward: index 4 is out of range for a table of 4 rows");
  expect_error<ShapeError>([&] { embedding_backward(ones({3, 3}), tensor<int64_t>({0, 1}), 4); },
                           "embedding_backward: grad_output shape [3, 3] does not start with the indices shape [2]");
  expect_error<ValueError>([&] { embedding_bag(w, tensor<int64_t>({1, 2}), tensor<int64_t>({1})); },
                           "embedding_bag: offsets[0] must be 0");
  expect_error<ValueError>([&] { embedding_bag(w, tensor<int64_t>({1, 2}), tensor<int64_t>({0, 2, 1})); },
                           "must not decrease");
  expect_error<IndexError>([&] { embedding_bag(w, tensor<int64_t>({1, 2}), tensor<int64_t>({0, 3})); },
                           "offset 3 is past the end of 2 indices");
  expect_error<ShapeError>([&] { embedding_bag(w, tensor<int64_t>({1, 2}), Tensor()); }, "1-d indices need 1-d offsets");
  expect_error<IndexError>([&] { embedding_bag(w, tensor<int64_t>({1, 7}), tensor<int64_t>({0})); },
                           "embedding_bag: index 7");
}

}  // namespace
}  // namespace strata
