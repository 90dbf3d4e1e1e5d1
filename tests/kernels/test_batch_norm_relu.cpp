// batch_norm_relu (tensor/ops/norm.h) against the unfused composition relu(batch_norm(...)):
// forward values bit for bit (the fused pass computes the same float expression, then the ReLU),
// gradients of x, weight and bias (f64: equal up to rounding; f32/bf16: the sums see the same
// masked gradient, so close to the last bits), training and eval, [N, C] (column path), [N, C, H, W]
// and [N, C, D, H, W] (run path), non-contiguous inputs, undefined weight / bias, running
// statistics updated identically, the same results for 1 and 2 threads, double backward
// (create_graph) and errors that name batch_norm_relu.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "strata.h"
#include "support/expect_error.h"

namespace strata {
namespace {

Tensor random(const Shape& shape, uint64_t seed, double low, double high, DType dt) {
  Generator gen(seed);
  return (rand(shape, {.dtype = DType::F64}, &gen) * (high - low) + low).to(dt);
}

std::vector<double> values(const Tensor& t) { return t.to(DType::F64).contiguous().to_vector<double>(); }

void expect_equal(const Tensor& a, const Tensor& b, const std::string& what) {
  ASSERT_EQ(a.defined(), b.defined()) << what;
  if (!a.defined()) return;
  ASSERT_EQ(a.shape(), b.shape()) << what;
  ASSERT_EQ(a.dtype(), b.dtype()) << what;
  const auto va = values(a), vb = values(b);
  for (size_t i = 0; i < va.size(); ++i) ASSERT_EQ(va[i], vb[i]) << what << " element " << i;
}

void expect_close(const Tensor& a, const Tensor& b, double tol, const std::string& what) {
  ASSERT_EQ(a.defined(), b.defined()) << what;
  if (!a.defined()) return;
  ASSERT_EQ(a.shape(), b.shape()) << what;
  ASSERT_EQ(a.dtype(), b.dtype()) << what;
  const auto va = values(a), vb = values(b);
  double scale = 0;
  for (double v : vb) scale = std::max(scale, std::abs(v));
  for (size_t i = 0; i < va.size(); ++i)
    ASSERT_NEAR(va[i], vb[i], tol * (1.0 + scale)) << what << " element " << i;
}

DType param_dtype(DType dt) { return dt == DType::F64 ? DType::F64 : DType::F32; }

double grad_tol(DType dt) {
  switch (dt) {
    case DType::F64: return 1e-12;
    case DType::F32: return 1e-5;
    default: return 2e-2;  // bf16: values and gradients rounded to 8 bits
  }
}

// One configuration: input shape (and whether it is fed transposed), mode, which params exist.
struct Case {
  std::string name;
  Shape shape;
  bool training = true;
  bool weight = true, bias = true;
  bool permuted = false;  // the input is a non-contiguous permute of a contiguous tensor
};

std::vector<Case> cases() {
  return {
      {"2d_train", {16, 5}},                                   // column path
      {"2d_eval", {16, 5}, false},
      {"4d_train", {4, 3, 6, 7}},                              // run path (S = 42)
      {"4d_eval", {4, 3, 6, 7}, false},
      {"5d_train", {2, 3, 3, 4, 5}},                           // run path, [N, C, D, H, W]
      {"5d_eval_short_runs", {3, 2, 2, 2, 3}, false},           // column path, 5-d
      {"4d_train_no_affine", {3, 4, 5, 5}, true, false, false},
      {"4d_train_weight_only", {3, 4, 5, 5}, true, true, false},
      {"4d_eval_bias_only", {3, 4, 5, 5}, false, false, true},
      {"2d_train_no_affine", {20, 3}, true, false, false},
      {"4d_train_permuted", {4, 3, 5, 6}, true, true, true, true},
      {"4d_eval_permuted", {4, 3, 5, 6}, false, true, true, true},
  };
}

// Leaves for one case in dtype dt: x (maybe non-contiguous), weight, bias, running stats.
struct Inputs {
  Tensor x, w, b, rm, rv, gy;
};

Inputs make_inputs(const Case& c, DType dt) {
  Inputs in;
  if (c.permuted) {
    // x is the permute of a [S.., C, N]-ordered tensor: strides are not contiguous.
    Shape rev(std::vector<int64_t>(c.shape.begin(), c.shape.end()));
    std::vector<int64_t> dims(c.shape.ndim());
    for (int64_t i = 0; i < c.shape.ndim(); ++i) {
      rev[i] = c.shape[c.shape.ndim() - 1 - i];
      dims[i] = c.shape.ndim() - 1 - i;
    }
    in.x = random(rev, 11, -2.0, 2.0, dt).permute(dims);
    EXPECT_FALSE(in.x.is_contiguous());
  } else {
    in.x = random(c.shape, 11, -2.0, 2.0, dt);
  }
  const int64_t ch = c.shape[1];
  const DType pt = param_dtype(dt);
  if (c.weight) in.w = random({ch}, 12, 0.5, 1.5, pt);
  if (c.bias) in.b = random({ch}, 13, -0.5, 0.5, pt);
  in.rm = random({ch}, 14, -0.3, 0.3, pt);
  in.rv = random({ch}, 15, 0.5, 1.5, pt);
  in.gy = random(c.shape, 16, -1.0, 1.0, dt);
  return in;
}

struct Result {
  Tensor out, dx, dw, db, rm, rv;
};

// Runs fused (batch_norm_relu) or unfused (relu(batch_norm)) on fresh leaves and fresh running
// statistics, then backward from sum(out * gy).
Result run(const Case& c, const Inputs& in, bool fused) {
  auto leaf = [](const Tensor& t) { return t.defined() ? t.detach().requires_grad_() : Tensor(); };
  Tensor x = leaf(in.x), w = leaf(in.w), b = leaf(in.b);
  Tensor rm = in.rm.clone(), rv = in.rv.clone();
  const BatchNormOptions opts{.training = c.training, .momentum = 0.2};
  Tensor out = fused ? batch_norm_relu(x, rm, rv, w, b, opts) : relu(batch_norm(x, rm, rv, w, b, opts));
  sum(out * in.gy).backward();
  return {out.detach(), x.grad(), w.defined() ? w.grad() : Tensor(), b.defined() ? b.grad() : Tensor(), rm, rv};
}

TEST(BatchNormRelu, MatchesReluOfBatchNormInEveryDtypeLayoutAndMode) {
  for (DType dt : {DType::F64, DType::F32, DType::BF16}) {
    for (const Case& c : cases()) {
      SCOPED_TRACE(c.name + " " + std::string(dtype_name(dt)));
      const Inputs in = make_inputs(c, dt);
      const Result f = run(c, in, true), u = run(c, in, false);
      expect_equal(f.out, u.out, "out");
      expect_equal(f.rm, u.rm, "running_mean");
      expect_equal(f.rv, u.rv, "running_var");
      const double tol = grad_tol(dt);
      expect_close(f.dx, u.dx, tol, "dx");
      expect_close(f.dw, u.dw, tol, "dweight");
      expect_close(f.db, u.db, tol, "dbias");
      // The ReLU did something: some outputs are clamped, some pass.
      const auto v = values(f.out);
      const auto zeros_out = std::count(v.begin(), v.end(), 0.0);
      EXPECT_GT(zeros_out, 0);
      EXPECT_LT(zeros_out, static_cast<std::ptrdiff_t>(v.size()));
    }
  }
}

// Hand-computed: x = [[-1], [1]] per channel 0 of [2, 1]: batch mean 0, biased var 1, so
// xhat = -1/sqrt(1 + eps), +1/sqrt(1 + eps); with w = 2, b = 0.5: pre = -1.5, 2.5 (times ~1):
// y = [0, 2.5]. Backward from g = [1, 1]: only the second element passes; dbias = 1,
// dweight = xhat_1 = 1/sqrt(1 + eps); dx = w * invstd * (gm - mean(gm) - xhat * mean(gm * xhat))
// = 2 * r * ([0, 1] - 0.5 - [-r, r] * r / 2) with r = 1/sqrt(1 + eps).
TEST(BatchNormRelu, HandComputedTwoValues) {
  const double eps = 1e-5, r = 1.0 / std::sqrt(1.0 + eps);
  const TensorOptions o{.dtype = DType::F64};
  Tensor x = tensor(std::vector<double>{-1.0, 1.0}, {2, 1}).requires_grad_();
  Tensor w = full({1}, 2.0, o).requires_grad_(), b = full({1}, 0.5, o).requires_grad_();
  Tensor y = batch_norm_relu(x, Tensor(), Tensor(), w, b, {.training = true, .eps = eps});
  const auto yv = values(y);
  EXPECT_EQ(yv[0], 0.0);
  EXPECT_NEAR(yv[1], 2.0 * r + 0.5, 1e-14);
  sum(y).backward();
  EXPECT_NEAR(values(b.grad())[0], 1.0, 1e-14);
  EXPECT_NEAR(values(w.grad())[0], r, 1e-14);
  const auto dx = values(x.grad());
  EXPECT_NEAR(dx[0], 2.0 * r * (0.0 - 0.5 - (-r) * r / 2.0), 1e-12);
  EXPECT_NEAR(dx[1], 2.0 * r * (1.0 - 0.5 - r * r / 2.0), 1e-12);
}

TEST(BatchNormRelu, SameResultsForOneAndTwoThreads) {
  const int saved = get_num_threads();
  // Long runs with several chunks per channel and few channels: the two-phase schedule.
  const Case c{"big", {4, 2, 180, 200}};
  const Inputs in = make_inputs(c, DType::F32);
  set_num_threads(1);
  const Result one = run(c, in, true);
  set_num_threads(2);
  const Result two = run(c, in, true);
  set_num_threads(saved);
  expect_equal(one.out, two.out, "out");
  expect_equal(one.dx, two.dx, "dx");
  expect_equal(one.dw, two.dw, "dweight");
  expect_equal(one.db, two.db, "dbias");
  expect_equal(one.rv, two.rv, "running_var");
}

TEST(BatchNormRelu, RecordsItsOwnNodeAndKeepsNoOutput) {
  Tensor x = random({4, 3, 5}, 1, -1.0, 1.0, DType::F32).requires_grad_();
  Tensor y = batch_norm_relu(x, Tensor(), Tensor(), Tensor(), Tensor(), {.training = true});
  ASSERT_TRUE(y.grad_fn() != nullptr);
  EXPECT_EQ(y.grad_fn()->name(), "BatchNormReluBackward");
  // The backward does not read y: changing y's storage afterwards (no autograd) changes nothing.
  Tensor y_copy = y.detach().clone();
  {
    NoGradGuard no_grad;
    y.detach().fill_(123.0);
  }
  Tensor g = random({4, 3, 5}, 2, -1.0, 1.0, DType::F32);
  y.backward(g);
  Tensor x2 = x.detach().requires_grad_();
  relu(batch_norm(x2, Tensor(), Tensor(), Tensor(), Tensor(), {.training = true})).backward(g);
  expect_close(x.grad(), x2.grad(), 1e-5, "dx after the output was overwritten");
  (void)y_copy;
}

TEST(BatchNormRelu, DoubleBackwardMatchesTheUnfusedComposition) {
  for (bool training : {true, false}) {
    SCOPED_TRACE(training ? "training" : "eval");
    const Case c{"dbl", {3, 2, 4}, training};
    const Inputs in = make_inputs(c, DType::F64);
    auto second = [&](bool fused) {
      Tensor x = in.x.detach().requires_grad_(), w = in.w.detach().requires_grad_(),
             b = in.b.detach().requires_grad_();
      const BatchNormOptions opts{.training = training};
      Tensor rm = in.rm.clone(), rv = in.rv.clone();
      Tensor y = fused ? batch_norm_relu(x, rm, rv, w, b, opts) : relu(batch_norm(x, rm, rv, w, b, opts));
      autograd::TensorList g = autograd::grad({sum(y * in.gy)}, {x, w, b}, {}, true, true);
      sum(g[0] * g[0]).backward();
      return std::vector<Tensor>{g[0].detach(), x.grad(), w.grad(), b.grad()};
    };
    const auto f = second(true), u = second(false);
    expect_close(f[0], u[0], 1e-12, "first derivative");
    expect_close(f[1], u[1], 1e-10, "d/dx of |dx|^2");
    expect_close(f[2], u[2], 1e-10, "d/dw of |dx|^2");
    ASSERT_EQ(f[3].defined(), u[3].defined());
    if (f[3].defined()) expect_close(f[3], u[3], 1e-10, "d/db of |dx|^2");
  }
}

TEST(BatchNormRelu, EmptyBatchGivesEmptyOutputAndGradient) {
  Tensor x = zeros({0, 3, 4}).requires_grad_();
  Tensor w = ones({3}).requires_grad_(), b = zeros({3}).requires_grad_();
  Tensor y = batch_norm_relu(x, Tensor(), Tensor(), w, b, {.training = true});
  EXPECT_EQ(y.shape(), Shape({0, 3, 4}));
  y.backward(zeros({0, 3, 4}));
  EXPECT_EQ(x.grad().shape(), Shape({0, 3, 4}));
  EXPECT_EQ(values(b.grad()), std::vector<double>(3, 0.0));
}

TEST(BatchNormRelu, ErrorsNameTheOp) {
  const Tensor x = ones({4, 3, 5});
  EXPECT_STRATA_ERROR(batch_norm_relu(x, Tensor(), Tensor(), ones({4})), ShapeError,
                      {"batch_norm_relu:", "weight has 4 elements", "3 channels"});
  EXPECT_STRATA_ERROR(batch_norm_relu(x, Tensor(), Tensor()), ValueError,
                      {"batch_norm_relu:", "running_mean and running_var must be defined"});
  EXPECT_STRATA_ERROR(batch_norm_relu(ones({1, 3}), Tensor(), Tensor(), Tensor(), Tensor(), {.training = true}),
                      ValueError, {"batch_norm_relu:", "more than 1 value per channel", "[1, 3]"});
  EXPECT_STRATA_ERROR(batch_norm_relu(ones({4, 3}, {.dtype = DType::I64}), Tensor(), Tensor()), DTypeError,
                      {"batch_norm_relu"});
  EXPECT_STRATA_ERROR(batch_norm_relu(ones({4}), Tensor(), Tensor()), ShapeError, {"batch_norm_relu:", "[4]"});
  EXPECT_STRATA_ERROR(batch_norm_relu(x, Tensor(), Tensor(), ones({3}, {.dtype = DType::F64})), DTypeError,
                      {"batch_norm_relu:", "weight has dtype f64"});
  EXPECT_STRATA_ERROR(batch_norm_relu_backward(ones({4, 3}), x, Tensor(), Tensor(), zeros({3}), ones({3}), true),
                      ShapeError, {"batch_norm_relu_backward:", "[4, 3]", "[4, 3, 5]"});
}

}  // namespace
}  // namespace strata
