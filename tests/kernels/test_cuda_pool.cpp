// The CUDA pooling and upsampling kernels (kernels/cuda/pool.cu, upsample.cu) and pixel
// shuffle on CUDA, in two parts:
//
//   - Host runs of the kernels' per-element bodies (kernels/pool_functors.h), which run
//     everywhere, GPU or not: each CUDA kernel is a grid-stride loop over one of these bodies, so
//     looping over every output (forward) or input-gradient element (backward) on the host
//     computes what the GPU computes, and it must equal the CPU kernels bit for bit in every
//     floating dtype (the backward gathers add in the CPU scatter's order with its rounding).
//     This covers the window / source-position index math, the gathers' ranges, ceil_mode,
//     padding, dilation, count_include_pad, ties and NaN.
//   - Parity of the public ops on CUDA tensors with the CPU, forward and backward through
//     autograd, f32 and bf16, contiguous and transposed inputs (skipped without a GPU).
//     Tolerances: testing::parity_tol (f32 rtol 2e-5 / atol 1e-6, bf16 1e-2), although the
//     kernels are designed to be exact: the only expected difference is the order of the
//     atomic adds of max-pool backward where windows overlap (the last f32 bit, one bf16 rounding).
//     Max-pool indices must be equal.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "kernels/cuda_table.h"
#include "kernels/pool.h"
#include "kernels/pool_functors.h"
#include "strata.h"
#include "support/cuda_parity.h"
#include "support/expect_error.h"

