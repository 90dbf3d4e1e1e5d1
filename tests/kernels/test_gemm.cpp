// Tests for the CPU GEMM kernels (kernels/cpu/gemm.h) against the Eigen reference.
//
// Every case is run on each instruction-set path this CPU supports (avx512 / avx2 / generic,
// forced with gemm_force_isa) and with 1 and 2 threads. Shapes are chosen to hit the blocking
// edges: 1x1x1, primes, sizes just past the micro-tile (MR = 4/6/12, NR = 8/16/32) and the
// k block (256), the in-place (no packing) paths for small m or n, and sub-matrices (ld > width).
// Tolerance: |C - C_ref| <= 8 * sqrt(k + 1) * eps * (|alpha| * sum_p |a_ip b_pj| + |beta c_ij|),
// a bound on the rounding of two different summation orders; a wrong index or a lost k term
// is orders of magnitude larger.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu/gemm.h"
#include "kernels/cpu/parallel.h"
#include "tensor/error.h"

namespace strata::kernels::cpu {
namespace {

template <class T>
struct Ops;
template <>
struct Ops<float> {
  static void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                   int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
    gemm_f32(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }
  static void reference(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha,
                        const float* a, int64_t lda, const float* b, int64_t ldb, float beta,
                        float* c, int64_t ldc) {
    gemm_reference_f32(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }
  static void batched(bool ta, bool tb, int64_t batch, int64_t m, int64_t n, int64_t k, float alpha,
                      const float* a, int64_t lda, int64_t sa, const float* b, int64_t ldb,
                      int64_t sb, float beta, float* c, int64_t ldc, int64_t sc) {
    gemm_batched_f32(ta, tb, batch, m, n, k, alpha, a, lda, sa, b, ldb, sb, beta, c, ldc, sc);
  }
};
template <>
struct Ops<double> {
  static void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const double* a,
                   int64_t lda, const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
    gemm_f64(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }
  static void reference(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha,
                        const double* a, int64_t lda, const double* b, int64_t ldb, double beta,
                        double* c, int64_t ldc) {
    gemm_reference_f64(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }
  static void batched(bool ta, bool tb, int64_t batch, int64_t m, int64_t n, int64_t k,
                      double alpha, const double* a, int64_t lda, int64_t sa, const double* b,
                      int64_t ldb, int64_t sb, double beta, double* c, int64_t ldc, int64_t sc) {
    gemm_batched_f64(ta, tb, batch, m, n, k, alpha, a, lda, sa, b, ldb, sb, beta, c, ldc, sc);
  }
};

template <class T>
std::vector<T> random_values(int64_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  std::vector<T> v(static_cast<size_t>(count));
  for (auto& x : v) x = static_cast<T>(dist(rng));
  return v;
}

struct Case {
  bool ta = false, tb = false;
  int64_t m = 1, n = 1, k = 1;
  double alpha = 1.0, beta = 0.0;
  int64_t pad_a = 0, pad_b = 0, pad_c = 0;  // ld = row width + pad
  bool nan_in_c = false;                    // fill C with NaN (only sensible with beta == 0)
};

std::string describe(const Case& c) {
  return "ta=" + std::to_string(c.ta) + " tb=" + std::to_string(c.tb) + " m=" + std::to_string(c.m) +
         " n=" + std::to_string(c.n) + " k=" + std::to_string(c.k) + " alpha=" + std::to_string(c.alpha) +
         " beta=" + std::to_string(c.beta) + " pads=" + std::to_string(c.pad_a) + "," +
         std::to_string(c.pad_b) + "," + std::to_string(c.pad_c);
}

// Runs one case through gemm and the reference and compares every element of C (and checks that
// the padding between rows of C is untouched). Returns the number of mismatches.
template <class T>
int64_t run_case(const Case& cs, uint32_t seed = 1) {
  const int64_t a_rows = cs.ta ? cs.k : cs.m, a_cols = cs.ta ? cs.m : cs.k;
  const int64_t b_rows = cs.tb ? cs.n : cs.k, b_cols = cs.tb ? cs.k : cs.n;
  const int64_t lda = std::max<int64_t>(1, a_cols + cs.pad_a);
  const int64_t ldb = std::max<int64_t>(1, b_cols + cs.pad_b);
  const int64_t ldc = std::max<int64_t>(1, cs.n + cs.pad_c);
  const auto a = random_values<T>(a_rows * lda, seed);
  const auto b = random_values<T>(b_rows * ldb, seed + 1);
  auto c0 = random_values<T>(std::max<int64_t>(1, cs.m * ldc), seed + 2);
  const T sentinel = T(12345);
  for (int64_t i = 0; i < cs.m; ++i) {
    for (int64_t j = 0; j < ldc; ++j) {
      T& x = c0[i * ldc + j];
      if (j >= cs.n) x = sentinel;
      else if (cs.nan_in_c) x = std::numeric_limits<T>::quiet_NaN();
    }
  }
  const T alpha = static_cast<T>(cs.alpha), beta = static_cast<T>(cs.beta);
  std::vector<T> got = c0, want = c0;
  Ops<T>::gemm(cs.ta, cs.tb, cs.m, cs.n, cs.k, alpha, a.data(), lda, b.data(), ldb, beta, got.data(), ldc);
  Ops<T>::reference(cs.ta, cs.tb, cs.m, cs.n, cs.k, alpha, a.data(), lda, b.data(), ldb, beta, want.data(), ldc);

  // Magnitudes sum_p |a_ip b_pj| for the tolerance.
  std::vector<T> abs_a(a.size()), abs_b(b.size()), mag(static_cast<size_t>(std::max<int64_t>(1, cs.m * ldc)), T(0));
  for (size_t i = 0; i < a.size(); ++i) abs_a[i] = std::abs(a[i]);
  for (size_t i = 0; i < b.size(); ++i) abs_b[i] = std::abs(b[i]);
  Ops<T>::reference(cs.ta, cs.tb, cs.m, cs.n, cs.k, T(1), abs_a.data(), lda, abs_b.data(), ldb, T(0), mag.data(), ldc);

  const double eps = std::numeric_limits<T>::epsilon();
  int64_t bad = 0;
  for (int64_t i = 0; i < cs.m; ++i) {
    for (int64_t j = 0; j < ldc; ++j) {
      const size_t at = static_cast<size_t>(i * ldc + j);
      if (j >= cs.n) {
        if (got[at] != sentinel) ++bad;
        continue;
      }
      const double c_old = cs.nan_in_c ? 0.0 : static_cast<double>(c0[at]);
      const double tol = 8 * std::sqrt(cs.k + 1.0) * eps *
                             (std::abs(cs.alpha) * mag[at] + std::abs(cs.beta * c_old)) +
                         1e-30;
      const double diff = std::abs(static_cast<double>(got[at]) - static_cast<double>(want[at]));
      if (!(diff <= tol)) {  // also catches NaN
        if (bad < 5) {
          ADD_FAILURE() << describe(cs) << " at (" << i << "," << j << "): got " << got[at]
                        << " want " << want[at] << " tol " << tol;
        }
        ++bad;
      }
    }
  }
  return bad;
}

// The shapes every path is checked on, with all four transpose combinations.
const std::vector<std::array<int64_t, 3>>& shapes() {
  static const std::vector<std::array<int64_t, 3>> s = {
      {1, 1, 1},     {2, 3, 4},      {5, 7, 3},      {17, 31, 13},   {4, 8, 16},   {6, 16, 32},
      {12, 32, 64},  {13, 33, 65},   {11, 15, 31},   {25, 49, 257},  {64, 64, 64}, {100, 37, 513},
      {129, 130, 131}, {1, 300, 70}, {300, 1, 70},   {3, 200, 90},   {200, 3, 90}, {784, 10, 64},
      {256, 10, 100}, {40, 200, 10}, {7, 500, 3},    {2, 3, 1100},   {97, 101, 600},
      {5, 700, 100}, {20, 40, 400},  {300, 20, 60}};
  return s;
}

// ---- per-ISA, per-thread-count fixture ---------------------------------------------------------
struct PathParam {
  const char* isa;
  int threads;
};

class GemmPath : public ::testing::TestWithParam<PathParam> {
 protected:
  void SetUp() override {
    if (!gemm_isa_supported(GetParam().isa)) GTEST_SKIP() << GetParam().isa << " not supported here";
    saved_threads_ = get_num_threads();
    gemm_force_isa(GetParam().isa);
    set_num_threads(GetParam().threads);
    ASSERT_STREQ(gemm_isa(), GetParam().isa);
  }
  void TearDown() override {
    gemm_force_isa(nullptr);
    if (saved_threads_ > 0) set_num_threads(saved_threads_);
  }
  int saved_threads_ = 0;
};

TEST_P(GemmPath, ShapesAllTransposesF32) {
  for (const auto& [m, n, k] : shapes()) {
    for (int t = 0; t < 4; ++t) {
      Case c;
      c.ta = t & 1;
      c.tb = t & 2;
      c.m = m;
      c.n = n;
      c.k = k;
      ASSERT_EQ(run_case<float>(c), 0) << describe(c);
    }
  }
}

TEST_P(GemmPath, ShapesAllTransposesF64) {
  for (const auto& [m, n, k] : shapes()) {
    for (int t = 0; t < 4; ++t) {
      Case c;
      c.ta = t & 1;
      c.tb = t & 2;
      c.m = m;
      c.n = n;
      c.k = k;
      ASSERT_EQ(run_case<double>(c), 0) << describe(c);
    }
  }
}

TEST_P(GemmPath, AlphaBeta) {
  const std::vector<std::pair<double, double>> ab = {{1, 1}, {0.5, 2}, {-1.5, -0.25}, {2, 0}, {0, 0.5}, {0, 0}};
  for (const auto& [alpha, beta] : ab) {
    for (const auto& [m, n, k] : std::vector<std::array<int64_t, 3>>{{17, 31, 13}, {70, 90, 300}, {5, 3, 260}}) {
      for (int t = 0; t < 4; ++t) {
        Case c{static_cast<bool>(t & 1), static_cast<bool>(t & 2), m, n, k, alpha, beta};
        EXPECT_EQ(run_case<float>(c), 0) << describe(c);
        EXPECT_EQ(run_case<double>(c), 0) << describe(c);
      }
    }
  }
}

TEST_P(GemmPath, BetaZeroIgnoresNaNInC) {
  for (const auto& [m, n, k] : std::vector<std::array<int64_t, 3>>{{1, 1, 1}, {37, 45, 300}, {3, 100, 20}, {100, 3, 20}}) {
    for (int t = 0; t < 4; ++t) {
      Case c{static_cast<bool>(t & 1), static_cast<bool>(t & 2), m, n, k, 1.25, 0.0};
      c.nan_in_c = true;
      EXPECT_EQ(run_case<float>(c), 0) << describe(c);
      EXPECT_EQ(run_case<double>(c), 0) << describe(c);
    }
  }
}

TEST_P(GemmPath, SubMatricesWithLeadingDimensionPadding) {
  for (const auto& [m, n, k] : std::vector<std::array<int64_t, 3>>{{17, 31, 13}, {64, 70, 300}, {6, 90, 40}, {90, 6, 40}}) {
    for (int t = 0; t < 4; ++t) {
      Case c{static_cast<bool>(t & 1), static_cast<bool>(t & 2), m, n, k, 1.0, 0.5, 3, 5, 7};
      EXPECT_EQ(run_case<float>(c), 0) << describe(c);
      EXPECT_EQ(run_case<double>(c), 0) << describe(c);
    }
  }
}

TEST_P(GemmPath, LargerThanEveryCacheBlock) {
  // m > m_l3 (1536), n > n_l2 and k > KC: every loop of the blocking runs more than once.
  Case c{false, false, 1600, 100, 300, 1.0, 1.0};
  EXPECT_EQ(run_case<float>(c), 0);
  Case t{true, true, 70, 900, 600, 0.5, 0.0};
  EXPECT_EQ(run_case<float>(t), 0);
  Case d{false, true, 1700, 70, 270, 1.0, 0.0};
  EXPECT_EQ(run_case<double>(d), 0);
}

TEST_P(GemmPath, ZeroSizes) {
  // k == 0: C = beta * C.
  std::vector<float> c = {1, 2, 3, 4, 5, 6};
  const float dummy = 7;
  gemm_f32(false, false, 2, 3, 0, 1.f, &dummy, 1, &dummy, 3, 2.f, c.data(), 3);
  EXPECT_EQ(c, (std::vector<float>{2, 4, 6, 8, 10, 12}));
  gemm_f32(true, true, 2, 3, 0, 1.f, nullptr, 2, nullptr, 1, 0.f, c.data(), 3);
  EXPECT_EQ(c, (std::vector<float>(6, 0.f)));
  // m == 0 or n == 0: nothing is touched.
  std::vector<double> d = {1, 2};
  gemm_f64(false, false, 0, 2, 5, 1.0, nullptr, 5, nullptr, 2, 0.0, d.data(), 2);
  gemm_f64(false, false, 2, 0, 5, 1.0, nullptr, 5, nullptr, 1, 0.0, d.data(), 1);
  EXPECT_EQ(d, (std::vector<double>{1, 2}));
  // alpha == 0 with NaN in A: A and B are not read.
  std::vector<float> a(4, std::numeric_limits<float>::quiet_NaN()), c2 = {1, 2, 3, 4};
  gemm_f32(false, false, 2, 2, 2, 0.f, a.data(), 2, a.data(), 2, 3.f, c2.data(), 2);
  EXPECT_EQ(c2, (std::vector<float>{3, 6, 9, 12}));
}

TEST_P(GemmPath, KnownSmallProduct) {
  // [1 2 3; 4 5 6] * [7 8; 9 10; 11 12] = [58 64; 139 154], also through every transpose.
  const std::vector<float> a = {1, 2, 3, 4, 5, 6}, at = {1, 4, 2, 5, 3, 6};
  const std::vector<float> b = {7, 8, 9, 10, 11, 12}, bt = {7, 9, 11, 8, 10, 12};
  const std::vector<float> want = {58, 64, 139, 154};
  for (int t = 0; t < 4; ++t) {
    const bool ta = t & 1, tb = t & 2;
    std::vector<float> c(4, -1.f);
    gemm_f32(ta, tb, 2, 2, 3, 1.f, ta ? at.data() : a.data(), ta ? 2 : 3, tb ? bt.data() : b.data(),
             tb ? 3 : 2, 0.f, c.data(), 2);
    EXPECT_EQ(c, want) << "ta=" << ta << " tb=" << tb;
  }
}

template <class T>
void check_batched(bool ta, bool tb, int64_t batch, int64_t m, int64_t n, int64_t k, bool share_a,
                   bool share_b, T alpha, T beta) {
  const int64_t lda = ta ? m : k, ldb = tb ? k : n, ldc = n;
  const int64_t sa = share_a ? 0 : m * k + 3, sb = share_b ? 0 : k * n + 5, sc = m * n + 1;
  const auto a = random_values<T>((share_a ? 1 : batch) * (m * k + 3), 11);
  const auto b = random_values<T>((share_b ? 1 : batch) * (k * n + 5), 12);
  auto got = random_values<T>(batch * sc, 13);
  auto want = got;
  Ops<T>::batched(ta, tb, batch, m, n, k, alpha, a.data(), lda, sa, b.data(), ldb, sb, beta, got.data(), ldc, sc);
  for (int64_t i = 0; i < batch; ++i) {
    Ops<T>::reference(ta, tb, m, n, k, alpha, a.data() + i * sa, lda, b.data() + i * sb, ldb, beta,
                      want.data() + i * sc, ldc);
  }
  const double tol = 8 * std::sqrt(k + 1.0) * std::numeric_limits<T>::epsilon() * (k + 2);
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_NEAR(got[i], want[i], tol) << "batch element " << i / sc << " index " << i % sc;
  }
}

TEST_P(GemmPath, Batched) {
  for (int t = 0; t < 4; ++t) {
    const bool ta = t & 1, tb = t & 2;
    check_batched<float>(ta, tb, 8, 13, 17, 19, false, false, 1.f, 0.f);     // parallel over batch
    check_batched<float>(ta, tb, 3, 40, 50, 60, false, false, 0.5f, 1.f);    // uneven batch
    check_batched<float>(ta, tb, 6, 20, 30, 40, true, false, 1.f, 0.f);      // A broadcast
    check_batched<float>(ta, tb, 5, 20, 30, 40, false, true, 2.f, -1.f);     // B broadcast
    check_batched<double>(ta, tb, 4, 9, 33, 21, false, true, 1.0, 0.5);
    check_batched<float>(ta, tb, 1, 130, 70, 90, false, false, 1.f, 0.f);    // batch of one
  }
  // batch == 0 and m == 0 are no-ops.
  float x = 1.f;
  gemm_batched_f32(false, false, 0, 2, 2, 2, 1.f, nullptr, 2, 4, nullptr, 2, 4, 0.f, &x, 2, 4);
  gemm_batched_f32(false, false, 3, 0, 2, 2, 1.f, nullptr, 2, 4, nullptr, 2, 4, 0.f, &x, 2, 4);
  EXPECT_EQ(x, 1.f);
}

std::vector<PathParam> all_paths() {
  std::vector<PathParam> p;
  for (const char* isa : {"avx512", "avx2", "generic"})
    for (int threads : {1, 2, 3}) p.push_back({isa, threads});
  return p;
}

INSTANTIATE_TEST_SUITE_P(Isa, GemmPath, ::testing::ValuesIn(all_paths()),
                         [](const ::testing::TestParamInfo<PathParam>& info) {
                           return std::string(info.param.isa) + "_" + std::to_string(info.param.threads) + "threads";
                         });

// ---- dispatch and argument checks --------------------------------------------------------------
TEST(GemmDispatch, ReportsAndForcesIsa) {
  const std::string chosen = gemm_isa();
  EXPECT_TRUE(chosen == "avx512" || chosen == "avx2" || chosen == "generic") << chosen;
  EXPECT_TRUE(gemm_isa_supported("generic"));
  EXPECT_TRUE(gemm_isa_supported(chosen.c_str()));
  EXPECT_FALSE(gemm_isa_supported("sse9"));
  EXPECT_FALSE(gemm_isa_supported(nullptr));
  gemm_force_isa("generic");
  EXPECT_STREQ(gemm_isa(), "generic");
  gemm_force_isa("auto");
  EXPECT_EQ(std::string(gemm_isa()), chosen);
  EXPECT_THROW(gemm_force_isa("sse9"), ValueError);
  if (!gemm_isa_supported("avx512")) {
    EXPECT_THROW(gemm_force_isa("avx512"), ValueError);
  }
}

TEST(GemmDispatch, EnvironmentVariableLowersThePath) {
  const char* old = std::getenv("STRATA_GEMM_ISA");
  const std::string saved = old ? old : "";
  setenv("STRATA_GEMM_ISA", "generic", 1);
  gemm_force_isa(nullptr);
  EXPECT_STREQ(gemm_isa(), "generic");
  if (gemm_isa_supported("avx2")) {
    setenv("STRATA_GEMM_ISA", "avx2", 1);
    gemm_force_isa(nullptr);
    EXPECT_STREQ(gemm_isa(), "avx2");
  }
  if (old) {
    setenv("STRATA_GEMM_ISA", saved.c_str(), 1);
  } else {
    unsetenv("STRATA_GEMM_ISA");
  }
  gemm_force_isa(nullptr);
}

TEST(GemmErrors, InvalidArgumentsThrowValueError) {
  std::vector<float> a(100), b(100), c(100);
  EXPECT_THROW(gemm_f32(false, false, -1, 2, 2, 1.f, a.data(), 2, b.data(), 2, 0.f, c.data(), 2), ValueError);
  EXPECT_THROW(gemm_f32(false, false, 2, 2, -3, 1.f, a.data(), 2, b.data(), 2, 0.f, c.data(), 2), ValueError);
  EXPECT_THROW(gemm_f32(false, false, 4, 5, 6, 1.f, a.data(), 5, b.data(), 5, 0.f, c.data(), 5), ValueError);  // lda < k
  EXPECT_THROW(gemm_f32(true, false, 4, 5, 6, 1.f, a.data(), 3, b.data(), 5, 0.f, c.data(), 5), ValueError);   // lda < m
  EXPECT_THROW(gemm_f32(false, true, 4, 5, 6, 1.f, a.data(), 6, b.data(), 5, 0.f, c.data(), 5), ValueError);   // ldb < k
  EXPECT_THROW(gemm_f32(false, false, 4, 5, 6, 1.f, a.data(), 6, b.data(), 5, 0.f, c.data(), 4), ValueError);  // ldc < n
  EXPECT_THROW(gemm_f32(false, false, 4, 5, 6, 1.f, nullptr, 6, b.data(), 5, 0.f, c.data(), 5), ValueError);
  std::vector<double> d(100);
  EXPECT_THROW(gemm_f64(false, false, 2, 2, 2, 1.0, d.data(), 1, d.data(), 2, 0.0, d.data(), 2), ValueError);
  EXPECT_THROW(gemm_batched_f32(false, false, -1, 2, 2, 2, 1.f, a.data(), 2, 4, b.data(), 2, 4, 0.f, c.data(), 2, 4), ValueError);
  EXPECT_THROW(gemm_batched_f32(false, false, 2, 2, 2, 2, 1.f, a.data(), 2, 4, b.data(), 2, 4, 0.f, c.data(), 2, 0), ValueError);
  EXPECT_THROW(gemm_batched_f32(false, false, 2, 2, 2, 2, 1.f, a.data(), 2, -4, b.data(), 2, 4, 0.f, c.data(), 2, 4), ValueError);
  // Valid after all that: the library is still usable.
  gemm_f32(false, false, 2, 2, 2, 1.f, a.data(), 2, b.data(), 2, 0.f, c.data(), 2);
}

TEST(GemmThreads, TwoThreadResultEqualsOneThreadResultOnLargeProduct) {
  // 300 x 280 x 260 splits across threads; each thread's rectangle must equal the serial result
  // bit for bit (same blocking of k, same summation order per element).
  const int saved = get_num_threads();
  const int64_t m = 300, n = 280, k = 260;
  const auto a = random_values<float>(m * k, 21), b = random_values<float>(k * n, 22);
  std::vector<float> c1(m * n), c2(m * n);
  set_num_threads(1);
  gemm_f32(false, false, m, n, k, 1.f, a.data(), k, b.data(), n, 0.f, c1.data(), n);
  set_num_threads(2);
  gemm_f32(false, false, m, n, k, 1.f, a.data(), k, b.data(), n, 0.f, c2.data(), n);
  set_num_threads(saved);
  EXPECT_EQ(c1, c2);
}

}  // namespace
}  // namespace strata::kernels::cpu
