// softmax and log_softmax against PyTorch's values and a naive double reference: contiguous rows
// and strided dims (full and partial tiles of lanes), every vector instruction set this CPU runs,
// every floating dtype, non-contiguous, empty and 0-d inputs, extreme values (large, -inf, NaN),
// the backward (fused kernel and the tensor-op composition agree), independence from the thread
// count, the vector exp's accuracy, and the messages of bad calls.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "kernels/cpu/softmax_rows.h"
#include "kernels/loss.h"
#include "strata.h"
#include "support/loss_reference.h"

namespace strata {
namespace {

using testing::reference_softmax;

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

Tensor random(const Shape& shape, DType dt = DType::F32, uint64_t seed = 1, double scale = 3.0) {
  Generator gen(seed);
  return (randn(shape, {.dtype = DType::F64}, &gen) * scale).to(dt);
}

void expect_close(const Tensor& got, const Tensor& want, double atol, double rtol = 0.0) {
  ASSERT_EQ(got.shape(), want.shape());
  const auto g = got.to(DType::F64).contiguous().to_vector<double>();
  const auto w = want.to(DType::F64).contiguous().to_vector<double>();
  for (size_t i = 0; i < g.size(); ++i) {
    if (std::isnan(w[i])) {
      EXPECT_TRUE(std::isnan(g[i])) << "element " << i;
      continue;
    }
    if (std::isinf(w[i])) {
      EXPECT_EQ(g[i], w[i]) << "element " << i;
      continue;
    }
    ASSERT_NEAR(g[i], w[i], atol + rtol * std::abs(w[i])) << "element " << i << " of " << got.shape().str();
  }
}

// The instruction sets this CPU can run; each test that loops over them restores the default.
std::vector<const char*> isas() {
  std::vector<const char*> out;
  for (const char* isa : {"avx512", "avx2", "generic"}) {
    try {
      kernels::cpu::softmax_force_isa(isa);
      out.push_back(isa);
    } catch (const ValueError&) {
    }
  }
  kernels::cpu::softmax_force_isa(nullptr);
  return out;
}

struct IsaGuard {
  explicit IsaGuard(const char* isa) { kernels::cpu::softmax_force_isa(isa); }
  ~IsaGuard() { kernels::cpu::softmax_force_isa(nullptr); }
};

struct ThreadsGuard {
  int saved = get_num_threads();
  explicit ThreadsGuard(int n) { set_num_threads(n); }
  ~ThreadsGuard() { set_num_threads(saved); }
};

TEST(Softmax, MatchesPyTorchValues) {
  Tensor a = tensor<float>({1, 2, 3, 1, 1, 1}, {2, 3});
  // torch.softmax / log_softmax of the same tensor (torch 1.13, f64).
  expect_close(softmax(a, 1), tensor<double>({0.090030573, 0.244728471, 0.665240956, 1 / 3.0, 1 / 3.0, 1 / 3.0}, {2, 3}),
               1e-7);
  expect_close(log_softmax(a, 1),
               tensor<double>({-2.407605964, -1.407605964, -0.407605964, -1.098612289, -1.098612289, -1.098612289}, {2, 3}),
               1e-6);
  expect_close(softmax(a, 0), tensor<double>({0.5, 0.731058579, 0.880797078, 0.5, 0.268941421, 0.119202922}, {2, 3}),
               1e-7);
  expect_close(softmax(a, -2), softmax(a, 0), 0.0);
}

TEST(Softmax, MatchesReferenceOnRowsAndStridedDimsForEveryIsa) {
  struct Case {
    Shape shape;
    int64_t dim;
  };
  // rows with vector tails; strided with a full tile, a partial tile, and both; C = 1.
  const std::vector<Case> cases = {{{7, 33}, 1},      {{7, 33}, 0},   {{3, 37, 70}, 1}, {{2, 3, 4, 5}, 2},
                                   {{5, 1}, 1},       {{1, 200}, -1}, {{4, 3, 64}, 1},  {{2, 130, 3}, 1},
                                   {{3, 1, 100}, 1}};
  for (const char* isa : isas()) {
    IsaGuard guard(isa);
    for (const Case& c : cases) {
      for (bool log : {false, true}) {
        SCOPED_TRACE(std::string(isa) + (log ? " log_softmax " : " softmax ") + c.shape.str() + " dim " +
                     std::to_string(c.dim));
        Tensor x32 = random(c.shape, DType::F32, 3);
        Tensor x64 = random(c.shape, DType::F64, 3);
        auto run = [&](const Tensor& x) { return log ? log_softmax(x, c.dim) : softmax(x, c.dim); };
        expect_close(run(x32), reference_softmax(x32, c.dim, log), 2e-6, 2e-6);
        expect_close(run(x64), reference_softmax(x64, c.dim, log), 1e-13, 1e-13);
      }
    }
  }
}

TEST(Softmax, NonContiguousInputs) {
  Tensor base = random({6, 10}, DType::F32, 5);
  Tensor t = base.t();                 // [10, 6], strides (1, 10)
  Tensor stepped = base.slice(1, 0, 10, 3);  // [6, 4] with a step
  for (bool log : {false, true}) {
    for (int64_t dim : {0, 1}) {
      expect_close(log ? log_softmax(t, dim) : softmax(t, dim), reference_softmax(t, dim, log), 2e-6, 2e-6);
      expect_close(log ? log_softmax(stepped, dim) : softmax(stepped, dim), reference_softmax(stepped, dim, log), 2e-6,
                   2e-6);
    }
  }
}

TEST(Softmax, HalfPrecisionComputesInF32) {
  for (DType dt : {DType::F16, DType::BF16}) {
    const double tol = dt == DType::F16 ? 1e-3 : 8e-3;
    for (int64_t dim : {1, 0}) {
      Tensor x = random({5, 300}, dt, 7);
      Tensor y = softmax(x, dim);
      EXPECT_EQ(y.dtype(), dt);
      expect_close(y, reference_softmax(x, dim, false), 1e-5, tol);
      Tensor ly = log_softmax(x, dim);
      expect_close(ly, reference_softmax(x, dim, true), tol, tol);
    }
  }
}

TEST(Softmax, LargeInfiniteAndNaNValues) {
  const double inf = std::numeric_limits<double>::infinity(), nan = std::numeric_limits<double>::quiet_NaN();
  // Subtracting the max keeps large logits finite: same as [1, 2, 3].
  expect_close(softmax(tensor<float>({1000, 1001, 1002}), 0), tensor<double>({0.090030573, 0.244728471, 0.665240956}),
               1e-7);
  // -inf is probability 0 (log: -inf); a row of only -inf is nan, like PyTorch.
  Tensor x = tensor<float>({0.0f, -INFINITY, std::log(3.0f), -INFINITY, -INFINITY, -INFINITY}, {2, 3});
  expect_close(softmax(x, 1), tensor<double>({0.25, 0, 0.75, nan, nan, nan}, {2, 3}), 1e-7);
  expect_close(log_softmax(x, 1), tensor<double>({std::log(0.25), -inf, std::log(0.75), nan, nan, nan}, {2, 3}), 1e-6);
  // NaN anywhere in a row makes the whole row NaN; other rows are untouched.
  Tensor y = softmax(tensor<float>({1.0f, NAN, 2.0f, 0.0f, 0.0f, 0.0f}, {2, 3}), 1);
  expect_close(y, tensor<double>({nan, nan, nan, 1 / 3.0, 1 / 3.0, 1 / 3.0}, {2, 3}), 1e-7);
  // The same through the strided kernel.
  Tensor z = softmax(tensor<float>({1.0f, 0.0f, NAN, 0.0f}, {2, 2}), 0);
  expect_close(z, tensor<double>({nan, 0.5, nan, 0.5}, {2, 2}), 1e-7);
}

TEST(Softmax, EmptyAndScalarInputs) {
  EXPECT_EQ(softmax(zeros({0, 5}), 1).shape(), Shape({0, 5}));
  EXPECT_EQ(log_softmax(zeros({3, 0}), 1).shape(), Shape({3, 0}));
  EXPECT_EQ(softmax(zeros({2, 0, 4}), 1).shape(), Shape({2, 0, 4}));
  Tensor s = scalar_tensor(3.5);
  EXPECT_EQ(softmax(s, 0).item(), 1.0);
  EXPECT_EQ(log_softmax(s, -1).item(), 0.0);
  EXPECT_EQ(softmax(s, 0).dim(), 0);
}

TEST(Softmax, ResultDoesNotDependOnThreadCount) {
  for (const Shape& shape : {Shape{64, 1000}, Shape{8, 50, 300}}) {
    Tensor x = random(shape, DType::F32, 9);
    Tensor one, two;
    {
      ThreadsGuard t(1);
      one = softmax(x, 1);
    }
    {
      ThreadsGuard t(2);
      two = softmax(x, 1);
    }
    EXPECT_EQ(one.to_vector<float>(), two.to_vector<float>()) << shape.str();
  }
}

// d/dx of sum(g * softmax(x)) by the textbook Jacobian, in double.
Tensor reference_softmax_grad(const Tensor& x, const Tensor& g, int64_t dim, bool log) {
  Tensor y = reference_softmax(x, dim, log);
  Tensor gd = g.to(DType::F64);
  NoGradGuard no_grad;
  if (log) return gd - exp(y) * sum(gd, {dim}, true);
  return y * (gd - sum(gd * y, {dim}, true));
}

TEST(Softmax, BackwardMatchesReferenceAndComposition) {
  struct Case {
    Shape shape;
    int64_t dim;
  };
  for (const Case& c : std::vector<Case>{{{4, 37}, 1}, {{3, 5, 70}, 1}, {{6, 4}, 0}}) {
    for (bool log : {false, true}) {
      for (DType dt : {DType::F32, DType::F64}) {
        SCOPED_TRACE(c.shape.str() + (log ? " log_softmax " : " softmax ") + std::string(dtype_name(dt)));
        Tensor x = random(c.shape, dt, 11).requires_grad_();
        Tensor g = random(c.shape, dt, 12, 1.0);
        Tensor y = log ? log_softmax(x, c.dim) : softmax(x, c.dim);
        // The fused kernel (plain backward) ...
        Tensor fused = autograd::grad({y}, {x}, {g}, /*retain_graph=*/true)[0];
        // ... and the tensor-op formula (taken when the backward is recorded).
        Tensor composed = autograd::grad({y}, {x}, {g}, true, /*create_graph=*/true)[0];
        const double tol = dt == DType::F64 ? 1e-12 : 2e-6;
        Tensor want = reference_softmax_grad(x.detach(), g, c.dim, log);
        expect_close(fused, want, tol, tol);
        expect_close(composed.detach(), want, tol, tol);
        EXPECT_TRUE(composed.requires_grad());
      }
    }
  }
}

TEST(Softmax, SecondDerivativeMatchesFiniteDifferences) {
  for (bool log : {false, true}) {
    for (int64_t dim : {1, 0}) {
      Tensor g = random({3, 6}, DType::F64, 21, 1.0);
      auto first_derivative = [&](const autograd::TensorList& in) {
        // gradcheck's finite differences run without recording, on inputs that need no grad.
        EnableGradGuard grad_mode;
        Tensor x = in[0].requires_grad() ? in[0] : in[0].detach().requires_grad_();
        Tensor y = log ? log_softmax(x, dim) : softmax(x, dim);
        return autograd::grad({y}, {x}, {g}, /*retain_graph=*/true, /*create_graph=*/true)[0];
      };
      auto r = gradcheck(first_derivative, {random({3, 6}, DType::F64, 22, 1.0).requires_grad_()});
      EXPECT_TRUE(r.ok) << (log ? "log_softmax" : "softmax") << " dim " << dim << ": " << r.message;
    }
  }
}

TEST(Softmax, HalfPrecisionBackward) {
  Tensor x = random({3, 40}, DType::BF16, 13).requires_grad_();
  Tensor g = random({3, 40}, DType::BF16, 14, 1.0);
  log_softmax(x, 1).backward(g);
  EXPECT_EQ(x.grad().dtype(), DType::BF16);
  expect_close(x.grad(), reference_softmax_grad(x.detach(), g, 1, true), 2e-2, 2e-2);
}

TEST(Softmax, VectorExpIsAccurate) {
  using kernels::cpu::detail::SoftmaxPrimitives;
  std::vector<const SoftmaxPrimitives<float>*> sets;
  for (const char* isa : isas()) {
    if (std::string(isa) == "generic") continue;
    sets.push_back(std::string(isa) == "avx512" ? kernels::cpu::detail::softmax_primitives_avx512()
                                                : kernels::cpu::detail::softmax_primitives_avx2());
  }
  if (sets.empty()) GTEST_SKIP() << "no vector instruction set on this CPU";
  std::vector<float> x;
  for (double v = -87.0; v <= 20.0; v += 0.0137) x.push_back(static_cast<float>(v));
  x.push_back(-88.0f);
  x.push_back(-1000.0f);
  x.push_back(-INFINITY);
  x.push_back(NAN);
  for (const auto* p : sets) {
    std::vector<float> out(x.size());
    p->row_exp_store_sum(x.data(), static_cast<int64_t>(x.size()), 0.0f, out.data());
    for (size_t i = 0; i + 4 < x.size(); ++i) {
      const double want = std::exp(static_cast<double>(x[i]));
      ASSERT_NEAR(out[i], want, 4e-7 * want) << p->isa << " exp(" << x[i] << ")";
    }
    EXPECT_EQ(out[x.size() - 4], 0.0f) << p->isa;  // below the smallest normal: exactly 0
    EXPECT_EQ(out[x.size() - 3], 0.0f) << p->isa;
    EXPECT_EQ(out[x.size() - 2], 0.0f) << p->isa;
    EXPECT_TRUE(std::isnan(out[x.size() - 1])) << p->isa;
  }
}

TEST(Softmax, ErrorsNameTheOp) {
  expect_error<DTypeError>([] { softmax(arange(5), 0); }, "softmax: expected a floating tensor, got dtype i64");
  expect_error<IndexError>([] { log_softmax(zeros({2, 3}), 2); }, "log_softmax: dim 2 is out of range");
  expect_error<ValueError>([] { softmax(Tensor(), 0); }, "softmax");
  expect_error<ValueError>([] { kernels::cpu::softmax_force_isa("sse9"); }, "unknown instruction set 'sse9'");
}

}  // namespace
}  // namespace strata
