// Tests for the resample family (tensor/ops/resample.h): hand-computed cases for every mode and
// padding, PyTorch reference values and gradients (resample_torch_reference.h), the identity
// grid, rotation round trips, warp_batch against affine_grid + grid_sample, the single
// interpolation's accuracy, masks, warp_points against the image, dtypes, threads, and errors.
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "kernels/cpu/parallel.h"
#include "kernels/resample_functors.h"
#include "resample_torch_reference.h"
#include "warp_fastai_reference.h"
#include "strata.h"
#include "support/expect_error.h"

namespace strata {
namespace {

Tensor t2x2() { return tensor<double>({1, 2, 3, 4}, {1, 1, 2, 2}); }

// A grid [1, 1, P, 2] of the given normalized (x, y) points.
Tensor points_grid(const std::vector<double>& xy) {
  return tensor<double>(xy, {1, 1, static_cast<int64_t>(xy.size() / 2), 2});
}

std::vector<double> sample_at(const Tensor& x, const std::vector<double>& xy, GridSampleOptions o) {
  return grid_sample(x, points_grid(xy), o).to_vector<double>();
}

void expect_all_near(const std::vector<double>& a, const std::vector<double>& b, double tol, const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], tol) << what << " element " << i;
}

// 3x3 matrices [n, 3, 3] from 2x3 rows.
Tensor mats(const std::vector<std::vector<double>>& rows2x3) {
  std::vector<double> v;
  for (const auto& r : rows2x3) {
    v.insert(v.end(), r.begin(), r.end());
    v.insert(v.end(), {0, 0, 1});
  }
  return tensor<double>(v, {static_cast<int64_t>(rows2x3.size()), 3, 3});
}

// Rotation by `angle` and zoom: the matrix mapping output to input coordinates.
std::vector<double> rot_zoom(double angle, double zoom, double tx = 0, double ty = 0) {
  const double c = std::cos(angle) / zoom, s = std::sin(angle) / zoom;
  return {c, -s, tx, s, c, ty};
}

Tensor theta_of(const Tensor& m) { return m.slice(1, 0, 2).contiguous(); }

Tensor random_image(const Shape& shape, uint64_t seed) {
  Generator gen(seed);
  return rand(shape, {.dtype = DType::F64}, &gen);
}

// ---- grid_sample: hand-computed ----

TEST(GridSample, BilinearAlignCornersHandComputed) {
  // (0,0): centre; (1,-1): top-right pixel; (0.5, 0): ix 0.75, iy 0.5.
  expect_all_near(sample_at(t2x2(), {0, 0, 1, -1, 0.5, 0}, {.align_corners = true}), {2.5, 2.0, 2.75}, 1e-12,
                  "align_corners");
}

TEST(GridSample, BilinearWithoutAlignCornersUsesPixelEdges) {
  // (0,0) -> pixel (0.5, 0.5); (-1,-1) -> (-0.5, -0.5): a quarter of pixel (0,0) with zero padding.
  expect_all_near(sample_at(t2x2(), {0, 0, -1, -1}, {}), {2.5, 0.25}, 1e-12, "zeros");
  expect_all_near(sample_at(t2x2(), {-1, -1}, {.padding_mode = PaddingMode::Border}), {1.0}, 1e-12, "border");
  expect_all_near(sample_at(t2x2(), {-1, -1}, {.padding_mode = PaddingMode::Reflection}), {1.0}, 1e-12, "reflection");
}

TEST(GridSample, PaddingModesOutsideTheImage) {
  // x = 1.5 with align_corners: ix = 1.25, iy = 0.5.
  const std::vector<double> p = {1.5, 0};
  expect_all_near(sample_at(t2x2(), p, {.align_corners = true}), {2.25}, 1e-12, "zeros: half the taps outside");
  expect_all_near(sample_at(t2x2(), p, {.padding_mode = PaddingMode::Border, .align_corners = true}), {3.0}, 1e-12,
                  "border: clamped to column 1");
  expect_all_near(sample_at(t2x2(), p, {.padding_mode = PaddingMode::Reflection, .align_corners = true}), {2.75}, 1e-12,
                  "reflection: mirrored to 0.75");
}

