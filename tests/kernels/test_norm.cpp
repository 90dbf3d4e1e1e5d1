// Normalization ops (tensor/ops/norm.h) against naive double-precision references written here:
// forward values and gradients for every dtype, both batch-norm loop shapes (short runs: column
// path; long runs: run path, with several chunks per channel), running-statistics updates with
// exact numbers, eval mode, thread-count independence, double backward, and the errors.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "strata.h"

namespace strata {
namespace {

// ---- helpers ----

template <class E, class F>
void expect_error(F&& f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "expected an error containing '" << needle << "'";
  } catch (const E& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << "message: " << e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception type; message: " << e.what();
  }
}

Tensor random(const Shape& shape, uint64_t seed, double low = -1.0, double high = 1.0, DType dt = DType::F32) {
  Generator gen(seed);
  return (rand(shape, {.dtype = DType::F64}, &gen) * (high - low) + low).to(dt);
}

std::vector<double> values(const Tensor& t) { return t.to(DType::F64).contiguous().to_vector<double>(); }

void expect_close(const Tensor& got, const std::vector<double>& want, double tol, const std::string& what) {
  ASSERT_TRUE(got.defined()) << what;
  const auto g = values(got);
  ASSERT_EQ(g.size(), want.size()) << what;
  for (size_t i = 0; i < g.size(); ++i)
    ASSERT_NEAR(g[i], want[i], tol * (1.0 + std::abs(want[i]))) << what << " element " << i;
}

void expect_bitwise_equal(const Tensor& a, const Tensor& b, const std::string& what) {
  const auto va = values(a), vb = values(b);
  ASSERT_EQ(va.size(), vb.size()) << what;
  for (size_t i = 0; i < va.size(); ++i) ASSERT_EQ(va[i], vb[i]) << what << " element " << i;
}

double tolerance(DType dt) {
  switch (dt) {
    case DType::F64: return 1e-10;
    case DType::F32: return 2e-5;
    case DType::F16: return 4e-3;
    default: return 3e-2;  // bf16
  }
}

// ---- references: x as [groups of statistics] over a generic index map ----

// Normalization over sets of indices: stat_of(i) says which statistic element i belongs to,
// param_of(i) which weight/bias element scales it. Returns y, and with g the gradients.
struct Reference {
  std::vector<double> y, dx, dw, db, mean, var;
};

Reference reference_norm(const std::vector<double>& x, const std::vector<double>& g, const std::vector<double>& w,
                         const std::vector<double>& b, int64_t n_stats, int64_t n_params,
                         const std::function<int64_t(int64_t)>& stat_of, const std::function<int64_t(int64_t)>& param_of,
                         double eps, bool stats_from_x = true, const std::vector<double>& fixed_mean = {},
                         const std::vector<double>& fixed_var = {}) {
  const int64_t n = static_cast<int64_t>(x.size());
  Reference r;
  std::vector<double> count(n_stats, 0);
  r.mean.assign(n_stats, 0);
  r.var.assign(n_stats, 0);
  for (int64_t i = 0; i < n; ++i) {
    r.mean[stat_of(i)] += x[i];
    count[stat_of(i)] += 1;
  }
  for (int64_t s = 0; s < n_stats; ++s) r.mean[s] /= count[s];
  for (int64_t i = 0; i < n; ++i) r.var[stat_of(i)] += (x[i] - r.mean[stat_of(i)]) * (x[i] - r.mean[stat_of(i)]);
  for (int64_t s = 0; s < n_stats; ++s) r.var[s] /= count[s];
  const std::vector<double>& mean = stats_from_x ? r.mean : fixed_mean;
  const std::vector<double>& var = stats_from_x ? r.var : fixed_var;
  auto wt = [&](int64_t i) { return w.empty() ? 1.0 : w[param_of(i)]; };
  std::vector<double> xhat(n);
  r.y.resize(n);
  for (int64_t i = 0; i < n; ++i) {
    xhat[i] = (x[i] - mean[stat_of(i)]) / std::sqrt(var[stat_of(i)] + eps);
    r.y[i] = xhat[i] * wt(i) + (b.empty() ? 0.0 : b[param_of(i)]);
  }
  if (g.empty()) return r;
  std::vector<double> sum_gw(n_stats, 0), sum_gwx(n_stats, 0);
  r.dw.assign(n_params, 0);
  r.db.assign(n_params, 0);
  for (int64_t i = 0; i < n; ++i) {
    sum_gw[stat_of(i)] += g[i] * wt(i);
    sum_gwx[stat_of(i)] += g[i] * wt(i) * xhat[i];
    r.dw[param_of(i)] += g[i] * xhat[i];
    r.db[param_of(i)] += g[i];
  }
  r.dx.resize(n);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t s = stat_of(i);
    const double invstd = 1.0 / std::sqrt(var[s] + eps);
    r.dx[i] = stats_from_x ? invstd * (g[i] * wt(i) - sum_gw[s] / count[s] - xhat[i] * sum_gwx[s] / count[s])
                           : invstd * g[i] * wt(i);
  }
  return r;
}

