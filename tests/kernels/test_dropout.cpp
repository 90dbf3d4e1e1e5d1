// dropout, dropout2d and dropout_mask: keep fraction on 1M elements, exact scaling, the same mask
// from the same seed and for any thread count, eval identity, p = 0 / p = 1, the gradient is
// mask * g (regenerated from the Philox state), dropout2d zeroes whole channels, locked masks
// broadcast, and bad p is rejected with a message naming the op.
#include <gtest/gtest.h>

#include <cmath>

#include "kernels/philox.h"
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

TEST(Dropout, KeepFractionAndExactScaling) {
  const int64_t n = 1 << 20;
  for (double p : {0.1, 0.5, 0.8}) {
    Generator gen(3);
    Tensor x = full({n}, 3.0);
    auto y = dropout(x, p, true, &gen).to_vector<float>();
    const float kept_value = 3.0f * static_cast<float>(1.0 / (1.0 - p));
    int64_t kept = 0;
    for (float v : y) {
      ASSERT_TRUE(v == 0.0f || v == kept_value) << v;
      kept += v != 0.0f;
    }
    const double frac = static_cast<double>(kept) / static_cast<double>(n);
    // 1M Bernoulli draws: standard error <= 0.0005, so 0.003 is > 6 sigma.
    EXPECT_NEAR(frac, 1.0 - p, 0.003) << "p = " << p;
  }
}

TEST(Dropout, EveryFloatingDType) {
  for (DType dt : {DType::F32, DType::F64, DType::F16, DType::BF16}) {
    Generator gen(5);
    Tensor x = full({1000}, 2.0, {.dtype = dt});
    auto y = dropout(x, 0.5, true, &gen).to(DType::F64).to_vector<double>();
    int kept = 0;
    for (double v : y) {
      ASSERT_TRUE(v == 0.0 || v == 4.0) << v;
      kept += v != 0.0;
    }
    EXPECT_GT(kept, 400);
    EXPECT_LT(kept, 600);
  }
}

TEST(Dropout, SameSeedSameMaskAnyThreadCount) {
  const int saved = get_num_threads();
  Tensor x = ones({300001});
  std::vector<float> first;
  for (int t : {1, 2, 5, 8}) {
    set_num_threads(t);
    Generator gen(42);
    auto y = dropout(x, 0.3, true, &gen).to_vector<float>();
    if (first.empty()) first = y;
    else EXPECT_EQ(y, first) << t << " threads";
  }
  set_num_threads(saved);
  // A second draw from the same generator gives a different mask.
  Generator gen(42);
  auto a = dropout(x, 0.3, true, &gen).to_vector<float>();
  auto b = dropout(x, 0.3, true, &gen).to_vector<float>();
  EXPECT_EQ(a, first);
  EXPECT_NE(a, b);
  // The default generator follows manual_seed.
  manual_seed(11);
  auto c = dropout(x, 0.3).to_vector<float>();
  manual_seed(11);
  EXPECT_EQ(dropout(x, 0.3).to_vector<float>(), c);
}

TEST(Dropout, MaskIsThePhiloxStream) {
  // Element i is kept iff lane i % 4 of Philox block (offset + i / 4) under the seed, as a 24-bit
  // uniform, is below 1 - p: the contract the CUDA kernel will share.
  const int64_t n = 1001;
  const double p = 0.35;
  Generator gen(77);
  gen.reserve(5);  // start mid-stream
  auto mask = dropout_mask(ones({1}), {n}, p, &gen).to_vector<float>();
  for (int64_t i = 0; i < n; ++i) {
    const kernels::Philox4 r = kernels::philox4x32(5 + static_cast<uint64_t>(i / 4), 0, 77);
    const bool keep = static_cast<double>(kernels::uint_to_unit_float(r.v[i % 4])) < 1.0 - p;
    ASSERT_EQ(mask[i], keep ? static_cast<float>(1.0 / (1.0 - p)) : 0.0f) << i;
  }
  EXPECT_EQ(gen.offset(), 5u + (n + 3) / 4);
}

TEST(Dropout, MaskDependsOnLogicalPositionNotLayout) {
  Tensor x = arange(0.0, 24.0, 1.0, {.dtype = DType::F32}).reshape({4, 6});
  Tensor xt = x.t().contiguous().t();  // same values, column-major layout
  Generator g1(9), g2(9);
  EXPECT_EQ(dropout(x, 0.5, true, &g1).to_vector<float>(), dropout(xt, 0.5, true, &g2).contiguous().to_vector<float>());
}

TEST(Dropout, EvalAndEdgeProbabilities) {
  Tensor x = tensor<float>({1, -2, 3, 4});
  EXPECT_EQ(dropout(x, 0.7, false).to_vector<float>(), x.to_vector<float>());
  EXPECT_EQ(dropout(x, 0.0, true).to_vector<float>(), x.to_vector<float>());
  EXPECT_EQ(dropout(x, 1.0, true).to_vector<float>(), (std::vector<float>{0, 0, 0, 0}));
  EXPECT_EQ(dropout2d(x.reshape({2, 2}), 1.0, true).to_vector<float>(), (std::vector<float>{0, 0, 0, 0}));
  EXPECT_EQ(dropout2d(x.reshape({2, 2}), 0.9, false).to_vector<float>(), x.to_vector<float>());
  EXPECT_EQ(dropout(zeros({0, 3}), 0.5).shape(), Shape({0, 3}));
  // p = 1: zero gradient.
  Tensor w = tensor<float>({1, 2}).requires_grad_(true);
  dropout(w, 1.0).backward(tensor<float>({3, 4}));
  EXPECT_EQ(w.grad().to_vector<float>(), (std::vector<float>{0, 0}));
}