TEST(GridSample, ReflectionWithoutAlignCornersMirrorsAtTheEdgesAnyNumberOfTimes) {
  Tensor row = tensor<double>({0, 10, 20}, {1, 1, 1, 3});
  const GridSampleOptions o{.padding_mode = PaddingMode::Reflection};
  // ix = 3.2 -> mirrored at 2.5 to 1.8 -> 18; ix = -3.2 -> mirrored at -0.5 to 2.2 -> clamped to 2 -> 20.
  expect_all_near(sample_at(row, {(2 * 3.2 + 1) / 3 - 1, 0, (2 * -3.2 + 1) / 3 - 1, 0}, o), {18.0, 20.0}, 1e-9,
                  "reflection");
}

TEST(GridSample, NearestRoundsHalfToEven) {
  const GridSampleOptions o{.mode = SampleMode::Nearest, .align_corners = true};
  // (0.2, -0.2): ix 0.6 -> 1, iy 0.4 -> 0; (0, -1): ix 0.5 -> 0 (half to even); (-1.6, 0): outside.
  expect_all_near(sample_at(t2x2(), {0.2, -0.2, 0, -1, -2.2, 0}, o), {2.0, 1.0, 0.0}, 0, "nearest");
}

TEST(GridSample, BackwardHandComputed) {
  Tensor x = t2x2().requires_grad_(true);
  Tensor g = points_grid({0.5, 0}).requires_grad_(true);
  sum(grid_sample(x, g, {.align_corners = true})).backward();
  // ix = 0.75, iy = 0.5: weights 0.125, 0.375, 0.125, 0.375.
  expect_all_near(x.grad().to_vector<double>(), {0.125, 0.375, 0.125, 0.375}, 1e-12, "grad input");
  // d/dix = 0.5 * (2 - 1) + 0.5 * (4 - 3) = 1, d/diy = 0.25 * 2 + 0.75 * 2 = 2; dix/dx = diy/dy = 0.5.
  expect_all_near(g.grad().to_vector<double>(), {0.5, 1.0}, 1e-12, "grad grid");
}

// ---- grid_sample: PyTorch reference ----

TEST(GridSample, MatchesPyTorchValuesAndGradients) {
  auto seq = [](int64_t n, auto f) {
    std::vector<double> v(n);
    for (int64_t i = 0; i < n; ++i) v[i] = f(static_cast<double>(i));
    return v;
  };
  for (const auto& c : grid_sample_reference::cases()) {
    const std::string name = std::string(c.mode) + "/" + c.padding + (c.align_corners ? "/align" : "") + "/amp" +
                             std::to_string(c.amplitude);
    Tensor x = tensor<double>(seq(48, [](double i) { return 3 * std::sin(0.7 * i); }), {2, 2, 3, 4}).requires_grad_(true);
    const double amp = c.amplitude;
    Tensor g = tensor<double>(seq(24, [amp](double i) { return amp * std::sin(0.37 * i + 0.2); }), {2, 2, 3, 2})
                   .requires_grad_(true);
    const std::string pad = c.padding;
    const GridSampleOptions o{.mode = std::string(c.mode) == "nearest" ? SampleMode::Nearest : SampleMode::Bilinear,
                              .padding_mode = pad == "zeros"    ? PaddingMode::Zeros
                                              : pad == "border" ? PaddingMode::Border
                                                                : PaddingMode::Reflection,
                              .align_corners = c.align_corners};
    Tensor y = grid_sample(x, g, o);
    expect_all_near(y.to_vector<double>(), c.out, 1e-12, name + " out");
    Tensor w = tensor<double>(seq(y.numel(), [](double i) { return std::cos(0.3 * i); }), y.shape());
    sum(y * w).backward();
    expect_all_near(x.grad().to_vector<double>(), c.grad_input, 1e-12, name + " grad input");
    expect_all_near(g.grad().to_vector<double>(), c.grad_grid, 1e-12, name + " grad grid");
  }
}

// ---- affine_grid ----