struct NCS {
  int64_t n, c, s;
};
NCS ncs_of(const Shape& shape) {
  int64_t s = 1;
  for (size_t d = 2; d < shape.size(); ++d) s *= shape[d];
  return {shape[0], shape[1], s};
}

Reference batch_norm_reference(const Tensor& x, const Tensor& g, const Tensor& w, const Tensor& b, bool training,
                               const Tensor& rm = Tensor(), const Tensor& rv = Tensor(), double eps = 1e-5) {
  const NCS d = ncs_of(x.shape());
  auto channel = [d](int64_t i) { return (i / d.s) % d.c; };
  return reference_norm(values(x), g.defined() ? values(g) : std::vector<double>{},
                        w.defined() ? values(w) : std::vector<double>{}, b.defined() ? values(b) : std::vector<double>{},
                        d.c, d.c, channel, channel, eps, training, rm.defined() ? values(rm) : std::vector<double>{},
                        rv.defined() ? values(rv) : std::vector<double>{});
}

Reference layer_norm_reference(const Tensor& x, const Tensor& g, int64_t d, const Tensor& w, const Tensor& b,
                               double eps = 1e-5) {
  const int64_t rows = d > 0 ? x.numel() / d : 0;
  return reference_norm(values(x), g.defined() ? values(g) : std::vector<double>{},
                        w.defined() ? values(w) : std::vector<double>{}, b.defined() ? values(b) : std::vector<double>{},
                        rows, d, [d](int64_t i) { return i / d; }, [d](int64_t i) { return i % d; }, eps);
}

Reference group_norm_reference(const Tensor& x, const Tensor& g, int64_t groups, const Tensor& w, const Tensor& b,
                               double eps = 1e-5) {
  const NCS d = ncs_of(x.shape());
  const int64_t cg = d.c / groups;
  return reference_norm(values(x), g.defined() ? values(g) : std::vector<double>{},
                        w.defined() ? values(w) : std::vector<double>{}, b.defined() ? values(b) : std::vector<double>{},
                        d.n * groups, d.c, [=](int64_t i) { return (i / d.s) / cg; },
                        [=](int64_t i) { return (i / d.s) % d.c; }, eps);
}

// Runs fn's output backward with gradient g and returns the leaves' gradients.
struct Grads {
  Tensor x, w, b;
};
Grads backward_of(const Tensor& out, const Tensor& g, const Tensor& x, const Tensor& w, const Tensor& b) {
  out.backward(g);
  return {x.grad(), w.defined() ? w.grad() : Tensor(), b.defined() ? b.grad() : Tensor()};
}

class ThreadCount {
 public:
  explicit ThreadCount(int n) : saved_(get_num_threads()) { set_num_threads(n); }
  ~ThreadCount() { set_num_threads(saved_); }

 private:
  int saved_;
};

const DType kAllFloat[] = {DType::F32, DType::F64, DType::F16, DType::BF16};

// ---- batch norm ----

struct BnCase {
  Shape shape;
  const char* what;
};
const BnCase kBnCases[] = {
    {{6, 4}, "2d column path"},
    {{3, 5, 7}, "short runs, column path"},
    {{4, 6, 5, 5}, "long runs, run path"},
    {{2, 3, 40000}, "run path, two chunks per channel"},
    {{40000, 3}, "column path, several row chunks"},
};

TEST(BatchNorm, TrainingMatchesDoubleReferenceForEveryDtypeAndLayout) {
  for (DType dt : kAllFloat) {
    for (const BnCase& cs : kBnCases) {
      if ((dt == DType::F16 || dt == DType::BF16) && Shape(cs.shape).numel() > 10000) continue;
      SCOPED_TRACE(std::string(dtype_name(dt)) + " " + cs.what);
      const int64_t c = cs.shape[1];
      const DType pt = dt == DType::F64 ? DType::F64 : DType::F32;
      Tensor x = random(cs.shape, 1, -2.0, 3.0, dt).requires_grad_();
      Tensor w = random({c}, 2, 0.5, 1.5, pt).requires_grad_();
      Tensor b = random({c}, 3, -1.0, 1.0, pt).requires_grad_();
      Tensor g = random(cs.shape, 4, -1.0, 1.0, dt);
      const Reference ref = batch_norm_reference(x, g, w, b, true);
      auto r = batch_norm_with_stats(x, Tensor(), Tensor(), w, b, {.training = true});
      expect_close(r.out, ref.y, tolerance(dt), "out");
      expect_close(r.save_mean, ref.mean, tolerance(dt), "save_mean");
      std::vector<double> invstd(c);
      for (int64_t k = 0; k < c; ++k) invstd[k] = 1.0 / std::sqrt(ref.var[k] + 1e-5);
      expect_close(r.save_invstd, invstd, tolerance(dt), "save_invstd");
      Grads gr = backward_of(r.out, g, x, w, b);
      const double gtol = tolerance(dt) * 10;
      expect_close(gr.x, ref.dx, gtol, "dx");
      expect_close(gr.w, ref.dw, gtol * std::sqrt(static_cast<double>(x.numel() / c)), "dweight");
      expect_close(gr.b, ref.db, gtol * std::sqrt(static_cast<double>(x.numel() / c)), "dbias");
      EXPECT_EQ(gr.w.dtype(), pt);
      EXPECT_EQ(gr.x.dtype(), dt);
    }
  }
}

