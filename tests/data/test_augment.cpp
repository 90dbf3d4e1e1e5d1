// Batch augmentation, affine side (data/augment.h): the matrix builders, composition into one
// matrix per sample and one warp_batch call, masks / points / boxes moving with the image,
// seeds, and the validation split.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <set>

#include "data/augment.h"
#include "data/pipeline.h"
#include "strata.h"
#include "support/expect_error.h"

using namespace strata;
using namespace strata::data;

namespace {

TensorImage random_images(Shape s, uint64_t seed = 1) {
  Generator g(seed);
  return cast<TensorImage>(rand(s, {}, &g));
}

// Image batch [1, 1, h, w] with a bright block (value 1) at rows r0..r1, cols c0..c1 (inclusive).
Tensor block_image(int64_t h, int64_t w, int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
  Tensor x = zeros({1, 1, h, w});
  x.narrow(2, r0, r1 - r0 + 1).narrow(3, c0, c1 - c0 + 1).fill_(1.0);
  return x;
}

// Intensity-weighted centroid (row, col) of a [H, W] tensor.
std::pair<double, double> centroid(const Tensor& img) {
  Tensor x = img.to(DType::F64).contiguous();
  const int64_t h = x.size(0), w = x.size(1);
  auto v = x.to_vector<double>();
  double s = 0, sr = 0, sc = 0;
  for (int64_t i = 0; i < h; ++i)
    for (int64_t j = 0; j < w; ++j) {
      const double a = v[static_cast<size_t>(i * w + j)];
      s += a;
      sr += a * static_cast<double>(i);
      sc += a * static_cast<double>(j);
    }
  return {sr / s, sc / s};
}

void expect_equal(const Tensor& a, const Tensor& b) {
  ASSERT_EQ(a.shape(), b.shape());
  auto va = a.to(DType::F64).to_vector<double>(), vb = b.to(DType::F64).to_vector<double>();
  for (size_t i = 0; i < va.size(); ++i) ASSERT_EQ(va[i], vb[i]) << "at " << i;
}

double max_abs_diff(const Tensor& a, const Tensor& b) { return max(abs(a.to(DType::F64) - b.to(DType::F64))).item(); }

}  // namespace

TEST(AugmentMatrices, BuildersFollowFastai) {
  Rng r(3);
  // p 1: every sample flipped; p 0: none.
  for (const Mat3& m : flip_mat(r, 4, 1.0)) EXPECT_EQ(m, (Mat3{-1, 0, 0, 0, 1, 0, 0, 0, 1}));
  for (const Mat3& m : flip_mat(r, 4, 0.0)) EXPECT_EQ(m, mat3_identity());
  // Rotation by theta: [[cos, sin], [-sin, cos]] with |theta| <= max_deg.
  for (const Mat3& m : rotate_mat(r, 16, 10, 1.0)) {
    const double t = std::atan2(m[1], m[0]) * 180 / std::numbers::pi;
    EXPECT_LE(std::abs(t), 10.0);
    EXPECT_NEAR(m[4], m[0], 1e-15);
    EXPECT_NEAR(m[3], -m[1], 1e-15);
  }
  // Zoom: scale 1/z with z in [1, 1.5]; the centre keeps the window inside the image.
  for (const Mat3& m : zoom_mat(r, 16, 1.0, 1.5, 1.0)) {
    EXPECT_GE(m[0], 1 / 1.5 - 1e-12);
    EXPECT_LE(m[0], 1.0);
    EXPECT_EQ(m[0], m[4]);
    EXPECT_LE(std::abs(m[2]), 1 - m[0] + 1e-12);
    EXPECT_LE(std::abs(m[5]), 1 - m[0] + 1e-12);
  }
  // Dihedral: the 8 signed permutation matrices, all distinct.
  std::set<Mat3> seen;
  for (int k = 0; k < 8; ++k) {
    const Mat3 m = dihedral_of(k);
    EXPECT_EQ(std::abs(m[0]) + std::abs(m[1]), 1.0);
    EXPECT_EQ(std::abs(m[0] * m[4] - m[1] * m[3]), 1.0);
    seen.insert(m);
  }
  EXPECT_EQ(seen.size(), 8u);
  EXPECT_EQ(dihedral_of(0), mat3_identity());
  EXPECT_EQ(dihedral_of(1), (Mat3{-1, 0, 0, 0, 1, 0, 0, 0, 1}));
  EXPECT_STRATA_ERROR(dihedral_of(8), ValueError, {"dihedral_of", "0..7", "8"});
  // Batch draws: one value for every sample.
  auto rs = rotate_mat(r, 5, 30, 1.0, true);
  for (const Mat3& m : rs) EXPECT_EQ(m, rs[0]);
  // _prepare_mat on a 2:1 image.
  Mat3 m = {1, 2, 0, 3, 1, 0, 0, 0, 1};
  prepare_mat(m, 10, 20);
  EXPECT_EQ(m, (Mat3{1, 1, 0, 6, 1, 0, 0, 0, 1}));
  EXPECT_STRATA_ERROR(zoom_mat(r, 2, 1.2, 1.1), ValueError, {"zoom_mat", "1.2", "1.1"});
}

