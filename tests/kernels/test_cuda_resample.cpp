// CPU/CUDA parity of the resampling kernels (kernels/cuda/resample.cu: grid_sample;
// kernels/cuda/warp_batch.cu: warp_batch, warp_points), through the public ops on CUDA tensors,
// forward and backward (autograd). Skips itself, with the reason, when no CUDA device is usable;
// the bad-call tests need no GPU.
//
// Tolerances (why):
//   grid_sample f32: forward rtol/atol 1e-5 (the same functors in the same order; only the CPU's
//     interior lerp form and FMA contraction differ); grad_input 1e-4 (atomicAdd sums in another
//     order); grad_grid rtol/atol 1e-4 (sums of C products that can cancel).
//   warp_batch f32: 1e-4 (the CPU steps along a row in f32, the GPU maps each pixel in f64:
//     coordinates differ by ~1e-6 pixel, values by that times the image's slope).
//   bf16: the GPU result against the CPU's f32 result on the same bf16 values, rounded to bf16:
//     rtol/atol 2e-2 (one bf16 rounding, 2^-8, either way, plus the f32 differences above).
//   nearest (masks): bit-exact, except that at most 0.1% of the pixels may pick the neighbour
//     (a source position within an f32 rounding of a half-pixel tie; the CPU's f32 row stepping).
//   warp_points: both map in f64 and round once: f32 1e-6, f64 1e-12.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "strata.h"
#include "support/cuda_parity.h"
#include "support/expect_error.h"

