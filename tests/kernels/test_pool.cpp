// Tests for the pool family (tensor/ops/pool.h): hand-computed small cases, PyTorch reference
// values (pool_torch_reference.h) for outputs, indices and gradients, every dtype, non-contiguous
// and empty inputs, identical results for 1 and several threads, and the error messages.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "kernels/cpu/parallel.h"
#include "pool_torch_reference.h"
#include "strata.h"

namespace strata {
namespace {

namespace ref = pool_reference;

// 3 * sin(0.7 * i), the reference script's input.
Tensor torch_input(const Shape& shape) {
  std::vector<double> v(shape.numel());
  for (size_t i = 0; i < v.size(); ++i) v[i] = 3 * std::sin(0.7 * static_cast<double>(i));
  return tensor<double>(v, shape).requires_grad_(true);
}

Tensor cos_weights(const Tensor& y) {
  std::vector<double> v(y.numel());
  for (size_t i = 0; i < v.size(); ++i) v[i] = std::cos(0.3 * static_cast<double>(i));
  return tensor<double>(v, y.shape());
}

void expect_near(const Tensor& t, const std::vector<double>& want, double tol = 1e-12) {
  std::vector<double> got = t.to(DType::F64).to_vector<double>();
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "at flat index " << i;
}

// Runs fn on the reference input of `shape`, checks out (and grad) against PyTorch.
template <class Fn>
void check_against_torch(const Shape& shape, Fn fn, const std::vector<double>& out, const std::vector<double>& grad,
                         const Shape& out_shape) {
  Tensor x = torch_input(shape);
  Tensor y = fn(x);
  EXPECT_EQ(y.shape(), out_shape);
  expect_near(y, out);
  sum(y * cos_weights(y)).backward();
  expect_near(x.grad(), grad);
}

template <class Fn>
void expect_error(Fn fn, const std::string& substring) {
  try {
    fn();
    ADD_FAILURE() << "no error; expected one containing: " << substring;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(substring), std::string::npos) << e.what();
  }
}

// ---- against PyTorch ----

TEST(PoolTorch, MaxPoolDilationCeil) {
  Tensor x = torch_input({1, 2, 7, 9});
  auto [y, idx] = max_pool2d_with_indices(x, {.kernel_size = 3, .stride = 2, .padding = 1, .dilation = {1, 2},
                                              .ceil_mode = true});
  EXPECT_EQ(y.shape(), Shape({1, 2, 4, 4}));
  expect_near(y, ref::maxpool_out);
  EXPECT_EQ(idx.dtype(), DType::I64);
  EXPECT_EQ(idx.to_vector<int64_t>(), ref::maxpool_idx);
  sum(y * cos_weights(y)).backward();
  expect_near(x.grad(), ref::maxpool_grad);
}

TEST(PoolTorch, AvgPoolCeilBothPadRules) {
  check_against_torch(
      {1, 2, 7, 9},
      [](const Tensor& x) {
        return avg_pool2d(x, {.kernel_size = {3, 2}, .stride = {2, 1}, .padding = 1, .ceil_mode = true,
                              .count_include_pad = false});
      },
      ref::avgpool_excl_out, ref::avgpool_excl_grad, {1, 2, 4, 10});
  check_against_torch(
      {1, 2, 7, 9},
      [](const Tensor& x) {
        return avg_pool2d(x, {.kernel_size = {3, 2}, .stride = {2, 1}, .padding = 1, .ceil_mode = true});
      },
      ref::avgpool_incl_out, ref::avgpool_incl_grad, {1, 2, 4, 10});
}

TEST(PoolTorch, AdaptivePools) {
  check_against_torch(
      {1, 2, 7, 9}, [](const Tensor& x) { return adaptive_avg_pool2d(x, {3, 4}); }, ref::adaptive_avg_out,
      ref::adaptive_avg_grad, {1, 2, 3, 4});
  Tensor x = torch_input({1, 2, 7, 9});
  auto [y, idx] = adaptive_max_pool2d_with_indices(x, {4, 5});
  expect_near(y, ref::adaptive_max_out);
  EXPECT_EQ(idx.to_vector<int64_t>(), ref::adaptive_max_idx);
  sum(y * cos_weights(y)).backward();
  expect_near(x.grad(), ref::adaptive_max_grad);
}

TEST(PoolTorch, UpsampleNearest) {
  check_against_torch(
      {1, 1, 3, 5}, [](const Tensor& x) { return upsample_nearest2d(x, {.size = {7, 8}}); }, ref::nearest_size_out,
      ref::nearest_size_grad, {1, 1, 7, 8});
  check_against_torch(
      {1, 1, 3, 5}, [](const Tensor& x) { return upsample_nearest2d(x, {.scale_factor = 1.7}); },
      ref::nearest_scale_out, ref::nearest_scale_grad, {1, 1, 5, 8});
}

TEST(PoolTorch, UpsampleBilinear) {
  check_against_torch(
      {1, 1, 3, 5}, [](const Tensor& x) { return upsample_bilinear2d(x, {.size = {4, 8}}); }, ref::bilinear_out,
      ref::bilinear_grad, {1, 1, 4, 8});
  check_against_torch(
      {1, 1, 3, 5}, [](const Tensor& x) { return upsample_bilinear2d(x, {.size = {4, 8}, .align_corners = true}); },
      ref::bilinear_ac_out, ref::bilinear_ac_grad, {1, 1, 4, 8});
  check_against_torch(
      {1, 1, 3, 5}, [](const Tensor& x) { return upsample_bilinear2d(x, {.scale_factor = 1.5}); },
      ref::bilinear_scale_out, ref::bilinear_scale_grad, {1, 1, 4, 7});
}

// ---- hand-computed ----

TEST(MaxPool2d, TwoByTwoOnRamp) {
  Tensor x = arange(0.0, 16.0, 1.0, {.dtype = DType::F32}).reshape({1, 1, 4, 4});
  auto [y, idx] = max_pool2d_with_indices(x, {.kernel_size = 2});
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{5, 7, 13, 15}));
  EXPECT_EQ(idx.to_vector<int64_t>(), (std::vector<int64_t>{5, 7, 13, 15}));
}