TEST(AugmentAffine, IdentityWhenEveryProbabilityIsZero) {
  auto tfms = setup_aug_tfms({Flip(0.0), Warp(0.2, 0.0), Rotate(10, 0.0), Zoom(1.0, 1.1, 0.0), Brightness(0.2, 0.0),
                              Contrast(0.2, 0.0)});
  ASSERT_EQ(tfms.size(), 2u);
  TensorImage x = random_images({3, 3, 8, 10});
  Tensor mask = cast(randint(0, 3, {3, 8, 10}), TensorMask::type());
  Tensor pts = cast(rand({3, 2, 2}) * 2.0 - 1.0, TensorPoint::type());
  Item b = Item::tuple({x, mask, pts});
  Item y = b;
  for (const auto& t : tfms) y = (*t)(y, 0);
  expect_equal(y[0].tensor(), x);
  expect_equal(y[1].tensor(), mask);
  expect_equal(y[2].tensor(), pts);
  EXPECT_TRUE(is_a<TensorMask>(y[1].tensor()));
}

TEST(AugmentAffine, FlipMirrorsTheImage) {
  auto flip = Flip(1.0);
  TensorImage x = cast<TensorImage>(arange(0.0, 2 * 3 * 4 * 5, 1.0, {.dtype = DType::F32}).view({2, 3, 4, 5}));
  Tensor y = (*flip)(Item(x), 0).tensor();
  EXPECT_TRUE(is_a<TensorImage>(y));
  auto vx = x.to_vector<float>(), vy = y.to_vector<float>();
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t i = 0; i < 4; ++i)
        for (int64_t j = 0; j < 5; ++j)
          EXPECT_NEAR(vy[static_cast<size_t>(((n * 3 + c) * 4 + i) * 5 + j)],
                      vx[static_cast<size_t>(((n * 3 + c) * 4 + i) * 5 + (4 - j))], 1e-5)
              << n << " " << c << " " << i << " " << j;
  // A mask is mirrored exactly (nearest) and keeps its dtype.
  Tensor m = cast(arange(0.0, 2 * 4 * 5, 1.0).view({2, 4, 5}), TensorMask::type());
  Tensor ym = (*flip)(Item(m), 0).tensor();
  EXPECT_EQ(ym.dtype(), DType::I64);
  auto vm = m.to_vector<int64_t>(), vym = ym.to_vector<int64_t>();
  for (int64_t k = 0; k < 2 * 4; ++k)
    for (int64_t j = 0; j < 5; ++j) EXPECT_EQ(vym[static_cast<size_t>(k * 5 + j)], vm[static_cast<size_t>(k * 5 + 4 - j)]);
}

TEST(AugmentAffine, MaskMovesWithTheImageUnderRotation) {
  auto rot = Rotate(30, 1.0, {.seed = 11});
  // Bright square off the centre; the mask marks it with code 2, a stripe with code 1.
  Tensor img = block_image(32, 32, 9, 15, 17, 23).expand({4, 3, 32, 32}).contiguous();
  Tensor m = zeros({4, 32, 32}, {.dtype = DType::I64});
  m.narrow(1, 9, 7).narrow(2, 17, 7).fill_(2);
  m.narrow(1, 24, 2).fill_(1);
  Item out = (*rot)(Item::tuple({cast<TensorImage>(img), cast(m, TensorMask::type())}), 0);
  Tensor yi = out[0].tensor(), ym = out[1].tensor();
  ASSERT_EQ(ym.shape(), Shape({4, 32, 32}));
  EXPECT_TRUE(is_a<TensorMask>(ym));
  // Mask values stay in the code set.
  EXPECT_TRUE(all((ym == 0.0) || (ym == 1.0) || (ym == 2.0)).item<bool>());
  bool rotated = false;
  for (int64_t n = 0; n < 4; ++n) {
    auto [ir, ic] = centroid(yi[n][0]);
    auto [mr, mc] = centroid((ym[n] == 2.0).to(DType::F64));
    EXPECT_NEAR(ir, mr, 0.5) << "sample " << n;
    EXPECT_NEAR(ic, mc, 0.5) << "sample " << n;
    rotated = rotated || std::abs(ir - 12) > 0.5 || std::abs(ic - 20) > 0.5;
  }
  EXPECT_TRUE(rotated);  // the draw moved something
}