TEST(AffineGrid, IdentityAndTranslationHandComputed) {
  Tensor theta = tensor<double>({1, 0, 0.5, 0, 2, 0}, {1, 2, 3});
  // align_corners: x in {-1, 0, 1}, y in {-1, 1}; grid = (x + 0.5, 2 y).
  expect_all_near(affine_grid(theta, {1, 1, 2, 3}, true).to_vector<double>(),
                  {-0.5, -2, 0.5, -2, 1.5, -2, -0.5, 2, 0.5, 2, 1.5, 2}, 1e-12, "align");
  // without: x in {-2/3, 0, 2/3}, y in {-1/2, 1/2}.
  expect_all_near(affine_grid(theta, {1, 1, 2, 3}, false).to_vector<double>(),
                  {-2.0 / 3 + 0.5, -1, 0.5, -1, 2.0 / 3 + 0.5, -1, -2.0 / 3 + 0.5, 1, 0.5, 1, 2.0 / 3 + 0.5, 1}, 1e-12,
                  "no align");
  EXPECT_EQ(affine_grid(theta, {1, 4, 2, 3}).shape(), Shape({1, 2, 3, 2}));
}

TEST(AffineGrid, GradientWithRespectToTheta) {
  Tensor theta = tensor<double>({1, 0, 0, 0, 1, 0}, {1, 2, 3}).requires_grad_(true);
  sum(affine_grid(theta, {1, 1, 2, 3}, true)).backward();
  // d(sum)/d theta[r] = (sum of x, sum of y, count) = (0, 0, 6) for both rows.
  expect_all_near(theta.grad().to_vector<double>(), {0, 0, 6, 0, 0, 6}, 1e-12, "grad theta");
}

// ---- grid_sample properties ----

TEST(GridSample, IdentityGridReturnsTheInput) {
  Tensor x = random_image({2, 3, 5, 7}, 1);
  for (bool align : {false, true})
    for (PaddingMode pad : {PaddingMode::Zeros, PaddingMode::Border, PaddingMode::Reflection})
      for (SampleMode mode : {SampleMode::Bilinear, SampleMode::Nearest}) {
        Tensor grid = affine_grid(theta_of(mats({{1, 0, 0, 0, 1, 0}, {1, 0, 0, 0, 1, 0}})), x.shape(), align);
        Tensor y = grid_sample(x, grid, {.mode = mode, .padding_mode = pad, .align_corners = align});
        expect_all_near(y.to_vector<double>(), x.to_vector<double>(), 1e-12, "identity");
      }
}

// A smooth test pattern on an h x w image, values at normalized (x, y) (align_corners).
double pattern(double x, double y) { return std::sin(3.0 * x + 1.0) * std::cos(2.5 * y - 0.5) + 0.3 * x * y; }
Tensor pattern_image(int64_t h, int64_t w) {
  std::vector<double> v(h * w);
  for (int64_t i = 0; i < h; ++i)
    for (int64_t j = 0; j < w; ++j) v[i * w + j] = pattern(kernels::base_coord(j, w, true), kernels::base_coord(i, h, true));
  return tensor<double>(v, {1, 1, h, w});
}

TEST(GridSample, RotationThenInverseRotationReturnsTheInteriorApproximately) {
  Tensor x = pattern_image(48, 48);
  const GridSampleOptions o{.padding_mode = PaddingMode::Reflection, .align_corners = true};
  Tensor r1 = grid_sample(x, affine_grid(theta_of(mats({rot_zoom(0.4, 1)})), x.shape(), true), o);
  Tensor r2 = grid_sample(r1, affine_grid(theta_of(mats({rot_zoom(-0.4, 1)})), x.shape(), true), o);
  Tensor diff = abs(r2 - x).slice(2, 14, 34).slice(3, 14, 34);
  EXPECT_LT(max(diff).item(), 0.02);
  EXPECT_GT(max(abs(r1 - x).slice(2, 14, 34).slice(3, 14, 34)).item(), 0.1) << "the rotation must move pixels";
}

// ---- warp_batch ----