TEST(BatchNorm, EvalModeUsesRunningStatistics) {
  for (DType dt : {DType::F32, DType::F64}) {
    for (const BnCase& cs : kBnCases) {
      SCOPED_TRACE(std::string(dtype_name(dt)) + " " + cs.what);
      const int64_t c = cs.shape[1];
      Tensor x = random(cs.shape, 5, -2.0, 2.0, dt).requires_grad_();
      Tensor w = random({c}, 6, 0.5, 1.5, dt).requires_grad_();
      Tensor b = random({c}, 7, -1.0, 1.0, dt).requires_grad_();
      Tensor rm = random({c}, 8, -0.5, 0.5, dt), rv = random({c}, 9, 0.5, 2.0, dt);
      const Tensor rm0 = rm.clone(), rv0 = rv.clone();
      Tensor g = random(cs.shape, 10, -1.0, 1.0, dt);
      const Reference ref = batch_norm_reference(x, g, w, b, false, rm, rv);
      Tensor out = batch_norm(x, rm, rv, w, b);
      expect_close(out, ref.y, tolerance(dt), "out");
      Grads gr = backward_of(out, g, x, w, b);
      expect_close(gr.x, ref.dx, tolerance(dt), "dx");
      expect_close(gr.w, ref.dw, tolerance(dt) * 100, "dweight");
      expect_close(gr.b, ref.db, tolerance(dt) * 100, "dbias");
      expect_bitwise_equal(rm, rm0, "running_mean untouched");
      expect_bitwise_equal(rv, rv0, "running_var untouched");
    }
  }
}

TEST(BatchNorm, EvalModeHandValues) {
  // y = (x - rm) / sqrt(rv + eps) * w + b with eps = 0: channel 0 (x - 1) / 2 * 3 + 1, channel 1 x / 1 * 1 - 1.
  Tensor x = tensor({1.f, 2.f, 5.f, 7.f}, {2, 2});
  Tensor out = batch_norm(x, tensor({1.f, 0.f}), tensor({4.f, 1.f}), tensor({3.f, 1.f}), tensor({1.f, -1.f}),
                          {.eps = 0.0});
  expect_close(out, {1.0, 1.0, 7.0, 6.0}, 0, "eval out");
}

TEST(BatchNorm, RunningStatisticsUpdateWithMomentumAndUnbiasedVariance) {
  // Channel 0 holds 1, 2, 3, 4 (mean 2.5, biased var 1.25, unbiased 5/3); channel 1 holds
  // 0, 0, 2, 2 (mean 1, unbiased var 4/3). [N=2, C=2, S=2].
  Tensor x = tensor({1.f, 2.f, 0.f, 0.f, 3.f, 4.f, 2.f, 2.f}, {2, 2, 2});
  Tensor rm = tensor({0.f, 10.f}), rv = tensor({1.f, 2.f});
  const uint32_t v_mean = rm.version(), v_var = rv.version();
  Tensor w = ones({2}).requires_grad_();
  Tensor out = batch_norm(x, rm, rv, w, Tensor(), {.training = true, .momentum = 0.1});
  expect_close(rm, {0.9 * 0.0 + 0.1 * 2.5, 0.9 * 10.0 + 0.1 * 1.0}, 1e-7, "running_mean");
  expect_close(rv, {0.9 * 1.0 + 0.1 * (5.0 / 3.0), 0.9 * 2.0 + 0.1 * (4.0 / 3.0)}, 1e-7, "running_var");
  EXPECT_EQ(rm.to_vector<float>()[0], static_cast<float>(0.25));
  EXPECT_EQ(rv.to_vector<float>()[0], static_cast<float>(0.9 + 0.1 * (5.0 / 3.0)));
  EXPECT_GT(rm.version(), v_mean);
  EXPECT_GT(rv.version(), v_var);
  EXPECT_FALSE(rm.requires_grad());
  EXPECT_EQ(rm.grad_fn(), nullptr);
  // The output used the biased variance of the batch.
  expect_close(out.select(1, 0).flatten(), {(1 - 2.5) / std::sqrt(1.25 + 1e-5), (2 - 2.5) / std::sqrt(1.25 + 1e-5),
                                            (3 - 2.5) / std::sqrt(1.25 + 1e-5), (4 - 2.5) / std::sqrt(1.25 + 1e-5)},
               1e-6, "normalized channel 0");
  // The update is not part of the graph: backward still works and only reaches w and x's path.
  sum(out).backward();
  EXPECT_TRUE(w.grad().defined());

  // momentum 1 replaces the running statistics; momentum 0 keeps them.
  Tensor rm1 = zeros({2}), rv1 = zeros({2});
  batch_norm(x, rm1, rv1, Tensor(), Tensor(), {.training = true, .momentum = 1.0});
  expect_close(rm1, {2.5, 1.0}, 1e-7, "momentum 1 mean");
  expect_close(rv1, {5.0 / 3.0, 4.0 / 3.0}, 1e-7, "momentum 1 var");
  batch_norm(x, rm1, rv1, Tensor(), Tensor(), {.training = true, .momentum = 0.0});
  expect_close(rm1, {2.5, 1.0}, 1e-7, "momentum 0 mean");
}