TEST(AugmentAffine, PointsFollowTheImage) {
  // Non-square image (exercises _prepare_mat), bright 3x3 block centred at row 10, col 30.
  const int64_t h = 32, w = 48;
  auto tfms = setup_aug_tfms({Rotate(20, 1.0, {.seed = 5}), Zoom(1.0, 1.3, 1.0, {.seed = 5}), Warp(0.2, 1.0, {.seed = 5})});
  ASSERT_EQ(tfms.size(), 1u);
  for (int trial = 0; trial < 5; ++trial) {
    Tensor img = block_image(h, w, 9, 11, 29, 31);
    const double px = -1 + 2.0 * 30 / (w - 1), py = -1 + 2.0 * 10 / (h - 1);
    Tensor pts = cast(tensor(std::vector<float>{static_cast<float>(px), static_cast<float>(py)}, {1, 1, 2}),
                      TensorPoint::type());
    Item out = (*tfms[0])(Item::tuple({cast<TensorImage>(img), pts}), 0);
    auto [r, c] = centroid(out[0].tensor()[0][0]);
    auto p = out[1].tensor().to_vector<float>();
    const double pc = (p[0] + 1) / 2 * (w - 1), pr = (p[1] + 1) / 2 * (h - 1);
    EXPECT_NEAR(c, pc, 0.5) << "trial " << trial;
    EXPECT_NEAR(r, pr, 0.5) << "trial " << trial;
    EXPECT_TRUE(is_a<TensorPoint>(out[1].tensor()));
  }
}

TEST(AugmentAffine, BoxesStayInsideAndContainTheirCorners) {
  auto tfm = setup_aug_tfms({Rotate(45, 1.0, {.seed = 2}), Zoom(1.0, 1.2, 1.0, {.seed = 2})})[0];
  Tensor boxes = cast(tensor(std::vector<float>{-0.5f, -0.5f, 0.5f, 0.2f, -0.9f, 0.1f, 0.95f, 0.9f,  //
                                                -1.f, -1.f, 1.f, 1.f, 0.f, 0.f, 0.f, 0.f},
                             {2, 2, 4}),
                      TensorBBox::type());
  TensorImage img = random_images({2, 3, 16, 24});
  Item out = (*tfm)(Item::tuple({img, boxes}), 0);
  Tensor yb = out[1].tensor();
  ASSERT_EQ(yb.shape(), Shape({2, 2, 4}));
  EXPECT_TRUE(is_a<TensorBBox>(yb));
  EXPECT_LE(max(yb).item(), 1.0);
  EXPECT_GE(min(yb).item(), -1.0);
  // The corners moved through the same draw lie inside (after clamping) each box.
  const AffineDraw& d = dynamic_cast<const AffineCoordTfm&>(*tfm).current();
  auto vb = boxes.to_vector<float>(), vy = yb.to_vector<float>();
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t k = 0; k < 2; ++k) {
      const float* b = &vb[static_cast<size_t>((n * 2 + k) * 4)];
      const float* y = &vy[static_cast<size_t>((n * 2 + k) * 4)];
      Tensor corners = tensor(std::vector<float>{b[0], b[1], b[0], b[3], b[2], b[1], b[2], b[3]}, {1, 4, 2});
      Tensor moved = clamp(warp_points(corners, d.matrices.narrow(0, n, 1)), -1.0, 1.0);
      auto vm = moved.to_vector<float>();
      for (int i = 0; i < 4; ++i) {
        EXPECT_GE(vm[i * 2], y[0] - 1e-5);
        EXPECT_LE(vm[i * 2], y[2] + 1e-5);
        EXPECT_GE(vm[i * 2 + 1], y[1] - 1e-5);
        EXPECT_LE(vm[i * 2 + 1], y[3] + 1e-5);
      }
      EXPECT_LE(y[0], y[2]);
      EXPECT_LE(y[1], y[3]);
    }
  // The full-image box rotated by up to 45 degrees still covers the whole image.
  EXPECT_EQ(vy[4], -1.f);
  EXPECT_EQ(vy[7], 1.f);
}