TEST(WarpBatch, EqualsAffineGridPlusGridSampleForAffineMatrices) {
  Tensor x = random_image({3, 3, 9, 11}, 2);
  // A moderate transform, a shear, and a zoom-out by ~3.5 whose source reaches past one mirror
  // span (several reflections: the kernel's general path).
  Tensor m = mats({rot_zoom(0.3, 1.2, 0.1, -0.2), {0.913, 0.217, -0.291, -0.107, 1.283, 0.239},
                   {3.47, 0.31, 0.23, -0.27, 3.13, 0.11}});
  for (bool align : {false, true})
    for (PaddingMode pad : {PaddingMode::Zeros, PaddingMode::Border, PaddingMode::Reflection})
      for (SampleMode mode : {SampleMode::Bilinear, SampleMode::Nearest})
        for (Int2 size : {Int2{9, 11}, Int2{6, 13}})
          for (DType dt : {DType::F64, DType::F32}) {
            Tensor xd = x.to(dt), md = m.to(dt);
            Tensor fused = warp_batch(xd, md, {.size = size, .mode = mode, .padding_mode = pad, .align_corners = align});
            Tensor grid = affine_grid(theta_of(md), {3, 3, size.h, size.w}, align);
            Tensor two = grid_sample(xd, grid, {.mode = mode, .padding_mode = pad, .align_corners = align});
            expect_all_near(fused.to_vector<double>(), two.to_vector<double>(), 1e-5,
                            "warp_batch vs grid_sample " + std::to_string(static_cast<int>(pad)) + " " +
                                std::to_string(static_cast<int>(mode)) + (align ? " align" : ""));
          }
}

TEST(WarpBatch, InputGradientEqualsGridSamples) {
  Tensor m = mats({rot_zoom(0.3, 1.2, 0.1, -0.2), {0.913, 0.217, -0.291, -0.107, 1.283, 0.239}});
  for (PaddingMode pad : {PaddingMode::Zeros, PaddingMode::Reflection}) {
    Tensor x1 = random_image({2, 2, 6, 7}, 3).requires_grad_(true);
    Tensor x2 = x1.detach().clone().requires_grad_(true);
    Tensor w = random_image({2, 2, 5, 4}, 4);
    sum(warp_batch(x1, m, {.size = {5, 4}, .padding_mode = pad}) * w).backward();
    Tensor grid = affine_grid(theta_of(m), {2, 2, 5, 4}, true);
    sum(grid_sample(x2, grid, {.padding_mode = pad, .align_corners = true}) * w).backward();
    expect_all_near(x1.grad().to_vector<double>(), x2.grad().to_vector<double>(), 1e-12, "grad input");
  }
}

TEST(WarpBatch, IdentityMatrixReturnsTheInput) {
  Tensor x = random_image({2, 3, 5, 6}, 5);
  Tensor y = warp_batch(x, mats({{1, 0, 0, 0, 1, 0}, {1, 0, 0, 0, 1, 0}}));
  expect_all_near(y.to_vector<double>(), x.to_vector<double>(), 1e-12, "identity");
}

TEST(WarpBatch, SingleInterpolationBeatsTwoSuccessiveGridSamples) {
  const int64_t n = 64;
  Tensor x = pattern_image(n, n);
  // Output -> input: rotate(0.35) then zoom 1.25: two steps sample rotation first, then zoom.
  const std::vector<double> rot = rot_zoom(0.35, 1.0), zoom = rot_zoom(0.0, 1.25);
  // Composite R Z (affine 2x3 product).
  const std::vector<double> rz = {rot[0] * zoom[0] + rot[1] * zoom[3], rot[0] * zoom[1] + rot[1] * zoom[4], 0,
                                  rot[3] * zoom[0] + rot[4] * zoom[3], rot[3] * zoom[1] + rot[4] * zoom[4], 0};
  const GridSampleOptions o{.padding_mode = PaddingMode::Reflection, .align_corners = true};
  Tensor fused = warp_batch(x, mats({rz}));
  Tensor step1 = grid_sample(x, affine_grid(theta_of(mats({rot})), x.shape(), true), o);
  Tensor step2 = grid_sample(step1, affine_grid(theta_of(mats({zoom})), x.shape(), true), o);
  // The analytic result f(R Z p) over output pixels whose source lies well inside the image.
  const auto a = fused.to_vector<double>(), b = step2.to_vector<double>();
  double err_fused = 0, err_two = 0;
  int count = 0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      const double px = kernels::base_coord(j, n, true), py = kernels::base_coord(i, n, true);
      const double sx = rz[0] * px + rz[1] * py, sy = rz[3] * px + rz[4] * py;
      if (std::abs(sx) > 0.8 || std::abs(sy) > 0.8) continue;
      const double want = pattern(sx, sy);
      err_fused += std::abs(a[i * n + j] - want);
      err_two += std::abs(b[i * n + j] - want);
      ++count;
    }
  ASSERT_GT(count, 1000);
  err_fused /= count;
  err_two /= count;
  EXPECT_LT(err_fused, err_two * 0.8) << "fused MAE " << err_fused << ", two grid_samples " << err_two;
}