TEST(MaxPool2d, TiesGoToFirstMaximumAndOverlapsAccumulate) {
  Tensor x = ones({1, 1, 3, 3}, {.dtype = DType::F64}).requires_grad_(true);
  auto [y, idx] = max_pool2d_with_indices(x, {.kernel_size = 2, .stride = 1});
  EXPECT_EQ(idx.to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 3, 4}));
  sum(y).backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{1, 1, 0, 1, 1, 0, 0, 0, 0}));
}

TEST(MaxPool2d, PaddingIsNeverTheMaximum) {
  Tensor x = full({1, 1, 2, 2}, -5.0);
  Tensor y = max_pool2d(x, {.kernel_size = 3, .stride = 1, .padding = 1});
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{-5, -5, -5, -5}));
}

TEST(MaxPool2d, NanIsTheMaximum) {
  Tensor x = tensor<float>({1, NAN, 3, 2}, {1, 1, 2, 2});
  EXPECT_TRUE(std::isnan(max_pool2d(x, {.kernel_size = 2}).item<float>()));
  // PyTorch: the last NaN in window order wins the index; ties go to the first maximum.
  auto [v, idx] = max_pool2d_with_indices(tensor<float>({1, NAN, 3, NAN}, {1, 1, 2, 2}), {.kernel_size = 2});
  EXPECT_TRUE(std::isnan(v.item<float>()));
  EXPECT_EQ(idx.item<int64_t>(), 3);
  auto [v2, idx2] = max_pool2d_with_indices(tensor<float>({1, 2, 5, 5, 5, 0, 1, 1}, {1, 1, 2, 4}),
                                            {.kernel_size = {2, 4}});
  EXPECT_EQ(v2.item<float>(), 5.0f);
  EXPECT_EQ(idx2.item<int64_t>(), 2);
}

TEST(AvgPool2d, PaddingCountedOrNot) {
  Tensor x = ones({1, 1, 2, 2});
  Tensor with_pad = avg_pool2d(x, {.kernel_size = 2, .stride = 1, .padding = 1});
  EXPECT_EQ(with_pad.to_vector<float>(), (std::vector<float>{0.25, 0.5, 0.25, 0.5, 1, 0.5, 0.25, 0.5, 0.25}));
  Tensor without = avg_pool2d(x, {.kernel_size = 2, .stride = 1, .padding = 1, .count_include_pad = false});
  EXPECT_EQ(without.to_vector<float>(), std::vector<float>(9, 1.0f));
}