TEST(AugmentAffine, OneInterpolationWithTheProductMatrix) {
  const uint64_t seed = 21;
  auto tfms = aug_transforms({.max_lighting = 0, .p_affine = 1.0, .seed = seed});
  ASSERT_EQ(tfms.size(), 1u);
  auto& aff = dynamic_cast<AffineCoordTfm&>(*tfms[0]);
  EXPECT_EQ(aff.order, 30);
  EXPECT_EQ(aff.aff_fs.size(), 3u);   // flip, rotate, zoom
  EXPECT_EQ(aff.coord_fs.size(), 1u); // warp
  const int64_t n = 6, h = 12, w = 20;
  TensorImage x = random_images({n, 3, h, w});
  Tensor y = aff(Item(x), 0).tensor();
  // The same draws by hand: flip, rotate, zoom matrices multiplied, prepared; then the warp.
  Rng r(seed);
  auto f = flip_mat(r, n, 0.5), ro = rotate_mat(r, n, 10, 1.0), z = zoom_mat(r, n, 1.0, 1.1, 1.0);
  auto u = [](Rng& g) { return g.uniform(-0.2, 0.2); };
  auto xt = draw_masked(r, n, u, 1.0, 0.0, false), yt = draw_masked(r, n, u, 1.0, 0.0, false);
  std::vector<float> mats;
  for (int64_t i = 0; i < n; ++i) {
    Mat3 m = mat3_mul(mat3_mul(mat3_mul(mat3_identity(), f[i]), ro[i]), z[i]);
    prepare_mat(m, h, w);
    for (double v : m) mats.push_back(static_cast<float>(v));
  }
  Tensor want_m = tensor(mats, {n, 3, 3});
  EXPECT_LT(max_abs_diff(aff.current().matrices, want_m), 1e-6);
  Tensor off = warp_coord_offsets(tensor(std::vector<float>(xt.begin(), xt.end()), {n}),
                                  tensor(std::vector<float>(yt.begin(), yt.end()), {n}));
  EXPECT_LT(max_abs_diff(aff.current().coord_offsets, off), 1e-6);
  // The output is ONE warp_batch with the product (two interpolations would blur further).
  Tensor once = warp_batch(x, aff.current().matrices, {.coord_offsets = aff.current().coord_offsets});
  expect_equal(y, once);
}

TEST(AugmentAffine, ReproducibleForASeed) {
  TensorImage x = random_images({4, 3, 10, 10});
  auto run = [&](std::optional<uint64_t> seed) {
    auto t = aug_transforms({.seed = seed});
    Item y = Item(x);
    for (const auto& f : t) y = (*f)(y, 0);
    return y.tensor();
  };
  Tensor a = run(7), b = run(7), c = run(8);
  expect_equal(a, b);
  EXPECT_GT(max_abs_diff(a, c), 1e-3);
  // Without a seed, draws come from data::rng(): the same RngScope seed, the same batch.
  Tensor d, e;
  {
    RngScope s(Rng(99));
    d = run(std::nullopt);
  }
  {
    RngScope s(Rng(99));
    e = run(std::nullopt);
  }
  expect_equal(d, e);
  // Calls on one seeded transform go on drawing (different batches get different draws).
  auto t = Rotate(30, 1.0, {.seed = 3});
  EXPECT_GT(max_abs_diff((*t)(Item(x), 0).tensor(), (*t)(Item(x), 0).tensor()), 1e-3);
}

