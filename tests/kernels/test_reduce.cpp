// Tests for the reductions (tensor/ops/reduce.h, kernels/cpu/reduce*.cpp): values against hand-
// computed numbers and against a naive double-precision reference over every subset of dims, for
// contiguous, transposed, sliced and broadcast (stride-0) inputs, shapes that take the row engine,
// the column engine and the chunked paths; every dtype's accumulation rule; NaN, inf and ties;
// empty and 0-d inputs; bit-identical results for 1, 2 and 3 threads; the error messages; and the
// gradients that gradcheck cannot pin (ties, zeros).
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "kernels/cpu/parallel.h"
#include "strata.h"

namespace strata {
namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();
constexpr float fNaN = std::numeric_limits<float>::quiet_NaN();  // for tensor({...}) lists
constexpr float fInf = std::numeric_limits<float>::infinity();

// Runs fn, expects a strata error of type E whose message contains `needle`.
template <class E>
void expect_error(const std::function<void()>& fn, const std::string& needle) {
  try {
    fn();
    ADD_FAILURE() << "expected an error containing '" << needle << "'";
  } catch (const E& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << "message: " << e.what();
  } catch (const Error& e) {
    ADD_FAILURE() << "wrong error type, message: " << e.what();
  }
}

Tensor randn_t(const Shape& shape, uint64_t seed, DType dt = DType::F32) {
  Generator g(seed);
  return randn(shape, {.dtype = DType::F64}, &g).to(dt);
}

std::vector<double> values(const Tensor& t) { return t.to(DType::F64).to_vector<double>(); }

void expect_values(const Tensor& got, const std::vector<double>& want, double tol = 0) {
  const auto g = values(got);
  ASSERT_EQ(g.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    if (std::isnan(want[i])) {
      EXPECT_TRUE(std::isnan(g[i])) << "element " << i << ": got " << g[i] << ", want nan";
    } else if (std::isinf(want[i])) {
      EXPECT_EQ(g[i], want[i]) << "element " << i;
    } else {
      EXPECT_NEAR(g[i], want[i], tol * (1 + std::abs(want[i]))) << "element " << i;
    }
  }
}

// Sums are checked against their conditioning: |got - want| <= tol * sum |x_i| per output.
void expect_sums(const Tensor& got, const std::vector<double>& want, const std::vector<double>& l1, double tol) {
  const auto g = values(got);
  ASSERT_EQ(g.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_NEAR(g[i], want[i], tol * l1[i] + 1e-300) << "element " << i;
}

// ---- a naive reference: reduces x (any layout) over `dims` with double accumulation ----

struct RefOut {
  Shape keep_shape;
  std::vector<std::vector<double>> groups;  // the elements of each output, in row-major order
};

RefOut group_by_output(const Tensor& x, const std::vector<int64_t>& dims) {
  const int64_t nd = x.dim();
  std::vector<bool> red(nd, dims.empty());
  for (int64_t d : dims) red[d < 0 ? d + nd : d] = true;
  RefOut r;
  for (int64_t d = 0; d < nd; ++d) r.keep_shape.push_back(red[d] ? 1 : x.size(d));
  r.groups.resize(r.keep_shape.numel());
  const auto v = values(x);
  const Strides ks = contiguous_strides(r.keep_shape);
  std::vector<int64_t> idx(nd, 0);
  for (size_t i = 0; i < v.size(); ++i) {
    int64_t o = 0;
    for (int64_t d = 0; d < nd; ++d)
      if (!red[d]) o += idx[d] * ks[d];
    r.groups[o].push_back(v[i]);
    for (int64_t d = nd - 1; d >= 0; --d) {
      if (++idx[d] < x.size(d)) break;
      idx[d] = 0;
    }
  }
  return r;
}

std::vector<double> reference(const Tensor& x, const std::vector<int64_t>& dims,
                              const std::function<double(const std::vector<double>&)>& f) {
  std::vector<double> out;
  for (const auto& g : group_by_output(x, dims).groups) out.push_back(f(g));
  return out;
}

double ref_sum(const std::vector<double>& g) {
  double s = 0;
  for (double v : g) s += v;
  return s;
}
double ref_l1(const std::vector<double>& g) {
  double s = 0;
  for (double v : g) s += std::abs(v);
  return s;
}
double ref_l1_mean(const std::vector<double>& g) { return ref_l1(g) / static_cast<double>(g.size()); }
double ref_mean(const std::vector<double>& g) { return ref_sum(g) / static_cast<double>(g.size()); }
double ref_var(const std::vector<double>& g, double correction) {
  const double m = ref_mean(g);
  double s = 0;
  for (double v : g) s += (v - m) * (v - m);
  return s / std::max(0.0, static_cast<double>(g.size()) - correction);
}
double ref_max(const std::vector<double>& g) {
  double m = -kInf;
  for (double v : g) {
    if (std::isnan(v)) return v;
    m = std::max(m, v);
  }
  return m;
}
double ref_lse(const std::vector<double>& g) {
  const double m = ref_max(g);
  double s = 0;
  for (double v : g) s += std::exp(v - m);
  return std::log(s) + m;
}

// Every subset of the dims of a rank-n tensor (the empty list means all dims, so it is covered).
std::vector<std::vector<int64_t>> dim_subsets(int64_t n) {
  std::vector<std::vector<int64_t>> out;
  for (int64_t mask = 1; mask < (1 << n); ++mask) {
    std::vector<int64_t> dims;
    for (int64_t d = 0; d < n; ++d)
      if (mask & (1 << d)) dims.push_back(d);
    out.push_back(dims);
  }
  return out;
}

// Inputs with different layouts: contiguous, permuted, sliced with a step, broadcast.
std::vector<std::pair<std::string, Tensor>> layouts(DType dt) {
  return {
      {"contiguous", randn_t({3, 4, 5}, 1, dt)},
      {"permuted", randn_t({5, 3, 4}, 2, dt).permute({1, 2, 0})},
      {"sliced", randn_t({6, 4, 10}, 3, dt).slice(0, 1, 6, 2).slice(2, 0, 10, 2)},
      {"broadcast", randn_t({3, 1, 5}, 4, dt).expand({3, 4, 5})},
      // Kept runs of 8 or more take the column engine when an outer dim is reduced.
      {"wide", randn_t({3, 4, 40}, 16, dt)},
      {"wide_permuted", randn_t({40, 3, 9}, 17, dt).permute({1, 2, 0})},
      {"wide_sliced", randn_t({3, 5, 90}, 18, dt).slice(2, 0, 90, 1).slice(1, 1, 5)},
  };
}

// ---- sum / mean against the reference ----

TEST(ReduceSum, HandComputedValues) {
  Tensor x = tensor({1, 2, 3, 4, 5, 6}, {2, 3});
  expect_values(sum(x), {21});
  expect_values(sum(x, {0}), {5, 7, 9});
  expect_values(sum(x, {1}), {6, 15});
  EXPECT_EQ(sum(x, {-1}, true).shape(), Shape({2, 1}));
  EXPECT_EQ(sum(x, {0, 1}).shape(), Shape({}));
  EXPECT_EQ(sum(x, {}, true).shape(), Shape({1, 1}));
  expect_values(mean(x, {1}), {2, 5});
  expect_values(mean(x), {3.5});
}

TEST(ReduceSum, EveryDimSubsetAndLayoutMatchesReference) {
  for (DType dt : {DType::F32, DType::F64}) {
    const double tol = dt == DType::F32 ? 1e-6 : 1e-13;
    for (auto& [name, x] : layouts(dt)) {
      for (const auto& dims : dim_subsets(3)) {
        for (bool keepdim : {false, true}) {
          SCOPED_TRACE(name + " dims size " + std::to_string(dims.size()) + " first " + std::to_string(dims[0]) +
                       (keepdim ? " keepdim" : "") + " " + std::string(dtype_name(dt)));
          Tensor s = sum(x, dims, keepdim);
          Tensor m = mean(x, dims, keepdim);
          EXPECT_EQ(s.dtype(), dt);
          if (keepdim) {
            EXPECT_EQ(s.shape(), group_by_output(x, dims).keep_shape);
          }
          expect_sums(s, reference(x, dims, ref_sum), reference(x, dims, ref_l1), tol);
          expect_sums(m, reference(x, dims, ref_mean), reference(x, dims, ref_l1_mean), tol);
        }
      }
    }
  }
}

TEST(ReduceSum, NegativeDimsMatchPositive) {
  Tensor x = randn_t({3, 4, 5}, 5);
  expect_values(sum(x, {-1, -3}), values(sum(x, {0, 2})));
  expect_values(amax(x, {-2}), values(amax(x, {1})));
}

// Shapes large enough for the chunked paths: many chunks per output in the row engine, several
// row chunks in the column engine, tiles narrower than the kept width.
TEST(ReduceSum, LargeShapesTakeChunkedPathsAndMatchReference) {
  struct Case {
    Shape shape;
    std::vector<int64_t> dims;
  };
  for (const Case& c : std::vector<Case>{{{3, 40000}, {1}},
                                         {{100000, 3}, {0}},
                                         {{300, 1000}, {0}},
                                         {{7, 50000}, {0}},
                                         {{5, 9, 7000}, {0, 2}},
                                         {{70000}, {}}}) {
    Tensor x = randn_t(c.shape, 6);
    SCOPED_TRACE(c.shape.str());
    expect_sums(sum(x, c.dims), reference(x, c.dims, ref_sum), reference(x, c.dims, ref_l1), 1e-6);
    expect_values(amax(x, c.dims), reference(x, c.dims, ref_max), 0);
    expect_values(var(x, c.dims), reference(x, c.dims, [](const auto& g) { return ref_var(g, 1); }), 2e-6);
    expect_values(logsumexp(x, c.dims), reference(x, c.dims, ref_lse), 2e-6);
  }
}

TEST(ReduceSum, F32SumOfTenMillionIsAccurate) {
  const int64_t n = 10'000'000;
  Tensor x = full({n}, 0.1);
  const double want = static_cast<double>(n) * static_cast<double>(0.1f);
  EXPECT_NEAR(sum(x).item(), want, 1e-6 * want);
  EXPECT_NEAR(mean(x).item(), static_cast<double>(0.1f), 1e-6 * 0.1);
  // Column sums of the same data: [n / 10, 10] over dim 0.
  auto cols = values(sum(x.view({n / 10, 10}), {0}));
  for (double c : cols) EXPECT_NEAR(c, want / 10, 1e-6 * want / 10);
}

TEST(ReduceSum, ResultsAreIdenticalForAnyThreadCount) {
  const int saved = get_num_threads();
  std::vector<std::function<Tensor()>> ops;
  Tensor big = randn_t({1 << 20}, 7);
  Tensor mat = randn_t({1000, 1000}, 8);
  Tensor tall = randn_t({200000, 3}, 9);
  ops.push_back([&] { return sum(big); });
  ops.push_back([&] { return mean(mat, {0}); });
  ops.push_back([&] { return sum(mat, {1}); });
  ops.push_back([&] { return sum(tall, {0}); });
  ops.push_back([&] { return var(big); });
  ops.push_back([&] { return logsumexp(mat, {0}); });
  ops.push_back([&] { return logsumexp(big, {}); });
  ops.push_back([&] { return norm(tall, 2.0, {0}); });
  ops.push_back([&] { return argmax(big).to(DType::F64); });
  ops.push_back([&] { return cumsum(mat, 0); });
  for (size_t i = 0; i < ops.size(); ++i) {
    set_num_threads(1);
    const auto one = values(ops[i]());
    for (int t : {2, 3}) {
      set_num_threads(t);
      EXPECT_EQ(values(ops[i]()), one) << "op " << i << " with " << t << " threads";
    }
  }
  set_num_threads(saved);
}

// ---- dtypes ----

TEST(ReduceDTypes, IntegerAndBoolSumsAndProductsAreI64) {
  Tensor u8 = full({1000}, 200.0, {.dtype = DType::U8});
  EXPECT_EQ(sum(u8).dtype(), DType::I64);
  EXPECT_EQ(sum(u8).item<int64_t>(), 200000);
  Tensor i32 = tensor<int32_t>({100000, 100000, -3}, {3});
  EXPECT_EQ(sum(i32).item<int64_t>(), 199997);
  EXPECT_EQ(prod(i32).dtype(), DType::I64);
  EXPECT_EQ(prod(i32).item<int64_t>(), -30000000000);
  Tensor i64 = tensor<int64_t>({int64_t{1} << 40, 3, 5, 7}, {2, 2});
  expect_values(sum(i64, {1}), {static_cast<double>((int64_t{1} << 40) + 3), 12});
  Tensor b = tensor<bool>({true, false, true, true, true, false}, {2, 3});
  EXPECT_EQ(sum(b).dtype(), DType::I64);
  expect_values(sum(b, {1}), {2, 2});
  expect_values(prod(b, {0}), {1, 0, 0});
  EXPECT_EQ(amax(i32).dtype(), DType::I32);
  EXPECT_EQ(amax(i32).item<int64_t>(), 100000);
  EXPECT_EQ(amin(u8).item<int64_t>(), 200);
  EXPECT_EQ(amax(b).dtype(), DType::Bool);
  expect_values(amin(b, {0}), {1, 0, 0});
}

TEST(ReduceDTypes, HalfPrecisionAccumulatesInFloat) {
  // Accumulating in f16 would stop at 2048 (2048 + 1 rounds back to 2048); bf16 at 256.
  Tensor h = ones({4096}, {.dtype = DType::F16});
  EXPECT_EQ(sum(h).dtype(), DType::F16);
  EXPECT_EQ(sum(h).item(), 4096);
  EXPECT_EQ(mean(h).item(), 1);
  Tensor bf = ones({1000}, {.dtype = DType::BF16});
  EXPECT_EQ(sum(bf).dtype(), DType::BF16);
  EXPECT_EQ(sum(bf).item(), 1000);
  Tensor x = randn_t({6, 7}, 10, DType::BF16);
  expect_values(amax(x, {1}), reference(x, {1}, ref_max), 0);
  expect_values(logsumexp(x, {0}), values(logsumexp(x.to(DType::F32), {0}).to(DType::BF16)), 0);
  auto [v, i] = max(x, 0);
  EXPECT_EQ(v.dtype(), DType::BF16);
  expect_values(i, values(argmax(x.to(DType::F32), 0)));
}

TEST(ReduceDTypes, FloatingOnlyOpsRejectIntegers) {
  Tensor i = tensor<int64_t>({1, 2, 3}, {3});
  expect_error<DTypeError>([&] { mean(i); }, "mean: expected a floating input, got dtype i64");
  expect_error<DTypeError>([&] { var(i); }, "var:");
  expect_error<DTypeError>([&] { std(i); }, "std:");
  expect_error<DTypeError>([&] { logsumexp(i, {0}); }, "logsumexp:");
  expect_error<DTypeError>([&] { norm(i); }, "norm:");
}

// ---- max / min / argmax ----

TEST(ReduceMax, NaNPropagates) {
  Tensor x = tensor({1, fNaN, 3, 2, 5, 4}, {2, 3});
  expect_values(amax(x), {kNaN});
  expect_values(amax(x, {1}), {kNaN, 5});
  expect_values(amin(x, {0}), {1, kNaN, 3});
  auto [v, i] = max(x, 1);
  expect_values(v, {kNaN, 5});
  expect_values(i, {1, 1});
  expect_values(argmin(x, 1), {1, 0});
  // Long rows take the vectorized two-pass path; columns the vertical one.
  Tensor row = randn_t({3, 200}, 11);
  row.select(0, 1).select(0, 150).fill_(kNaN);
  row.select(0, 1).select(0, 170).fill_(kNaN);
  expect_values(argmax(row, 1).select(0, 1), {150});
  expect_values(amax(row, {1}).select(0, 1), {kNaN});
  Tensor col = row.t().contiguous();
  expect_values(argmax(col, 0).select(0, 1), {150});
  expect_values(amax(col, {0}).select(0, 1), {kNaN});
}

TEST(ReduceMax, FirstOccurrenceWinsTies) {
  expect_values(argmax(tensor({3, 7, 7, 1})), {1});
  expect_values(argmin(tensor({2, 1, 5, 1}), 0), {1});
  Tensor cols = tensor({1, 5, 2, 5, 5, 0, 5, 1, 2}, {3, 3});  // column 0: 1 5 5 -> index 1
  expect_values(argmax(cols, 0), {1, 0, 0});
  expect_values(argmin(cols, 0), {0, 2, 1});
  // A long row (vectorized search) and a row longer than one chunk (65536): ties across chunks.
  Tensor longrow = zeros({200000});
  longrow.slice(0, 70000, 70001).fill_(9);
  longrow.slice(0, 150000, 150001).fill_(9);
  longrow.slice(0, 100, 101).fill_(-9);
  longrow.slice(0, 190000, 190001).fill_(-9);
  expect_values(argmax(longrow), {70000});
  expect_values(argmin(longrow, 0), {100});
  auto [v, i] = max(longrow, 0);
  expect_values(v, {9});
  expect_values(i, {70000});
}

TEST(ReduceMax, ValuesAndIndicesAlongDims) {
  Tensor x = tensor({4, 9, 2, 7, 1, 8}, {2, 3});
  auto [v0, i0] = max(x, 0);
  expect_values(v0, {7, 9, 8});
  expect_values(i0, {1, 0, 1});
  auto [v1, i1] = min(x, -1, true);
  EXPECT_EQ(v1.shape(), Shape({2, 1}));
  expect_values(v1, {2, 1});
  expect_values(i1, {2, 1});
  EXPECT_EQ(i1.dtype(), DType::I64);
  expect_values(max(x), {9});
  expect_values(min(x.t()), {1});
}

TEST(ReduceMax, ArgmaxOverTransposedInputUsesLogicalOrder) {
  Tensor x = tensor({4, 9, 2, 7, 1, 8}, {2, 3});
  // x.t() is [[4, 7], [9, 1], [2, 8]]; flattened row-major: 4 7 9 1 2 8 -> max 9 at 2.
  expect_values(argmax(x.t()), {2});
  expect_values(argmax(x.t(), 1), {1, 0, 1});
}

// ---- var / std ----

TEST(ReduceVar, HandComputedValuesAndCorrection) {
  Tensor x = tensor({1, 2, 3, 4});
  expect_values(var(x), {5.0 / 3.0}, 1e-6);
  expect_values(var(x, {}, 0), {1.25}, 1e-6);
  expect_values(var(x, {}, 2), {2.5}, 1e-6);
  expect_values(std(x), {std::sqrt(5.0 / 3.0)}, 1e-6);
  expect_values(std(x, {0}, 0, true), {std::sqrt(1.25)}, 1e-6);
  expect_values(var(tensor({3})), {kNaN});      // n - correction = 0
  expect_values(var(tensor({3}), {}, 0), {0});
  Tensor m = tensor({1, 2, 3, 4, 6, 8}, {2, 3});
  expect_values(var(m, {1}), {1, 4}, 1e-6);
  expect_values(var(m, {0}, 0), {2.25, 4, 6.25}, 1e-6);
}

TEST(ReduceVar, TwoPassIsStableForALargeMean) {
  // One-pass E[x^2] - E[x]^2 in f32 loses everything here; centring first does not.
  Tensor x = tensor({10000.0, 10001.0, 10002.0, 10003.0});
  expect_values(var(x), {5.0 / 3.0}, 1e-5);
  Tensor col = x.view({4, 1}).expand({4, 300}).contiguous();
  for (double v : values(var(col, {0}))) EXPECT_NEAR(v, 5.0 / 3.0, 1e-4);
}

TEST(ReduceVar, EveryDimSubsetMatchesReference) {
  for (auto& [name, x] : layouts(DType::F64)) {
    for (const auto& dims : dim_subsets(3)) {
      SCOPED_TRACE(name);
      expect_values(var(x, dims, 1), reference(x, dims, [](const auto& g) { return ref_var(g, 1); }), 1e-12);
      expect_values(std(x, dims, 0), reference(x, dims, [](const auto& g) { return std::sqrt(ref_var(g, 0)); }),
                    1e-12);
    }
  }
}

// ---- logsumexp ----

TEST(ReduceLogsumexp, HandComputedAndExtremeValues) {
  expect_values(logsumexp(tensor({1, 2, 3}), {0}), {3 + std::log(1 + std::exp(-1.0) + std::exp(-2.0))}, 1e-6);
  expect_values(logsumexp(tensor({1000, 1000}), {0}), {1000 + std::log(2.0)}, 1e-6);
  expect_values(logsumexp(tensor({-1000, -1000}), {0}), {-1000 + std::log(2.0)}, 1e-6);
  expect_values(logsumexp(tensor({-fInf, -fInf}), {0}), {-kInf});
  expect_values(logsumexp(tensor({1, fInf, 2}), {0}), {kInf});
  expect_values(logsumexp(tensor({1, fNaN, 2}), {0}), {kNaN});
  expect_values(logsumexp(tensor({-fInf, 0}), {0}), {0});
  // The same through the column engine and a row long enough for the vector loop.
  Tensor cols = tensor({-fInf, 1, 1000, -fInf, fInf, 1000}, {2, 3});
  expect_values(logsumexp(cols, {0}), {-kInf, kInf, 1000 + std::log(2.0)}, 1e-6);
  Tensor rows = full({2, 100}, -kInf);
  rows.select(0, 1).fill_(0.5);
  expect_values(logsumexp(rows, {1}), {-kInf, 0.5 + std::log(100.0)}, 1e-6);
}

TEST(ReduceLogsumexp, VectorExpIsAccurateAcrossItsRange) {
  // Rows spanning exp's range (after subtracting the max): [-100, 0] and mixed signs.
  Tensor x = linspace(-100, 20, 4096).view({4, 1024});
  expect_values(logsumexp(x, {1}), reference(x, {1}, ref_lse), 1e-6);
  Tensor y = randn_t({64, 333}, 12) * 30.0;
  expect_values(logsumexp(y, {1}), reference(y, {1}, ref_lse), 1e-6);
  expect_values(logsumexp(y, {0}), reference(y, {0}, ref_lse), 1e-6);
}

// ---- norm ----

TEST(ReduceNorm, HandComputedValues) {
  Tensor x = tensor({3, -4, 0});
  expect_values(norm(x), {5}, 1e-6);
  expect_values(norm(x, 1.0), {7}, 1e-6);
  expect_values(norm(x, kInf), {4});
  expect_values(norm(x, -kInf), {0});
  expect_values(norm(x, 0.0), {2});
  expect_values(norm(x, 3.0), {std::cbrt(27.0 + 64.0)}, 1e-6);
  Tensor m = tensor({3, 4, 6, 8}, {2, 2});
  expect_values(norm(m, 2.0, {1}), {5, 10}, 1e-6);
  expect_values(norm(m, 2.0, {0}, true), {std::sqrt(45.0), std::sqrt(80.0)}, 1e-6);
  expect_values(norm(zeros({0})), {0});
  expect_error<IndexError>([] { norm(zeros({0}), kInf); }, "norm:");
}

// ---- any / all ----

TEST(ReduceAnyAll, BoolAndNumericInputs) {
  Tensor b = tensor<bool>({false, false, true, true, true, true}, {2, 3});
  expect_values(any(b, {1}), {1, 1});
  expect_values(all(b, {1}), {0, 1});
  expect_values(all(b, {0}), {0, 0, 1});
  expect_values(any(b.slice(1, 0, 2), {1}), {0, 1});
  expect_values(all(b), {0});
  EXPECT_EQ(any(b).dtype(), DType::Bool);
  expect_values(any(tensor({0, 0, fNaN})), {1});  // NaN is non-zero
  expect_values(all(tensor({1, -2, 0.5})), {1});
  expect_values(all(tensor<int64_t>({1, 0, 3}, {3})), {0});
  expect_values(any(zeros({0})), {0});
  expect_values(all(zeros({0})), {1});
  Tensor big = zeros({3, 1000}, {.dtype = DType::Bool});
  big.select(0, 1).select(0, 999).fill_(1);
  expect_values(any(big, {1}), {0, 1, 0});
  expect_values(any(big.t(), {0}), {0, 1, 0});
}

// ---- cumsum ----

TEST(ReduceCumsum, ValuesDTypesAndLayouts) {
  expect_values(cumsum(tensor({1, 2, 3, 4}), 0), {1, 3, 6, 10});
  Tensor m = tensor({1, 2, 3, 4, 5, 6}, {2, 3});
  expect_values(cumsum(m, 0), {1, 2, 3, 5, 7, 9});
  expect_values(cumsum(m, -1), {1, 3, 6, 4, 9, 15});
  expect_values(cumsum(m.t(), 1), {1, 5, 2, 7, 3, 9});
  Tensor b = tensor<bool>({true, true, false, true}, {4});
  EXPECT_EQ(cumsum(b, 0).dtype(), DType::I64);
  expect_values(cumsum(b, 0), {1, 2, 2, 3});
  EXPECT_EQ(cumsum(tensor<int32_t>({1, 2}, {2}), 0).dtype(), DType::I64);
  Tensor s = scalar_tensor(2.5);
  EXPECT_EQ(cumsum(s, 0).shape(), Shape({}));
  expect_values(cumsum(s, -1), {2.5});
  EXPECT_EQ(cumsum(zeros({0, 3}), 1).shape(), Shape({0, 3}));
  // f32 accumulates in double: a million 0.1f ends at the float nearest to 1e6 * 0.1f.
  Tensor x = full({1'000'000}, 0.1);
  EXPECT_EQ(cumsum(x, 0).select(0, 999'999).item<float>(), static_cast<float>(1e6 * static_cast<double>(0.1f)));
}

// ---- empty and 0-d ----

TEST(ReduceEmpty, IdentitiesAndErrors) {
  Tensor e = zeros({0, 3});
  EXPECT_EQ(sum(e, {0}).shape(), Shape({3}));
  expect_values(sum(e, {0}), {0, 0, 0});
  expect_values(sum(e), {0});
  expect_values(prod(e, {0}), {1, 1, 1});
  expect_values(mean(e), {kNaN});
  expect_values(var(e, {0}), {kNaN, kNaN, kNaN});
  expect_values(logsumexp(e, {0}), {-kInf, -kInf, -kInf});
  EXPECT_EQ(sum(e, {1}).shape(), Shape({0}));
  EXPECT_EQ(amax(e, {1}).shape(), Shape({0}));  // nothing is reduced over an empty extent
  expect_error<IndexError>([&] { amax(e, {0}); }, "amax: cannot reduce over dim 0 of size 0 (shape [0, 3])");
  expect_error<IndexError>([&] { amin(e); }, "amin:");
  expect_error<IndexError>([&] { max(e); }, "max: the tensor is empty (shape [0, 3])");
  expect_error<IndexError>([&] { min(e); }, "min:");
  expect_error<IndexError>([&] { argmax(e); }, "argmax:");
  expect_error<IndexError>([&] { max(e, 0); }, "max: cannot reduce over dim 0 of size 0");
  expect_error<IndexError>([&] { argmin(e, 0); }, "argmin:");
  EXPECT_EQ(max(e, 1).first.shape(), Shape({0}));
}

TEST(ReduceZeroDim, ScalarsReduceToScalars) {
  Tensor s = scalar_tensor(4.0);
  EXPECT_EQ(sum(s).shape(), Shape({}));
  expect_values(sum(s, {0}), {4});
  expect_values(sum(s, {-1}, true), {4});
  EXPECT_EQ(sum(s, {0}, true).shape(), Shape({}));
  expect_values(mean(s), {4});
  expect_values(amax(s), {4});
  expect_values(var(s, {}, 0), {0});
  expect_values(logsumexp(s, {0}), {4});
  auto [v, i] = max(s, 0);
  EXPECT_EQ(v.shape(), Shape({}));
  expect_values(i, {0});
  expect_values(argmax(s), {0});
  expect_error<IndexError>([&] { sum(s, {1}); }, "sum: dim 1 is out of range for a tensor with 0 dims");
}

TEST(ReduceErrors, DimsAreChecked) {
  Tensor x = zeros({2, 3});
  expect_error<IndexError>([&] { sum(x, {2}); }, "sum: dim 2 is out of range");
  expect_error<IndexError>([&] { mean(x, {-3}); }, "mean: dim -3 is out of range");
  expect_error<IndexError>([&] { sum(x, {1, -1}); }, "sum: dim -1 appears more than once in the list of dims");
  expect_error<IndexError>([&] { max(x, 5); }, "max: dim 5 is out of range");
  expect_error<IndexError>([&] { cumsum(x, 2); }, "cumsum: dim 2 is out of range");
  expect_error<ValueError>([&] { sum(Tensor()); }, "sum: input is an undefined tensor");
}

// ---- semantic types survive reductions (fastai's rule: the first input's type) ----

TEST(ReduceSemantics, ResultsKeepTheInputsSemanticType) {
  Tensor img = cast<TensorImage>(randn_t({2, 3, 4}, 19));
  EXPECT_EQ(sum(img, {0}).semantic_type(), TensorImage::type());
  EXPECT_EQ(amax(img).semantic_type(), TensorImage::type());
  EXPECT_EQ(max(img, 1).first.semantic_type(), TensorImage::type());
  EXPECT_EQ(cumsum(img, 2).semantic_type(), TensorImage::type());
  EXPECT_EQ(sum(randn_t({2}, 20)).semantic_type(), nullptr);
}

// ---- gradients gradcheck cannot pin ----

TEST(ReduceGrad, TiesShareTheGradientEqually) {
  Tensor x = tensor({1, 5, 5, 5, 2}).requires_grad_();
  amax(x).backward();
  expect_values(x.grad(), {0, 1.0 / 3, 1.0 / 3, 1.0 / 3, 0}, 1e-7);
  Tensor y = tensor({1, 5, 5, 5, 2}).requires_grad_();
  max(y).backward();
  expect_values(y.grad(), {0, 1.0 / 3, 1.0 / 3, 1.0 / 3, 0}, 1e-7);
}

TEST(ReduceGrad, MaxAlongDimRoutesToTheIndex) {
  Tensor x = tensor({1, 5, 5, 3, 0, 3}, {2, 3}).requires_grad_();
  auto [v, i] = max(x, 1);
  sum(v * tensor({2, 3})).backward();
  expect_values(x.grad(), {0, 2, 0, 3, 0, 0});
}

TEST(ReduceGrad, ProdWithZeros) {
  Tensor x = tensor({2, 0, 3, 0, 0, 4, 5, 6, 7}, {3, 3}).requires_grad_();
  sum(prod(x, {1})).backward();
  // Row 0 (one zero): only the zero gets 2 * 3. Row 1 (two zeros): nothing. Row 2: prod / x.
  expect_values(x.grad(), {0, 6, 0, 0, 0, 0, 42, 35, 30}, 1e-6);
}

TEST(ReduceGrad, StdAndNormAtZeroHaveZeroSubgradient) {
  Tensor x = full({4}, 3.0).requires_grad_();
  std(x).backward();
  expect_values(x.grad(), {0, 0, 0, 0});
  Tensor z = zeros({3}).requires_grad_();
  norm(z).backward();
  expect_values(z.grad(), {0, 0, 0});
}

TEST(ReduceGrad, CumsumBackwardIsReverseCumsum) {
  Tensor x = tensor({1, 2, 3, 4}).requires_grad_();
  sum(cumsum(x, 0) * tensor({1, 10, 100, 1000})).backward();
  expect_values(x.grad(), {1111, 1110, 1100, 1000});
  Tensor m = randn_t({3, 4}, 13).requires_grad_();
  sum(cumsum(m, 0)).backward();
  expect_values(m.grad(), {3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1});
}

TEST(ReduceGrad, SumAndMeanSpreadTheGradient) {
  Tensor x = randn_t({2, 3, 4}, 14).requires_grad_();
  sum(sum(x, {0, 2}) * tensor({1, 2, 3})).backward();
  auto g = values(x.grad());
  for (size_t i = 0; i < g.size(); ++i) EXPECT_EQ(g[i], static_cast<double>((i / 4) % 3 + 1));
  Tensor y = randn_t({2, 5}, 15).requires_grad_();
  mean(y).backward();
  for (double v : values(y.grad())) EXPECT_NEAR(v, 0.1, 1e-7);
}

}  // namespace
}  // namespace strata