TEST(BatchNorm, RunningStatisticsInF64AndForF16Input) {
  Tensor x = tensor({1.f, 2.f, 0.f, 0.f, 3.f, 4.f, 2.f, 2.f}, {2, 2, 2});
  Tensor rm = zeros({2}, {.dtype = DType::F64}), rv = ones({2}, {.dtype = DType::F64});
  batch_norm(x.to(DType::F64), rm, rv, Tensor(), Tensor(), {.training = true});
  expect_close(rm, {0.25, 0.1}, 1e-15, "f64 running_mean");
  expect_close(rv, {0.9 + 0.1 * 5.0 / 3.0, 0.9 + 0.1 * 4.0 / 3.0}, 1e-15, "f64 running_var");
  // f16 input, f32 statistics (mixed precision).
  Tensor rm32 = zeros({2}), rv32 = ones({2});
  batch_norm(x.to(DType::F16), rm32, rv32, Tensor(), Tensor(), {.training = true});
  expect_close(rm32, {0.25, 0.1}, 1e-6, "f32 running_mean from f16 input");
}

TEST(BatchNorm, OneValuePerChannelInTrainingIsAnError) {
  expect_error<ValueError>([] { batch_norm(ones({1, 4}), zeros({4}), ones({4}), Tensor(), Tensor(), {.training = true}); },
                           "expected more than 1 value per channel when training");
  expect_error<ValueError>([] { batch_norm(ones({1, 4, 1, 1}), Tensor(), Tensor(), Tensor(), Tensor(), {.training = true}); },
                           "batch_norm");
  // Eval mode normalizes a single sample fine; so does training with N=1 and spatial dims.
  Tensor e = batch_norm(full({1, 4}, 3.0), zeros({4}), full({4}, 4.0), Tensor(), Tensor(), {.eps = 0.0});
  expect_close(e, {1.5, 1.5, 1.5, 1.5}, 0, "eval single sample");
  Tensor t = batch_norm(tensor({1.f, 3.f}, {1, 1, 2}), Tensor(), Tensor(), Tensor(), Tensor(), {.training = true, .eps = 0.0});
  expect_close(t, {-1.0, 1.0}, 1e-7, "N=1 with 2 spatial values");
}

TEST(BatchNorm, NonContiguousInputMatchesContiguous) {
  Tensor base = random({5, 4, 6}, 11);  // viewed as [6, 4, 5] through a permute
  Tensor xp = base.permute({2, 1, 0});
  Tensor xc = xp.contiguous();
  Tensor w = random({4}, 12), b = random({4}, 13);
  expect_close(batch_norm(xp, Tensor(), Tensor(), w, b, {.training = true}),
               values(batch_norm(xc, Tensor(), Tensor(), w, b, {.training = true})), 1e-6, "permuted");
  // Strided (every other channel) parameters are fine too.
  Tensor w2 = random({8}, 14).slice(0, 0, 8, 2);
  expect_close(batch_norm(xc, Tensor(), Tensor(), w2, b, {.training = true}),
               values(batch_norm(xc, Tensor(), Tensor(), w2.contiguous(), b, {.training = true})), 0, "strided weight");
}

TEST(BatchNorm, LargeOffsetKeepsVarianceAccurate) {
  // Values 1000 + U(-1, 1): a one-pass E[x^2] - E[x]^2 in float would lose most digits.
  Tensor x = random({64, 2, 300}, 15, 999.0, 1001.0);
  const Reference ref = batch_norm_reference(x, Tensor(), Tensor(), Tensor(), true);
  auto r = batch_norm_with_stats(x, Tensor(), Tensor(), Tensor(), Tensor(), {.training = true});
  std::vector<double> invstd(2);
  for (int k = 0; k < 2; ++k) invstd[k] = 1.0 / std::sqrt(ref.var[k] + 1e-5);
  expect_close(r.save_invstd, invstd, 1e-5, "invstd");
  expect_close(r.out, ref.y, 2e-4, "out");  // limited by f32 x itself (ulp of 1000 is 6e-5)
}