TEST(AugmentAffine, ValidationSplitSkipsAugmentation) {
  TensorImage x = random_images({2, 3, 8, 8});
  for (const auto& t : aug_transforms({.p_affine = 1.0, .p_lighting = 1.0})) {
    Tensor y = (*t)(Item(x), 1).tensor();
    EXPECT_TRUE(y.is_same(x) || max_abs_diff(y, x) == 0.0) << t->name;
  }
  // With a size, validation only resizes (identity matrix).
  auto t = aug_transforms({.max_lighting = 0, .p_affine = 1.0, .size = {4, 6}})[0];
  Tensor y = (*t)(Item(x), 1).tensor();
  EXPECT_EQ(y.shape(), Shape({2, 3, 4, 6}));
  expect_equal(y, warp_batch(x, eye(3).expand({2, 3, 3}).contiguous(), {.size = {4, 6}}));
  EXPECT_EQ(meta_as<ImageMeta>(y)->img_size, (ImageSize{4, 6}));
  // ... and training resizes too.
  EXPECT_EQ((*t)(Item(x), 0).tensor().shape(), Shape({2, 3, 4, 6}));
}

TEST(AugmentAffine, OtherItemsPassAndBadShapesAreNamed) {
  auto t = Rotate(10, 1.0, {.seed = 1});
  TensorImage x = random_images({2, 1, 6, 6});
  Tensor cat_labels = cast(tensor(std::vector<int64_t>{1, 0}), TensorCategory::type());
  Item out = (*t)(Item::tuple({x, cat_labels}), 0);
  expect_equal(out[1].tensor(), cat_labels);
  // A batch whose first element is 3-d: the image encodes names the transform and the shape.
  EXPECT_STRATA_ERROR((*t)(Item(random_images({3, 6, 6})), 0), ShapeError, {"Rotate", "[N, C, H, W]", "[3, 6, 6]"});
  EXPECT_STRATA_ERROR(Zoom(1.2, 1.1), ValueError, {"Zoom", "1.2"});
  auto w1 = Warp(), w2 = Warp();
  EXPECT_STRATA_ERROR(w1->compose(*w2), ValueError, {"Warp", "one Warp"});
  // An empty batch passes (and is resized when a size is given).
  auto sized = Rotate(10, 1.0, {.size = {4, 5}});
  EXPECT_EQ((*sized)(Item(random_images({0, 3, 8, 8})), 0).tensor().shape(), Shape({0, 3, 4, 5}));
  // u8 images cannot be interpolated bilinearly: warp_batch says so.
  Tensor u8 = cast(zeros({1, 3, 4, 4}, {.dtype = DType::U8}), TensorImage::type());
  EXPECT_STRATA_ERROR((*t)(Item(u8), 0), DTypeError, {"warp_batch", "floating"});
}

TEST(AugmentAffine, RunsInsideADataLoaderBatchPipeline) {
  // A [N, 1, 28, 28] batch through aug_transforms as a Pipeline with split_idx 0 / 1.
  Pipeline train(aug_transforms({.seed = 4}), 0), valid(aug_transforms({.seed = 4}), 1);
  TensorImage x = random_images({8, 1, 28, 28});
  Item y = train(Item::tuple({x, cast(zeros({8}, {.dtype = DType::I64}), TensorCategory::type())}));
  EXPECT_EQ(y[0].tensor().shape(), x.shape());
  EXPECT_TRUE(is_a<TensorImage>(y[0].tensor()));
  EXPECT_GT(max_abs_diff(y[0].tensor(), x), 1e-3);
  EXPECT_GE(min(y[0].tensor()).item(), 0.0);
  EXPECT_LE(max(y[0].tensor()).item(), 1.0);
  expect_equal(valid(Item(x)).tensor(), x);
}

