// Random ops: reproducible from a seed, identical for any thread count, and distributed as
// promised (range, mean/variance, frequency); in-place fills of non-contiguous views.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "strata.h"
#include "support/expect_error.h"

namespace strata {
namespace {

class ThreadCount {
 public:
  explicit ThreadCount(int n) : saved_(get_num_threads()) { set_num_threads(n); }
  ~ThreadCount() { set_num_threads(saved_); }

 private:
  int saved_;
};

double mean_of(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0) / v.size(); }
double var_of(const std::vector<double>& v) {
  const double m = mean_of(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return s / (v.size() - 1);
}

TEST(Random, SameSeedSameValues) {
  manual_seed(123);
  auto a = randn({1000}).to_vector<float>();
  auto b = rand({7, 3}).to_vector<float>();
  manual_seed(123);
  EXPECT_EQ(randn({1000}).to_vector<float>(), a);
  EXPECT_EQ(rand({7, 3}).to_vector<float>(), b);
  EXPECT_EQ(initial_seed(), 123u);
  // Successive draws differ.
  EXPECT_NE(randn({1000}).to_vector<float>(), a);
  manual_seed(124);
  EXPECT_NE(randn({1000}).to_vector<float>(), a);
}

TEST(Random, ExplicitGeneratorsAreIndependentOfTheDefault) {
  Generator g1(9), g2(9);
  auto a = rand({100}, {}, &g1).to_vector<float>();
  manual_seed(1);
  (void)rand({50});  // moves the default generator only
  EXPECT_EQ(rand({100}, {}, &g2).to_vector<float>(), a);
  EXPECT_EQ(g1.offset(), g2.offset());
  EXPECT_EQ(g1.offset(), 25u) << "100 values use 25 Philox blocks";
}

TEST(Random, IdenticalForAnyThreadCount) {
  std::vector<float> one, two, four;
  std::vector<int64_t> p1, p2;
  for (int threads : {1, 2, 4}) {
    ThreadCount tc(threads);
    Generator g(77);
    auto r = randn({300001}, {}, &g).to_vector<float>();
    auto u = rand({100003}, {.dtype = DType::BF16}, &g).to_vector<float>();
    r.insert(r.end(), u.begin(), u.end());
    auto p = randperm(1000, {}, &g).to_vector<int64_t>();
    if (threads == 1) one = r, p1 = p;
    if (threads == 2) two = r, p2 = p;
    if (threads == 4) four = r;
  }
  EXPECT_EQ(one, two);
  EXPECT_EQ(one, four);
  EXPECT_EQ(p1, p2);
}

TEST(Random, RandIsInTheUnitInterval) {
  for (DType d : {DType::F32, DType::F64, DType::F16, DType::BF16}) {
    Generator g(5);
    auto v = rand({200000}, {.dtype = d}, &g).to_vector<double>();
    const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    EXPECT_GE(*lo, 0.0) << dtype_name(d);
    EXPECT_LT(*hi, 1.0) << dtype_name(d);
    EXPECT_GT(*hi, 0.99) << dtype_name(d);
    EXPECT_NEAR(mean_of(v), 0.5, 0.005) << dtype_name(d);
    EXPECT_NEAR(var_of(v), 1.0 / 12, 0.002) << dtype_name(d);
  }
}

TEST(Random, UniformRespectsItsBounds) {
  for (DType d : {DType::F32, DType::F16, DType::BF16}) {
    Tensor t = empty({100000}, {.dtype = d});
    Generator g(6);
    uniform_(t, 1.0, 2.0, &g);
    auto v = t.to_vector<double>();
    EXPECT_GE(*std::min_element(v.begin(), v.end()), 1.0) << dtype_name(d);
    EXPECT_LT(*std::max_element(v.begin(), v.end()), 2.0) << dtype_name(d);
    EXPECT_NEAR(mean_of(v), 1.5, 0.01) << dtype_name(d);
  }
}

TEST(Random, RandnMoments) {
  for (DType d : {DType::F32, DType::F64}) {
    Generator g(11);
    auto v = randn({100000}, {.dtype = d}, &g).to_vector<double>();
    EXPECT_NEAR(mean_of(v), 0.0, 0.015) << dtype_name(d);
    EXPECT_NEAR(var_of(v), 1.0, 0.02) << dtype_name(d);
    // About 68.3% within one standard deviation.
    const double within = std::count_if(v.begin(), v.end(), [](double x) { return std::fabs(x) < 1; }) / 1e5;
    EXPECT_NEAR(within, 0.6827, 0.01);
  }
  Tensor t = empty({100000}, {.dtype = DType::F64});
  Generator g(12);
  normal_(t, 3.0, 0.5, &g);
  auto v = t.to_vector<double>();
  EXPECT_NEAR(mean_of(v), 3.0, 0.01);
  EXPECT_NEAR(std::sqrt(var_of(v)), 0.5, 0.01);
}

TEST(Random, RandintRange) {
  Generator g(13);
  auto v = randint(-3, 4, {70000}, {}, &g).to_vector<int64_t>();
  std::vector<int> counts(7, 0);
  for (int64_t x : v) {
    ASSERT_GE(x, -3);
    ASSERT_LT(x, 4);
    ++counts[x + 3];
  }
  for (int c : counts) EXPECT_NEAR(c, 10000, 500);
  Tensor i32 = randint(0, 2, {5}, {.dtype = DType::I32}, &g);
  EXPECT_EQ(i32.dtype(), DType::I32);
  EXPECT_STRATA_ERROR(randint(3, 3, {1}), ValueError, {"randint", "high (3)", "low (3)"});
}

TEST(Random, RandpermIsAPermutation) {
  Generator g(14);
  for (int64_t n : {0, 1, 2, 17, 5000}) {
    auto p = randperm(n, {}, &g).to_vector<int64_t>();
    ASSERT_EQ(static_cast<int64_t>(p.size()), n);
    std::vector<int64_t> sorted = p;
    std::sort(sorted.begin(), sorted.end());
    std::vector<int64_t> want(n);
    std::iota(want.begin(), want.end(), 0);
    EXPECT_EQ(sorted, want);
    if (n == 5000) {
      EXPECT_NE(p, want) << "shuffled";
    }
  }
  // Every position is uniformly likely to hold 0.
  std::vector<int> where0(4, 0);
  for (int i = 0; i < 4000; ++i) {
    auto p = randperm(4, {}, &g).to_vector<int64_t>();
    ++where0[std::find(p.begin(), p.end(), 0) - p.begin()];
  }
  for (int c : where0) EXPECT_NEAR(c, 1000, 120);
  EXPECT_STRATA_ERROR(randperm(-1), ValueError, {"randperm", "-1"});
}

TEST(Random, BernoulliFrequency) {
  Generator g(15);
  Tensor p = full({100000}, 0.3);
  Tensor b = bernoulli(p, &g);
  EXPECT_EQ(b.dtype(), DType::F32);
  auto v = b.to_vector<double>();
  for (double x : v) ASSERT_TRUE(x == 0.0 || x == 1.0);
  EXPECT_NEAR(mean_of(v), 0.3, 0.01);
  // Per-element probabilities, including the certain ones, from a strided p.
  Tensor pp = tensor<double>({0.0, 9, 1.0, 9, 0.5, 9}).slice(0, 0, 6, 2);
  double sum2 = 0;
  for (int i = 0; i < 2000; ++i) {
    auto r = bernoulli(pp, &g).to_vector<double>();
    ASSERT_EQ(r[0], 0.0);
    ASSERT_EQ(r[1], 1.0);
    sum2 += r[2];
  }
  EXPECT_NEAR(sum2 / 2000, 0.5, 0.05);
  EXPECT_STRATA_ERROR(bernoulli(tensor<int64_t>({1})), DTypeError, {"bernoulli", "i64"});
}

TEST(Random, InPlaceFillsOfNonContiguousViews) {
  Tensor base = zeros({4, 6}, {.dtype = DType::F64});
  Tensor view = base.t().slice(0, 1, 6, 2);  // [3, 4], non-contiguous
  ASSERT_FALSE(view.is_contiguous());
  Generator g(16);
  uniform_(view, 5.0, 6.0, &g);
  auto b = base.to_vector<double>();
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 6; ++c) {
      const double x = b[r * 6 + c];
      if (c % 2 == 1) {
        EXPECT_GE(x, 5.0);
        EXPECT_LT(x, 6.0);
      } else {
        EXPECT_EQ(x, 0.0) << "outside the view";
      }
    }
  // The same draw as into a contiguous tensor of the view's shape.
  Generator g2(16);
  Tensor ref = empty({3, 4}, {.dtype = DType::F64});
  uniform_(ref, 5.0, 6.0, &g2);
  EXPECT_EQ(view.to_vector<double>(), ref.to_vector<double>());
  const uint32_t v0 = base.version();
  normal_(view, 0.0, 1.0, &g);
  EXPECT_GT(base.version(), v0);
  EXPECT_EQ(base.select(1, 0).to_vector<double>(), std::vector<double>(4, 0.0));
}

TEST(Random, Errors) {
  EXPECT_STRATA_ERROR(rand({2}, {.dtype = DType::I64}), DTypeError, {"rand", "i64"});
  EXPECT_STRATA_ERROR(randn({2}, {.dtype = DType::Bool}), DTypeError, {"randn", "bool"});
  Tensor i = zeros({2}, {.dtype = DType::I32});
  EXPECT_STRATA_ERROR(uniform_(i), DTypeError, {"uniform_", "i32"});
  Tensor f = zeros({2});
  EXPECT_STRATA_ERROR(normal_(f, 0.0, -1.0), ValueError, {"normal_", "std"});
  Tensor w = zeros({2}, {.requires_grad = true});
  EXPECT_STRATA_ERROR(normal_(w), AutogradError, {"normal_", "leaf"});
  NoGradGuard ng;
  normal_(w);
  EXPECT_NE(w.to_vector<float>(), std::vector<float>(2, 0.0f));
}

}  // namespace
}  // namespace strata