TEST(BatchNorm, ResultsDoNotDependOnTheThreadCount) {
  for (const BnCase& cs : kBnCases) {
    SCOPED_TRACE(cs.what);
    const int64_t c = cs.shape[1];
    Tensor x = random(cs.shape, 16, -1.0, 2.0), g = random(cs.shape, 17);
    Tensor w = random({c}, 18), b = random({c}, 19);
    std::vector<std::vector<Tensor>> runs;
    for (int threads : {1, 2, 3, 7}) {
      ThreadCount tc(threads);
      auto r = batch_norm_with_stats(x, Tensor(), Tensor(), w, b, {.training = true});
      NormGrads gr = batch_norm_backward(g, x, w, r.save_mean, r.save_invstd, true);
      runs.push_back({r.out, r.save_mean, r.save_invstd, gr.input, gr.weight, gr.bias});
    }
    for (size_t k = 1; k < runs.size(); ++k)
      for (size_t i = 0; i < runs[0].size(); ++i) expect_bitwise_equal(runs[k][i], runs[0][i], "output " + std::to_string(i));
  }
}

TEST(BatchNorm, GradientConstantOverSpatialDimsTakesTheBroadcastPath) {
  // The gradient of sum(y) is an expanded scalar; that of a spatial mean an expanded [N, C, 1, 1].
  for (const Shape& shape : {Shape{3, 4, 5, 6}, Shape{3, 4, 2, 3}, Shape{2, 3, 40000}}) {
    SCOPED_TRACE(fmt::format("{}", shape));
    Tensor x = random(shape, 50, -1.0, 2.0), w = random({shape[1]}, 51);
    auto r = batch_norm_with_stats(x, Tensor(), Tensor(), w, Tensor(), {.training = true});
    Shape per_run(shape.size(), 1);
    per_run[0] = shape[0];
    per_run[1] = shape[1];
    for (const Tensor& g : {full({}, 0.7).expand(shape), random(per_run, 52).expand(shape)}) {
      for (bool training : {true, false}) {
        NormGrads broadcast = batch_norm_backward(g, x, w, r.save_mean, r.save_invstd, training);
        NormGrads dense = batch_norm_backward(g.contiguous(), x, w, r.save_mean, r.save_invstd, training);
        expect_close(broadcast.input, values(dense.input), 1e-5, "dx");
        // dweight = Σ g (x - mean) invstd nearly cancels (Σ (x - mean) = 0 over a channel) and both
        // paths round that sum of 10^4..10^5 terms differently; a wrong g per run would be off by O(100).
        expect_close(broadcast.weight, values(dense.weight), 1e-3, "dweight");
        expect_close(broadcast.bias, values(dense.bias), 1e-5, "dbias");
      }
    }
  }
  expect_error<ShapeError>([] { batch_norm_backward(ones({2, 3}), ones({2, 3, 4}), Tensor(), zeros({3}), ones({3}), true); },
                           "batch_norm_backward: gradient of shape [2, 3] does not match the input's shape [2, 3, 4]");
}

TEST(BatchNorm, EmptyBatchGivesEmptyOutputAndKeepsRunningStatistics) {
  Tensor x = zeros({0, 3, 4}).requires_grad_();
  Tensor w = ones({3}).requires_grad_();
  Tensor rm = zeros({3}), rv = ones({3});
  Tensor out = batch_norm(x, rm, rv, w, Tensor(), {.training = true});
  EXPECT_EQ(out.shape(), Shape({0, 3, 4}));
  expect_close(rm, {0, 0, 0}, 0, "running_mean");
  expect_close(rv, {1, 1, 1}, 0, "running_var");
  out.backward(zeros({0, 3, 4}));
  EXPECT_EQ(x.grad().shape(), Shape({0, 3, 4}));
  expect_close(w.grad(), {0, 0, 0}, 0, "dweight");
}

TEST(BatchNorm, RecordsANamedNodeAndKeepsSemanticType) {
  Tensor x = random({4, 3, 2, 2}, 20).requires_grad_();
  Tensor img = cast<TensorImage>(x);
  Tensor out = batch_norm(img, Tensor(), Tensor(), Tensor(), Tensor(), {.training = true});
  ASSERT_NE(out.grad_fn(), nullptr);
  EXPECT_EQ(out.grad_fn()->name(), "BatchNormBackward");
  EXPECT_EQ(out.semantic_type(), img.semantic_type());
  NoGradGuard no_grad;
  EXPECT_EQ(batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), {.training = true}).grad_fn(), nullptr);
}

