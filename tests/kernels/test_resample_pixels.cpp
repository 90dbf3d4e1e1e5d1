// The CUDA resampling kernels' per-pixel bodies (kernels/resample_pixels.h), run serially on the
// host against the CPU kernels (kernels/cpu/resample_*.cpp). The CUDA kernels are grid-stride
// loops around exactly these functions (atomicAdd for the scatter), so this checks their index
// math, padding, taps, channel loop, grid gradient and the f32 workspace of half gradients on any
// machine, GPU or not; test_cuda_resample.cpp then checks the launches on a device.
//
// Tolerances: as in test_cuda_resample.cpp (the GPU differs from this emulation only by FMA
// contraction and the order of the atomic additions): grid_sample f32 1e-5 forward, 1e-4
// gradients; warp_batch f32 1e-4 (the CPU steps along rows in f32, the pixel bodies map each
// pixel in f64); f64 1e-10; bf16 against the CPU's f32 result on the same values, rounded, 2e-2;
// nearest exact except at most 0.1% of pixels (half-pixel ties within an f32 rounding).
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "kernels/resample.h"
#include "kernels/resample_pixels.h"
#include "strata.h"
#include "support/cuda_parity.h"

namespace strata {
namespace {

using kernels::ResampleDims;
using kernels::SampleMode;
using kernels::SampleParams;
using kernels::WarpTransform;
using testing::all_close;
using testing::parity_values;
using testing::Tol;

template <class T>
using accum_t = std::conditional_t<std::is_same_v<T, double>, double, float>;
template <class T>
using coord_t = std::conditional_t<std::is_same_v<T, double>, double, float>;

struct HostAdd {
  template <class G>
  void operator()(G* p, G v) const {
    *p += v;
  }
};

std::string describe(const SampleParams& p) {
  const char* pad = p.padding == kernels::Padding::Zeros ? "zeros"
                    : p.padding == kernels::Padding::Border ? "border" : "reflection";
  return fmt::format("{} {} align={}", p.mode == SampleMode::Nearest ? "nearest" : "bilinear", pad, p.align_corners);
}

std::vector<SampleParams> every_params() {
  std::vector<SampleParams> out;
  for (SampleMode m : {SampleMode::Bilinear, SampleMode::Nearest})
    for (kernels::Padding pad : {kernels::Padding::Zeros, kernels::Padding::Border, kernels::Padding::Reflection})
      for (bool align : {false, true}) out.push_back({m, pad, align});
  return out;
}

ResampleDims grid_dims(const Tensor& x, const Tensor& grid) {
  return {x.size(0), x.size(1), x.size(2), x.size(3), grid.size(1), grid.size(2)};
}

// ---- grid_sample ----------------------------------------------------------------------------------

template <class T>
Tensor emulate_grid_sample(const Tensor& x, const Tensor& grid, const SampleParams& p) {
  const ResampleDims d = grid_dims(x, grid);
  Tensor out = full({d.n, d.c, d.oh, d.ow}, 1234.0, {.dtype = x.dtype()});  // poisoned: every element is written
  for (int64_t idx = 0; idx < d.n * d.oh * d.ow; ++idx)
    kernels::grid_sample_pixel<T, compute_t<T>>(x.data<T>(), grid.data<T>(), out.data<T>(), d, p, idx);
  return out;
}

// grad_input (through the f32 workspace for half types, as the CUDA kernel does) and grad_grid.
template <class T>
std::pair<Tensor, Tensor> emulate_grid_sample_backward(const Tensor& go, const Tensor& x, const Tensor& grid,
                                                       const SampleParams& p) {
  using G = accum_t<T>;
  const ResampleDims d = grid_dims(x, grid);
  Tensor acc = zeros(x.shape(), {.dtype = std::is_same_v<G, double> ? DType::F64 : DType::F32});
  Tensor gg = full(grid.shape(), 1234.0, {.dtype = grid.dtype()});
  for (int64_t idx = 0; idx < d.n * d.oh * d.ow; ++idx)
    kernels::grid_sample_backward_pixel<T, compute_t<T>, G>(go.data<T>(), x.data<T>(), grid.data<T>(), acc.data<G>(),
                                                            gg.data<T>(), d, p, idx, HostAdd{});
  return {acc.to(x.dtype()), gg};
}

TEST(ResamplePixels, GridSampleBodiesMatchTheCpuKernelsInEveryMode) {
  for (DType dt : {DType::F32, DType::F64, DType::BF16}) {
    const Tensor x = parity_values({2, 3, 7, 9}, dt, 11);
    const Tensor grid = parity_values({2, 13, 17, 2}, dt, 12, -1.4, 1.4);
    const Tensor go = parity_values({2, 3, 13, 17}, dt, 13);
    for (const SampleParams& p : every_params()) {
      const std::string what = fmt::format("{} {}", dt, describe(p));
      // Reference: the CPU kernels (bf16: in f32 on the same values, rounded).
      const DType rt = dt == DType::BF16 ? DType::F32 : dt;
      const Tensor xr = x.to(rt), gr = grid.to(rt), gor = go.to(rt);
      Tensor ref = empty({2, 3, 13, 17}, {.dtype = rt});
      kernels::cpu::grid_sample(xr, gr, p, ref);
      Tensor ref_gin = zeros(x.shape(), {.dtype = rt}), ref_gg = zeros(grid.shape(), {.dtype = rt});
      kernels::cpu::grid_sample_backward(gor, xr, gr, p, ref_gin, ref_gg);
      Tensor out;
      std::pair<Tensor, Tensor> grads;
      visit_floating(dt, "test", [&]<class T>() {
        out = emulate_grid_sample<T>(x, grid, p);
        grads = emulate_grid_sample_backward<T>(go, x, grid, p);
      });
      const bool f32 = dt == DType::F32, f64 = dt == DType::F64;
      const Tol fwd = f64 ? Tol{1e-10, 1e-10} : (f32 ? Tol{1e-5, 1e-5} : Tol{2e-2, 2e-2});
      const Tol bwd = f64 ? Tol{1e-10, 1e-10} : (f32 ? Tol{1e-4, 1e-4} : Tol{2e-2, 2e-2});
      EXPECT_TRUE(all_close(ref.to(dt), out, fwd, what + " out"));
      EXPECT_TRUE(all_close(ref_gin.to(dt), grads.first, bwd, what + " grad_input"));
      EXPECT_TRUE(all_close(ref_gg.to(dt), grads.second, bwd, what + " grad_grid"));
    }
  }
}

// ---- warp_batch -----------------------------------------------------------------------------------

// Per-sample transforms: rotation + zoom (in and out) + a flip + translation, and a mild
// homography (denominators stay positive over [-1, 1]^2).
Tensor transform_table(int64_t n) {
  std::vector<double> v;
  for (int64_t s = 0; s < n; ++s) {
    const double angle = 0.35 * static_cast<double>(s + 1) * (s % 2 ? -1.0 : 1.0);
    const double zoom = s % 3 == 0 ? 0.8 : (s % 3 == 1 ? 1.3 : 1.05), flip = s == 2 ? -1.0 : 1.0;
    const double c = zoom * std::cos(angle), si = zoom * std::sin(angle);
    const double tx = 0.1 * static_cast<double>(s) - 0.1, ty = -0.07 * static_cast<double>(s);
    const double a[6] = {flip * c, -si, tx, flip * si, c, ty};
    const double e = 0.05 * static_cast<double>(s + 1);
    const double h[9] = {1.0 + e, 0.03, 0.02, -0.04, 1.0 - e / 2, 0.01, 0.08 * (s % 2 ? -1 : 1), -0.06, 1.0};
    v.insert(v.end(), a, a + 6);
    v.insert(v.end(), h, h + 9);
  }
  return tensor(v, {n, 15}, {.dtype = DType::F64});
}

const WarpTransform* table_of(const Tensor& t) { return reinterpret_cast<const WarpTransform*>(t.data<double>()); }

template <class T>
Tensor emulate_warp(const Tensor& x, const Tensor& tf, bool perspective, const SampleParams& p, int64_t oh,
                    int64_t ow) {
  const ResampleDims d{x.size(0), x.size(1), x.size(2), x.size(3), oh, ow};
  Tensor out = full({d.n, d.c, oh, ow}, 123.0, {.dtype = x.dtype()});  // poisoned
  for (int64_t idx = 0; idx < d.n * oh * ow; ++idx) {
    if (p.mode == SampleMode::Nearest) {
      using S = std::conditional_t<sizeof(T) == 1, uint8_t,
                                   std::conditional_t<sizeof(T) == 2, uint16_t,
                                                      std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>>>;
      kernels::warp_nearest_pixel<S, coord_t<T>>(static_cast<const S*>(x.raw_data()), table_of(tf),
                                                 static_cast<S*>(out.raw_data()), d, perspective, p, idx);
    } else if constexpr (std::is_floating_point_v<compute_t<T>>) {
      kernels::warp_bilinear_pixel<T, coord_t<T>>(x.data<T>(), table_of(tf), out.data<T>(), d, perspective, p, idx);
    }
  }
  return out;
}

template <class T>
Tensor emulate_warp_backward(const Tensor& go, const Tensor& tf, bool perspective, const SampleParams& p,
                             const Shape& x_shape) {
  using G = accum_t<T>;
  const ResampleDims d{x_shape[0], x_shape[1], x_shape[2], x_shape[3], go.size(2), go.size(3)};
  Tensor acc = zeros(x_shape, {.dtype = std::is_same_v<G, double> ? DType::F64 : DType::F32});
  for (int64_t idx = 0; idx < d.n * d.oh * d.ow; ++idx)
    kernels::warp_backward_pixel<T, coord_t<T>, G>(go.data<T>(), table_of(tf), acc.data<G>(), d, perspective, p, idx,
                                                   HostAdd{});
  return acc.to(go.dtype());
}

int64_t mismatches(const Tensor& a, const Tensor& b) {
  const std::vector<double> x = a.to(DType::F64).to_vector<double>(), y = b.to(DType::F64).to_vector<double>();
  int64_t n = 0;
  for (size_t i = 0; i < x.size(); ++i) n += x[i] != y[i];
  return n;
}

TEST(ResamplePixels, WarpBodiesMatchTheCpuKernelsForImages) {
  const int64_t n = 3, oh = 13, ow = 19;
  const Tensor tf = transform_table(n);
  for (DType dt : {DType::F32, DType::F64, DType::BF16}) {
    const Tensor x = parity_values({n, 3, 17, 23}, dt, 41);
    const Tensor go = parity_values({n, 3, oh, ow}, dt, 42);
    for (bool perspective : {false, true})
      for (const SampleParams& p : every_params()) {
        if (p.mode == SampleMode::Nearest) continue;  // the masks test below
        const std::string what = fmt::format("{} perspective={} {}", dt, perspective, describe(p));
        const DType rt = dt == DType::BF16 ? DType::F32 : dt;
        Tensor ref = empty({n, 3, oh, ow}, {.dtype = rt});
        kernels::cpu::warp_batch(x.to(rt), tf, perspective, p, ref);
        Tensor ref_gin = zeros(x.shape(), {.dtype = rt});
        kernels::cpu::warp_batch_backward(go.to(rt), tf, perspective, p, ref_gin);
        Tensor out, gin;
        visit_floating(dt, "test", [&]<class T>() {
          out = emulate_warp<T>(x, tf, perspective, p, oh, ow);
          gin = emulate_warp_backward<T>(go, tf, perspective, p, x.shape());
        });
        const Tol tol = dt == DType::F64 ? Tol{1e-10, 1e-10} : (dt == DType::F32 ? Tol{1e-4, 1e-4} : Tol{2e-2, 2e-2});
        EXPECT_TRUE(all_close(ref.to(dt), out, tol, what + " out"));
        EXPECT_TRUE(all_close(ref_gin.to(dt), gin, tol, what + " grad_input"));
      }
  }
}

TEST(ResamplePixels, WarpNearestBodiesMatchTheCpuKernelsForMasksOfEveryDtype) {
  const int64_t n = 3, oh = 14, ow = 16;
  const Tensor tf = transform_table(n);
  const Tensor labels = floor(parity_values({n, 2, 15, 12}, DType::F32, 61, 0.0, 6.0));
  for (DType dt : {DType::U8, DType::Bool, DType::F16, DType::I32, DType::F32, DType::I64, DType::F64}) {
    const Tensor x = labels.to(dt);
    for (bool perspective : {false, true})
      for (const SampleParams& p : every_params()) {
        if (p.mode != SampleMode::Nearest) continue;
        Tensor ref = empty({n, 2, oh, ow}, {.dtype = dt});
        kernels::cpu::warp_batch(x, tf, perspective, p, ref);
        Tensor out;
        visit_dtype(dt, [&]<class T>() { out = emulate_warp<T>(x, tf, perspective, p, oh, ow); });
        EXPECT_LE(mismatches(ref, out), ref.numel() / 1000)
            << fmt::format("{} perspective={} {}", dt, perspective, describe(p));
      }
  }
  // The nearest gradient of a floating image.
  const Tensor go = parity_values({n, 2, oh, ow}, DType::F32, 62);
  for (const SampleParams& p : every_params()) {
    if (p.mode != SampleMode::Nearest) continue;
    Tensor ref = zeros({n, 2, 15, 12});
    kernels::cpu::warp_batch_backward(go, tf, true, p, ref);
    EXPECT_TRUE(all_close(ref, emulate_warp_backward<float>(go, tf, true, p, {n, 2, 15, 12}), {1e-5, 1e-6},
                          "nearest grad " + describe(p)));
  }
}

TEST(ResamplePixels, WarpPointBodiesMatchTheCpuKernel) {
  const int64_t n = 3, count = 10;
  const Tensor tf = transform_table(n);
  for (DType dt : {DType::F32, DType::F64}) {
    const Tensor pts = parity_values({n, count, 2}, dt, 91, -1.0, 1.0);
    for (bool perspective : {false, true}) {
      Tensor ref = empty(pts.shape(), {.dtype = dt});
      kernels::cpu::warp_points(pts, tf, perspective, ref);
      Tensor out = full(pts.shape(), 99.0, {.dtype = dt});
      visit_floating(dt, "test", [&]<class T>() {
        for (int64_t i = 0; i < n * count; ++i)
          kernels::warp_point<T, compute_t<T>>(pts.data<T>(), table_of(tf), out.data<T>(), count, perspective, i);
      });
      EXPECT_TRUE(all_close(ref, out, {0, 0}, fmt::format("{} perspective={}", dt, perspective)));
    }
  }
}

}  // namespace
}  // namespace strata