TEST(Dropout, GradientIsMaskTimesGrad) {
  Generator gen(21);
  Tensor x = (arange(0.0, 64.0, 1.0, {.dtype = DType::F64}) + 1.0).reshape({8, 8}).detach().requires_grad_(true);
  Tensor y = dropout(x, 0.4, true, &gen);
  EXPECT_EQ(y.grad_fn()->name(), "DropoutBackward");
  Tensor g = arange(0.0, 64.0, 1.0, {.dtype = DType::F64}).reshape({8, 8}) * 0.5 - 3.0;
  y.backward(g);
  auto yv = y.to_vector<double>();
  auto xv = x.to_vector<double>();
  auto gv = g.to_vector<double>();
  auto dx = x.grad().to_vector<double>();
  for (size_t i = 0; i < yv.size(); ++i) {
    const double mask = yv[i] / xv[i];  // 0 or 1 / 0.6
    EXPECT_TRUE(mask == 0.0 || std::abs(mask - 1.0 / 0.6) < 1e-12) << mask;
    EXPECT_DOUBLE_EQ(dx[i], gv[i] * mask) << i;
  }
}

TEST(Dropout, DoubleBackwardKeepsTheMask) {
  Generator gen(8);
  Tensor x = ones({50}, {.dtype = DType::F64}).requires_grad_(true);
  Tensor y = dropout(x, 0.5, true, &gen);
  Tensor g = ones({50}, {.dtype = DType::F64}).requires_grad_(true);
  auto dx = autograd::grad({y}, {x}, {g}, true, true);
  // d(dx)/dg = the mask again.
  auto dg = autograd::grad({dx[0]}, {g}, {ones({50}, {.dtype = DType::F64})});
  EXPECT_EQ(dg[0].to_vector<double>(), y.detach().to_vector<double>());
}

TEST(Dropout2d, ZeroesWholeChannels) {
  Generator gen(4);
  Tensor x = ones({8, 16, 3, 5});
  Tensor y = dropout2d(x, 0.5, true, &gen);
  auto v = y.to_vector<float>();
  int dropped = 0;
  for (int64_t ch = 0; ch < 8 * 16; ++ch) {
    const float first = v[ch * 15];
    ASSERT_TRUE(first == 0.0f || first == 2.0f);
    for (int64_t k = 1; k < 15; ++k) ASSERT_EQ(v[ch * 15 + k], first) << "channel " << ch;
    dropped += first == 0.0f;
  }
  EXPECT_GT(dropped, 30);
  EXPECT_LT(dropped, 98);
  // gradient: the same channel mask
  Tensor xr = ones({2, 3, 2, 2}).requires_grad_(true);
  Generator g2(4);
  Tensor yr = dropout2d(xr, 0.5, true, &g2);
  yr.backward(ones({2, 3, 2, 2}));
  EXPECT_EQ(xr.grad().to_vector<float>(), yr.detach().to_vector<float>());
}

TEST(DropoutMask, LockedMaskBroadcasts) {
  Generator gen(12);
  Tensor x = ones({4, 10, 6}, {.dtype = DType::F64});  // [batch, time, features]
  Tensor m = dropout_mask(x, {4, 1, 6}, 0.25, &gen);
  EXPECT_EQ(m.shape(), Shape({4, 1, 6}));
  EXPECT_EQ(m.dtype(), DType::F64);
  for (double v : m.to_vector<double>()) EXPECT_TRUE(v == 0.0 || v == 1.0 / 0.75) << v;
  Tensor y = x * m;  // the same features dropped at every time step
  auto yv = y.to_vector<double>();
  for (int b = 0; b < 4; ++b)
    for (int t = 1; t < 10; ++t)
      for (int f = 0; f < 6; ++f) EXPECT_EQ(yv[(b * 10 + t) * 6 + f], yv[b * 60 + f]);
  EXPECT_EQ(dropout_mask(x, {3}, 1.0).to_vector<double>(), (std::vector<double>{0, 0, 0}));
  EXPECT_EQ(dropout_mask(x, {3}, 0.0).to_vector<double>(), (std::vector<double>{1, 1, 1}));
}

TEST(DropoutErrors, MessagesNameTheOp) {
  Tensor x = ones({3});
  expect_error<ValueError>([&] { dropout(x, 1.5); }, "dropout: p must be in [0, 1], got 1.5");
  expect_error<ValueError>([&] { dropout(x, -0.1, false); }, "dropout: p must be in [0, 1]");
  expect_error<ValueError>([&] { dropout2d(ones({2, 2}), 2.0); }, "dropout2d: p must be in [0, 1]");
  expect_error<ValueError>([&] { dropout_mask(x, {3}, -1.0); }, "dropout_mask: p must be in [0, 1]");
  expect_error<DTypeError>([&] { dropout(tensor<int64_t>({1}), 0.5); }, "dropout: input must be floating");
  expect_error<ShapeError>([&] { dropout2d(x, 0.5); }, "dropout2d: input must be [N, C, ...]");
}

}  // namespace
}  // namespace strata