TEST(WarpBatch, MasksStayIntegerValued) {
  std::vector<int64_t> labels(8 * 9);
  for (size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<int64_t>((i * 7) % 4 == 3 ? 5 : (i * 7) % 4);
  Tensor mask = cast<TensorMask>(tensor<int64_t>(labels, {1, 1, 8, 9}));
  Tensor m = mats({rot_zoom(0.5, 1.3, 0.1, 0.05)});
  Tensor y = warp_batch(mask, m);  // TensorMask: nearest whatever the mode says
  EXPECT_EQ(y.dtype(), DType::I64);
  EXPECT_TRUE(is_a<TensorMask>(y));
  const std::set<int64_t> allowed = {0, 1, 2, 5};
  for (int64_t v : y.to_vector<int64_t>()) EXPECT_TRUE(allowed.count(v)) << v;
  // A float mask: same labels as floats, exactly.
  Tensor fm = warp_batch(cast<TensorMask>(mask.to(DType::F32)), m);
  expect_all_near(fm.to_vector<double>(), y.to_vector<double>(), 0, "float mask");
  // And nearest on a plain u8 image.
  Tensor u8 = warp_batch(mask.to(DType::U8), m, {.mode = SampleMode::Nearest});
  expect_all_near(u8.to_vector<double>(), y.to_vector<double>(), 0, "u8 nearest");
}

TEST(WarpBatch, PerspectiveCornersMoveToCornerPlusOffset) {
  // Input corner pixel values are distinct; with align_corners the output pixel at a moved corner
  // position shows that corner. The offsets are whole pixels (0.25 in normalized units).
  const int64_t n = 9;  // pixel k at normalized -1 + k / 4
  std::vector<double> v(n * n, 0.0);
  v[0] = 1;                  // (-1, -1)
  v[n - 1] = 2;              // (1, -1)
  v[(n - 1) * n] = 3;        // (-1, 1)
  v[n * n - 1] = 4;          // (1, 1)
  Tensor x = tensor<double>(v, {1, 1, n, n});
  // corners (x, y): (-1,-1), (-1,1), (1,-1), (1,1), moved by whole pixels (0.25).
  Tensor off = tensor<double>({0.25, 0.5, 0.5, -0.25, -0.25, 0.25, -0.5, -0.5}, {1, 4, 2});
  Tensor y = warp_batch(x, mats({{1, 0, 0, 0, 1, 0}}), {.coord_offsets = off, .padding_mode = PaddingMode::Zeros});
  auto at = [&](double nx, double ny) {
    const auto j = static_cast<int64_t>(std::lround((nx + 1) * 4)), i = static_cast<int64_t>(std::lround((ny + 1) * 4));
    return y.to_vector<double>()[i * n + j];
  };
  EXPECT_NEAR(at(-1 + 0.25, -1 + 0.5), 1, 1e-9);
  EXPECT_NEAR(at(-1 + 0.5, 1 - 0.25), 3, 1e-9);
  EXPECT_NEAR(at(1 - 0.25, -1 + 0.25), 2, 1e-9);
  EXPECT_NEAR(at(1 - 0.5, 1 - 0.5), 4, 1e-9);
  // The same corner moves, as points.
  Tensor corners = tensor<double>({-1, -1, -1, 1, 1, -1, 1, 1}, {1, 4, 2});
  expect_all_near(warp_points(corners, mats({{1, 0, 0, 0, 1, 0}}), {.coord_offsets = off}).to_vector<double>(),
                  (corners + off).to_vector<double>(), 1e-12, "corners as points");
}

TEST(WarpBatch, ZeroCoordOffsetsEqualThePlainAffineWarp) {
  Tensor x = random_image({2, 2, 7, 8}, 11);
  Tensor m = mats({rot_zoom(0.4, 0.8, 0.2, -0.1), {3.47, 0.31, 0.23, -0.27, 3.13, 0.11}});
  Tensor off = zeros({2, 4, 2}, {.dtype = DType::F64});
  for (PaddingMode pad : {PaddingMode::Zeros, PaddingMode::Border, PaddingMode::Reflection})
    for (bool align : {false, true}) {
      const WarpOptions plain{.size = {5, 9}, .padding_mode = pad, .align_corners = align};
      WarpOptions persp = plain;
      persp.coord_offsets = off;
      expect_all_near(warp_batch(x, m, persp).to_vector<double>(), warp_batch(x, m, plain).to_vector<double>(), 1e-9,
                      std::string("perspective path, padding ") + std::to_string(static_cast<int>(pad)));
    }
}

TEST(WarpBatch, MatchesFastaiAffineCoordWithWarp) {
  namespace ref = warp_fastai_reference;
  std::vector<double> xv(120);
  for (size_t i = 0; i < xv.size(); ++i) xv[i] = 3 * std::sin(0.7 * static_cast<double>(i));
  Tensor x = tensor<double>(xv, {2, 2, 5, 6});
  Tensor theta = tensor<double>(ref::theta, {2, 2, 3});
  Tensor off = warp_coord_offsets(tensor<double>(ref::x_t), tensor<double>(ref::y_t));
  for (const auto& c : ref::cases()) {
    const std::string pad = c.padding;
    const WarpOptions o{.coord_offsets = off,
                        .size = {4, 7},
                        .mode = std::string(c.mode) == "nearest" ? SampleMode::Nearest : SampleMode::Bilinear,
                        .padding_mode = pad == "zeros"    ? PaddingMode::Zeros
                                        : pad == "border" ? PaddingMode::Border
                                                          : PaddingMode::Reflection};
    expect_all_near(warp_batch(x, theta, o).to_vector<double>(), c.out, 1e-9, std::string(c.mode) + "/" + pad);
    expect_all_near(warp_batch(x.to(DType::F32), theta.to(DType::F32), o).to_vector<double>(), c.out, 1e-4,
                    std::string("f32 ") + c.mode + "/" + pad);
  }
  // TensorPoint: through the inverse warp, then the inverse affine map.
  expect_all_near(warp_points(tensor<double>(ref::points, {2, 2, 2}), theta, {.coord_offsets = off}).to_vector<double>(),
                  ref::points_out, 1e-12, "points");
}

TEST(WarpBatch, FastaiWarpCoordOffsets) {
  Tensor off = warp_coord_offsets(tensor<double>({0.1, 0.2}), tensor<double>({0.3, -0.1}));
  // [(-y, -x), (y, x), (y, x), (-y, -x)] per sample.
  expect_all_near(off.to_vector<double>(),
                  {-0.3, -0.1, 0.3, 0.1, 0.3, 0.1, -0.3, -0.1, 0.1, -0.2, -0.1, 0.2, -0.1, 0.2, 0.1, -0.2}, 1e-12,
                  "offsets");
  EXPECT_EQ(off.shape(), Shape({2, 4, 2}));
}

// The output position (normalized) of the brightest pixel.
std::pair<double, double> brightest(const Tensor& y) {
  const auto v = y.to_vector<double>();
  const int64_t h = y.size(2), w = y.size(3);
  size_t best = 0;
  for (size_t i = 1; i < v.size(); ++i)
    if (v[i] > v[best]) best = i;
  return {kernels::base_coord(static_cast<int64_t>(best) % w, w, true),
          kernels::base_coord(static_cast<int64_t>(best) / w, h, true)};
}

// The intensity-weighted mean output position (normalized).
std::pair<double, double> centroid(const Tensor& y) {
  const auto v = y.to_vector<double>();
  const int64_t h = y.size(2), w = y.size(3);
  double sx = 0, sy = 0, total = 0;
  for (int64_t i = 0; i < h; ++i)
    for (int64_t j = 0; j < w; ++j) {
      const double p = v[i * w + j];
      sx += p * kernels::base_coord(j, w, true);
      sy += p * kernels::base_coord(i, h, true);
      total += p;
    }
  return {sx / total, sy / total};
}

TEST(WarpPoints, FollowTheImage) {
  const int64_t n = 41;
  std::vector<double> v(n * n, 0.0);
  const int64_t row = 13, col = 27;
  v[row * n + col] = 1.0;
  Tensor x = tensor<double>(v, {1, 1, n, n});
  Tensor p = tensor<double>({kernels::base_coord(col, n, true), kernels::base_coord(row, n, true)}, {1, 1, 2});
  Tensor m = mats({rot_zoom(0.3, 0.9, 0.1, -0.05)});
  for (bool perspective : {false, true}) {
    WarpOptions o{.padding_mode = PaddingMode::Zeros};
    if (perspective) o.coord_offsets = tensor<double>({0.1, 0.05, -0.05, 0.1, 0.0, -0.1, -0.1, 0.05}, {1, 4, 2});
    Tensor y = warp_batch(x, m, o);
    const auto [bx, by] = brightest(y);
    const auto q = warp_points(p, m, o).to_vector<double>();
    const double pixel = 2.0 / (n - 1);
    EXPECT_NEAR(q[0], bx, pixel) << (perspective ? "perspective" : "affine");
    EXPECT_NEAR(q[1], by, pixel) << (perspective ? "perspective" : "affine");
    // Sub-pixel: the intensity centroid of the warped dot sits on the mapped point.
    const auto [cx, cy] = centroid(y);
    EXPECT_NEAR(q[0], cx, 0.2 * pixel) << (perspective ? "perspective" : "affine");
    EXPECT_NEAR(q[1], cy, 0.2 * pixel) << (perspective ? "perspective" : "affine");
  }
}

TEST(WarpPoints, InverseOfAPureAffineMap) {
  Tensor m = mats({{2, 0, 0.5, 0, 0.5, -0.25}});
  // Output p shows input M p, so input q appears at M^-1 q: x = (qx - 0.5) / 2, y = (qy + 0.25) / 0.5.
  Tensor q = tensor<double>({0.5, -0.25, 1.5, 0.25}, {1, 2, 2});
  expect_all_near(warp_points(q, m).to_vector<double>(), {0, 0, 0.5, 1.0}, 1e-12, "inverse");
  EXPECT_TRUE(is_a<TensorPoint>(warp_points(cast<TensorPoint>(q), m)));
}

// ---- dtypes, layout, threads, empty ----

TEST(Resample, EveryFloatingDtypeAgreesWithF64) {
  Tensor x = random_image({2, 2, 6, 7}, 6);
  Tensor m = mats({rot_zoom(0.2, 1.1), rot_zoom(-0.3, 0.8, 0.1, 0)});
  Tensor ref = warp_batch(x, m);
  Tensor grid = affine_grid(theta_of(m), {2, 2, 6, 7}, false);
  Tensor gref = grid_sample(x, grid, {.padding_mode = PaddingMode::Border});
  for (auto [dt, tol] : {std::pair{DType::F32, 1e-5}, std::pair{DType::F16, 1e-2}, std::pair{DType::BF16, 3e-2}}) {
    expect_all_near(warp_batch(x.to(dt), m).to_vector<double>(), ref.to_vector<double>(), tol, "warp_batch");
    expect_all_near(grid_sample(x.to(dt), grid.to(dt), {.padding_mode = PaddingMode::Border}).to_vector<double>(),
                    gref.to_vector<double>(), tol, "grid_sample");
  }
}

TEST(Resample, NonContiguousInputs) {
  Tensor x = random_image({2, 2, 7, 6}, 7);
  Tensor xt = x.transpose(2, 3);  // [2, 2, 6, 7], not contiguous
  Tensor m = mats({rot_zoom(0.2, 1.1), rot_zoom(-0.3, 0.8)});
  expect_all_near(warp_batch(xt, m).to_vector<double>(), warp_batch(xt.contiguous(), m).to_vector<double>(), 0,
                  "warp_batch");
  Tensor grid = affine_grid(theta_of(m), {2, 2, 4, 5}).transpose(1, 2).contiguous().transpose(1, 2);
  expect_all_near(grid_sample(xt, grid).to_vector<double>(), grid_sample(xt.contiguous(), grid.contiguous()).to_vector<double>(),
                  0, "grid_sample");
}

TEST(Resample, EmptyBatchAndChannels) {
  EXPECT_EQ(warp_batch(zeros({0, 3, 4, 4}), zeros({0, 3, 3})).shape(), Shape({0, 3, 4, 4}));
  EXPECT_EQ(warp_batch(zeros({2, 0, 4, 4}), mats({{1, 0, 0, 0, 1, 0}, {1, 0, 0, 0, 1, 0}}).to(DType::F32)).shape(),
            Shape({2, 0, 4, 4}));
  EXPECT_EQ(grid_sample(zeros({1, 2, 3, 3}), zeros({1, 0, 4, 2})).shape(), Shape({1, 2, 0, 4}));
}

TEST(Resample, SameResultsForOneAndTwoThreads) {
  const int threads = get_num_threads();
  Tensor x = random_image({3, 3, 40, 50}, 8).to(DType::F32);
  Tensor m = mats({rot_zoom(0.2, 1.1), rot_zoom(-0.3, 0.8), rot_zoom(1.0, 0.7, 0.2, 0.1)}).to(DType::F32);
  Tensor w = random_image({3, 3, 40, 50}, 9).to(DType::F32);
  auto run = [&](int n) {
    set_num_threads(n);
    Tensor xi = x.clone().requires_grad_(true);
    Tensor y = warp_batch(xi, m);
    sum(y * w).backward();
    return std::pair{y.to_vector<float>(), xi.grad().to_vector<float>()};
  };
  const auto one = run(1), two = run(2);
  set_num_threads(threads);
  EXPECT_EQ(one.first, two.first);
  EXPECT_EQ(one.second, two.second);
}

// ---- errors ----

TEST(Resample, BadCallsNameTheOp) {
  Tensor x = zeros({1, 2, 4, 4});
  Tensor m = zeros({1, 3, 3});
  EXPECT_STRATA_ERROR(grid_sample(zeros({2, 4, 4}), zeros({1, 2, 2, 2})), ShapeError, {"grid_sample:", "[2, 4, 4]"});
  EXPECT_STRATA_ERROR(grid_sample(x, zeros({1, 2, 2, 3})), ShapeError, {"grid_sample:", "[1, 2, 2, 3]"});
  EXPECT_STRATA_ERROR(grid_sample(x, zeros({2, 2, 2, 2})), ShapeError, {"grid_sample:", "batch 2", "batch 1"});
  EXPECT_STRATA_ERROR(grid_sample(x, zeros({1, 2, 2, 2}, {.dtype = DType::F64})), DTypeError,
                      {"grid_sample:", "f64", "f32"});
  EXPECT_STRATA_ERROR(grid_sample(zeros({1, 2, 4, 4}, {.dtype = DType::I64}), zeros({1, 2, 2, 2})), DTypeError,
                      {"grid_sample:", "i64"});
  EXPECT_STRATA_ERROR(affine_grid(zeros({1, 3, 3}), {1, 1, 4, 4}), ShapeError, {"affine_grid:", "[1, 3, 3]"});
  EXPECT_STRATA_ERROR(affine_grid(zeros({2, 2, 3}), {1, 1, 4, 4}), ShapeError, {"affine_grid:", "batch 2"});
  EXPECT_STRATA_ERROR(warp_batch(x, zeros({1, 4, 4})), ShapeError, {"warp_batch:", "[1, 4, 4]"});
  EXPECT_STRATA_ERROR(warp_batch(x, zeros({2, 3, 3})), ShapeError, {"warp_batch:", "2 matrices", "batch of 1"});
  EXPECT_STRATA_ERROR(warp_batch(x, m, {.coord_offsets = zeros({1, 3, 2})}), ShapeError,
                      {"warp_batch:", "coord_offsets", "[1, 3, 2]"});
  EXPECT_STRATA_ERROR(warp_batch(zeros({1, 2, 4, 4}, {.dtype = DType::I64}), m), DTypeError,
                      {"warp_batch:", "i64", "Nearest"});
  EXPECT_STRATA_ERROR(warp_batch(x, m.to(DType::I64)), DTypeError, {"warp_batch:", "matrices"});
  EXPECT_STRATA_ERROR(warp_batch(x, m, {.size = {-1, 3}}), ValueError, {"warp_batch:", "size"});
  // Offsets moving every corner onto the centre.
  Tensor squash = -tensor<float>({-1, -1, -1, 1, 1, -1, 1, 1}, {1, 4, 2});
  EXPECT_STRATA_ERROR(warp_batch(x, m, {.coord_offsets = squash}), ValueError, {"warp_batch:", "degenerate"});
  EXPECT_STRATA_ERROR(warp_points(zeros({1, 3, 3}), m), ShapeError, {"warp_points:", "[1, 3, 3]"});
  EXPECT_STRATA_ERROR(warp_points(zeros({1, 3, 2}), m), ValueError, {"warp_points:", "singular"});
}

}  // namespace
}  // namespace strata