namespace strata {
namespace {

using testing::all_close;
using testing::parity_values;
using testing::Tol;

Tensor on_gpu(const Tensor& t) { return t.to(Device::cuda()); }

// The output, and the gradients of sum(out * weight) w.r.t. the input and the grid.
struct Sampled {
  Tensor out, grad_input, grad_grid;
};

Sampled run_grid_sample(const Tensor& x, const Tensor& grid, const Tensor& weight, const GridSampleOptions& o) {
  Tensor xi = x.detach().requires_grad_();
  Tensor gi = grid.detach().requires_grad_();
  Tensor y = grid_sample(xi, gi, o);
  sum(y * weight).backward();
  return {y.detach(), xi.grad(), gi.grad()};
}

Sampled run_warp(const Tensor& x, const Tensor& mats, const Tensor& weight, const WarpOptions& o) {
  Tensor xi = x.detach().requires_grad_();
  Tensor y = warp_batch(xi, mats, o);
  sum(y * weight).backward();
  return {y.detach(), xi.grad(), Tensor()};
}

// The reference of a bf16 run: the CPU in f32 on the same values, rounded to bf16.
Tensor to_dtype(const Tensor& t, DType dt) { return t.defined() ? t.to(dt) : t; }
Sampled rounded(const Sampled& r, DType dt) {
  return {to_dtype(r.out, dt), to_dtype(r.grad_input, dt), to_dtype(r.grad_grid, dt)};
}

std::string name_of(PaddingMode p) {
  return p == PaddingMode::Zeros ? "zeros" : (p == PaddingMode::Border ? "border" : "reflection");
}

// [N, 3, 3] augmentation matrices: rotation, zoom in and out, a flip, translation.
Tensor augment_matrices(int64_t n, DType dt) {
  std::vector<double> v;
  for (int64_t s = 0; s < n; ++s) {
    const double angle = 0.35 * static_cast<double>(s + 1) * (s % 2 ? -1.0 : 1.0);
    const double zoom = s % 3 == 0 ? 0.8 : (s % 3 == 1 ? 1.3 : 1.05);
    const double flip = s == 2 ? -1.0 : 1.0;
    const double tx = 0.1 * static_cast<double>(s) - 0.1, ty = -0.07 * static_cast<double>(s);
    const double c = zoom * std::cos(angle), si = zoom * std::sin(angle);
    const std::vector<double> m = {flip * c, -si, tx, flip * si, c, ty, 0, 0, 1};
    v.insert(v.end(), m.begin(), m.end());
  }
  return tensor(v, {n, 3, 3}, {.dtype = DType::F64}).to(dt);
}

Tensor perspective_offsets(int64_t n) {
  std::vector<float> xt, yt;
  for (int64_t s = 0; s < n; ++s) {
    xt.push_back(0.2f - 0.12f * static_cast<float>(s));
    yt.push_back(-0.1f + 0.09f * static_cast<float>(s));
  }
  return warp_coord_offsets(tensor(xt, {n}), tensor(yt, {n}));
}

// The number of elements where a (CPU) and b (any device) differ.
int64_t mismatches(const Tensor& a, const Tensor& b) {
  const std::vector<double> x = a.to(DType::F64).contiguous().to_vector<double>();
  const std::vector<double> y = b.cpu().to(DType::F64).contiguous().to_vector<double>();
  int64_t n = 0;
  for (size_t i = 0; i < x.size(); ++i) n += x[i] != y[i];
  return n;
}

const std::vector<SampleMode> kModes = {SampleMode::Bilinear, SampleMode::Nearest};
const std::vector<PaddingMode> kPaddings = {PaddingMode::Zeros, PaddingMode::Border, PaddingMode::Reflection};

// ---- grid_sample ----------------------------------------------------------------------------------

// Every (mode, padding, align_corners) combination in f32 and bf16 (24 cases), forward and both
// gradients. The grid reaches past the image (padding matters) and upsamples (output pixels share
// taps, so the atomic scatter has collisions).
TEST(CudaGridSample, EveryModePaddingAndAlignmentMatchesTheCpuForwardAndBackward) {
  SKIP_WITHOUT_CUDA();
  for (DType dt : {DType::F32, DType::BF16}) {
    const Tensor x = parity_values({2, 3, 7, 9}, dt, 11);
    const Tensor grid = parity_values({2, 13, 17, 2}, dt, 12, -1.4, 1.4);
    const Tensor weight = parity_values({2, 3, 13, 17}, dt, 13);
    for (SampleMode mode : kModes)
      for (PaddingMode pad : kPaddings)
        for (bool align : {false, true}) {
          const GridSampleOptions o{.mode = mode, .padding_mode = pad, .align_corners = align};
          const std::string what = fmt::format(
              "{} {} {} align={}", dt, mode == SampleMode::Nearest ? "nearest" : "bilinear", name_of(pad), align);
          Sampled ref = dt == DType::F32 ? run_grid_sample(x, grid, weight, o)
                                     : rounded(run_grid_sample(x.to(DType::F32), grid.to(DType::F32),
                                                               weight.to(DType::F32), o),
                                               dt);
          const Sampled got = run_grid_sample(on_gpu(x), on_gpu(grid), on_gpu(weight), o);
          const bool f32 = dt == DType::F32;
          EXPECT_TRUE(all_close(ref.out, got.out, f32 ? Tol{1e-5, 1e-5} : Tol{2e-2, 2e-2}, what + " out"));
          EXPECT_TRUE(all_close(ref.grad_input, got.grad_input, f32 ? Tol{1e-4, 1e-4} : Tol{2e-2, 2e-2},
                                what + " grad_input"));
          EXPECT_TRUE(all_close(ref.grad_grid, got.grad_grid, f32 ? Tol{1e-4, 1e-4} : Tol{2e-2, 2e-2},
                                what + " grad_grid"));
        }
  }
}

TEST(CudaGridSample, NonContiguousInputAndGridAndF64) {
  SKIP_WITHOUT_CUDA();
  for (DType dt : {DType::F32, DType::F64}) {
    const Tol tol = dt == DType::F64 ? Tol{1e-10, 1e-10} : Tol{1e-4, 1e-4};
    // input [2, 3, 9, 7] as the transpose of [2, 3, 7, 9]; grid [2, 6, 5, 2] as a transpose too.
    const Tensor xb = parity_values({2, 3, 7, 9}, dt, 21);
    const Tensor gb = parity_values({2, 5, 6, 2}, dt, 22, -1.2, 1.2);
    const Tensor weight = parity_values({2, 3, 6, 5}, dt, 23);
    for (PaddingMode pad : kPaddings) {
      const GridSampleOptions o{.padding_mode = pad, .align_corners = pad == PaddingMode::Border};
      const Sampled ref = run_grid_sample(xb.transpose(2, 3), gb.transpose(1, 2), weight, o);
      const Sampled got = run_grid_sample(on_gpu(xb).transpose(2, 3), on_gpu(gb).transpose(1, 2), on_gpu(weight), o);
      const std::string what = fmt::format("{} {} non-contiguous", dt, name_of(pad));
      EXPECT_TRUE(all_close(ref.out, got.out, tol, what + " out"));
      EXPECT_TRUE(all_close(ref.grad_input, got.grad_input, tol, what + " grad_input"));
      EXPECT_TRUE(all_close(ref.grad_grid, got.grad_grid, tol, what + " grad_grid"));
    }
  }
}

TEST(CudaGridSample, AffineGridRunsOnCudaAndFeedsGridSample) {
  SKIP_WITHOUT_CUDA();
  const Tensor theta = augment_matrices(3, DType::F32).slice(1, 0, 2);  // [3, 2, 3]
  const Tensor x = parity_values({3, 2, 8, 10}, DType::F32, 31);
  for (bool align : {false, true}) {
    const Tensor ref = affine_grid(theta, {3, 2, 6, 11}, align);
    const Tensor got = affine_grid(on_gpu(theta), {3, 2, 6, 11}, align);
    EXPECT_TRUE(got.device().is_cuda());
    EXPECT_TRUE(all_close(ref, got, {1e-5, 1e-6}, "affine_grid"));
    const GridSampleOptions o{.padding_mode = PaddingMode::Reflection, .align_corners = align};
    EXPECT_TRUE(all_close(grid_sample(x, ref, o), grid_sample(on_gpu(x), got, o), {1e-4, 1e-4}, "affine + sample"));
  }
}

// ---- warp_batch -----------------------------------------------------------------------------------

// Images (bilinear) with and without perspective, every padding, both alignments, an output size
// different from the input's, f32 and bf16: forward and the input gradient.
TEST(CudaWarpBatch, ImagesMatchTheCpuWithAndWithoutPerspective) {
  SKIP_WITHOUT_CUDA();
  const int64_t n = 3;
  for (DType dt : {DType::F32, DType::BF16}) {
    const Tensor x = parity_values({n, 3, 17, 23}, dt, 41);
    const Tensor weight = parity_values({n, 3, 13, 19}, dt, 42);
    const Tensor mats = augment_matrices(n, DType::F32);
    for (bool perspective : {false, true})
      for (PaddingMode pad : kPaddings)
        for (bool align : {false, true}) {
          WarpOptions o{.size = {13, 19}, .padding_mode = pad, .align_corners = align};
          if (perspective) o.coord_offsets = perspective_offsets(n);
          WarpOptions og = o;
          if (perspective) og.coord_offsets = on_gpu(o.coord_offsets);
          const std::string what = fmt::format("{} perspective={} {} align={}", dt, perspective, name_of(pad), align);
          const Sampled ref = dt == DType::F32
                              ? run_warp(x, mats, weight, o)
                              : rounded(run_warp(x.to(DType::F32), mats, weight.to(DType::F32), o), dt);
          const Sampled got = run_warp(on_gpu(x), on_gpu(mats), on_gpu(weight), og);
          const Tol tol = dt == DType::F32 ? Tol{1e-4, 1e-4} : Tol{2e-2, 2e-2};
          EXPECT_TRUE(all_close(ref.out, got.out, tol, what + " out"));
          EXPECT_TRUE(all_close(ref.grad_input, got.grad_input, tol, what + " grad_input"));
        }
  }
}

TEST(CudaWarpBatch, NonContiguousInputTwoRowMatricesAndF64) {
  SKIP_WITHOUT_CUDA();
  for (DType dt : {DType::F32, DType::F64}) {
    const Tensor xb = parity_values({2, 4, 11, 9}, dt, 51);
    const Tensor weight = parity_values({2, 4, 9, 11}, dt, 52);
    const Tensor mats = augment_matrices(2, dt).slice(1, 0, 2);  // [2, 2, 3]
    const WarpOptions o{.padding_mode = PaddingMode::Zeros, .align_corners = false};
    const Sampled ref = run_warp(xb.transpose(2, 3), mats, weight, o);
    const Sampled got = run_warp(on_gpu(xb).transpose(2, 3), on_gpu(mats), on_gpu(weight), o);
    const Tol tol = dt == DType::F64 ? Tol{1e-10, 1e-10} : Tol{1e-4, 1e-4};
    EXPECT_TRUE(all_close(ref.out, got.out, tol, fmt::format("{} out", dt)));
    EXPECT_TRUE(all_close(ref.grad_input, got.grad_input, tol, fmt::format("{} grad_input", dt)));
  }
}

// Masks: nearest, every storage size (u8, bool, f16, i32, f32, i64, f64), with and without
// perspective and every padding; values are copied, never blended.
TEST(CudaWarpBatch, MasksSampleNearestInEveryDtype) {
  SKIP_WITHOUT_CUDA();
  const int64_t n = 3;
  const Tensor labels = floor(parity_values({n, 2, 15, 12}, DType::F32, 61, 0.0, 6.0));
  const Tensor mats = augment_matrices(n, DType::F32);
  for (DType dt : {DType::U8, DType::Bool, DType::F16, DType::I32, DType::F32, DType::I64, DType::F64}) {
    const Tensor x = labels.to(dt);
    for (bool perspective : {false, true})
      for (PaddingMode pad : kPaddings)
        for (bool align : {false, true}) {
          WarpOptions o{.size = {14, 16}, .mode = SampleMode::Nearest, .padding_mode = pad, .align_corners = align};
          if (perspective) o.coord_offsets = perspective_offsets(n);
          WarpOptions og = o;
          if (perspective) og.coord_offsets = on_gpu(o.coord_offsets);
          const Tensor ref = warp_batch(x, mats, o);
          const Tensor got = warp_batch(on_gpu(x), on_gpu(mats), og);
          ASSERT_EQ(got.dtype(), dt);
          ASSERT_EQ(got.shape(), ref.shape());
          EXPECT_LE(mismatches(ref, got), ref.numel() / 1000)
              << fmt::format("{} perspective={} {} align={}", dt, perspective, name_of(pad), align);
        }
  }
}

TEST(CudaWarpBatch, NearestFloatingInputGradientMatchesTheCpu) {
  SKIP_WITHOUT_CUDA();
  const Tensor x = parity_values({2, 3, 10, 8}, DType::F32, 71);
  const Tensor weight = parity_values({2, 3, 12, 12}, DType::F32, 72);
  const Tensor mats = augment_matrices(2, DType::F32);
  const WarpOptions o{.size = {12, 12}, .mode = SampleMode::Nearest, .padding_mode = PaddingMode::Zeros};
  const Sampled ref = run_warp(x, mats, weight, o);
  const Sampled got = run_warp(on_gpu(x), on_gpu(mats), on_gpu(weight), o);
  EXPECT_TRUE(all_close(ref.out, got.out, {0, 0}, "nearest out"));
  EXPECT_TRUE(all_close(ref.grad_input, got.grad_input, {1e-5, 1e-6}, "nearest grad_input"));
}

// The single-interpolation warp equals affine_grid + grid_sample on CUDA too (pure affine).
TEST(CudaWarpBatch, EqualsAffineGridPlusGridSampleOnCuda) {
  SKIP_WITHOUT_CUDA();
  const Tensor x = on_gpu(parity_values({3, 2, 9, 11}, DType::F32, 81));
  const Tensor mats = on_gpu(augment_matrices(3, DType::F32));
  for (PaddingMode pad : kPaddings) {
    const Tensor warped = warp_batch(x, mats, {.padding_mode = pad, .align_corners = true});
    const Tensor grid = affine_grid(mats.slice(1, 0, 2), x.shape(), true);
    const Tensor sampled = grid_sample(x, grid, {.padding_mode = pad, .align_corners = true});
    EXPECT_TRUE(all_close(sampled.cpu(), warped, {1e-4, 1e-4}, name_of(pad)));
  }
}

// ---- warp_points ----------------------------------------------------------------------------------

TEST(CudaWarpPoints, MatchTheCpuWithAndWithoutPerspective) {
  SKIP_WITHOUT_CUDA();
  const int64_t n = 3;
  for (DType dt : {DType::F32, DType::F64, DType::BF16}) {
    const Tensor pts = parity_values({n, 10, 2}, dt, 91, -1.0, 1.0);
    const Tensor mats = augment_matrices(n, DType::F32);
    for (bool perspective : {false, true}) {
      WarpOptions o, og;
      if (perspective) {
        o.coord_offsets = perspective_offsets(n);
        og.coord_offsets = on_gpu(o.coord_offsets);
      }
      const Tensor ref = warp_points(pts, mats, o);
      const Tensor got = warp_points(on_gpu(pts), on_gpu(mats), og);
      ASSERT_TRUE(got.device().is_cuda());
      const Tol tol = dt == DType::F64 ? Tol{1e-12, 1e-12} : (dt == DType::F32 ? Tol{1e-6, 1e-6} : Tol{1e-2, 1e-2});
      EXPECT_TRUE(all_close(ref, got, tol, fmt::format("{} perspective={}", dt, perspective)));
    }
  }
}

// ---- bad calls on CUDA tensors (no GPU needed) -------------------------------------------------------

// Tensors that claim to live on cuda:0 (from_blob; never dereferenced): the front ends' checks
// run before any kernel, so a bad call throws the same error as on the CPU, not a DeviceError.
TEST(CudaResample, BadCallsOnCudaTensorsThrowTheFrontEndsErrors) {  // no GPU needed
  std::vector<float> host(4096, 0.0f);
  auto fake = [&](const Shape& s, DType dt = DType::F32) {
    return from_blob(host.data(), s, dt, {}, Device::cuda(0));
  };
  EXPECT_STRATA_ERROR(grid_sample(fake({2, 4, 4}), fake({1, 2, 2, 2})), ShapeError, {"grid_sample:", "[2, 4, 4]"});
  EXPECT_STRATA_ERROR(grid_sample(fake({1, 2, 4, 4}), fake({1, 2, 2, 2}, DType::F64)), DTypeError,
                      {"grid_sample:", "f64", "f32"});
  EXPECT_STRATA_ERROR(warp_batch(fake({1, 2, 4, 4}), fake({1, 4, 4})), ShapeError, {"warp_batch:", "[1, 4, 4]"});
  EXPECT_STRATA_ERROR(warp_batch(fake({1, 2, 4, 4}, DType::I64), fake({1, 3, 3})), DTypeError,
                      {"warp_batch:", "i64", "Nearest"});
  EXPECT_STRATA_ERROR(warp_points(fake({1, 3, 3}), fake({1, 3, 3})), ShapeError, {"warp_points:", "[1, 3, 3]"});
  // A CPU grid for a CUDA input.
  EXPECT_STRATA_ERROR(grid_sample(fake({1, 2, 4, 4}), zeros({1, 2, 2, 2})), DeviceError, {"grid_sample"});
}

}  // namespace
}  // namespace strata
