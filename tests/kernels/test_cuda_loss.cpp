// CPU/CUDA parity of the loss family's CUDA kernels (kernels/cuda/softmax.cu, loss.cu): softmax and
// log_softmax over dims 0, 1 and -1 with rows of 1, 10, 1000 and 5000 values (warp rows, block
// rows, strided lanes, vectorized and scalar loads), cross_entropy and nll_loss with every
// reduction, class weights, ignore_index (outside and inside the class range), label smoothing,
// i32 targets and a segmentation-shaped [N, C, H, W] input; forward AND backward through autograd
// on both devices, in f32, bf16 and f64. Each GPU test skips itself with the reason when no CUDA
// device is usable; the front-end error tests at the end need no GPU.
//
// Tolerances: f32 outputs rtol 5e-5 / atol 1e-6 (the GPU's expf and the CPU's polynomial exp
// differ by a couple of ulp; sums over up to 5000 values run in different orders); f32 losses and gradients rtol 1e-4 /
// atol 1e-6 (reductions over up to 5000 classes and 24 * 16 items); bf16 rtol 1e-2 / atol 1e-2
// (both compute in f32 and round once to bf16: a few-ulp f32 difference can flip a rounding);
// f64 rtol 1e-12 / atol 1e-14.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "kernels/loss_functors.h"
#include "strata.h"
#include "support/cuda_parity.h"
#include "support/expect_error.h"