TEST(AvgPool2d, BackwardSpreadsEvenly) {
  Tensor x = zeros({1, 1, 2, 4}, {.dtype = DType::F64}).requires_grad_(true);
  sum(avg_pool2d(x, {.kernel_size = 2})).backward();
  EXPECT_EQ(x.grad().to_vector<double>(), std::vector<double>(8, 0.25));
}

TEST(AdaptivePool, GlobalIsMeanAndMax) {
  Tensor x = arange(0.0, 24.0, 1.0, {.dtype = DType::F32}).reshape({2, 3, 4}).unsqueeze(0);  // [1, 2, 3, 4]
  Tensor avg = adaptive_avg_pool2d(x, 1);
  EXPECT_EQ(avg.shape(), Shape({1, 2, 1, 1}));
  EXPECT_EQ(avg.to_vector<float>(), (std::vector<float>{5.5, 17.5}));
  EXPECT_EQ(adaptive_max_pool2d(x, 1).to_vector<float>(), (std::vector<float>{11, 23}));
}

TEST(AdaptivePool, OverlappingBins) {
  // 5 -> 3 bins: rows [0, 2), [1, 4), [3, 5).
  Tensor x = tensor<float>({1, 2, 3, 4, 5}, {1, 1, 1, 5});
  EXPECT_EQ(adaptive_avg_pool2d(x, {1, 3}).to_vector<float>(), (std::vector<float>{1.5, 3, 4.5}));
  auto [m, idx] = adaptive_max_pool2d_with_indices(x, {1, 3});
  EXPECT_EQ(idx.to_vector<int64_t>(), (std::vector<int64_t>{1, 3, 4}));
}

TEST(Upsample, NearestDoubles) {
  Tensor x = tensor<float>({1, 2, 3, 4}, {1, 1, 2, 2});
  Tensor y = upsample_nearest2d(x, {.scale_factor = 2.0});
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}));
}

TEST(Upsample, NearestBackwardSumsCopies) {
  Tensor x = zeros({1, 1, 2, 2}, {.dtype = DType::F64}).requires_grad_(true);
  sum(upsample_nearest2d(x, {.size = {4, 6}})).backward();
  EXPECT_EQ(x.grad().to_vector<double>(), std::vector<double>(4, 6.0));
}

TEST(Upsample, BilinearAlignCorners) {
  Tensor x = tensor<float>({1, 2, 3, 4}, {1, 1, 2, 2});
  Tensor y = upsample_bilinear2d(x, {.size = {3, 3}, .align_corners = true});
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4}));
  // align_corners = false, 2x: source = (dst + 0.5) / 2 - 0.5 clamped at 0.
  Tensor z = upsample_bilinear2d(tensor<float>({0, 4}, {1, 1, 1, 2}), {.scale_factor = 2.0});
  EXPECT_EQ(z.to_vector<float>(), (std::vector<float>{0, 1, 3, 4, 0, 1, 3, 4}));  // 2 x 4
}

TEST(PixelShuffle, HandCaseAndRoundTrip) {
  Tensor x = arange(0.0, 8.0, 1.0, {.dtype = DType::F32}).reshape({1, 8, 1, 1});
  Tensor y = pixel_shuffle(x, 2);
  EXPECT_EQ(y.shape(), Shape({1, 2, 2, 2}));
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{0, 1, 2, 3, 4, 5, 6, 7}));
  // [1, 4, 1, 2] -> [1, 1, 2, 4]: out[h*2+i, w*2+j] = in[c = i*2+j, h, w].
  Tensor a = arange(0.0, 8.0, 1.0, {.dtype = DType::F32}).reshape({1, 4, 1, 2});
  EXPECT_EQ(pixel_shuffle(a, 2).to_vector<float>(), (std::vector<float>{0, 2, 1, 3, 4, 6, 5, 7}));
  Tensor b = randn({2, 3, 6, 4});
  EXPECT_EQ(pixel_shuffle(pixel_unshuffle(b, 2), 2).to_vector<float>(), b.to_vector<float>());
  EXPECT_EQ(pixel_unshuffle(b, 2).shape(), Shape({2, 12, 3, 2}));
}

// ---- dtypes, layouts, empties, threads ----