TEST(BatchNorm, ErrorsNameTheOpAndTheShapes) {
  Tensor x = zeros({8, 64, 4, 4});
  expect_error<ShapeError>([&] { batch_norm(x, zeros({32}), ones({64}), Tensor(), Tensor(), {.training = true}); },
                           "batch_norm: running_mean has 32 elements but input has 64 channels (input [8, 64, 4, 4])");
  expect_error<ShapeError>([&] { batch_norm(x, Tensor(), Tensor(), ones({63}), Tensor(), {.training = true}); },
                           "batch_norm: weight has 63 elements but input has 64 channels");
  expect_error<ShapeError>([&] { batch_norm(x, Tensor(), Tensor(), Tensor(), ones({65}), {.training = true}); },
                           "batch_norm: bias has 65 elements");
  expect_error<ShapeError>([&] { batch_norm(zeros({5}), Tensor(), Tensor()); },
                           "batch_norm: expected an input of at least 2 dims [N, C, *], got shape [5]");
  expect_error<ValueError>([&] { batch_norm(x, Tensor(), Tensor()); },
                           "batch_norm: running_mean and running_var must be defined in evaluation mode");
  expect_error<DTypeError>([&] { batch_norm(x, zeros({64}, {.dtype = DType::F64}), ones({64}), Tensor(), Tensor()); },
                           "batch_norm: running_mean has dtype f64 but input has dtype f32");
  expect_error<DTypeError>([&] { batch_norm(zeros({4, 2}, {.dtype = DType::I64}), Tensor(), Tensor()); }, "batch_norm");
  expect_error<ValueError>([&] { batch_norm(Tensor(), Tensor(), Tensor()); }, "batch_norm");
}

// ---- layer norm ----

TEST(LayerNorm, MatchesDoubleReferenceOverOneAndTwoDims) {
  struct Case {
    Shape x, normalized;
  };
  const Case cases[] = {{{4, 7}, {7}}, {{2, 3, 4, 5}, {4, 5}}, {{6}, {6}}, {{3, 70000}, {70000}}, {{300, 400}, {400}}};
  for (DType dt : kAllFloat) {
    for (const Case& cs : cases) {
      if ((dt == DType::F16 || dt == DType::BF16) && cs.x.numel() > 10000) continue;
      SCOPED_TRACE(std::string(dtype_name(dt)) + " " + fmt::format("{} over {}", cs.x, cs.normalized));
      const DType pt = dt == DType::F64 ? DType::F64 : DType::F32;
      Tensor x = random(cs.x, 21, -2.0, 3.0, dt).requires_grad_();
      Tensor w = random(cs.normalized, 22, 0.5, 1.5, pt).requires_grad_();
      Tensor b = random(cs.normalized, 23, -1.0, 1.0, pt).requires_grad_();
      Tensor g = random(cs.x, 24, -1.0, 1.0, dt);
      const Reference ref = layer_norm_reference(x, g, cs.normalized.numel(), w, b);
      Tensor out = layer_norm(x, cs.normalized, w, b);
      expect_close(out, ref.y, tolerance(dt), "out");
      Grads gr = backward_of(out, g, x, w, b);
      const double rows = static_cast<double>(x.numel() / cs.normalized.numel());
      expect_close(gr.x, ref.dx, tolerance(dt) * 10, "dx");
      expect_close(gr.w, ref.dw, tolerance(dt) * 10 * std::sqrt(rows), "dweight");
      expect_close(gr.b, ref.db, tolerance(dt) * 10 * std::sqrt(rows), "dbias");
      EXPECT_EQ(gr.w.shape(), cs.normalized);
    }
  }
}

TEST(LayerNorm, WithoutAffineAndNonContiguous) {
  Tensor base = random({5, 3}, 25);
  Tensor x = base.t();  // [3, 5], not contiguous
  const Reference ref = layer_norm_reference(x.contiguous(), Tensor(), 5, Tensor(), Tensor(), 1e-3);
  expect_close(layer_norm(x, {5}, Tensor(), Tensor(), 1e-3), ref.y, 1e-5, "transposed, no affine");
  // Each row of the result has mean 0.
  Tensor y = layer_norm(random({4, 9}, 26), {9});
  for (int64_t r = 0; r < 4; ++r) EXPECT_NEAR(sum(y[r]).item(), 0.0, 1e-5);
}

TEST(LayerNorm, ResultsDoNotDependOnTheThreadCount) {
  Tensor x = random({300, 400}, 27), g = random({300, 400}, 28), w = random({400}, 29);
  std::vector<std::vector<Tensor>> runs;
  for (int threads : {1, 2, 5}) {
    ThreadCount tc(threads);
    Tensor xl = x.detach().requires_grad_(), wl = w.detach().requires_grad_();
    Tensor out = layer_norm(xl, {400}, wl);
    out.backward(g);
    runs.push_back({out, xl.grad(), wl.grad()});
  }
  for (size_t k = 1; k < runs.size(); ++k)
    for (size_t i = 0; i < runs[0].size(); ++i) expect_bitwise_equal(runs[k][i], runs[0][i], std::to_string(i));
}