namespace strata {
namespace {

using kernels::Pool2dParams;
using kernels::PoolDims;
using testing::all_close;

// Bit-for-bit equality through f64 (exact for every floating dtype; NaN equals NaN).
::testing::AssertionResult same_values(const Tensor& want, const Tensor& got, const std::string& what) {
  return all_close(want, got, {0, 0}, what);
}

Tensor planes(const Tensor& t) { return t.contiguous().view({-1, t.size(-2), t.size(-1)}); }
PoolDims dims_of(const Tensor& in3, const Tensor& out3) {
  return {in3.size(0), in3.size(1), in3.size(2), out3.size(1), out3.size(2)};
}

// Inputs with many ties (multiples of 0.5 in [-2, 2]) so the first-maximum rule is exercised.
Tensor tie_values(const Shape& shape, DType dt, uint64_t seed) {
  return (round(testing::parity_values(shape, DType::F64, seed) * 2.0) / 2.0).to(dt);
}

const std::vector<DType> kFloating = {DType::F32, DType::F64, DType::BF16, DType::F16};

// Runs body(plane, y, x, flat) over every cell of a [planes, h, w] grid, flat row-major.
template <class F>
void for_each_cell(int64_t n_planes, int64_t h, int64_t w, F&& body) {
  int64_t flat = 0;
  for (int64_t p = 0; p < n_planes; ++p)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x) body(p, y, x, flat++);
}

struct PoolCase {
  std::string name;
  Shape shape;
  Int2 k, s, pad, dil;
  bool ceil;
};

std::vector<PoolCase> pool_cases() {
  return {
      {"k2", {2, 3, 8, 8}, 2, {}, 0, 1, false},
      {"k3_s2_p1_odd", {2, 3, 9, 7}, 3, 2, 1, 1, false},
      {"k3_s1_p1_overlap", {1, 2, 7, 9}, 3, 1, 1, 1, false},
      {"k2x3_s1x2_p1", {2, 2, 6, 7}, {2, 3}, {1, 2}, 1, 1, false},
      {"k3_s2_p1_dil2", {1, 3, 11, 10}, 3, 2, 1, 2, false},
      {"k3_s2_ceil", {2, 2, 8, 9}, 3, 2, 0, 1, true},
      {"k2_s3_p1_ceil", {1, 2, 7, 7}, 2, 3, 1, 1, true},
      {"k3_s2_p1_ceil_dil2", {1, 1, 10, 9}, 3, 2, 1, 2, true},
      {"unbatched_k2_s1", {3, 5, 6}, 2, 1, 0, 1, false},
  };
}

Pool2dParams params_of(const PoolCase& c) {
  const Int2 s = c.s == Int2{} ? c.k : c.s;
  return {.kh = c.k.h, .kw = c.k.w, .sh = s.h, .sw = s.w, .ph = c.pad.h, .pw = c.pad.w, .dh = c.dil.h, .dw = c.dil.w};
}

MaxPool2dOptions max_options(const PoolCase& c) {
  return {.kernel_size = c.k, .stride = c.s, .padding = c.pad, .dilation = c.dil, .ceil_mode = c.ceil};
}
AvgPool2dOptions avg_options(const PoolCase& c, bool include_pad) {
  return {.kernel_size = c.k, .stride = c.s, .padding = c.pad, .ceil_mode = c.ceil, .count_include_pad = include_pad};
}

// ---- host runs of the CUDA per-element bodies --------------------------------------------------

TEST(CudaPoolBodies, MaxPoolForwardEqualsTheCpuKernelWithIndicesOnEveryCase) {
  for (DType dt : kFloating)
    for (const PoolCase& c : pool_cases()) {
      const Tensor x = tie_values(c.shape, dt, 7);
      const auto [want, want_idx] = max_pool2d_with_indices(x, max_options(c));
      const Tensor x3 = planes(x), want3 = planes(want);
      Tensor got = empty_like(want3), got_idx = empty(want3.shape(), {.dtype = DType::I64});
      const PoolDims d = dims_of(x3, want3);
      visit_floating(dt, "test", [&]<class T>() {
        for_each_cell(d.planes, d.oh, d.ow, [&](int64_t p, int64_t oy, int64_t ox, int64_t i) {
          kernels::max_pool_at(x3.data<T>() + p * d.ih * d.iw, params_of(c), d, oy, ox, got.data<T>() + i,
                               got_idx.data<int64_t>() + i);
        });
      });
      EXPECT_TRUE(same_values(want3, got, fmt::format("{} values {}", c.name, dt)));
      EXPECT_TRUE(same_values(planes(want_idx), got_idx, fmt::format("{} indices {}", c.name, dt)));
    }
}

TEST(CudaPoolBodies, MaxPoolNanWinsAndAllMinusInfinityWindowsKeepTheFirstTap) {
  std::vector<double> v(36);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(i % 5) - 2.0;
  v[7] = std::nan("");
  v[8] = std::nan("");  // two NaNs in one window: the last wins
  for (size_t i = 18; i < 36; ++i) v[i] = -std::numeric_limits<double>::infinity();
  const Tensor x = tensor<double>(v, {1, 1, 6, 6}).to(DType::F32);
  const PoolCase c{"nan", {1, 1, 6, 6}, 3, 1, 1, 1, false};
  const auto [want, want_idx] = max_pool2d_with_indices(x, max_options(c));
  const Tensor x3 = planes(x), want3 = planes(want);
  Tensor got = empty_like(want3), got_idx = empty(want3.shape(), {.dtype = DType::I64});
  const PoolDims d = dims_of(x3, want3);
  for_each_cell(d.planes, d.oh, d.ow, [&](int64_t p, int64_t oy, int64_t ox, int64_t i) {
    kernels::max_pool_at(x3.data<float>(), params_of(c), d, oy, ox, got.data<float>() + i,
                         got_idx.data<int64_t>() + i);
  });
  EXPECT_TRUE(same_values(want3, got, "values"));
  EXPECT_TRUE(same_values(planes(want_idx), got_idx, "indices"));
  EXPECT_EQ(got_idx.data<int64_t>()[1 * 6 + 2], 8);  // window rows 0-2, cols 1-3 holds both NaNs
  EXPECT_EQ(got_idx.data<int64_t>()[5 * 6 + 5], 4 * 6 + 4);  // all -inf: the first in-range tap
}

TEST(CudaPoolBodies, AvgPoolForwardAndGatheredBackwardEqualTheCpuKernels) {
  for (DType dt : kFloating)
    for (const PoolCase& c : pool_cases()) {
      if (c.dil != Int2{1}) continue;  // avg pooling has no dilation
      for (bool include_pad : {true, false}) {
        const std::string what = fmt::format("{} include_pad={} {}", c.name, include_pad, dt);
        const Tensor x = testing::parity_values(c.shape, dt, 11);
        const Tensor want3 = planes(avg_pool2d(x, avg_options(c, include_pad)));
        const Tensor x3 = planes(x);
        Pool2dParams p = params_of(c);
        p.count_include_pad = include_pad;
        const PoolDims d = dims_of(x3, want3);
        Tensor got = empty_like(want3);
        const Tensor g = testing::parity_values(want3.shape(), dt, 12);
        Tensor want_grad = zeros_like(x3), got_grad = zeros_like(x3);
        kernels::cpu::avg_pool2d_backward(g, p, want_grad);
        visit_floating(dt, "test", [&]<class T>() {
          for_each_cell(d.planes, d.oh, d.ow, [&](int64_t pl, int64_t oy, int64_t ox, int64_t i) {
            got.data<T>()[i] = kernels::avg_pool_at(x3.data<T>() + pl * d.ih * d.iw, p, d, oy, ox);
          });
          for_each_cell(d.planes, d.ih, d.iw, [&](int64_t pl, int64_t h, int64_t w, int64_t i) {
            T* gi = got_grad.data<T>() + i;
            *gi = kernels::avg_pool_grad_at(g.data<T>() + pl * d.oh * d.ow, p, d, h, w, *gi);
          });
        });
        EXPECT_TRUE(same_values(want3, got, what + " forward"));
        EXPECT_TRUE(same_values(want_grad, got_grad, what + " backward"));
      }
    }
}

TEST(CudaPoolBodies, AdaptivePoolsEqualTheCpuKernelsForShrinkingGrowingAndOverlappingCells) {
  struct Case {
    Shape shape;
    Int2 out;
  };
  const std::vector<Case> cases = {{{2, 3, 7, 9}, {3, 4}}, {{1, 2, 5, 5}, 1},      {{1, 2, 4, 6}, {7, 9}},
                                   {{2, 1, 10, 3}, {4, 3}}, {{1, 1, 13, 11}, {5, 6}}, {{3, 6, 6}, {6, 2}}};
  for (DType dt : kFloating)
    for (const Case& c : cases) {
      const std::string what = fmt::format("{} -> [{}, {}] {}", c.shape, c.out.h, c.out.w, dt);
      const Tensor x = tie_values(c.shape, dt, 21);
      const Tensor x3 = planes(x);
      const Tensor want_avg = planes(adaptive_avg_pool2d(x, c.out));
      const auto [want_max, want_idx] = adaptive_max_pool2d_with_indices(x, c.out);
      const PoolDims d = dims_of(x3, want_avg);
      Tensor avg = empty_like(want_avg), mx = empty_like(want_avg);
      Tensor idx = empty(want_avg.shape(), {.dtype = DType::I64});
      const Tensor g = testing::parity_values(want_avg.shape(), dt, 22);
      Tensor want_grad = zeros_like(x3), got_grad = zeros_like(x3);
      kernels::cpu::adaptive_avg_pool2d_backward(g, want_grad);
      visit_floating(dt, "test", [&]<class T>() {
        for_each_cell(d.planes, d.oh, d.ow, [&](int64_t p, int64_t oy, int64_t ox, int64_t i) {
          avg.data<T>()[i] = kernels::adaptive_avg_at(x3.data<T>() + p * d.ih * d.iw, d, oy, ox);
          kernels::adaptive_max_at(x3.data<T>() + p * d.ih * d.iw, d, oy, ox, mx.data<T>() + i,
                                   idx.data<int64_t>() + i);
        });
        for_each_cell(d.planes, d.ih, d.iw, [&](int64_t p, int64_t h, int64_t w, int64_t i) {
          T* gi = got_grad.data<T>() + i;
          *gi = kernels::adaptive_avg_grad_at(g.data<T>() + p * d.oh * d.ow, d, h, w, *gi);
        });
      });
      EXPECT_TRUE(same_values(want_avg, avg, what + " avg"));
      EXPECT_TRUE(same_values(want_grad, got_grad, what + " avg backward"));
      EXPECT_TRUE(same_values(planes(want_max), mx, what + " max"));
      EXPECT_TRUE(same_values(planes(want_idx), idx, what + " max indices"));
    }
}

struct UpCase {
  std::string name;
  Shape shape;
  Int2 size;
  Scale2 scale;
};

std::vector<UpCase> upsample_cases() {
  return {
      {"x2", {2, 3, 4, 5}, {}, 2.0},
      {"same", {1, 2, 6, 5}, {6, 5}, {}},
      {"size_up_odd", {1, 2, 5, 7}, {11, 16}, {}},
      {"size_down", {2, 1, 9, 9}, {4, 5}, {}},
      {"size_mixed", {1, 2, 5, 7}, {11, 3}, {}},
      {"scale_1.7x0.6", {1, 2, 6, 10}, {}, {1.7, 0.6}},
      {"scale_3", {1, 1, 3, 4}, {}, 3.0},
      {"to_1x1", {1, 2, 4, 3}, 1, {}},
      {"from_1x1", {1, 2, 1, 1}, {3, 4}, {}},
  };
}

TEST(CudaPoolBodies, NearestForwardAndGatheredBackwardEqualTheCpuKernels) {
  for (DType dt : kFloating)
    for (const UpCase& c : upsample_cases()) {
      const std::string what = fmt::format("{} {}", c.name, dt);
      const Tensor x = testing::parity_values(c.shape, dt, 31);
      const Tensor want3 = planes(upsample_nearest2d(x, {.size = c.size, .scale_factor = c.scale}));
      const Tensor x3 = planes(x);
      const PoolDims d = dims_of(x3, want3);
      Tensor got = empty_like(want3);
      const Tensor g = testing::parity_values(want3.shape(), dt, 32);
      Tensor want_grad = zeros_like(x3), got_grad = zeros_like(x3);
      kernels::cpu::upsample_nearest2d_backward(g, c.scale.h, c.scale.w, want_grad);
      visit_floating(dt, "test", [&]<class T>() {
        for_each_cell(d.planes, d.oh, d.ow, [&](int64_t p, int64_t oy, int64_t ox, int64_t i) {
          const int64_t sy = kernels::nearest_source(oy, d.ih, d.oh, c.scale.h);
          const int64_t sx = kernels::nearest_source(ox, d.iw, d.ow, c.scale.w);
          got.data<T>()[i] = x3.data<T>()[(p * d.ih + sy) * d.iw + sx];
        });
        for_each_cell(d.planes, d.ih, d.iw, [&](int64_t p, int64_t h, int64_t w, int64_t i) {
          T* gi = got_grad.data<T>() + i;
          *gi = kernels::nearest_grad_at(g.data<T>() + p * d.oh * d.ow, d, h, w, c.scale.h, c.scale.w, *gi);
        });
      });
      EXPECT_TRUE(same_values(want3, got, what + " forward"));
      EXPECT_TRUE(same_values(want_grad, got_grad, what + " backward"));
    }
}

TEST(CudaPoolBodies, BilinearForwardAndGatheredBackwardEqualTheCpuKernels) {
  for (DType dt : kFloating)
    for (const UpCase& c : upsample_cases())
      for (bool align : {false, true}) {
        const std::string what = fmt::format("{} align_corners={} {}", c.name, align, dt);
        const Tensor x = testing::parity_values(c.shape, dt, 41);
        const Tensor want3 =
            planes(upsample_bilinear2d(x, {.size = c.size, .scale_factor = c.scale, .align_corners = align}));
        const Tensor x3 = planes(x);
        const PoolDims d = dims_of(x3, want3);
        Tensor got = empty_like(want3);
        const Tensor g = testing::parity_values(want3.shape(), dt, 42);
        Tensor want_grad = zeros_like(x3), got_grad = zeros_like(x3);
        kernels::cpu::upsample_bilinear2d_backward(g, align, c.scale.h, c.scale.w, want_grad);
        visit_floating(dt, "test", [&]<class T>() {
          using A = compute_t<T>;
          const A sh = kernels::linear_scale<A>(d.ih, d.oh, align, c.scale.h);
          const A sw = kernels::linear_scale<A>(d.iw, d.ow, align, c.scale.w);
          for_each_cell(d.planes, d.oh, d.ow, [&](int64_t p, int64_t oy, int64_t ox, int64_t i) {
            got.data<T>()[i] = kernels::bilinear_at(x3.data<T>() + p * d.ih * d.iw, d,
                                                    kernels::linear_taps<A>(oy, d.ih, sh, align),
                                                    kernels::linear_taps<A>(ox, d.iw, sw, align));
          });
          for_each_cell(d.planes, d.ih, d.iw, [&](int64_t p, int64_t h, int64_t w, int64_t i) {
            T* gi = got_grad.data<T>() + i;
            *gi = kernels::bilinear_grad_at(g.data<T>() + p * d.oh * d.ow, d, h, w, sh, sw, align, *gi);
          });
        });
        EXPECT_TRUE(same_values(want3, got, what + " forward"));
        EXPECT_TRUE(same_values(want_grad, got_grad, what + " backward"));
      }
}

TEST(CudaPoolBodies, GatherRangesAreExactlyTheOutputsThatSampleAnInput) {
  // The binary searches against a brute-force scan, including sizes where one input feeds no
  // output (downsampling) and where the clamped last input feeds many.
  for (int64_t in : {1, 2, 3, 5, 8, 13})
    for (int64_t out : {1, 2, 3, 4, 7, 10, 26})
      for (double sf : {0.0, 0.45, 1.3, 2.0, 2.5}) {
        for (int64_t s = 0; s < in; ++s) {
          int64_t first = out, last = out;
          for (int64_t o = out - 1; o >= 0; --o) {
            if (kernels::nearest_source(o, in, out, sf) >= s) first = o;
            if (kernels::nearest_source(o, in, out, sf) >= s + 1) last = o;
          }
          EXPECT_EQ(kernels::nearest_first_reaching(s, in, out, sf), first) << in << " " << out << " " << sf;
          EXPECT_EQ(kernels::nearest_first_reaching(s + 1, in, out, sf), last) << in << " " << out << " " << sf;
        }
        for (bool align : {false, true}) {
          const float scale = kernels::linear_scale<float>(in, out, align, sf);
          for (int64_t s = -1; s <= in; ++s) {
            int64_t first = out;
            for (int64_t o = out - 1; o >= 0; --o)
              if (kernels::linear_taps<float>(o, in, scale, align).i0 >= s) first = o;
            EXPECT_EQ(kernels::linear_first_reaching<float>(s, in, out, scale, align), first);
          }
        }
      }
}

// ---- registration and errors (no GPU needed) -----------------------------------------------------

#ifdef STRATA_WITH_CUDA
TEST(CudaPool, EveryPoolingAndUpsamplingKernelIsRegisteredInCudaBuilds) {
  const kernels::CudaTable& t = kernels::cuda_table();
  EXPECT_NE(t.max_pool2d, nullptr);
  EXPECT_NE(t.max_pool2d_backward, nullptr);
  EXPECT_NE(t.avg_pool2d, nullptr);
  EXPECT_NE(t.avg_pool2d_backward, nullptr);
  EXPECT_NE(t.adaptive_avg_pool2d, nullptr);
  EXPECT_NE(t.adaptive_avg_pool2d_backward, nullptr);
  EXPECT_NE(t.adaptive_max_pool2d, nullptr);
  EXPECT_NE(t.upsample_nearest2d, nullptr);
  EXPECT_NE(t.upsample_nearest2d_backward, nullptr);
  EXPECT_NE(t.upsample_bilinear2d, nullptr);
  EXPECT_NE(t.upsample_bilinear2d_backward, nullptr);
}
#endif

TEST(CudaPool, BadCallsOnCudaTensorsThrowTheFrontEndsErrors) {
  // Tensors that claim a CUDA device: the argument checks run before any allocation or kernel.
  std::vector<float> host(64, 0.0f);
  const Tensor flat = from_blob(host.data(), {8, 8}, DType::F32, {}, Device::cuda());
  const Tensor img = from_blob(host.data(), {1, 1, 8, 8}, DType::F32, {}, Device::cuda());
  EXPECT_STRATA_ERROR(max_pool2d(flat, {.kernel_size = 2}), ShapeError, {"max_pool2d:", "[8, 8]"});
  EXPECT_STRATA_ERROR(avg_pool2d(img, {.kernel_size = 2, .padding = 2}), ValueError, {"avg_pool2d:", "padding"});
  EXPECT_STRATA_ERROR(adaptive_avg_pool2d(img, 0), ValueError, {"adaptive_avg_pool2d:", "output_size"});
  EXPECT_STRATA_ERROR(upsample_bilinear2d(img, {.size = 4, .scale_factor = 2.0}), ValueError,
                      {"upsample_bilinear2d:", "exactly one"});
  EXPECT_STRATA_ERROR(pixel_shuffle(img, 2), ShapeError, {"pixel_shuffle:", "not divisible"});
}

// ---- CUDA parity (needs a GPU) --------------------------------------------------------------------

// op on a leaf x (CPU) and on its CUDA copy, forward and the gradient of sum(op(x) * g), with x
// either contiguous or a transposed view of a [.., W, H] leaf.
void expect_parity(const std::function<Tensor(const Tensor&)>& op, const Shape& shape, DType dt, bool transposed,
                   const std::string& what, uint64_t seed = 5) {
  Shape leaf_shape = shape;
  if (transposed) {
    std::vector<int64_t> dims(shape.begin(), shape.end());
    std::swap(dims[dims.size() - 1], dims[dims.size() - 2]);
    leaf_shape = Shape(dims);
  }
  const Tensor base = testing::parity_values(leaf_shape, dt, seed);
  Tensor leaf_cpu = base.clone().requires_grad_(true);
  Tensor leaf_cuda = base.to(Device::cuda()).requires_grad_(true);
  auto view = [&](const Tensor& t) { return transposed ? t.transpose(-1, -2) : t; };
  const Tensor y_cpu = op(view(leaf_cpu));
  const Tensor y_cuda = op(view(leaf_cuda));
  ASSERT_TRUE(y_cuda.device().is_cuda()) << what;
  const testing::Tol tol = testing::parity_tol(dt);
  EXPECT_TRUE(all_close(y_cpu, y_cuda, tol, what + " forward"));
  const Tensor g = testing::parity_values(y_cpu.shape(), dt, seed + 100);
  sum(y_cpu * g).backward();
  sum(y_cuda * g.to(Device::cuda())).backward();
  EXPECT_TRUE(all_close(leaf_cpu.grad(), leaf_cuda.grad(), tol, what + " backward"));
}

TEST(CudaPool, MaxPoolMatchesTheCpuOnEveryCaseWithIndicesAndGradients) {
  SKIP_WITHOUT_CUDA();
  for (DType dt : {DType::F32, DType::BF16})
    for (const PoolCase& c : pool_cases())
      for (bool transposed : {false, true}) {
        const std::string what = fmt::format("max {} {} transposed={}", c.name, dt, transposed);
        expect_parity([&](const Tensor& x) { return max_pool2d(x, max_options(c)); }, c.shape, dt, transposed, what);
        const Tensor x = tie_values(c.shape, dt, 3);
        const auto [v_cpu, i_cpu] = max_pool2d_with_indices(x, max_options(c));
        const auto [v_cuda, i_cuda] = max_pool2d_with_indices(x.to(Device::cuda()), max_options(c));
        EXPECT_TRUE(all_close(v_cpu, v_cuda, {0, 0}, what + " values with ties"));
        EXPECT_TRUE(all_close(i_cpu, i_cuda, {0, 0}, what + " indices with ties"));
      }
}

TEST(CudaPool, AvgPoolMatchesTheCpuWithAndWithoutPaddingInTheDivisor) {
  SKIP_WITHOUT_CUDA();
  for (DType dt : {DType::F32, DType::BF16})
    for (const PoolCase& c : pool_cases()) {
      if (c.dil != Int2{1}) continue;
      for (bool include_pad : {true, false})
        for (bool transposed : {false, true})
          expect_parity([&](const Tensor& x) { return avg_pool2d(x, avg_options(c, include_pad)); }, c.shape, dt,
                        transposed, fmt::format("avg {} pad={} {} transposed={}", c.name, include_pad, dt, transposed));
    }
}

TEST(CudaPool, AdaptivePoolsMatchTheCpu) {
  SKIP_WITHOUT_CUDA();
  for (DType dt : {DType::F32, DType::BF16})
    for (Int2 out : {Int2{1}, Int2{3, 4}, Int2{7, 9}, Int2{5, 2}})
      for (bool transposed : {false, true}) {
        const std::string what = fmt::format("[{}, {}] {} transposed={}", out.h, out.w, dt, transposed);
        expect_parity([&](const Tensor& x) { return adaptive_avg_pool2d(x, out); }, {2, 3, 7, 9}, dt, transposed,
                      "adaptive avg " + what);
        expect_parity([&](const Tensor& x) { return adaptive_max_pool2d(x, out); }, {2, 3, 7, 9}, dt, transposed,
                      "adaptive max " + what);
      }
}

TEST(CudaPool, UpsamplingMatchesTheCpu) {
  SKIP_WITHOUT_CUDA();
  for (DType dt : {DType::F32, DType::BF16})
    for (const UpCase& c : upsample_cases())
      for (bool transposed : {false, true}) {
        const std::string what = fmt::format("{} {} transposed={}", c.name, dt, transposed);
        expect_parity([&](const Tensor& x) { return upsample_nearest2d(x, {.size = c.size, .scale_factor = c.scale}); },
                      c.shape, dt, transposed, "nearest " + what);
        for (bool align : {false, true})
          expect_parity(
              [&](const Tensor& x) {
                return upsample_bilinear2d(x, {.size = c.size, .scale_factor = c.scale, .align_corners = align});
              },
              c.shape, dt, transposed, fmt::format("bilinear align={} {}", align, what));
      }
}

TEST(CudaPool, NearestUpsamplingCopiesEveryDtypeExactly) {
  SKIP_WITHOUT_CUDA();
  for (DType dt : {DType::F64, DType::F16, DType::I64, DType::I32, DType::U8, DType::Bool}) {
    const Tensor x = testing::parity_values({2, 3, 5, 4}, DType::F32, 9, 0.0, 100.0).to(dt);
    const Tensor want = upsample_nearest2d(x, {.size = {11, 7}});
    const Tensor got = upsample_nearest2d(x.to(Device::cuda()), {.size = {11, 7}});
    EXPECT_TRUE(all_close(want, got, {0, 0}, fmt::format("nearest {}", dt)));
  }
}

TEST(CudaPool, PixelShuffleAndUnshuffleRunOnCudaAsMovementOps) {
  SKIP_WITHOUT_CUDA();
  for (DType dt : {DType::F32, DType::BF16})
    for (bool transposed : {false, true}) {
      expect_parity([](const Tensor& x) { return pixel_shuffle(x, 2); }, {2, 8, 3, 5}, dt, transposed,
                    fmt::format("pixel_shuffle {} transposed={}", dt, transposed));
      expect_parity([](const Tensor& x) { return pixel_unshuffle(x, 3); }, {2, 2, 6, 9}, dt, transposed,
                    fmt::format("pixel_unshuffle {} transposed={}", dt, transposed));
    }
}

TEST(CudaPool, EmptyBatchesGiveEmptyResultsOnCuda) {
  SKIP_WITHOUT_CUDA();
  const Tensor x = zeros({0, 3, 8, 8}, {.device = Device::cuda()});
  EXPECT_EQ(max_pool2d(x, {.kernel_size = 2}).shape(), Shape({0, 3, 4, 4}));
  EXPECT_EQ(avg_pool2d(x, {.kernel_size = 2}).shape(), Shape({0, 3, 4, 4}));
  EXPECT_EQ(adaptive_avg_pool2d(x, 2).shape(), Shape({0, 3, 2, 2}));
  EXPECT_EQ(upsample_bilinear2d(x, {.scale_factor = 2.0}).shape(), Shape({0, 3, 16, 16}));
}

}  // namespace
}  // namespace strata