TEST(Pool, EveryFloatingDtypeMatchesF32) {
  Tensor x = randn({2, 3, 9, 8});
  Tensor want_max = max_pool2d(x, {.kernel_size = 3, .stride = 2, .padding = 1});
  Tensor want_bil = upsample_bilinear2d(x, {.size = {5, 11}});
  for (DType dt : {DType::F64, DType::F16, DType::BF16}) {
    const double tol = dt == DType::F64 ? 1e-5 : 5e-2;
    Tensor xd = x.to(dt);
    Tensor got = max_pool2d(xd, {.kernel_size = 3, .stride = 2, .padding = 1});
    EXPECT_EQ(got.dtype(), dt);
    expect_near(got, want_max.to(DType::F64).to(dt).to(DType::F64).to_vector<double>(), 0);
    expect_near(upsample_bilinear2d(xd, {.size = {5, 11}}), want_bil.to(DType::F64).to_vector<double>(), tol);
    expect_near(avg_pool2d(xd, {.kernel_size = 2}),
                avg_pool2d(x, {.kernel_size = 2}).to(DType::F64).to_vector<double>(), tol);
    expect_near(adaptive_avg_pool2d(xd, {2, 3}),
                adaptive_avg_pool2d(x, {2, 3}).to(DType::F64).to_vector<double>(), tol);
  }
}

TEST(Pool, NearestAndShuffleTakeIntegerDtypes) {
  Tensor x = tensor<uint8_t>({1, 2, 3, 4}, {1, 1, 2, 2});
  Tensor y = upsample_nearest2d(x, {.size = {2, 4}});
  EXPECT_EQ(y.dtype(), DType::U8);
  EXPECT_EQ(y.to_vector<uint8_t>(), (std::vector<uint8_t>{1, 1, 2, 2, 3, 3, 4, 4}));
  Tensor i = arange(0.0, 4.0, 1.0, {.dtype = DType::F32}).to(DType::I64).reshape({1, 4, 1, 1});
  EXPECT_EQ(pixel_shuffle(i, 2).to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2, 3}));
}

TEST(Pool, NonContiguousInputMatchesContiguous) {
  Tensor base = randn({2, 3, 8, 7});
  Tensor x = base.transpose(2, 3);  // [2, 3, 7, 8], not contiguous
  Tensor xc = x.contiguous();
  auto same = [](const Tensor& a, const Tensor& b) { EXPECT_EQ(a.to_vector<float>(), b.to_vector<float>()); };
  same(max_pool2d(x, {.kernel_size = 3, .stride = 2}), max_pool2d(xc, {.kernel_size = 3, .stride = 2}));
  same(avg_pool2d(x, {.kernel_size = 2, .padding = 1}), avg_pool2d(xc, {.kernel_size = 2, .padding = 1}));
  same(adaptive_max_pool2d(x, {3, 3}), adaptive_max_pool2d(xc, {3, 3}));
  same(upsample_bilinear2d(x, {.size = {9, 9}}), upsample_bilinear2d(xc, {.size = {9, 9}}));
  same(pixel_unshuffle(x.narrow(2, 0, 6), 2), pixel_unshuffle(xc.narrow(2, 0, 6).contiguous(), 2));
}

TEST(Pool, EmptyBatch) {
  Tensor x = zeros({0, 3, 8, 8}).requires_grad_(true);
  Tensor y = max_pool2d(x, {.kernel_size = 2});
  EXPECT_EQ(y.shape(), Shape({0, 3, 4, 4}));
  EXPECT_EQ(upsample_bilinear2d(x, {.scale_factor = 2.0}).shape(), Shape({0, 3, 16, 16}));
  EXPECT_EQ(adaptive_avg_pool2d(x, 1).shape(), Shape({0, 3, 1, 1}));
  sum(y).backward();
  EXPECT_EQ(x.grad().shape(), x.shape());
}

TEST(Pool, UnbatchedImage) {
  Tensor x = randn({3, 6, 6});
  Tensor y = max_pool2d(x, {.kernel_size = 2});
  EXPECT_EQ(y.shape(), Shape({3, 3, 3}));
  EXPECT_EQ(y.to_vector<float>(), max_pool2d(x.unsqueeze(0), {.kernel_size = 2}).to_vector<float>());
}