TEST(LayerNorm, EmptyInput) {
  Tensor x = zeros({0, 5}).requires_grad_();
  Tensor out = layer_norm(x, {5}, ones({5}));
  EXPECT_EQ(out.shape(), Shape({0, 5}));
  out.backward(zeros({0, 5}));
  EXPECT_EQ(x.grad().shape(), Shape({0, 5}));
}

TEST(LayerNorm, Errors) {
  Tensor x = zeros({2, 3});
  expect_error<ShapeError>([&] { layer_norm(x, {5}); },
                           "layer_norm: input of shape [2, 3] does not end with normalized_shape [5]");
  expect_error<ShapeError>([&] { layer_norm(x, {2, 3, 1}); }, "layer_norm: input of shape [2, 3]");
  expect_error<ShapeError>([&] { layer_norm(x, {3}, ones({4})); },
                           "layer_norm: weight has shape [4] but normalized_shape is [3]");
  expect_error<ShapeError>([&] { layer_norm(x, {3}, ones({3}), ones({1, 3})); },
                           "layer_norm: bias has shape [1, 3] but normalized_shape is [3]");
  expect_error<ValueError>([&] { layer_norm(x, Shape{}); }, "layer_norm: normalized_shape must have at least one dim");
  expect_error<DTypeError>([&] { layer_norm(x, {3}, ones({3}, {.dtype = DType::F64})); },
                           "layer_norm: weight has dtype f64 but input has dtype f32");
  expect_error<DTypeError>([&] { layer_norm(zeros({2, 3}, {.dtype = DType::I32}), {3}); }, "layer_norm");
}

// ---- group norm and instance norm ----

TEST(GroupNorm, MatchesDoubleReferenceForGroupsDividingChannels) {
  struct Case {
    Shape x;
    int64_t groups;
  };
  const Case cases[] = {{{2, 6, 5}, 3}, {{2, 6, 5}, 1}, {{2, 6, 5}, 6}, {{3, 4, 3, 3}, 2}, {{4, 8}, 2}, {{2, 4, 40000}, 2}};
  for (DType dt : kAllFloat) {
    for (const Case& cs : cases) {
      if ((dt == DType::F16 || dt == DType::BF16) && cs.x.numel() > 10000) continue;
      SCOPED_TRACE(std::string(dtype_name(dt)) + fmt::format(" {} groups {}", cs.x, cs.groups));
      const DType pt = dt == DType::F64 ? DType::F64 : DType::F32;
      const int64_t c = cs.x[1];
      Tensor x = random(cs.x, 31, -2.0, 3.0, dt).requires_grad_();
      Tensor w = random({c}, 32, 0.5, 1.5, pt).requires_grad_();
      Tensor b = random({c}, 33, -1.0, 1.0, pt).requires_grad_();
      Tensor g = random(cs.x, 34, -1.0, 1.0, dt);
      const Reference ref = group_norm_reference(x, g, cs.groups, w, b);
      Tensor out = group_norm(x, cs.groups, w, b);
      expect_close(out, ref.y, tolerance(dt), "out");
      Grads gr = backward_of(out, g, x, w, b);
      const double per_channel = static_cast<double>(x.numel() / c);
      expect_close(gr.x, ref.dx, tolerance(dt) * 10, "dx");
      expect_close(gr.w, ref.dw, tolerance(dt) * 10 * std::sqrt(per_channel), "dweight");
      expect_close(gr.b, ref.db, tolerance(dt) * 10 * std::sqrt(per_channel), "dbias");
    }
  }
}

TEST(GroupNorm, InstanceNormIsOneGroupPerChannel) {
  Tensor x = random({3, 4, 5, 2}, 35).requires_grad_();
  Tensor w = random({4}, 36).requires_grad_(), b = random({4}, 37).requires_grad_();
  Tensor g = random({3, 4, 5, 2}, 38);
  const Reference ref = group_norm_reference(x, g, 4, w, b);
  Tensor out = instance_norm(x, w, b);
  expect_close(out, ref.y, 2e-5, "out");
  EXPECT_EQ(out.grad_fn()->name(), "InstanceNormBackward");
  Grads gr = backward_of(out, g, x, w, b);
  expect_close(gr.x, ref.dx, 2e-4, "dx");
  expect_close(gr.w, ref.dw, 2e-4, "dweight");
  EXPECT_EQ(group_norm(x, 2).grad_fn()->name(), "GroupNormBackward");
}