namespace strata {
namespace {

using testing::all_close;
using testing::Tol;

Tol output_tol(DType dt) { return dt == DType::F32 ? Tol{5e-5, 1e-6} : testing::parity_tol(dt); }
Tol grad_tol(DType dt) { return dt == DType::F32 ? Tol{1e-4, 1e-6} : testing::parity_tol(dt); }

// f(x) and d(sum(f(x) * u))/dx with the same upstream gradient u on the CPU and on CUDA. `view`
// makes the input the op sees from the leaf (identity, a transpose, a slice...), in the graph.
struct Parity {
  Tensor out_cpu, out_cuda, grad_cpu, grad_cuda;
};

Parity run_both(const Tensor& leaf, const std::function<Tensor(const Tensor&)>& view,
                const std::function<Tensor(const Tensor&)>& f, uint64_t seed) {
  Parity p;
  Tensor a = leaf.detach().clone().requires_grad_();
  Tensor b = leaf.detach().clone().to(Device::cuda()).requires_grad_();
  p.out_cpu = f(view(a));
  p.out_cuda = f(view(b));
  const Tensor u = testing::parity_values(p.out_cpu.shape(), p.out_cpu.dtype(), seed, 0.5, 1.5);
  sum(p.out_cpu * u).backward();
  sum(p.out_cuda * u.to(Device::cuda())).backward();
  p.grad_cpu = a.grad();
  p.grad_cuda = b.grad();
  return p;
}

void expect_parity(const Parity& p, DType dt, const std::string& what) {
  EXPECT_TRUE(all_close(p.out_cpu, p.out_cuda, output_tol(dt), what + " forward"));
  ASSERT_TRUE(p.grad_cpu.defined() && p.grad_cuda.defined()) << what;
  EXPECT_TRUE(all_close(p.grad_cpu, p.grad_cuda, grad_tol(dt), what + " backward"));
}

Tensor identity(const Tensor& t) { return t; }

TEST(CudaSoftmax, RowsOfEveryLengthMatchTheCpuForwardAndBackward) {
  SKIP_WITHOUT_CUDA();
  int checked = 0;
  for (DType dt : {DType::F32, DType::BF16, DType::F64}) {
    for (int64_t len : {1, 10, 1000, 5000}) {
      for (bool log : {false, true}) {
        const char* name = log ? "log_softmax" : "softmax";
        auto op = [&](int64_t dim) {
          return [=](const Tensor& x) { return log ? log_softmax(x, dim) : softmax(x, dim); };
        };
        // dim -1 of [7, len]: contiguous rows (warp rows up to 1024, block rows beyond).
        const Tensor rows = testing::parity_values({7, len}, dt, 10 + len, -4.0, 4.0);
        expect_parity(run_both(rows, identity, op(-1), 1), dt, fmt::format("{} rows {} {}", name, len, dt));
        // dim 0 of [len, 6]: the strided kernel (inner 6).
        const Tensor cols = testing::parity_values({len, 6}, dt, 20 + len, -4.0, 4.0);
        expect_parity(run_both(cols, identity, op(0), 2), dt, fmt::format("{} dim 0 {} {}", name, len, dt));
        // dim 1 of [3, len, 5]: strided with outer > 1.
        const Tensor mid = testing::parity_values({3, len, 5}, dt, 30 + len, -4.0, 4.0);
        expect_parity(run_both(mid, identity, op(1), 3), dt, fmt::format("{} dim 1 {} {}", name, len, dt));
        // A transposed view: the front end makes it contiguous before the kernel.
        const Tensor tr = testing::parity_values({len, 7}, dt, 40 + len, -4.0, 4.0);
        expect_parity(run_both(tr, [](const Tensor& t) { return t.t(); }, op(1), 4), dt,
                      fmt::format("{} transposed {} {}", name, len, dt));
        checked += 4;
      }
    }
  }
  EXPECT_EQ(checked, 3 * 4 * 2 * 4);
}

TEST(CudaSoftmax, UnalignedRowsAndExtremeValuesMatchTheCpu) {
  SKIP_WITHOUT_CUDA();
  // Rows of 37 (no multiple of a vector width) and rows starting one element in (misaligned).
  const Tensor odd = testing::parity_values({5, 37}, DType::F32, 50);
  expect_parity(run_both(odd, identity, [](const Tensor& x) { return softmax(x, 1); }, 5), DType::F32, "37-wide rows");
  const Tensor flat = testing::parity_values({1 + 4 * 64}, DType::F32, 51);
  auto misaligned = [](const Tensor& t) { return t.slice(0, 1, 1 + 4 * 64).reshape({4, 64}); };
  expect_parity(run_both(flat, misaligned, [](const Tensor& x) { return log_softmax(x, 1); }, 6), DType::F32,
                "misaligned rows");
  // Large logits and -inf entries (masked attention scores): the online max must stay stable.
  Tensor big = testing::parity_values({4, 300}, DType::F32, 52, -80.0, 80.0);
  big.slice(1, 0, 100).slice(0, 1, 2).fill_(-std::numeric_limits<double>::infinity());
  for (bool log : {false, true}) {
    const Tensor c = log ? log_softmax(big, 1) : softmax(big, 1);
    const Tensor g = log ? log_softmax(big.to(Device::cuda()), 1) : softmax(big.to(Device::cuda()), 1);
    EXPECT_TRUE(all_close(c, g, output_tol(DType::F32), log ? "log_softmax with -inf" : "softmax with -inf"));
  }
  // An empty batch and a 0-d input.
  EXPECT_EQ(softmax(empty({0, 5}, {.device = Device::cuda()}), 1).shape(), Shape({0, 5}));
  const Tensor s = softmax(full({}, 3.0).to(Device::cuda()), 0);
  EXPECT_DOUBLE_EQ(s.item<double>(), 1.0);
}

// ---- class-index losses ----

struct LossCase {
  std::string name;
  Shape shape;     // input shape; classes along `dim`
  int64_t dim;
  bool weighted;
  int64_t ignore_index;
  double smoothing;
  bool i32;
  bool some_ignored = false;  // every fifth target is ignore_index (outside the class range)
};

std::vector<LossCase> loss_cases() {
  return {
      {"plain [N, C]", {24, 10}, 1, false, -100, 0.0, false},
      {"weights", {24, 10}, 1, true, -100, 0.0, false},
      {"ignore -100", {24, 10}, 1, false, -100, 0.0, false, true},
      {"ignore a class", {24, 10}, 1, true, 3, 0.0, true},
      {"smoothing", {24, 10}, 1, false, -100, 0.1, false},
      {"smoothing + weights + ignore", {24, 10}, 1, true, -100, 0.2, false, true},
      {"long rows", {6, 5000}, 1, true, -100, 0.1, false, true},
      {"one class", {9, 1}, 1, false, -100, 0.0, false},
      {"segmentation [N, C, H, W]", {2, 5, 6, 7}, 1, true, -100, 0.1, true, true},
      {"classes last [N, T, C]", {3, 4, 11}, -1, false, -100, 0.05, false, true},
      {"1-d input", {12}, 0, true, -100, 0.0, false},
  };
}

// Class indices in [0, C), every fifth set to ignore_index when the case asks for it.
Tensor targets_for(const LossCase& c, uint64_t seed) {
  Shape ts;
  const int64_t nd = static_cast<int64_t>(c.shape.ndim());
  const int64_t d = c.dim < 0 ? c.dim + nd : c.dim;
  for (int64_t i = 0; i < nd; ++i)
    if (i != d || nd == 1) ts.push_back(c.shape[i]);
  if (nd == 1) ts = Shape({});
  Generator gen(seed);
  Tensor t = randint(0, c.shape[d], ts, {.dtype = DType::I64}, &gen);
  if (c.some_ignored) t.reshape({-1}).slice(0, 0, t.numel(), 5).fill_(static_cast<double>(c.ignore_index));
  return c.i32 ? t.to(DType::I32) : t;
}

TEST(CudaLoss, CrossEntropyMatchesTheCpuForEveryOptionReductionAndDtype) {
  SKIP_WITHOUT_CUDA();
  int checked = 0;
  for (DType dt : {DType::F32, DType::BF16, DType::F64}) {
    for (const LossCase& c : loss_cases()) {
      const Tensor x = testing::parity_values(c.shape, dt, 60 + checked, -3.0, 3.0);
      const Tensor t = targets_for(c, 70 + checked);
      const int64_t nd = static_cast<int64_t>(c.shape.ndim());
      const int64_t C = c.shape[c.dim < 0 ? c.dim + nd : c.dim];
      const Tensor w = c.weighted ? testing::parity_values({C}, DType::F32, 80 + checked, 0.5, 2.0) : Tensor();
      for (Reduction r : {Reduction::None, Reduction::Sum, Reduction::Mean}) {
        auto loss = [&](bool cuda) {
          return [&, cuda](const Tensor& in) {
            CrossEntropyOptions o;
            o.weight = w.defined() && cuda ? w.to(Device::cuda()) : w;
            o.ignore_index = c.ignore_index;
            o.reduction = r;
            o.label_smoothing = c.smoothing;
            o.dim = c.dim;
            return cross_entropy(in, cuda ? t.to(Device::cuda()) : t, o);
          };
        };
        Tensor a = x.detach().clone().requires_grad_();
        Tensor b = x.detach().clone().to(Device::cuda()).requires_grad_();
        const Tensor la = loss(false)(a), lb = loss(true)(b);
        const std::string what = fmt::format("cross_entropy {} reduction {} {}", c.name, static_cast<int>(r), dt);
        EXPECT_TRUE(all_close(la, lb, grad_tol(dt), what + " forward"));
        const Tensor u = testing::parity_values(la.shape(), la.dtype(), 90, 0.5, 1.5);
        sum(la * u).backward();
        sum(lb * u.to(Device::cuda())).backward();
        EXPECT_TRUE(all_close(a.grad(), b.grad(), grad_tol(dt), what + " backward"));
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 3 * 11 * 3);
}

TEST(CudaLoss, NllLossMatchesTheCpuForEveryOptionReductionAndDtype) {
  SKIP_WITHOUT_CUDA();
  int checked = 0;
  for (DType dt : {DType::F32, DType::BF16, DType::F64}) {
    for (const LossCase& c : loss_cases()) {
      const Tensor x = testing::parity_values(c.shape, dt, 100 + checked, -5.0, 0.0);
      const Tensor t = targets_for(c, 110 + checked);
      const int64_t nd = static_cast<int64_t>(c.shape.ndim());
      const int64_t C = c.shape[c.dim < 0 ? c.dim + nd : c.dim];
      const Tensor w = c.weighted ? testing::parity_values({C}, DType::F32, 120 + checked, 0.5, 2.0) : Tensor();
      for (Reduction r : {Reduction::None, Reduction::Sum, Reduction::Mean}) {
        auto loss = [&](const Tensor& in, bool cuda) {
          NllLossOptions o;
          o.weight = w.defined() && cuda ? w.to(Device::cuda()) : w;
          o.ignore_index = c.ignore_index;
          o.reduction = r;
          o.dim = c.dim;
          return nll_loss(in, cuda ? t.to(Device::cuda()) : t, o);
        };
        Tensor a = x.detach().clone().requires_grad_();
        Tensor b = x.detach().clone().to(Device::cuda()).requires_grad_();
        const Tensor la = loss(a, false), lb = loss(b, true);
        const std::string what = fmt::format("nll_loss {} reduction {} {}", c.name, static_cast<int>(r), dt);
        EXPECT_TRUE(all_close(la, lb, grad_tol(dt), what + " forward"));
        const Tensor u = testing::parity_values(la.shape(), la.dtype(), 130, 0.5, 1.5);
        sum(la * u).backward();
        sum(lb * u.to(Device::cuda())).backward();
        EXPECT_TRUE(all_close(a.grad(), b.grad(), grad_tol(dt), what + " backward"));
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 3 * 11 * 3);
}

TEST(CudaLoss, LossesOfNonContiguousInputsAndLogSoftmaxCompositionMatchTheCpu) {
  SKIP_WITHOUT_CUDA();
  // A transposed [C, N] -> [N, C] input, and nll_loss(log_softmax(x)) against cross_entropy.
  const Tensor base = testing::parity_values({10, 16}, DType::F32, 140);
  Generator gen(141);
  const Tensor t = randint(0, 10, {16}, {.dtype = DType::I64}, &gen);
  const Parity p = run_both(base, [](const Tensor& v) { return v.t(); },
                            [&](const Tensor& x) {
                              const Tensor tt = x.device().is_cuda() ? t.to(Device::cuda()) : t;
                              return cross_entropy(x, tt) + nll_loss(log_softmax(x, 1), tt);
                            },
                            7);
  expect_parity(p, DType::F32, "transposed logits");
  const Tensor xc = base.t().to(Device::cuda());
  const Tensor tc = t.to(Device::cuda());
  EXPECT_TRUE(all_close(cross_entropy(base.t(), t), nll_loss(log_softmax(xc, 1), tc), grad_tol(DType::F32),
                        "cross_entropy == nll_loss(log_softmax)"));
}

TEST(CudaLoss, EveryItemIgnoredGivesTheCpuResult) {
  SKIP_WITHOUT_CUDA();
  const Tensor x = testing::parity_values({4, 6}, DType::F32, 150);
  const Tensor t = full({4}, -100.0, {.dtype = DType::I64});
  for (Reduction r : {Reduction::None, Reduction::Sum, Reduction::Mean}) {
    CrossEntropyOptions o;
    o.reduction = r;
    EXPECT_TRUE(all_close(cross_entropy(x, t, o), cross_entropy(x.to(Device::cuda()), t.to(Device::cuda()), o),
                          output_tol(DType::F32), fmt::format("all ignored, reduction {}", static_cast<int>(r))));
  }
}

TEST(CudaLoss, LossesAreDeterministic) {
  SKIP_WITHOUT_CUDA();
  const Tensor x = testing::parity_values({512, 1000}, DType::F32, 160).to(Device::cuda());
  Generator gen(161);
  const Tensor t = randint(0, 1000, {512}, {.dtype = DType::I64}, &gen).to(Device::cuda());
  const double first = cross_entropy(x, t).item<double>();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(cross_entropy(x, t).item<double>(), first);
}

TEST(CudaLoss, AnOutOfRangeTargetOnCudaThrowsTheFrontEndsIndexError) {
  SKIP_WITHOUT_CUDA();
  const Tensor x = testing::parity_values({4, 5}, DType::F32, 170).to(Device::cuda());
  const Tensor bad = tensor(std::vector<int64_t>{0, 4, 7, 1}).to(Device::cuda());
  EXPECT_STRATA_ERROR(cross_entropy(x, bad), IndexError,
                      {"cross_entropy: target 7 is out of bounds for 5 classes", "ignore_index -100"});
  EXPECT_STRATA_ERROR(nll_loss(x, bad.to(DType::I32)), IndexError, {"nll_loss: target 7 is out of bounds"});
  const Tensor negative = tensor(std::vector<int64_t>{0, -3, 1, 2}).to(Device::cuda());
  EXPECT_STRATA_ERROR(cross_entropy(x, negative), IndexError, {"target -3 is out of bounds"});
  // The first bad target is reported, wherever the threads find them.
  Tensor many = zeros({100000}, {.dtype = DType::I64});
  many.slice(0, 70000, 70001).fill_(9.0);
  many.slice(0, 90000, 90001).fill_(8.0);
  EXPECT_STRATA_ERROR(nll_loss(testing::parity_values({100000, 5}, DType::F32, 171).to(Device::cuda()),
                               many.to(Device::cuda())),
                      IndexError, {"target 9 is out of bounds"});
  // ignore_index values are valid.
  const Tensor ignored = tensor(std::vector<int64_t>{0, -100, 4, 1}).to(Device::cuda());
  EXPECT_NO_THROW(cross_entropy(x, ignored));
}

// ---- the GPU's per-row math on the CPU (kernels/loss_functors.h; no GPU needed) ----

// The running (max, sum of exp) of online_softmax_add over a row, split into `parts` partial rows
// merged pairwise like the GPU's butterfly, against the two-pass max-then-sum.
TEST(CudaLossMath, OnlineSoftmaxAddAndMergeGiveTheTwoPassResult) {
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<std::vector<double>> rows = {
      {0.5, -1.0, 3.0, 2.5, -7.0, 3.0, 0.0, 1.25},
      {-inf, -inf, 2.0, -inf, 1.0, -inf, -inf, 0.5},  // masked entries first and last
      {-80.0, 80.0, 79.0, -80.0, 0.0, 80.0, 1.0, 2.0},  // exp of a raw value would overflow f32
  };
  for (const auto& row : rows) {
    double m2 = -inf;
    for (double v : row) m2 = std::max(m2, v);
    double s2 = 0;
    for (double v : row) s2 += std::exp(v - m2);
    for (int parts : {1, 2, 4, 8}) {
      std::vector<float> m(parts, -std::numeric_limits<float>::infinity()), s(parts, 0.0f);
      for (size_t i = 0; i < row.size(); ++i) kernels::online_softmax_add(m[i % parts], s[i % parts], static_cast<float>(row[i]));
      // Butterfly: after each round, partial p holds merge(p, p ^ o), computed from both sides.
      for (int o = parts / 2; o > 0; o /= 2) {
        std::vector<float> nm = m, ns = s;
        for (int p = 0; p < parts; ++p) {
          float a = m[p], b = s[p];
          kernels::online_softmax_merge(a, b, m[p ^ o], s[p ^ o]);
          nm[p] = a, ns[p] = b;
        }
        m = nm, s = ns;
      }
      for (int p = 1; p < parts; ++p) {  // every thread ends with bit-identical results
        EXPECT_EQ(m[p], m[0]);
        EXPECT_EQ(s[p], s[0]);
      }
      EXPECT_EQ(m[0], static_cast<float>(m2)) << parts;
      EXPECT_NEAR(s[0], s2, 1e-6 * s2) << parts;
    }
  }
  // A NaN makes the sum NaN (the row's results are NaN); the max stays a number.
  float m = -std::numeric_limits<float>::infinity(), s = 0;
  for (float v : {1.0f, std::nanf(""), 2.0f}) kernels::online_softmax_add(m, s, v);
  EXPECT_TRUE(std::isnan(s));
  EXPECT_EQ(m, 2.0f);
}

TEST(CudaLossMath, CrossEntropyItemLossAndGradientCoefficientsMatchTheDefinitions) {
  // C = 3, weights w, smoothing e = 0.3, target 1: loss = sum_c q_c w_c (lse - x_c) with
  // q = (1 - e) onehot + e / C; gradient = sum_c q_c w_c (p - onehot_c).
  const double x[3] = {0.2, -1.0, 2.0}, w[3] = {0.5, 2.0, 1.5}, e = 0.3;
  const int t = 1;
  const double lse = std::log(std::exp(x[0]) + std::exp(x[1]) + std::exp(x[2]));
  double W = 0, dot = 0, loss = 0;
  for (int c = 0; c < 3; ++c) W += w[c], dot += w[c] * x[c];
  for (int c = 0; c < 3; ++c) loss += ((c == t ? 1 - e : 0) + e / 3) * w[c] * (lse - x[c]);
  const auto k = kernels::CrossEntropyCoeffs<double>::make(e, 3, W);
  EXPECT_NEAR(kernels::cross_entropy_item_loss(k, w[t], lse, x[t], dot), loss, 1e-12);
  const double g = 0.7;
  const auto q = kernels::cross_entropy_grad_coef(k, g, w[t]);
  for (int c = 0; c < 3; ++c) {
    const double p = std::exp(x[c] - lse);
    double expected = 0;
    for (int i = 0; i < 3; ++i) expected += ((i == t ? 1 - e : 0) + e / 3) * w[i] * (p - (i == c ? 1 : 0));
    EXPECT_NEAR(q.a * p - q.b * w[c] - (c == t ? q.d : 0), g * expected, 1e-12) << c;
  }
}

// ---- front-end errors on CUDA tensors (no GPU needed: the checks run before any kernel) ----

// A tensor that claims to live on a CUDA device (one past the last real one: never usable).
Tensor fake_cuda(std::vector<float>& host, const Shape& shape, DType dt = DType::F32) {
  return from_blob(host.data(), shape, dt, {}, Device::cuda(cuda_device_count()));
}

TEST(CudaLoss, BadCallsOnCudaTensorsThrowTheFrontEndsErrors) {
  std::vector<float> xs(64, 0.0f), ts(64, 0.0f);
  const Tensor x = fake_cuda(xs, {4, 5});
  EXPECT_STRATA_ERROR(cross_entropy(x, fake_cuda(ts, {3}, DType::I64)), ShapeError,
                      {"cross_entropy: target has shape [3] but input has batch 4"});
  EXPECT_STRATA_ERROR(nll_loss(x, fake_cuda(ts, {4}, DType::U8)), DTypeError, {"nll_loss: target must hold class"});
  EXPECT_STRATA_ERROR(softmax(fake_cuda(xs, {4, 5}, DType::I32), 1), DTypeError,
                      {"softmax: expected a floating tensor", "i32"});
  EXPECT_STRATA_ERROR(log_softmax(x, 2), IndexError, {"log_softmax"});
  CrossEntropyOptions o;
  o.label_smoothing = 1.5;
  EXPECT_STRATA_ERROR(cross_entropy(x, fake_cuda(ts, {4}, DType::I64), o), ValueError,
                      {"cross_entropy: label_smoothing must be in [0, 1], got 1.5"});
}

}  // namespace
}  // namespace strata