TEST(Pool, SameResultForAnyThreadCount) {
  Tensor x = randn({4, 16, 21, 19}, {.dtype = DType::F32});
  auto run = [&](int threads) {
    set_num_threads(threads);
    Tensor xr = x.detach().requires_grad_(true);
    Tensor y = sum(max_pool2d(xr, {.kernel_size = 3, .stride = 2, .padding = 1})) +
               sum(avg_pool2d(xr, {.kernel_size = 3, .stride = 2, .padding = 1})) * 0.5 +
               sum(upsample_bilinear2d(xr, {.size = {30, 17}})) + sum(adaptive_avg_pool2d(xr, {5, 4})) +
               sum(upsample_nearest2d(xr, {.scale_factor = 1.5}));
    y.backward();
    return xr.grad().to_vector<float>();
  };
  const int saved = get_num_threads();
  const auto one = run(1);
  const auto many = run(4);
  set_num_threads(saved);
  EXPECT_EQ(one, many);
}

// ---- double backward ----

TEST(Pool, MaxPoolDoubleBackwardGathersAtTheArgmax) {
  Tensor x = arange(0.0, 16.0, 1.0, {.dtype = DType::F64}).reshape({1, 1, 4, 4}).requires_grad_(true);
  Tensor y = max_pool2d(x, {.kernel_size = 2});
  Tensor g = ones({1, 1, 2, 2}, {.dtype = DType::F64}).requires_grad_(true);
  Tensor gx = autograd::grad({y}, {x}, {g}, true, true)[0];
  EXPECT_EQ(gx.to_vector<double>(), (std::vector<double>{0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1}));
  sum(gx * arange(0.0, 16.0, 1.0, {.dtype = DType::F64}).reshape({1, 1, 4, 4})).backward();
  EXPECT_EQ(g.grad().to_vector<double>(), (std::vector<double>{5, 7, 13, 15}));
}

TEST(Pool, OtherBackwardsRefuseDoubleBackward) {
  Tensor x = randn({1, 1, 4, 4}, {.dtype = DType::F64}).requires_grad_(true);
  Tensor y = avg_pool2d(x, {.kernel_size = 2});
  Tensor g = ones({1, 1, 2, 2}, {.dtype = DType::F64}).requires_grad_(true);
  expect_error([&] { autograd::grad({y}, {x}, {g}, true, true); }, "AvgPool2DBackward: double backward is not supported");
}

// ---- errors ----

TEST(PoolErrors, Messages) {
  Tensor x = randn({1, 10, 4, 4});
  expect_error([&] { max_pool2d(x, {.kernel_size = 3, .padding = 2}); },
               "max_pool2d: kernel_size 3 with padding 2: padding must be at most half the kernel size");
  expect_error([&] { pixel_shuffle(x, 2); },
               "pixel_shuffle: channels 10 not divisible by upscale_factor^2 = 4 (input [1, 10, 4, 4])");
  expect_error([&] { pixel_unshuffle(randn({1, 2, 5, 4}), 2); }, "pixel_unshuffle: height 5 and width 4");
  expect_error([&] { max_pool2d(randn({4, 4}), {.kernel_size = 2}); }, "max_pool2d: expected a 3-d");
  expect_error([&] { max_pool2d(randn({1, 1, 2, 2}), {.kernel_size = 3}); }, "max_pool2d: input [1, 1, 2, 2] is too small");
  expect_error([&] { avg_pool2d(x, {.kernel_size = 0}); }, "avg_pool2d: kernel_size must be positive");
  expect_error([&] { max_pool2d(x, {.kernel_size = 2, .dilation = {1, 0}}); }, "max_pool2d: dilation must be positive");
  expect_error([&] { max_pool2d(x.to(DType::I64), {.kernel_size = 2}); }, "max_pool2d");
  expect_error([&] { adaptive_avg_pool2d(x, {0, 2}); }, "adaptive_avg_pool2d: output_size must be positive");
  expect_error([&] { upsample_nearest2d(randn({10, 4, 4}), {.size = 8}); }, "upsample_nearest2d: expected a 4-d");
  expect_error([&] { upsample_bilinear2d(x, {}); }, "upsample_bilinear2d: give exactly one of size and scale_factor");
  expect_error([&] { upsample_bilinear2d(x, {.size = 8, .scale_factor = 2.0}); }, "exactly one");
  expect_error([&] { upsample_bilinear2d(x, {.scale_factor = 0.1}); }, "upsample_bilinear2d: scale_factor [0.1, 0.1]");
  expect_error([&] { upsample_bilinear2d(x.to(DType::U8), {.size = 8}); }, "upsample_bilinear2d");
}

}  // namespace
}  // namespace strata