TEST(AugmentCrop, RandomResizedCropGPUIsASliceAndAResize) {
  const Int2 size{10, 12};
  RandomResizedCropGPU rrc(size, {.min_scale = 0.3, .seed = 8}), twin(size, {.min_scale = 0.3, .seed = 8});
  EXPECT_EQ(rrc.order, 30);
  EXPECT_FALSE(rrc.split_idx.has_value());
  TensorImage x = random_images({3, 2, 20, 30});
  Tensor m = cast(randint(0, 4, {3, 20, 30}), TensorMask::type());
  for (int call = 0; call < 3; ++call) {
    Item out = rrc(Item::tuple({x, m}), 0);
    const auto win = twin.window(20, 30, false);
    EXPECT_GT(win.h * win.w, 0.3 * 600 - 40);
    // fastai: slice the window, then resample it to size (identity grid, align_corners).
    Tensor sliced = x.narrow(2, win.top, win.h).narrow(3, win.left, win.w).contiguous();
    Tensor want = warp_batch(sliced, eye(3).expand({3, 3, 3}).contiguous(), {.size = size});
    ASSERT_EQ(out[0].tensor().shape(), Shape({3, 2, 10, 12}));
    EXPECT_LT(max_abs_diff(out[0].tensor(), want), 1e-5) << call;
    // The mask is cropped the same way (nearest), codes kept.
    Tensor ym = out[1].tensor();
    EXPECT_EQ(ym.shape(), Shape({3, 10, 12}));
    EXPECT_TRUE(is_a<TensorMask>(ym));
    EXPECT_TRUE(all((ym >= 0.0) && (ym <= 3.0)).item<bool>());
    EXPECT_EQ(ym[0][0][0].item<int64_t>(), m[0][win.top][win.left].item<int64_t>());
    EXPECT_EQ(ym[2][9][11].item<int64_t>(), m[2][win.top + win.h - 1][win.left + win.w - 1].item<int64_t>());
  }
  // Validation: the centred window (ratio bounds the aspect), scaled by valid_scale.
  RandomResizedCropGPU v(size, {.ratio = {1.0, 1.0}, .valid_scale = 0.5});
  const auto win = v.window(20, 30, true);
  EXPECT_EQ(win.h, 10);
  EXPECT_EQ(win.w, 10);
  EXPECT_EQ(win.top, 5);
  EXPECT_EQ(win.left, 10);
  EXPECT_EQ(v(Item(x), 1).tensor().shape(), Shape({3, 2, 10, 12}));
  EXPECT_STRATA_ERROR(RandomResizedCropGPU({0, 3}), ValueError, {"RandomResizedCropGPU", "size"});
  // aug_transforms with min_scale: the crop comes after the (unsized) affine transform.
  auto t = aug_transforms({.size = {16, 16}, .min_scale = 0.5});
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[2]->name, "RandomResizedCropGPU");
  EXPECT_EQ(dynamic_cast<AffineCoordTfm&>(*t[0]).opts.size, Int2{});
  Item y = x;
  for (const auto& f : t) y = (*f)(y, 0);
  EXPECT_EQ(y.tensor().shape(), Shape({3, 2, 16, 16}));
  EXPECT_STRATA_ERROR(aug_transforms({.min_scale = 0.5}), ValueError, {"aug_transforms", "size"});
}

TEST(AugmentAffine, DihedralPermutesPixelsAndBatchDrawsOnce) {
  // Every dihedral matrix maps a square image's pixel centres onto pixel centres: the output is a
  // permutation of the input, and the 8 outputs are distinct.
  const int64_t s = 5;
  Tensor x = arange(0.0, s * s, 1.0, {.dtype = DType::F32}).view({1, 1, s, s});
  auto sorted = [](Tensor t) {
    auto v = t.to_vector<float>();
    std::sort(v.begin(), v.end());
    return v;
  };
  std::set<std::vector<float>> outs;
  for (int k = 0; k < 8; ++k) {
    const Mat3 m = dihedral_of(k);
    std::vector<float> mf(m.begin(), m.end());
    Tensor y = warp_batch(x, tensor(mf, {1, 3, 3}));
    auto v = y.to_vector<float>();
    for (float& f : v) {
      EXPECT_NEAR(f, std::round(f), 1e-4) << k;
      f = std::round(f);
    }
    outs.insert(v);
    EXPECT_EQ(sorted(tensor(v, {s * s})), sorted(x)) << k;
  }
  EXPECT_EQ(outs.size(), 8u);
  // batch = true: one draw for the whole batch.
  auto rot = Rotate(30, 1.0, {.batch = true, .seed = 4});
  TensorImage imgs = cast<TensorImage>(random_images({1, 2, 9, 9}).expand({4, 2, 9, 9}).contiguous());
  Tensor y = (*rot)(Item(imgs), 0).tensor();
  for (int64_t n = 1; n < 4; ++n) EXPECT_EQ(max_abs_diff(y[n], y[0]), 0.0);
  EXPECT_GT(max_abs_diff(y, imgs), 1e-3);
  auto per_sample = Rotate(30, 1.0, {.seed = 4});
  Tensor z = (*per_sample)(Item(imgs), 0).tensor();
  EXPECT_GT(max_abs_diff(z[1], z[0]), 1e-3);
}