TEST(GroupNorm, Errors) {
  Tensor x = zeros({2, 6, 4});
  expect_error<ShapeError>([&] { group_norm(x, 4); },
                           "group_norm: num_groups 4 does not divide the 6 channels of the input (shape [2, 6, 4])");
  expect_error<ValueError>([&] { group_norm(x, 0); }, "group_norm: num_groups must be positive, got 0");
  expect_error<ShapeError>([&] { group_norm(x, 2, ones({3})); },
                           "group_norm: weight has 3 elements but input has 6 channels (input [2, 6, 4])");
  expect_error<ShapeError>([&] { group_norm(zeros({6}), 2); }, "group_norm: expected an input of at least 2 dims");
  expect_error<ValueError>([&] { instance_norm(zeros({2, 6})); },
                           "instance_norm: expected more than 1 spatial element per channel, got input of shape [2, 6]");
  expect_error<ShapeError>([&] { instance_norm(x, ones({2})); }, "instance_norm: weight has 2 elements");
}

// ---- outputs of 8 MiB and more leave through streaming stores ----

TEST(NormLargeOutputs, StreamedOutputsMatchTheReference) {
  for (DType dt : {DType::F32, DType::F64}) {
    SCOPED_TRACE(dtype_name(dt));
    const Shape shape{2, 4, dt == DType::F32 ? 300001 : 150001};  // >= 8 MiB, odd run length
    Tensor x = random(shape, 60, -1.0, 2.0, dt).requires_grad_();
    Tensor w = random({4}, 61, 0.5, 1.5, dt).requires_grad_(), b = random({4}, 62, -1.0, 1.0, dt).requires_grad_();
    Tensor g = random(shape, 63, -1.0, 1.0, dt);
    const Reference bn = batch_norm_reference(x, g, w, b, true);
    Tensor y = batch_norm(x, Tensor(), Tensor(), w, b, {.training = true});
    expect_close(y, bn.y, tolerance(dt), "batch_norm out");
    Grads gb = backward_of(y, g, x, w, b);
    expect_close(gb.x, bn.dx, tolerance(dt) * 10, "batch_norm dx");
    for (Tensor* t : {&x, &w, &b}) t->zero_grad();
    const Reference gn = group_norm_reference(x, g, 2, w, b);
    Tensor z = group_norm(x, 2, w, b);
    expect_close(z, gn.y, tolerance(dt), "group_norm out");
    Grads gg = backward_of(z, g, x, w, b);
    expect_close(gg.x, gn.dx, tolerance(dt) * 10, "group_norm dx");
  }
}

// ---- double backward (create_graph: the composite formulas) ----

TEST(NormDoubleBackward, GradientOfGradientMatchesFiniteDifferences) {
  using autograd::TensorList;
  struct Case {
    const char* name;
    std::function<Tensor(const TensorList&)> op;  // in = {x, w, b}
    Shape x, param;
  };
  const Case cases[] = {
      {"batch_norm train", [](const TensorList& in) { return batch_norm(in[0], Tensor(), Tensor(), in[1], in[2], {.training = true}); },
       {3, 2, 4}, {2}},
      {"batch_norm eval",
       [](const TensorList& in) {
         const TensorOptions o{.dtype = DType::F64};
         return batch_norm(in[0], full({2}, 0.3, o), full({2}, 1.7, o), in[1], in[2]);
       },
       {3, 2, 4}, {2}},
      {"layer_norm", [](const TensorList& in) { return layer_norm(in[0], {4}, in[1], in[2]); }, {3, 4}, {4}},
      {"group_norm", [](const TensorList& in) { return group_norm(in[0], 2, in[1], in[2]); }, {2, 4, 3}, {4}},
  };
  for (const Case& cs : cases) {
    SCOPED_TRACE(cs.name);
    Tensor gy = random(cs.x, 40, -1.0, 1.0, DType::F64);
    TensorList in = {random(cs.x, 41, -1.0, 1.0, DType::F64).requires_grad_(),
                     random(cs.param, 42, 0.5, 1.5, DType::F64).requires_grad_(),
                     random(cs.param, 43, -1.0, 1.0, DType::F64).requires_grad_()};
    // The composite formulas (create_graph) give the fused kernels' first derivatives.
    {
      TensorList fused = autograd::grad({sum(cs.op(in) * gy)}, in);
      TensorList composite = autograd::grad({sum(cs.op(in) * gy)}, in, {}, true, true);
      for (int k = 0; k < 3; ++k) expect_close(composite[k], values(fused[k]), 1e-10, "first derivative " + std::to_string(k));
    }
    for (int k = 0; k < 3; ++k) {
      auto fk = [&, k](const TensorList& leaves) {
        // gradcheck evaluates its finite differences without grad and on fresh tensors: make
        // them differentiable again so the first derivative can be taken there too.
        EnableGradGuard grad_on;
        TensorList in2 = leaves;
        for (Tensor& t : in2)
          if (!t.requires_grad()) t = t.detach().requires_grad_();
        Tensor y = cs.op(in2);
        return autograd::grad({sum(y * gy)}, {in2[k]}, {}, true, true)[0];
      };
      auto r = gradcheck(fk, in);
      EXPECT_TRUE(r.ok) << "d/d(input " << k << "): " << r.message;
    }
  }
}

}  // namespace
}  // namespace strata
