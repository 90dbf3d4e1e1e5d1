// The index family against hand-computed references: index_select, gather, scatter,
// scatter_add, index_add, masked_fill, masked_select, nonzero, cat, stack, split, chunk, unbind,
// one_hot. Covers every dtype, non-contiguous inputs and indices, empty tensors, 0-d inputs,
// determinism across thread counts, explicit gradients, semantic types and error messages.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "strata.h"

namespace strata {
namespace {

template <class E, class F>
void expect_error(F&& f, std::initializer_list<const char*> parts) {
  try {
    f();
    ADD_FAILURE() << "expected an exception";
  } catch (const E& e) {
    const std::string what = e.what();
    for (const char* p : parts) EXPECT_NE(what.find(p), std::string::npos) << "'" << p << "' not in: " << what;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception type: " << e.what();
  }
}

Tensor I(const std::vector<int64_t>& v, const Shape& shape = {}) { return tensor<int64_t>(v, shape); }
Tensor F(const std::vector<float>& v, const Shape& shape = {}) { return tensor<float>(v, shape); }
std::vector<double> vals(const Tensor& t) { return t.to_vector<double>(); }
using V = std::vector<double>;

// 0, 1, 2, ... in the given dtype and shape.
Tensor ramp(const Shape& shape, DType dt = DType::F32) {
  return arange(0.0, static_cast<double>(shape.numel()), 1.0, {.dtype = DType::F64}).reshape(shape).to(dt);
}

const DType kAllDTypes[] = {DType::F32, DType::F64, DType::F16, DType::BF16,
                            DType::I64, DType::I32, DType::U8,  DType::Bool};

struct ThreadCount {
  int saved = get_num_threads();
  explicit ThreadCount(int n) { set_num_threads(n); }
  ~ThreadCount() { set_num_threads(saved); }
};

// ---------------------------------------------------------------------------------- index_select
TEST(IndexSelect, PicksRowsWithRepeats) {
  Tensor x = ramp({4, 3});
  Tensor y = index_select(x, 0, I({3, 0, 3}));
  EXPECT_EQ(y.shape(), Shape({3, 3}));
  EXPECT_EQ(vals(y), (V{9, 10, 11, 0, 1, 2, 9, 10, 11}));
}

TEST(IndexSelect, PicksColumnsWithNegativeDim) {
  Tensor y = index_select(ramp({2, 4}), -1, I({3, 1}));
  EXPECT_EQ(y.shape(), Shape({2, 2}));
  EXPECT_EQ(vals(y), (V{3, 1, 7, 5}));
}

TEST(IndexSelect, EveryDType) {
  for (DType dt : kAllDTypes) {
    Tensor y = index_select(ramp({2, 3}, dt), 1, I({2, 0}));
    EXPECT_EQ(y.dtype(), dt);
    if (dt == DType::Bool) {
      EXPECT_EQ(vals(y), (V{1, 0, 1, 1})) << dtype_name(dt);
    } else {
      EXPECT_EQ(vals(y), (V{2, 0, 5, 3})) << dtype_name(dt);
    }
  }
}

TEST(IndexSelect, NonContiguousInputAndIndex) {
  Tensor x = ramp({3, 4}).t();  // x[i][j] = 4 j + i, shape [4, 3]
  EXPECT_EQ(vals(index_select(x, 1, I({2, 0}))), (V{8, 0, 9, 1, 10, 2, 11, 3}));
  EXPECT_EQ(vals(index_select(x, 0, I({3, 1}))), (V{3, 7, 11, 1, 5, 9}));
  Tensor strided_index = I({2, 9, 0, 9, 1}).slice(0, 0, 5, 2);  // [2, 0, 1]
  EXPECT_EQ(vals(index_select(ramp({3, 2}), 0, strided_index)), (V{4, 5, 0, 1, 2, 3}));
}

TEST(IndexSelect, MiddleDimOf3dAndI32Index) {
  Tensor x = ramp({2, 3, 2});
  Tensor y = index_select(x, 1, I({2, 2, 0}).to(DType::I32));
  EXPECT_EQ(y.shape(), Shape({2, 3, 2}));
  EXPECT_EQ(vals(y), (V{4, 5, 4, 5, 0, 1, 10, 11, 10, 11, 6, 7}));
  // same through the strided path
  Tensor xp = x.permute({2, 0, 1}).contiguous().permute({1, 2, 0});
  EXPECT_EQ(vals(index_select(xp, 1, I({2, 2, 0}))), vals(y));
}

TEST(IndexSelect, ZeroDimIndexAndInput) {
  Tensor y = index_select(ramp({3, 2}), 0, scalar_tensor(2, {.dtype = DType::I64}));
  EXPECT_EQ(y.shape(), Shape({1, 2}));
  EXPECT_EQ(vals(y), (V{4, 5}));
  Tensor s = index_select(scalar_tensor(7.0), 0, I({0}));
  EXPECT_EQ(s.dim(), 0);
  EXPECT_EQ(s.item(), 7.0);
}

TEST(IndexSelect, EmptyIndexAndEmptyInput) {
  EXPECT_EQ(index_select(ramp({4, 3}), 0, I({})).shape(), Shape({0, 3}));
  EXPECT_EQ(index_select(zeros({2, 0}), 0, I({1, 1, 0})).shape(), Shape({3, 0}));
  EXPECT_EQ(index_select(zeros({0, 3}), 1, I({2})).shape(), Shape({0, 1}));
}

TEST(IndexSelect, LargeLookupMatchesReferenceOnAnyThreadCount) {
  const int64_t rows = 300, cols = 37, n = 2000;
  Tensor x = randn({rows, cols});
  std::mt19937 rng(3);
  std::vector<int64_t> iv(n);
  for (auto& v : iv) v = static_cast<int64_t>(rng() % rows);
  Tensor idx = I(iv);
  auto xv = x.to_vector<float>();
  std::vector<float> ref;
  for (int64_t j = 0; j < n; ++j)
    for (int64_t c = 0; c < cols; ++c) ref.push_back(xv[iv[j] * cols + c]);
  for (int threads : {1, 3}) {
    ThreadCount tc(threads);
    EXPECT_EQ(index_select(x, 0, idx).to_vector<float>(), ref);
    EXPECT_EQ(index_select(x.t().contiguous().t(), 0, idx).to_vector<float>(), ref);  // strided path
  }
}

TEST(IndexSelect, Errors) {
  Tensor x = ramp({4, 3});
  expect_error<IndexError>([&] { index_select(x, 0, I({1, 4})); }, {"index_select", "index 4", "dim 0", "size 4"});
  expect_error<IndexError>([&] { index_select(x, 1, I({-1})); }, {"index_select", "index -1", "dim 1", "size 3"});
  expect_error<DTypeError>([&] { index_select(x, 0, F({1})); }, {"index_select", "i64", "f32"});
  expect_error<ShapeError>([&] { index_select(x, 0, I({0, 1}, {1, 2})); }, {"index_select", "[1, 2]"});
  expect_error<IndexError>([&] { index_select(x, 2, I({0})); }, {"index_select"});
}

// ---------------------------------------------------------------------------------------- gather
TEST(Gather, PyTorchDocExample) {
  Tensor y = gather(F({1, 2, 3, 4}, {2, 2}), 1, I({0, 0, 1, 0}, {2, 2}));
  EXPECT_EQ(vals(y), (V{1, 1, 4, 3}));
}

TEST(Gather, IndexSmallerThanInputAlongOtherDims) {
  Tensor x = ramp({4, 3});
  Tensor y = gather(x, 0, I({3, 0, 1, 0}, {2, 2}));
  EXPECT_EQ(y.shape(), Shape({2, 2}));
  EXPECT_EQ(vals(y), (V{9, 1, 3, 1}));  // x[3][0], x[0][1], x[1][0], x[0][1]
  Tensor z = gather(x, -1, I({2, 2, 2, 0, 1}, {1, 5}).narrow(1, 2, 2));  // index [[2, 0]], non-contiguous view
  EXPECT_EQ(vals(z), (V{2, 0}));
}

TEST(Gather, EveryDTypeAndTransposedInput) {
  for (DType dt : kAllDTypes) {
    Tensor x = ramp({3, 2}, dt).t();  // [[0, 2, 4], [1, 3, 5]]
    Tensor y = gather(x, 1, I({2, 0, 1, 1}, {2, 2}));
    EXPECT_EQ(y.dtype(), dt);
    V want = dt == DType::Bool ? V{1, 0, 1, 1} : V{4, 0, 3, 3};
    EXPECT_EQ(vals(y), want) << dtype_name(dt);
  }
  EXPECT_EQ(vals(gather(ramp({3, 4}), 1, I({1, 1, 0, 3, 2, 2}, {3, 2}).to(DType::I32))), (V{1, 1, 4, 7, 10, 10}));
}

TEST(Gather, EmptyAndZeroDim) {
  EXPECT_EQ(gather(ramp({3, 4}), 1, I({}, {3, 0})).shape(), Shape({3, 0}));
  EXPECT_EQ(gather(scalar_tensor(5.0), 0, scalar_tensor(0, {.dtype = DType::I64})).item(), 5.0);
}

TEST(Gather, Errors) {
  Tensor x = ramp({2, 3});
  expect_error<IndexError>([&] { gather(x, 1, I({0, 3}, {1, 2})); }, {"gather", "index 3", "dim 1", "size 3"});
  expect_error<IndexError>([&] { gather(x, 0, I({-1}, {1, 1})); }, {"gather", "index -1", "dim 0", "size 2"});
  expect_error<ShapeError>([&] { gather(x, 1, I({0, 0, 0}, {3, 1})); },
                           {"gather", "size 3 at dim 0", "[3, 1]", "[2, 3]"});
  expect_error<ShapeError>([&] { gather(x, 1, I({0})); }, {"gather", "index has 1 dims but input has 2"});
  expect_error<DTypeError>([&] { gather(x, 1, I({0}, {1, 1}).to(DType::U8)); }, {"gather", "u8"});
}

// ------------------------------------------------------------------------------- scatter family
TEST(Scatter, PyTorchDocExample) {
  Tensor src = ramp({2, 5}) + 1.0;
  Tensor y = scatter(zeros({3, 5}), 0, I({0, 1, 2, 0}, {1, 4}), src);
  EXPECT_EQ(vals(y), (V{1, 0, 0, 4, 0, 0, 2, 0, 0, 0, 0, 0, 3, 0, 0}));
  Tensor z = scatter(zeros({3, 5}), 1, I({0, 1, 2, 0}, {2, 2}), src);
  EXPECT_EQ(vals(z), (V{1, 2, 0, 0, 0, 7, 0, 6, 0, 0, 0, 0, 0, 0, 0}));
}

TEST(Scatter, OutOfPlaceOnNonContiguousInput) {
  Tensor x = ramp({3, 2}).t();  // [[0, 2, 4], [1, 3, 5]]
  Tensor y = scatter(x, 1, I({2, 0}, {2, 1}), F({-1, -2}, {2, 1}));
  EXPECT_EQ(vals(y), (V{0, 2, -1, -2, 3, 5}));
  EXPECT_EQ(vals(x), (V{0, 2, 4, 1, 3, 5}));  // input untouched
}

TEST(Scatter, DuplicateIndicesLastWinsOnAnyThreadCount) {
  const int64_t rows = 50, cols = 4000;
  std::mt19937 rng(5);
  std::vector<int64_t> iv(rows * cols);
  for (auto& v : iv) v = static_cast<int64_t>(rng() % 7);
  Tensor index = I(iv, {rows, cols});
  Tensor src = ramp({rows, cols});
  std::vector<float> ref(7 * cols, -1.0f);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) ref[iv[r * cols + c] * cols + c] = static_cast<float>(r * cols + c);
  for (int threads : {1, 4}) {
    ThreadCount tc(threads);
    EXPECT_EQ(scatter(full({7, cols}, -1.0), 0, index, src).to_vector<float>(), ref);
  }
}

TEST(ScatterAdd, AccumulatesDuplicates) {
  Tensor index = I({0, 1, 2, 0, 0, 1, 2, 0, 0, 1}, {2, 5});
  Tensor y = scatter_add(zeros({3, 5}), 0, index, ones({2, 5}));
  EXPECT_EQ(vals(y), (V{1, 0, 1, 2, 1, 1, 1, 0, 0, 1, 0, 1, 1, 0, 0}));
  Tensor yi = scatter_add(ones({2, 3}, {.dtype = DType::I32}), 1, I({2, 2, 2, 0}, {2, 2}),
                          tensor<int32_t>({5, 6, 7, 8}, {2, 2}));
  EXPECT_EQ(vals(yi), (V{1, 1, 12, 9, 1, 8}));
}

TEST(ScatterAdd, FloatSumsAreIdenticalForAnyThreadCount) {
  const int64_t n = 3000, cols = 300;
  std::mt19937 rng(9);
  std::vector<int64_t> iv(n * cols);
  for (auto& v : iv) v = static_cast<int64_t>(rng() % 5);
  Tensor index = I(iv, {n, cols}).t();  // dim 1 of the transposed view: non-contiguous index
  Tensor src = randn({cols, n});
  auto sv = src.to_vector<float>();
  std::vector<float> ref(cols * 5, 0.0f);
  for (int64_t c = 0; c < cols; ++c)
    for (int64_t j = 0; j < n; ++j) ref[c * 5 + iv[j * cols + c]] += sv[c * n + j];  // index order
  for (int threads : {1, 2, 4}) {
    ThreadCount tc(threads);
    EXPECT_EQ(scatter_add(zeros({cols, 5}), 1, index, src).to_vector<float>(), ref) << threads;
  }
}

TEST(ScatterFamily, Errors) {
  Tensor x = zeros({3, 4});
  expect_error<IndexError>([&] { scatter(x, 0, I({3}, {1, 1}), ones({1, 1})); }, {"scatter", "index 3", "dim 0", "size 3"});
  expect_error<IndexError>([&] { scatter_add(x, 1, I({-2}, {1, 1}), ones({1, 1})); },
                           {"scatter_add", "index -2", "dim 1", "size 4"});
  expect_error<ShapeError>([&] { scatter(x, 0, I({0, 0}, {1, 2}), ones({1, 1})); },
                           {"scatter", "size 2 at dim 1", "src"});
  expect_error<ShapeError>([&] { scatter(x, 0, I({0, 0, 0, 0, 0}, {1, 5}), ones({1, 5})); },
                           {"scatter", "size 5 at dim 1", "input"});
  expect_error<DTypeError>([&] { scatter_add(x, 0, I({0}, {1, 1}), ones({1, 1}, {.dtype = DType::F64})); },
                           {"scatter_add", "f64", "f32"});
}

// ------------------------------------------------------------------------------------- index_add
TEST(IndexAdd, AddsRowsWithRepeats) {
  Tensor src = ramp({4, 3}) + 1.0;  // rows [1 2 3] [4 5 6] [7 8 9] [10 11 12]
  Tensor y = index_add(zeros({5, 3}), 0, I({0, 4, 2, 0}), src);
  EXPECT_EQ(vals(y), (V{11, 13, 15, 0, 0, 0, 7, 8, 9, 0, 0, 0, 4, 5, 6}));
  Tensor z = index_add(ones({2, 3}, {.dtype = DType::I64}), -1, I({2, 2}), tensor<int64_t>({1, 2, 3, 4}, {2, 2}));
  EXPECT_EQ(vals(z), (V{1, 1, 4, 1, 1, 8}));
}

TEST(IndexAdd, NonContiguousOperandsAndEmptySource) {
  Tensor x = ramp({3, 2}).t();   // [[0, 2, 4], [1, 3, 5]]
  Tensor src = ramp({2, 2}).t();  // [[0, 2], [1, 3]]
  EXPECT_EQ(vals(index_add(x, 1, I({0, 0}), src)), (V{2, 2, 4, 5, 3, 5}));
  EXPECT_EQ(vals(index_add(x, 1, I({}), zeros({2, 0}))), vals(x));
}

TEST(IndexAdd, Errors) {
  expect_error<ShapeError>([] { index_add(zeros({5, 3}), 0, I({0, 1}), ones({3, 3})); },
                           {"index_add", "size 3 at dim 0", "2 is needed"});
  expect_error<ShapeError>([] { index_add(zeros({5, 3}), 0, I({0}), ones({1, 4})); },
                           {"index_add", "size 4 at dim 1"});
  expect_error<IndexError>([] { index_add(zeros({5, 3}), 0, I({5}), ones({1, 3})); },
                           {"index_add", "index 5", "dim 0", "size 5"});
}

TEST(IndexAddInPlace, AccumulatesIntoTheTensorAndBumpsItsVersion) {
  Tensor x = zeros({3, 2});
  const uint32_t v0 = x.version();
  Tensor& r = index_add_(x, 0, I({2, 2}), ones({2, 2}));
  EXPECT_TRUE(r.is_same(x));
  EXPECT_GT(x.version(), v0);
  EXPECT_EQ(vals(x), (V{0, 0, 0, 0, 2, 2}));
  Tensor t = zeros({2, 3}).t();  // strided target
  scatter_add_(t, 1, I({1, 1, 0}, {3, 1}), F({1, 2, 3}, {3, 1}));
  EXPECT_EQ(vals(t), (V{0, 1, 0, 2, 3, 0}));
}

TEST(IndexAddInPlace, RefusesTrackedOrRepeatedTargets) {
  Tensor leaf = zeros({3}).requires_grad_();
  expect_error<AutogradError>([&] { index_add_(leaf, 0, I({0}), ones({1})); }, {"index_add_"});
  Tensor x = zeros({3});
  Tensor src = ones({1}).requires_grad_();
  expect_error<AutogradError>([&] { scatter_add_(x, 0, I({0}), src); }, {"scatter_add_", "requires grad"});
  Tensor expanded = zeros({1}).expand({3});
  expect_error<ValueError>([&] { index_add_(expanded, 0, I({0}), ones({1})); }, {"index_add_", "repeated"});
  expect_error<IndexError>([&] { index_add_(x, 0, I({3}), ones({1})); }, {"index_add_", "index 3", "size 3"});
}

// ----------------------------------------------------------------------------------------- masks
TEST(MaskedFill, BroadcastsMaskAndKeepsInput) {
  Tensor x = ramp({2, 3});
  Tensor y = masked_fill(x, tensor<bool>({true, false, true}), -1.0);
  EXPECT_EQ(vals(y), (V{-1, 1, -1, -1, 4, -1}));
  EXPECT_EQ(vals(x), (V{0, 1, 2, 3, 4, 5}));
  Tensor yi = masked_fill(ramp({2, 2}, DType::I64), tensor<uint8_t>({0, 1, 1, 0}, {2, 2}), 9.0);
  EXPECT_EQ(yi.dtype(), DType::I64);
  EXPECT_EQ(vals(yi), (V{0, 9, 9, 3}));
  Tensor yt = masked_fill(ramp({3, 2}).t(), tensor<bool>({false, true}, {2, 1}), 7.0);
  EXPECT_EQ(vals(yt), (V{0, 2, 4, 7, 7, 7}));
}

TEST(MaskedFill, Errors) {
  expect_error<ShapeError>([] { masked_fill(zeros({3}), tensor<bool>({true, false, true, true, false, true}, {2, 3}), 1.0); },
                           {"masked_fill", "[2, 3]", "[3]"});
  expect_error<DTypeError>([] { masked_fill(zeros({3}), zeros({3}), 1.0); }, {"masked_fill", "bool", "f32"});
}

TEST(MaskedSelect, SelectsInRowMajorOrder) {
  Tensor m = tensor<bool>({true, false, false, true, true, false}, {2, 3});
  EXPECT_EQ(vals(masked_select(ramp({2, 3}), m)), (V{0, 3, 4}));
  EXPECT_EQ(vals(masked_select(ramp({3, 2}).t(), m)), (V{0, 1, 3}));  // [[0 2 4] [1 3 5]]
  // x broadcasts against the mask
  EXPECT_EQ(vals(masked_select(F({10, 20}, {2, 1}), m)), (V{10, 20, 20}));
  EXPECT_EQ(masked_select(ramp({2, 3}), zeros({2, 3}, {.dtype = DType::U8})).shape(), Shape({0}));
  EXPECT_EQ(vals(masked_select(ramp({2, 2}, DType::I32), tensor<uint8_t>({1, 0, 0, 1}, {2, 2}))), (V{0, 3}));
}

TEST(Nonzero, CoordinatesInRowMajorOrder) {
  Tensor y = nonzero(F({0, 1, 2, 0}, {2, 2}));
  EXPECT_EQ(y.dtype(), DType::I64);
  EXPECT_EQ(y.shape(), Shape({2, 2}));
  EXPECT_EQ(vals(y), (V{0, 1, 1, 0}));
  EXPECT_EQ(vals(nonzero(tensor<bool>({false, true, true}))), (V{1, 2}));
  EXPECT_EQ(nonzero(scalar_tensor(3.0)).shape(), Shape({1, 0}));
  EXPECT_EQ(nonzero(scalar_tensor(0.0)).shape(), Shape({0, 0}));
  EXPECT_EQ(nonzero(zeros({0, 3})).shape(), Shape({0, 2}));
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(vals(nonzero(F({0, nan, -0.0f}))), (V{1}));
  EXPECT_EQ(vals(nonzero(ramp({3, 2}, DType::U8).t())), (V{0, 1, 0, 2, 1, 0, 1, 1, 1, 2}));
}

TEST(Nonzero, AcrossChunkBoundariesOnAnyThreadCount) {
  const int64_t rows = 700, cols = 301;  // > one 65536-element chunk
  Tensor x = (rand({rows, cols}) > 0.7).to(DType::F32);
  auto xv = x.to_vector<float>();
  std::vector<int64_t> ref;
  for (int64_t i = 0; i < rows * cols; ++i)
    if (xv[i] != 0) {
      ref.push_back(i / cols);
      ref.push_back(i % cols);
    }
  for (int threads : {1, 4}) {
    ThreadCount tc(threads);
    EXPECT_EQ(nonzero(x).to_vector<int64_t>(), ref);
  }
}

// ----------------------------------------------------------------------------------- cat, stack
TEST(Cat, JoinsAlongAnyDim) {
  Tensor a = ramp({2, 2}), b = ramp({1, 2}) + 10.0;
  EXPECT_EQ(vals(cat({a, b}, 0)), (V{0, 1, 2, 3, 10, 11}));
  Tensor c = ramp({2, 1}) + 20.0;
  Tensor y = cat({a, c, a}, -1);
  EXPECT_EQ(y.shape(), Shape({2, 5}));
  EXPECT_EQ(vals(y), (V{0, 1, 20, 0, 1, 2, 3, 21, 2, 3}));
}

TEST(Cat, PromotesDTypesAndCopiesStridedInputs) {
  Tensor a = ramp({2, 2}, DType::I64);
  Tensor b = F({0.5f, 1.5f}, {2, 1});
  Tensor y = cat({a, b}, 1);
  EXPECT_EQ(y.dtype(), DType::F32);
  EXPECT_EQ(vals(y), (V{0, 1, 0.5, 2, 3, 1.5}));
  Tensor t = ramp({3, 2}).t();  // [[0, 2, 4], [1, 3, 5]]
  EXPECT_EQ(vals(cat({t, t}, 0)), (V{0, 2, 4, 1, 3, 5, 0, 2, 4, 1, 3, 5}));
  EXPECT_EQ(vals(cat({t.narrow(1, 1, 2), ramp({2, 1}, DType::Bool)}, 1)), (V{2, 4, 0, 3, 5, 1}));
  for (DType dt : kAllDTypes) {
    Tensor r = cat({ramp({2, 1}, dt), ramp({2, 2}, dt)}, 1);
    EXPECT_EQ(r.dtype(), dt);
    EXPECT_EQ(vals(r), dt == DType::Bool ? (V{0, 0, 1, 1, 1, 1}) : (V{0, 0, 1, 1, 2, 3})) << dtype_name(dt);
  }
}

TEST(Cat, EmptyInputsAndSingleInput) {
  Tensor y = cat({zeros({0, 3}), ramp({2, 3}), zeros({0, 3})}, 0);
  EXPECT_EQ(vals(y), (V{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(cat({zeros({2, 0}), zeros({2, 0})}, 1).shape(), Shape({2, 0}));
  EXPECT_EQ(cat({zeros({0, 2}), zeros({0, 3})}, 1).shape(), Shape({0, 5}));
  Tensor x = ramp({2, 2});
  Tensor one = cat({x}, 0);
  EXPECT_FALSE(one.shares_storage(x));
  EXPECT_EQ(vals(one), vals(x));
}

TEST(Cat, LargeInputsMatchSlicesOnAnyThreadCount) {
  // few long rows (dim 0) and many short rows (dim 1): both copy strategies
  Tensor a = randn({600, 700}), b = randn({500, 700});
  for (int threads : {1, 4}) {
    ThreadCount tc(threads);
    Tensor y0 = cat({a, b}, 0);
    EXPECT_EQ(y0.narrow(0, 0, 600).contiguous().to_vector<float>(), a.to_vector<float>());
    EXPECT_EQ(y0.narrow(0, 600, 500).contiguous().to_vector<float>(), b.to_vector<float>());
    Tensor y1 = cat({a.t(), b.t(), a.narrow(0, 0, 7).t()}, 1);
    EXPECT_EQ(y1.shape(), Shape({700, 1107}));
    EXPECT_EQ(y1.narrow(1, 600, 500).contiguous().to_vector<float>(), b.t().contiguous().to_vector<float>());
    EXPECT_EQ(y1.narrow(1, 1100, 7).contiguous().to_vector<float>(), a.narrow(0, 0, 7).t().contiguous().to_vector<float>());
  }
}

TEST(Cat, Errors) {
  expect_error<ValueError>([] { cat({}, 0); }, {"cat", "non-empty"});
  expect_error<ShapeError>([] { cat({zeros({2, 3}), zeros({3})}, 0); },
                           {"cat", "tensor 1 has 1 dims", "tensor 0 has 2", "[3]", "[2, 3]"});
  expect_error<ShapeError>([] { cat({zeros({2, 3}), zeros({2, 3}), zeros({2, 4})}, 0); },
                           {"cat", "tensor 2", "size 4 at dim 1", "[2, 4]", "[2, 3]"});
  expect_error<ShapeError>([] { cat({scalar_tensor(1.0)}, 0); }, {"cat", "0-d"});
  expect_error<IndexError>([] { cat({zeros({2, 3})}, 2); }, {"cat"});
  expect_error<ValueError>([] { cat({zeros({2}), Tensor()}, 0); }, {"cat", "tensor 1"});
}

TEST(Stack, InsertsANewDim) {
  Tensor a = ramp({2, 2}), b = ramp({2, 2}) + 10.0;
  Tensor y0 = stack({a, b}, 0);
  EXPECT_EQ(y0.shape(), Shape({2, 2, 2}));
  EXPECT_EQ(vals(y0), (V{0, 1, 2, 3, 10, 11, 12, 13}));
  Tensor y2 = stack({a, b.t()}, -1);
  EXPECT_EQ(y2.shape(), Shape({2, 2, 2}));
  EXPECT_EQ(vals(y2), (V{0, 10, 1, 12, 2, 11, 3, 13}));
  Tensor s = stack({scalar_tensor(1.0), scalar_tensor(2.0, {.dtype = DType::F64})}, 0);
  EXPECT_EQ(s.dtype(), DType::F64);
  EXPECT_EQ(vals(s), (V{1, 2}));
  expect_error<ShapeError>([] { stack({zeros({2, 3}), zeros({3, 2})}, 0); }, {"stack", "tensor 1", "[3, 2]", "[2, 3]"});
  expect_error<IndexError>([] { stack({zeros({2})}, 2); }, {"stack"});
}

// ---------------------------------------------------------------------------- split, chunk, unbind
TEST(Split, BySizeGivesViewsWithShorterLast) {
  Tensor x = ramp({5, 2});
  auto parts = split(x, 2, 0);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(vals(parts[0]), (V{0, 1, 2, 3}));
  EXPECT_EQ(vals(parts[2]), (V{8, 9}));
  EXPECT_TRUE(parts[1].shares_storage(x));
  auto cols = split(x, 5, -1);
  ASSERT_EQ(cols.size(), 1u);
  EXPECT_EQ(cols[0].shape(), Shape({5, 2}));
  ASSERT_EQ(split(zeros({0, 2}), 3, 0).size(), 1u);
  expect_error<ValueError>([&] { split(x, 0, 0); }, {"split", "positive"});
  expect_error<ShapeError>([] { split(scalar_tensor(1.0), 1, 0); }, {"split", "0-d"});
}

TEST(Split, BySizes) {
  Tensor x = ramp({2, 5});
  auto parts = split(x, std::vector<int64_t>{1, 0, 4}, 1);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(vals(parts[0]), (V{0, 5}));
  EXPECT_EQ(parts[1].shape(), Shape({2, 0}));
  EXPECT_EQ(vals(parts[2]), (V{1, 2, 3, 4, 6, 7, 8, 9}));
  expect_error<ValueError>([&] { split(x, std::vector<int64_t>{2, 2}, 1); }, {"split", "[2, 2]", "sum to 4", "size 5"});
  expect_error<ValueError>([&] { split(x, std::vector<int64_t>{6, -1}, 1); }, {"split", "non-negative"});
}

TEST(Chunk, FollowsPyTorchSizes) {
  auto sizes = [](const std::vector<Tensor>& ts) {
    std::vector<int64_t> s;
    for (const auto& t : ts) s.push_back(t.size(0));
    return s;
  };
  EXPECT_EQ(sizes(chunk(ramp({5}), 4)), (std::vector<int64_t>{2, 2, 1}));
  EXPECT_EQ(sizes(chunk(ramp({6}), 3)), (std::vector<int64_t>{2, 2, 2}));
  EXPECT_EQ(sizes(chunk(ramp({2}), 5)), (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(sizes(chunk(zeros({0}), 3)), (std::vector<int64_t>{0, 0, 0}));
  EXPECT_EQ(vals(chunk(ramp({2, 3}), 2, -1)[1]), (V{2, 5}));
  expect_error<ValueError>([] { chunk(ramp({4}), 0); }, {"chunk", "positive"});
}

TEST(Unbind, SelectsEverySlice) {
  Tensor x = ramp({2, 3});
  auto cols = unbind(x, 1);
  ASSERT_EQ(cols.size(), 3u);
  EXPECT_EQ(cols[2].shape(), Shape({2}));
  EXPECT_EQ(vals(cols[2]), (V{2, 5}));
  EXPECT_TRUE(cols[0].shares_storage(x));
  EXPECT_TRUE(unbind(zeros({0, 3}), 0).empty());
  expect_error<ShapeError>([] { unbind(scalar_tensor(1.0), 0); }, {"unbind", "0-d"});
}

// --------------------------------------------------------------------------------------- one_hot
TEST(OneHot, EncodesLabels) {
  Tensor y = one_hot(I({2, 0, 1, 2}, {2, 2}), 3);
  EXPECT_EQ(y.dtype(), DType::I64);
  EXPECT_EQ(y.shape(), Shape({2, 2, 3}));
  EXPECT_EQ(vals(y), (V{0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1}));
  EXPECT_EQ(one_hot(I({1, 3}).to(DType::I32), -1).shape(), Shape({2, 4}));  // inferred
  EXPECT_EQ(vals(one_hot(I({3, 0, 1}).slice(0, 0, 3, 2), 4)), (V{0, 0, 0, 1, 0, 1, 0, 0}));  // labels [3, 1]
  EXPECT_EQ(one_hot(I({}), 5).shape(), Shape({0, 5}));
  expect_error<IndexError>([] { one_hot(I({0, 3}), 3); }, {"one_hot", "class 3", "num_classes 3"});
  expect_error<IndexError>([] { one_hot(I({-1}), 3); }, {"one_hot", "class -1"});
  expect_error<DTypeError>([] { one_hot(F({1}), 3); }, {"one_hot", "f32"});
  expect_error<ValueError>([] { one_hot(I({}), -1); }, {"one_hot", "empty"});
}

// -------------------------------------------------------------------------------------- autograd
Tensor grad_of(const Tensor& leaf) { return leaf.grad(); }

TEST(IndexAutograd, IndexSelectCountsRepeats) {
  Tensor x = ramp({3, 2}).requires_grad_();
  Tensor y = index_select(x, 0, I({2, 0, 2}));
  EXPECT_EQ(y.grad_fn()->name(), "IndexSelectBackward");
  y.backward(ones({3, 2}));
  EXPECT_EQ(vals(grad_of(x)), (V{1, 1, 0, 0, 2, 2}));
}

TEST(IndexAutograd, GatherScattersBack) {
  Tensor x = ramp({2, 3}).requires_grad_();
  Tensor y = gather(x, 1, I({2, 2, 0, 1}, {2, 2}));
  EXPECT_EQ(y.grad_fn()->name(), "GatherBackward");
  y.backward(F({1, 2, 3, 4}, {2, 2}));
  EXPECT_EQ(vals(grad_of(x)), (V{0, 0, 3, 3, 4, 0}));
}

TEST(IndexAutograd, ScatterCutsOverwrittenGradient) {
  Tensor x = ramp({2, 3}).requires_grad_();
  Tensor src = F({5, 6, 7, 8}, {2, 2}).requires_grad_();
  Tensor y = scatter(x, 1, I({2, 0}, {2, 1}), src);
  EXPECT_EQ(y.grad_fn()->name(), "ScatterBackward");
  y.backward(ramp({2, 3}) + 1.0);  // [[1 2 3] [4 5 6]]
  EXPECT_EQ(vals(grad_of(x)), (V{1, 2, 0, 0, 5, 6}));
  EXPECT_EQ(vals(grad_of(src)), (V{3, 0, 4, 0}));  // src column 1 is not scattered
}

TEST(IndexAutograd, ScatterAddAndIndexAddPassGradientThrough) {
  Tensor x = zeros({3}).requires_grad_();
  Tensor src = ones({4}).requires_grad_();
  Tensor y = scatter_add(x, 0, I({1, 1, 2, 0}), src);
  EXPECT_EQ(y.grad_fn()->name(), "ScatterAddBackward");
  y.backward(F({10, 20, 30}));
  EXPECT_EQ(vals(grad_of(x)), (V{10, 20, 30}));
  EXPECT_EQ(vals(grad_of(src)), (V{20, 20, 30, 10}));

  Tensor a = zeros({3, 2}).requires_grad_();
  Tensor b = ones({2, 2}).requires_grad_();
  Tensor z = index_add(a, 0, I({2, 2}), b);
  EXPECT_EQ(z.grad_fn()->name(), "IndexAddBackward");
  z.backward(ramp({3, 2}));
  EXPECT_EQ(vals(grad_of(a)), (V{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(vals(grad_of(b)), (V{4, 5, 4, 5}));
}

TEST(IndexAutograd, MasksRouteGradient) {
  Tensor x = ramp({2, 2}).requires_grad_();
  Tensor m = tensor<bool>({true, false});
  Tensor y = masked_fill(x, m, 0.0);
  EXPECT_EQ(y.grad_fn()->name(), "MaskedFillBackward");
  y.backward(ones({2, 2}));
  EXPECT_EQ(vals(grad_of(x)), (V{0, 1, 0, 1}));

  Tensor v = F({1, 2}, {2, 1}).requires_grad_();
  Tensor s = masked_select(v, tensor<bool>({true, true, false, true}, {2, 2}));  // v broadcast to [2, 2]
  EXPECT_EQ(s.grad_fn()->name(), "MaskedSelectBackward");
  s.backward(F({1, 10, 100}));
  EXPECT_EQ(vals(grad_of(v)), (V{11, 100}));
}

TEST(IndexAutograd, CatAndStackSplitGradientInInputDTypes) {
  Tensor a = ones({2, 1}).requires_grad_();
  Tensor b = ones({2, 2}, {.dtype = DType::F64}).requires_grad_();
  Tensor k = ones({2, 1}, {.dtype = DType::I64});  // no gradient
  Tensor y = cat({a, k, b}, 1);
  EXPECT_EQ(y.grad_fn()->name(), "CatBackward");
  y.backward(ramp({2, 4}, DType::F64));
  EXPECT_EQ(grad_of(a).dtype(), DType::F32);
  EXPECT_EQ(vals(grad_of(a)), (V{0, 4}));
  EXPECT_EQ(vals(grad_of(b)), (V{2, 3, 6, 7}));

  Tensor p = zeros({2}).requires_grad_(), q = zeros({2}).requires_grad_();
  Tensor s = stack({p, q}, 1);
  EXPECT_EQ(s.grad_fn()->name(), "StackBackward");
  s.backward(ramp({2, 2}));
  EXPECT_EQ(vals(grad_of(p)), (V{0, 2}));
  EXPECT_EQ(vals(grad_of(q)), (V{1, 3}));
}

TEST(IndexAutograd, SplitPiecesAreDifferentiableViews) {
  Tensor x = zeros({5}).requires_grad_();
  auto parts = chunk(x, 2);
  ASSERT_EQ(parts.size(), 2u);
  (parts[1] * 3.0).backward(ones({2}));
  EXPECT_EQ(vals(grad_of(x)), (V{0, 0, 0, 3, 3}));
  auto rows = unbind(x, 0);
  (rows[1] * 5.0).backward();
  EXPECT_EQ(vals(grad_of(x)), (V{0, 5, 0, 3, 3}));
}

TEST(IndexAutograd, DoubleBackwardThroughIndexSelect) {
  Tensor x = F({1, 2, 3}).requires_grad_();
  Tensor y = index_select(x, 0, I({2, 0, 2}));
  Tensor g = autograd::grad({sum(y * y)}, {x}, {}, /*retain_graph=*/true, /*create_graph=*/true)[0];
  EXPECT_EQ(vals(g), (V{2, 0, 12}));  // 2 y summed into each row
  ASSERT_TRUE(g.requires_grad());
  sum(g).backward();
  EXPECT_EQ(vals(grad_of(x)), (V{2, 0, 4}));
}

TEST(IndexAutograd, IntegerInputsRecordNothing) {
  Tensor y = index_select(ramp({3}, DType::I64), 0, I({0}));
  EXPECT_EQ(y.grad_fn(), nullptr);
  Tensor x = ramp({3}).requires_grad_();
  Tensor z;
  {
    NoGradGuard ng;
    z = gather(x, 0, I({1}));
  }
  EXPECT_FALSE(z.requires_grad());
}

// --------------------------------------------------------------------------------- semantic types
const SemanticType kTestImage{"TestImage", nullptr};

TEST(IndexSemantics, ResultsKeepTheFirstSemanticInputsType) {
  Tensor img = ramp({2, 3});
  img.set_semantic(&kTestImage);
  Tensor plain = ramp({2, 3});
  EXPECT_EQ(index_select(img, 1, I({0})).semantic_type(), &kTestImage);
  EXPECT_EQ(gather(img, 1, I({0}, {1, 1})).semantic_type(), &kTestImage);
  EXPECT_EQ(scatter(plain, 1, I({0}, {1, 1}), img).semantic_type(), &kTestImage);
  EXPECT_EQ(masked_fill(img, tensor<bool>({true, false, true}), 0.0).semantic_type(), &kTestImage);
  EXPECT_EQ(cat({plain, img}, 0).semantic_type(), &kTestImage);
  EXPECT_EQ(stack({img, plain}, 0).semantic_type(), &kTestImage);
  EXPECT_EQ(split(img, 1, 0)[1].semantic_type(), &kTestImage);
  EXPECT_EQ(cat({plain, plain}, 0).semantic_type(), nullptr);
}

}  // namespace
}  // namespace strata
