// The loss functions against PyTorch's numbers (torch 1.13, f64, pasted as constants) and a naive
// double reference: cross_entropy with every reduction, class weights, ignore_index, label
// smoothing and all combined; segmentation-shaped [N, C, H, W] input; the class dim elsewhere;
// probability targets; nll_loss; the fused backward against the reference and against the
// tensor-op composition; f16/bf16; empty and all-ignored batches; thread-count independence;
// binary cross-entropy (with logits, pos_weight, target gradients, extreme values); the regression
// losses; and the messages of bad calls.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "kernels/loss.h"
#include "strata.h"
#include "support/loss_reference.h"

namespace strata {
namespace {

using testing::reference_cross_entropy;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

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

void expect_close(const Tensor& got, const Tensor& want, double atol, double rtol = 0.0) {
  ASSERT_EQ(got.shape(), want.shape()) << got.shape().str() << " vs " << want.shape().str();
  const auto g = got.to(DType::F64).contiguous().to_vector<double>();
  const auto w = want.to(DType::F64).contiguous().to_vector<double>();
  for (size_t i = 0; i < g.size(); ++i) {
    if (std::isnan(w[i])) {
      EXPECT_TRUE(std::isnan(g[i])) << "element " << i;
      continue;
    }
    ASSERT_NEAR(g[i], w[i], atol + rtol * std::abs(w[i])) << "element " << i << " of " << got.shape().str();
  }
}

Tensor values(std::vector<double> v, const Shape& shape = {}) {
  return shape.empty() && v.size() == 1 ? tensor<double>(v).reshape({}) : tensor<double>(v, shape);
}

Tensor random(const Shape& shape, DType dt = DType::F32, uint64_t seed = 1, double scale = 2.0) {
  Generator gen(seed);
  return (randn(shape, {.dtype = DType::F64}, &gen) * scale).to(dt);
}

Tensor random_targets(const Shape& shape, int64_t classes, uint64_t seed) {
  Generator gen(seed);
  return randint(0, classes, shape, {.dtype = DType::I64}, &gen);
}

struct ThreadsGuard {
  int saved = get_num_threads();
  explicit ThreadsGuard(int n) { set_num_threads(n); }
  ~ThreadsGuard() { set_num_threads(saved); }
};

// ---- the fixture PyTorch computed: 3 items, 5 classes ----
Tensor logits3x5(DType dt = DType::F64) {
  return tensor<double>({1.0, 2.0, 0.5, -1.0, 3.0, 0.0, -2.0, 1.5, 2.5, -0.5, 2.0, 2.0, 2.0, 2.0, 2.0}, {3, 5}).to(dt);
}
Tensor targets3() { return tensor<int64_t>({1, 0, 4}); }
Tensor weights5() { return tensor<double>({1.0, 2.0, 0.5, 1.5, 3.0}); }

struct PyTorchCase {
  const char* name;
  bool weighted;  // class weights weights5()
  int64_t ignore_index;
  double label_smoothing;
  std::vector<double> none;
  double sum, mean;
  std::vector<double> grad_mean;  // d mean / dx
  std::vector<double> grad_none;  // d sum(g * none) / dx, g = [0.5, -1, 2]
};

std::vector<PyTorchCase> pytorch_cases() {
  return {
      {"plain", false, -100, 0.0, {1.472260681, 2.912679359, 1.609437912}, 5.994377953, 1.998125984,
       {0.028131285, -0.256864572, 0.017062487, 0.003807155, 0.207863644, -0.315223345, 0.00245092, 0.081163337,
        0.220624824, 0.010984263, 0.066666667, 0.066666667, 0.066666667, 0.066666667, -0.266666667},
       {0.042196928, -0.385296858, 0.02559373, 0.005710733, 0.311795467, 0.945670035, -0.007352761, -0.243490011,
        -0.661874473, -0.03295279, 0.4, 0.4, 0.4, 0.4, -1.6}},
      {"weight", true, -100, 0.0, {2.944521363, 2.912679359, 4.828313737}, 10.685514459, 1.780919077,
       {0.028131285, -0.256864572, 0.017062487, 0.003807155, 0.207863644, -0.157611672, 0.00122546, 0.040581669,
        0.110312412, 0.005492132, 0.1, 0.1, 0.1, 0.1, -0.4},
       {0.084393856, -0.770593716, 0.051187461, 0.011421466, 0.623590933, 0.945670035, -0.007352761, -0.243490011,
        -0.661874473, -0.03295279, 1.2, 1.2, 1.2, 1.2, -4.8}},
      {"ignore", false, 0, 0.0, {1.472260681, 0.0, 1.609437912}, 3.081698594, 1.540849297,
       {0.042196928, -0.385296858, 0.02559373, 0.005710733, 0.311795467, 0, 0, 0, 0, 0, 0.1, 0.1, 0.1, 0.1, -0.4},
       {0.042196928, -0.385296858, 0.02559373, 0.005710733, 0.311795467, 0, 0, 0, 0, 0, 0.4, 0.4, 0.4, 0.4, -1.6}},
      {"smooth", false, -100, 0.1, {1.562260681, 2.882679359, 1.609437912}, 6.054377953, 2.018125984,
       {0.021464619, -0.230197905, 0.01039582, -0.002859511, 0.201196978, -0.288556678, -0.004215746, 0.07449667,
        0.213958158, 0.004317597, 0.06, 0.06, 0.06, 0.06, -0.24},
       {0.032196928, -0.345296858, 0.01559373, -0.004289267, 0.301795467, 0.865670035, 0.012647239, -0.223490011,
        -0.641874473, -0.01295279, 0.36, 0.36, 0.36, 0.36, -1.44}},
      {"weight_ignore_smooth", true, 0, 0.2,
       {2.956740508, 0.0, 4.377671122}, 7.33441163, 1.466882326,
       {0.024407241, -0.247907987, 0.015655985, -0.007614157, 0.215458918, 0, 0, 0, 0, 0, 0.1008, 0.0928, 0.1048,
        0.0968, -0.3952},
       {0.061018101, -0.619769967, 0.039139962, -0.019035392, 0.538647296, 0, 0, 0, 0, 0, 1.008, 0.928, 1.048, 0.968,
        -3.952}},
  };
}

TEST(CrossEntropy, MatchesPyTorchForEveryReductionAndOption) {
  for (const PyTorchCase& c : pytorch_cases()) {
    for (DType dt : {DType::F64, DType::F32}) {
      SCOPED_TRACE(std::string(c.name) + " " + std::string(dtype_name(dt)));
      const double tol = dt == DType::F64 ? 2e-9 : 2e-6;
      CrossEntropyOptions o{.ignore_index = c.ignore_index, .label_smoothing = c.label_smoothing};
      if (c.weighted) o.weight = weights5().to(dt);
      Tensor x = logits3x5(dt).requires_grad_();
      o.reduction = Reduction::None;
      Tensor none = cross_entropy(x, targets3(), o);
      EXPECT_EQ(none.dtype(), dt);
      expect_close(none, values(c.none, {3}), tol, tol);
      none.backward(tensor<double>({0.5, -1.0, 2.0}).to(dt));
      expect_close(x.grad(), values(c.grad_none, {3, 5}), tol, tol);
      x.zero_grad();
      o.reduction = Reduction::Sum;
      expect_close(cross_entropy(x, targets3(), o), values({c.sum}), tol, tol);
      o.reduction = Reduction::Mean;
      Tensor mean = cross_entropy(x, targets3(), o);
      EXPECT_EQ(mean.dim(), 0);
      expect_close(mean, values({c.mean}), tol, tol);
      mean.backward();
      expect_close(x.grad(), values(c.grad_mean, {3, 5}), tol, tol);
    }
  }
}

TEST(CrossEntropy, SegmentationShapedInputMatchesPyTorch) {
  // x4 = sin(linspace(-2, 2, 24)) * 3 reshaped [2, 3, 2, 2]; 255 is ignored.
  Tensor x = (sin(linspace(-2.0, 2.0, 24, {.dtype = DType::F64})) * 3.0).reshape({2, 3, 2, 2}).requires_grad_();
  Tensor t = tensor<int64_t>({0, 2, 1, 255, 2, 2, 0, 1}, {2, 2, 2});
  expect_close(cross_entropy(x, t, {.ignore_index = 255, .reduction = Reduction::None}),
               values({1.525906184, 0.356753209, 1.936935541, 0.0, 0.394505549, 0.526286842, 2.343194664, 0.767560926},
                      {2, 2, 2}),
               2e-9);
  Tensor l = cross_entropy(x, t, {.weight = weights5().slice(0, 0, 3), .ignore_index = 255, .label_smoothing = 0.1});
  expect_close(l, values({1.353800552}), 2e-9);
  l.backward();
  expect_close(x.grad(),
               values({-0.094971421, 0.005823069, 0.01705458, 0.0, 0.016070032, 0.003514403, -0.212051833, 0.0,
                       0.078901389, -0.009337473, 0.194997253, 0.0, -0.001111892, 0.000421553, -0.111428346,
                       0.032049128, 0.01240867, 0.017162854, 0.046608723, -0.13027437, -0.011296779, -0.017584407,
                       0.064819624, 0.098225241},
                      {2, 3, 2, 2}),
               2e-9);
}

// Random logits of every layout the kernels walk, against the naive reference, loss and gradient.
TEST(CrossEntropy, MatchesReferenceOnRowsAndStridedLayouts) {
  struct Case {
    Shape shape;
    int64_t dim;
  };
  const std::vector<Case> cases = {{{6, 37}, 1}, {{3, 5, 70}, 1}, {{2, 4, 3, 5}, 1}, {{4, 3, 9}, -1}, {{5, 2}, 0}};
  for (const char* isa : {"avx512", "avx2", "generic"}) {
    try {
      kernels::cpu::softmax_force_isa(isa);
    } catch (const ValueError&) {
      continue;
    }
    for (const Case& c : cases) {
      for (double e : {0.0, 0.3}) {
        for (bool weighted : {false, true}) {
          for (DType dt : {DType::F32, DType::F64}) {
            SCOPED_TRACE(std::string(isa) + " " + c.shape.str() + " dim " + std::to_string(c.dim) + " e " +
                         std::to_string(e) + (weighted ? " weighted " : " ") + std::string(dtype_name(dt)));
            const int64_t dim = c.dim < 0 ? c.dim + c.shape.ndim() : c.dim;
            const int64_t C = c.shape[dim];
            Shape items = c.shape;
            items.erase(dim);
            Tensor t = random_targets(items, C, 31);
            t.reshape({-1}).select(0, 0).fill_(-7);  // one ignored item
            std::vector<double> w;
            if (weighted)
              for (int64_t k = 0; k < C; ++k) w.push_back(0.5 + 0.25 * k);
            Tensor x = random(c.shape, dt, 32).requires_grad_();
            Tensor g = random(items, DType::F64, 33, 1.0);
            CrossEntropyOptions o{.ignore_index = -7, .reduction = Reduction::None, .label_smoothing = e, .dim = c.dim};
            if (weighted) o.weight = tensor<double>(w).to(dt);
            auto ref = reference_cross_entropy(x.detach(), t, dim, w, -7, e, g);
            Tensor loss = cross_entropy(x, t, o);
            const double tol = dt == DType::F64 ? 1e-12 : 3e-6;
            expect_close(loss, ref.loss, tol, tol);
            loss.backward(g.to(dt));
            expect_close(x.grad(), ref.grad, tol, tol);
          }
        }
      }
    }
  }
  kernels::cpu::softmax_force_isa(nullptr);
}

// create_graph takes the tensor-op formula: it must agree with the fused kernel, and be
// differentiable again.
TEST(CrossEntropy, ComposedBackwardMatchesFusedKernel) {
  struct Case {
    Shape shape;
    Tensor target;
    CrossEntropyOptions opts;
  };
  const std::vector<Case> cases = {
      {{3, 5}, targets3(), {.weight = weights5(), .ignore_index = 0, .label_smoothing = 0.2}},
      {{3, 5}, targets3(), {.reduction = Reduction::None, .label_smoothing = 0.1}},
      {{3, 5}, targets3(), {.reduction = Reduction::Sum}},
      {{2, 3, 2, 2}, tensor<int64_t>({0, 2, 1, 255, 2, 2, 0, 1}, {2, 2, 2}), {.ignore_index = 255, .label_smoothing = 0.1}},
      {{5}, tensor<int64_t>({2}).reshape({}), {.label_smoothing = 0.3}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.shape.str());
    Tensor x = random(c.shape, DType::F64, 41).requires_grad_();
    Tensor l = cross_entropy(x, c.target, c.opts);
    Tensor g = random(l.shape(), DType::F64, 42, 1.0);
    Tensor fused = autograd::grad({l}, {x}, {g}, /*retain_graph=*/true)[0];
    Tensor composed = autograd::grad({l}, {x}, {g}, true, /*create_graph=*/true)[0];
    EXPECT_TRUE(composed.requires_grad());
    expect_close(composed.detach(), fused, 1e-12, 1e-12);
    // and the same for nll_loss on log-probabilities
    NllLossOptions no{.weight = c.opts.weight, .ignore_index = c.opts.ignore_index, .reduction = c.opts.reduction};
    Tensor n = nll_loss(x, c.target, no);
    Tensor nf = autograd::grad({n}, {x}, {g}, true)[0];
    Tensor nc = autograd::grad({n}, {x}, {g}, true, true)[0];
    expect_close(nc.detach(), nf, 1e-15);
  }
}

TEST(CrossEntropy, SecondDerivativeMatchesFiniteDifferences) {
  Tensor t = targets3();
  auto first_derivative = [&](const autograd::TensorList& in) {
    // gradcheck's finite differences run without recording, on inputs that need no grad.
    EnableGradGuard grad_mode;
    Tensor x = in[0].requires_grad() ? in[0] : in[0].detach().requires_grad_();
    Tensor l = cross_entropy(x, t, {.weight = weights5(), .label_smoothing = 0.1});
    return autograd::grad({l}, {x}, {}, /*retain_graph=*/true, /*create_graph=*/true)[0];
  };
  auto r = gradcheck(first_derivative, {random({3, 5}, DType::F64, 43, 1.0).requires_grad_()});
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(CrossEntropy, AllIgnoredMeanIsNaNWithZeroGradient) {
  Tensor x = random({3, 4}, DType::F32, 5).requires_grad_();
  Tensor t = full({3}, -100, {.dtype = DType::I64});
  Tensor mean = cross_entropy(x, t);
  EXPECT_TRUE(std::isnan(mean.item()));  // 0 / 0, like PyTorch
  mean.backward();
  expect_close(x.grad(), zeros({3, 4}), 0.0);
  EXPECT_EQ(cross_entropy(x, t, {.reduction = Reduction::Sum}).item(), 0.0);
  expect_close(cross_entropy(x, t, {.reduction = Reduction::None}), zeros({3}), 0.0);
}

TEST(CrossEntropy, EmptyBatch) {
  Tensor x = zeros({0, 5}).requires_grad_();
  Tensor t = zeros({0}, {.dtype = DType::I64});
  EXPECT_TRUE(std::isnan(cross_entropy(x, t).item()));
  EXPECT_EQ(cross_entropy(x, t, {.reduction = Reduction::Sum}).item(), 0.0);
  Tensor none = cross_entropy(x, t, {.reduction = Reduction::None});
  EXPECT_EQ(none.shape(), Shape({0}));
  cross_entropy(x, t, {.reduction = Reduction::Sum}).backward();
  EXPECT_EQ(x.grad().shape(), Shape({0, 5}));
}

TEST(CrossEntropy, HalfPrecisionComputesInF32) {
  for (DType dt : {DType::F16, DType::BF16}) {
    for (const Shape& shape : {Shape{8, 30}, Shape{2, 6, 5, 3}}) {
      SCOPED_TRACE(std::string(dtype_name(dt)) + " " + shape.str());
      Tensor x = random(shape, dt, 7).requires_grad_();
      Shape items = shape;
      items.erase(1);
      Tensor t = random_targets(items, shape[1], 8);
      Tensor g = ones(items, {.dtype = DType::F64});
      auto ref = reference_cross_entropy(x.detach(), t, 1, {}, -100, 0.1, g);
      Tensor l = cross_entropy(x, t, {.reduction = Reduction::None, .label_smoothing = 0.1});
      EXPECT_EQ(l.dtype(), dt);
      const double tol = dt == DType::F16 ? 2e-3 : 1.6e-2;
      expect_close(l, ref.loss, tol, tol);
      l.backward(ones(items, {.dtype = dt}));
      EXPECT_EQ(x.grad().dtype(), dt);
      expect_close(x.grad(), ref.grad, tol, tol);
      Tensor mean = cross_entropy(x, t, {.label_smoothing = 0.1});
      expect_close(mean, sum(ref.loss) / static_cast<double>(items.numel()), tol, tol);
    }
  }
}

TEST(CrossEntropy, ClassIndicesMayBeI32) {
  Tensor x = logits3x5();
  expect_close(cross_entropy(x, targets3().to(DType::I32), {.weight = weights5(), .label_smoothing = 0.2}),
               cross_entropy(x, targets3(), {.weight = weights5(), .label_smoothing = 0.2}), 0.0);
}

TEST(CrossEntropy, ClassDimOptionAndUnbatchedInput) {
  // [N, T, C] with the classes last equals the same logits permuted to [N, C, T].
  Tensor x = random({2, 3, 4}, DType::F64, 9);
  Tensor t = random_targets({2, 3}, 4, 10);
  expect_close(cross_entropy(x, t, {.reduction = Reduction::None, .dim = -1}),
               cross_entropy(x.permute({0, 2, 1}), t, {.reduction = Reduction::None}), 1e-15);
  // A [C] input is one item with a 0-d target.
  Tensor row = logits3x5().select(0, 2);
  Tensor one = cross_entropy(row, tensor<int64_t>({4}).reshape({}), {.reduction = Reduction::None});
  EXPECT_EQ(one.dim(), 0);
  expect_close(one, values({1.609437912}), 2e-9);
}

TEST(CrossEntropy, ProbabilityTargetsMatchPyTorch) {
  Tensor p = tensor<double>({0.1, 0.2, 0.3, 0.2, 0.2, 1, 0, 0, 0, 0, 0, 0, 0.5, 0.5, 0}, {3, 5});
  expect_close(cross_entropy(logits3x5(), p), values({2.314792651}), 2e-9);
  expect_close(cross_entropy(logits3x5(), p, {.weight = weights5(), .reduction = Reduction::None, .label_smoothing = 0.1}),
               values({2.91686536, 3.107440121, 1.706004187}, {3}), 2e-9);
}

TEST(CrossEntropy, ResultDoesNotDependOnThreadCount) {
  Tensor x = random({64, 300}, DType::F32, 11).requires_grad_();
  Tensor t = random_targets({64}, 300, 12);
  auto run = [&](int threads) {
    ThreadsGuard guard(threads);
    x.zero_grad();
    Tensor l = cross_entropy(x, t, {.label_smoothing = 0.1});
    l.backward();
    return std::make_pair(l.item(), x.grad().to_vector<float>());
  };
  auto one = run(1), two = run(2);
  EXPECT_EQ(one.first, two.first);
  EXPECT_EQ(one.second, two.second);
}

TEST(CrossEntropy, BadCallsNameTheProblem) {
  Tensor x = zeros({4, 10});
  expect_error<ShapeError>([&] { cross_entropy(x, zeros({3}, {.dtype = DType::I64})); },
                           "cross_entropy: target has shape [3] but input has batch 4 (input [4, 10])");
  expect_error<ShapeError>([&] { cross_entropy(zeros({4, 5, 6}), zeros({4, 3}, {.dtype = DType::I64})); },
                           "cross_entropy: target has shape [4, 3] but input [4, 5, 6] with classes along dim 1 needs "
                           "target shape [4, 6]");
  expect_error<DTypeError>([&] { cross_entropy(x, zeros({4}, {.dtype = DType::Bool})); },
                           "cross_entropy: target must hold class indices (i64 or i32) or class probabilities "
                           "(floating), got bool");
  expect_error<DTypeError>([&] { cross_entropy(x, zeros({4}, {.dtype = DType::U8})); }, "got u8");
  expect_error<ShapeError>([&] { cross_entropy(x, zeros({4})); },
                           "cross_entropy: a probability target must have the input's shape, got [4] for input [4, 10]");
  expect_error<IndexError>([&] { cross_entropy(x, tensor<int64_t>({1, 2, 10, 3})); },
                           "cross_entropy: target 10 is out of bounds for 10 classes (valid: 0 to 9, or ignore_index -100)");
  expect_error<IndexError>([&] { cross_entropy(x, tensor<int64_t>({1, -1, 2, 3})); }, "target -1 is out of bounds");
  expect_error<IndexError>([&] { cross_entropy(x, tensor<int32_t>({1, 2, 3, 99})); }, "target 99 is out of bounds");
  expect_error<ShapeError>([&] { cross_entropy(x, tensor<int64_t>({1, 2, 3, 4}), {.weight = ones({9})}); },
                           "cross_entropy: weight has shape [9] but input has 10 classes (input [4, 10])");
  expect_error<ValueError>([&] { cross_entropy(x, tensor<int64_t>({1, 2, 3, 4}), {.label_smoothing = 1.5}); },
                           "cross_entropy: label_smoothing must be in [0, 1], got 1.5");
  expect_error<DTypeError>([&] { cross_entropy(zeros({4, 10}, {.dtype = DType::I64}), tensor<int64_t>({1, 2, 3, 4})); },
                           "cross_entropy: expected a floating tensor, got dtype i64");
  expect_error<ShapeError>([&] { cross_entropy(scalar_tensor(1.0), tensor<int64_t>({0})); },
                           "cross_entropy: input needs a class dim");
  expect_error<IndexError>([&] { cross_entropy(x, tensor<int64_t>({1, 2, 3, 4}), {.dim = 2}); },
                           "cross_entropy: dim 2 is out of range");
  expect_error<IndexError>([&] { nll_loss(x, tensor<int64_t>({1, 2, 3, 12})); },
                           "nll_loss: target 12 is out of bounds for 10 classes");
  expect_error<ShapeError>([&] { nll_loss(x, zeros({5}, {.dtype = DType::I64})); },
                           "nll_loss: target has shape [5] but input has batch 4 (input [4, 10])");
}

// ---- nll_loss ----
TEST(NllLoss, MatchesPyTorch) {
  Tensor lp = log_softmax(logits3x5(), 1);
  expect_close(nll_loss(lp, targets3(), {.weight = weights5(), .ignore_index = 4}), values({1.952400241}), 2e-9);
  expect_close(nll_loss(logits3x5(), targets3(), {.reduction = Reduction::None}), values({-2.0, 0.0, -2.0}, {3}), 0.0);
}

TEST(NllLoss, OfLogSoftmaxEqualsCrossEntropyWithGradients) {
  Tensor t = random_targets({3, 4}, 6, 13);
  CrossEntropyOptions ce{.weight = arange(1.0, 4.0, 0.5, {.dtype = DType::F64}), .ignore_index = 2};
  Tensor a = random({3, 6, 4}, DType::F64, 14).requires_grad_();
  Tensor b = a.detach().clone().requires_grad_();
  Tensor la = cross_entropy(a, t, ce);
  Tensor lb = nll_loss(log_softmax(b, 1), t, {.weight = ce.weight, .ignore_index = 2});
  expect_close(la, lb, 1e-14);
  la.backward();
  lb.backward();
  expect_close(a.grad(), b.grad(), 1e-14);
}

// ---- binary cross-entropy ----
Tensor bce_logits() { return tensor<double>({-3.0, 0.0, 2.5, 100.0, -100.0, 0.7}, {2, 3}); }
Tensor bce_targets() { return tensor<double>({0.0, 1.0, 0.3, 0.0, 1.0, 1.0}, {2, 3}); }
Tensor bce_pos_weight() { return tensor<double>({2.0, 0.5, 1.5}); }
Tensor bce_weight() { return tensor<double>({1.0, 0.5}, {2, 1}); }

TEST(BinaryCrossEntropyWithLogits, MatchesPyTorch) {
  Tensor x = bce_logits(), t = bce_targets();
  expect_close(binary_cross_entropy_with_logits(x, t, {.reduction = Reduction::None}),
               values({0.048587352, 0.693147181, 1.828889734, 100.0, 100.0, 0.403186049}, {2, 3}), 2e-9);
  expect_close(binary_cross_entropy_with_logits(
                   x, t, {.weight = bce_weight(), .pos_weight = bce_pos_weight(), .reduction = Reduction::None}),
               values({0.048587352, 0.34657359, 1.840723194, 50.0, 25.0, 0.302389537}, {2, 3}), 2e-9);
  expect_close(binary_cross_entropy_with_logits(x, t), values({33.828968386}), 2e-9);
  // f32: the extreme logits stay finite.
  expect_close(binary_cross_entropy_with_logits(x.to(DType::F32), t.to(DType::F32), {.reduction = Reduction::None}),
               values({0.048587352, 0.693147181, 1.828889734, 100.0, 100.0, 0.403186049}, {2, 3}), 1e-5, 1e-6);
}

TEST(BinaryCrossEntropyWithLogits, GradientsInLogitsAndTargets) {
  Tensor x = bce_logits().requires_grad_(), t = bce_targets().requires_grad_();
  binary_cross_entropy_with_logits(x, t, {.pos_weight = bce_pos_weight(), .reduction = Reduction::Sum}).backward();
  expect_close(x.grad(), values({0.047425873, -0.25, 0.612763093, 1.0, -0.5, -0.497718342}, {2, 3}), 2e-9);
  expect_close(t.grad(), values({6.048587352, -0.34657359, -2.460555133, -100.0, 50.0, -0.498406976}, {2, 3}), 2e-9);
  // At x = 0 the gradient is sigmoid(0) - t (the formula has no kink there).
  Tensor z = zeros({3}, {.dtype = DType::F64}).requires_grad_();
  binary_cross_entropy_with_logits(z, tensor<double>({0.0, 0.25, 1.0}), {.reduction = Reduction::Sum}).backward();
  expect_close(z.grad(), values({0.5, 0.25, -0.5}, {3}), 1e-15);
}

TEST(BinaryCrossEntropy, MatchesPyTorchIncludingClampedLogs) {
  Tensor p = tensor<double>({0.0, 0.5, 1.0, 0.25, 0.9, 0.01}, {2, 3}).requires_grad_();
  Tensor t = tensor<double>({0.0, 1.0, 0.0, 1.0, 0.5, 0.0}, {2, 3});
  expect_close(binary_cross_entropy(p, t, {.reduction = Reduction::None}),
               values({0.0, 0.693147181, 100.0, 1.386294361, 1.203972804, 0.010050336}, {2, 3}), 2e-9);
  expect_close(binary_cross_entropy(p, t, {.weight = bce_weight()}), values({16.998884322}), 2e-9);
  binary_cross_entropy(p, t, {.reduction = Reduction::Sum}).backward();
  // p = 1, t = 0: the denominator p(1 - p) is guarded at 1e-12, so the gradient is finite.
  expect_close(p.grad(), values({0.0, -2.0, 1.0e12, -4.0, 4.444444444, 1.01010101}, {2, 3}), 2e-9, 1e-8);
  // Gradient in the target: log(1 - p) - log(p) with the forward's clamped logs (PyTorch: +-inf at p = 0, 1).
  Tensor tg = t.clone().requires_grad_();
  binary_cross_entropy(p.detach(), tg, {.reduction = Reduction::Sum}).backward();
  expect_close(tg.grad(), values({100.0, 0.0, -100.0, std::log(0.75) - std::log(0.25), std::log(0.1) - std::log(0.9),
                                  std::log(0.99) - std::log(0.01)},
                                 {2, 3}),
               1e-12);
}

TEST(BinaryCrossEntropy, BadCallsNameTheProblem) {
  const char* op = "binary_cross_entropy";
  expect_error<ValueError>([] { binary_cross_entropy(tensor<float>({0.5f, 1.5f, -0.1f}), zeros({3})); },
                           "binary_cross_entropy: input must hold probabilities in [0, 1], but 2 of its 3 values");
  expect_error<ValueError>([] { binary_cross_entropy(tensor<float>({0.5f, NAN}), zeros({2})); }, "1 of its 2 values");
  expect_error<ShapeError>([] { binary_cross_entropy(zeros({2, 3}), zeros({3})); },
                           "binary_cross_entropy: target has shape [3] but input has shape [2, 3]");
  expect_error<DTypeError>([] { binary_cross_entropy_with_logits(zeros({3}), zeros({3}, {.dtype = DType::I64})); },
                           "binary_cross_entropy_with_logits: target must be floating");
  expect_error<ShapeError>([] { binary_cross_entropy_with_logits(zeros({2, 3}), zeros({2, 3}), {.pos_weight = ones({2, 2, 3})}); },
                           "binary_cross_entropy_with_logits: pos_weight of shape [2, 2, 3] does not broadcast to the "
                           "input's shape [2, 3]");
  expect_error<ShapeError>([] { binary_cross_entropy(zeros({2, 3}), zeros({2, 3}), {.weight = ones({4})}); }, op);
}

// ---- regression ----
Tensor reg_x() { return tensor<double>({0.0, 0.5, -2.0, 3.0, 1.0}); }
Tensor reg_t() { return tensor<double>({0.2, -0.5, 0.0, 0.5, 1.0}); }

TEST(RegressionLosses, MatchPyTorch) {
  expect_close(mse_loss(reg_x(), reg_t()), values({2.258}), 1e-12);
  expect_close(l1_loss(reg_x(), reg_t(), Reduction::Sum), values({5.7}), 1e-12);
  expect_close(smooth_l1_loss(reg_x(), reg_t(), Reduction::None), values({0.02, 0.5, 1.5, 2.0, 0.0}, {5}), 1e-12);
  expect_close(smooth_l1_loss(reg_x(), reg_t(), Reduction::None, 0.5), values({0.04, 0.75, 1.75, 2.25, 0.0}, {5}),
               1e-12);
  expect_close(huber_loss(reg_x(), reg_t(), Reduction::None, 2.0), values({0.02, 0.5, 2.0, 3.0, 0.0}, {5}), 1e-12);
  expect_close(huber_loss(reg_x(), reg_t()), values({0.804}), 1e-12);
  // beta = 0 is l1_loss.
  expect_close(smooth_l1_loss(reg_x(), reg_t(), Reduction::None, 0.0), abs(reg_x() - reg_t()), 0.0);
}

TEST(RegressionLosses, GradientsBroadcastingAndEmptyInputs) {
  Tensor x = tensor<double>({1.0, -1.0, 2.0, 0.0, 3.0, -4.0}, {2, 3}).requires_grad_();
  Tensor t = tensor<double>({0.5, 0.0, 2.0}).requires_grad_();  // broadcasts over rows
  Tensor l = mse_loss(x, t);
  EXPECT_EQ(l.dim(), 0);
  l.backward();
  // d/dx = 2 (x - t) / 6; d/dt sums the broadcast rows with the opposite sign.
  expect_close(x.grad(), values({1 / 6.0, -1 / 3.0, 0.0, -1 / 6.0, 1.0, -2.0}, {2, 3}), 1e-15);
  expect_close(t.grad(), values({0.0, -2 / 3.0, 2.0}, {3}), 1e-15);
  Tensor z = zeros({4}, {.dtype = DType::F64}).requires_grad_();
  l1_loss(z, zeros({4}, {.dtype = DType::F64}), Reduction::Sum).backward();
  expect_close(z.grad(), zeros({4}), 0.0);  // sign(0) = 0, like PyTorch
  EXPECT_TRUE(std::isnan(mse_loss(zeros({0}), zeros({0})).item()));  // mean of nothing
  EXPECT_EQ(huber_loss(zeros({0}), zeros({0}), Reduction::Sum).item(), 0.0);
}

TEST(RegressionLosses, BadCallsNameTheProblem) {
  expect_error<ValueError>([] { smooth_l1_loss(zeros({2}), zeros({2}), Reduction::Mean, -1.0); },
                           "smooth_l1_loss: beta must be >= 0, got -1");
  expect_error<ValueError>([] { huber_loss(zeros({2}), zeros({2}), Reduction::Mean, 0.0); },
                           "huber_loss: delta must be > 0, got 0");
  expect_error<ShapeError>([] { mse_loss(zeros({2, 3}), zeros({4})); }, "shapes [2, 3] and [4]");
  expect_error<DTypeError>([] { l1_loss(zeros({2}, {.dtype = DType::I64}), zeros({2})); },
                           "l1_loss: expected a floating tensor");
}

}  // namespace
}  // namespace strata
