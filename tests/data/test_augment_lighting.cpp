// Batch augmentation, pixel side (data/augment.h): lighting in logit space, Hue and its HSV
// conversions, RandomErasing, Normalize (stats given or learnt at setup) and the aug_transforms
// list.
#include <gtest/gtest.h>

#include <cmath>

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

double max_abs_diff(const Tensor& a, const Tensor& b) { return max(abs(a.to(DType::F64) - b.to(DType::F64))).item(); }

}  // namespace

TEST(AugmentLighting, BrightnessShiftsTheMeanTheDrawnWay) {
  auto t = std::make_shared<LightingTfm>(
      std::vector<LightingPart>{{LightingPart::Kind::Brightness, 0.4, 1.0, false}}, 17);
  TensorImage x = random_images({8, 3, 6, 6});
  Tensor y = (*t)(Item(x), 0).tensor();
  EXPECT_TRUE(is_a<TensorImage>(y));
  EXPECT_GE(min(y).item(), 0.0);
  EXPECT_LE(max(y).item(), 1.0);
  const auto& change = t->current();
  ASSERT_EQ(change.size(), 1u);
  ASSERT_EQ(change[0].size(), 8u);
  for (int64_t n = 0; n < 8; ++n) {
    const double b = change[0][static_cast<size_t>(n)];
    EXPECT_GE(b, 0.3);
    EXPECT_LE(b, 0.7);
    const double dm = mean(y[n]).item() - mean(x[n]).item();
    if (b > 0.5) {
      EXPECT_GT(dm, 0) << n;
    } else if (b < 0.5) {
      EXPECT_LT(dm, 0) << n;
    }
    // One pixel by hand: sigmoid(logit(x) + logit(b)).
    const double x0 = x[n][0][0][0].item(), lx = std::log(x0 / (1 - x0)), lb = std::log(b / (1 - b));
    EXPECT_NEAR(y[n][0][0][0].item(), 1 / (1 + std::exp(-(lx + lb))), 1e-5);
  }
}

TEST(AugmentLighting, ContrastAndSaturation) {
  auto t = setup_aug_tfms({Contrast(0.5, 1.0), Saturation(0.5, 1.0)});
  ASSERT_EQ(t.size(), 1u);
  auto& l = dynamic_cast<LightingTfm&>(*t[0]);
  EXPECT_EQ(l.parts.size(), 2u);
  EXPECT_EQ(l.order, 40);
  EXPECT_EQ(l.split_idx, 0);
  TensorImage x = random_images({4, 3, 5, 5});
  RngScope scope(Rng(5));
  Tensor y = l(Item(x), 0).tensor();
  EXPECT_GE(min(y).item(), 0.0);
  EXPECT_LE(max(y).item(), 1.0);
  // Contrast c > 1 spreads the logits away from 0: a pixel above 0.5 goes up.
  Tensor gray = cast<TensorImage>(full({2, 3, 4, 4}, 0.8));
  auto sat = Saturation(0.5, 1.0);
  Tensor g2 = (*sat)(Item(gray), 0).tensor();
  EXPECT_LT(max_abs_diff(g2, gray), 1e-4);  // equal channels: saturation changes nothing
  auto con = std::make_shared<LightingTfm>(std::vector<LightingPart>{{LightingPart::Kind::Contrast, 0.5, 1.0, false}}, 3);
  Tensor g3 = (*con)(Item(gray), 0).tensor();
  for (int64_t n = 0; n < 2; ++n) {
    const double c = con->current()[0][static_cast<size_t>(n)];
    const double l8 = std::log(0.8 / 0.2);
    EXPECT_NEAR(g3[n][1][2][3].item(), 1 / (1 + std::exp(-l8 * c)), 1e-5);
  }
  // Bad inputs name the transform.
  EXPECT_STRATA_ERROR((*con)(Item(random_images({3, 4, 4})), 0), ShapeError, {"LightingTfm", "[3, 4, 4]"});
  Tensor u8 = cast(zeros({2, 3, 4, 4}, {.dtype = DType::U8}), TensorImage::type());
  EXPECT_STRATA_ERROR((*con)(Item(u8), 0), DTypeError, {"LightingTfm", "floating"});
  EXPECT_STRATA_ERROR(Brightness(1.0), ValueError, {"Brightness", "max_lighting"});
  // Masks are not lit.
  Tensor m = cast(ones({2, 4, 4}, {.dtype = DType::I64}), TensorMask::type());
  EXPECT_TRUE((*con)(Item::tuple({gray, m}), 0)[1].tensor().is_same(m));
}

TEST(AugmentLighting, FusedCpuPathMatchesTheTensorPath) {
  // f32 CPU batches take the one-pass loop; f64 the tensor ops: same draws, same result.
  auto make = [] {
    return std::make_shared<LightingTfm>(
        std::vector<LightingPart>{{LightingPart::Kind::Brightness, 0.4, 0.8, false},
                                  {LightingPart::Kind::Saturation, 0.5, 0.8, false},
                                  {LightingPart::Kind::Contrast, 0.4, 0.8, false}},
        12);
  };
  for (int64_t c : {1, 3}) {
    TensorImage x = random_images({5, c, 9, 7}, 4);
    Tensor y32 = (*make())(Item(x), 0).tensor();
    Tensor y64 = (*make())(Item(cast<TensorImage>(x.to(DType::F64))), 0).tensor();
    EXPECT_EQ(y32.dtype(), DType::F32);
    EXPECT_EQ(y64.dtype(), DType::F64);
    EXPECT_TRUE(is_a<TensorImage>(y32));
    EXPECT_LT(max_abs_diff(y32, y64), 1e-5) << c;
    EXPECT_GT(max_abs_diff(y32, x), 1e-3) << c;
  }
  // Non-contiguous input.
  TensorImage big = random_images({4, 3, 8, 8}, 6);
  Tensor strided = cast<TensorImage>(big.slice(0, 0, 4, 2));
  Tensor a = (*make())(Item(strided), 0).tensor();
  Tensor b = (*make())(Item(cast<TensorImage>(strided.contiguous().to(DType::F64))), 0).tensor();
  EXPECT_LT(max_abs_diff(a, b), 1e-5);
}

TEST(AugmentLighting, ComposedBrightnessContrastPathMatchesTheTensorPath) {
  // aug_transforms' lighting (brightness then contrast: affine in logit space) takes the composed
  // per-sample a * logit(x) + b loop with the polynomial log / exp; f64 takes the tensor ops.
  auto make = [](uint64_t seed) {
    return std::make_shared<LightingTfm>(
        std::vector<LightingPart>{{LightingPart::Kind::Brightness, 0.2, 0.75, false},
                                  {LightingPart::Kind::Contrast, 0.2, 0.75, false}},
        seed);
  };
  for (int64_t c : {1, 3}) {
    for (uint64_t seed : {1u, 2u, 3u}) {
      // Row lengths not a multiple of any vector width, and every sample drawn (p 0.75, 9 samples).
      TensorImage x = random_images({9, c, 13, 11}, seed + 10);
      Tensor y32 = (*make(seed))(Item(x), 0).tensor();
      Tensor y64 = (*make(seed))(Item(cast<TensorImage>(x.to(DType::F64))), 0).tensor();
      EXPECT_LT(max_abs_diff(y32, y64), 1e-5) << c << " " << seed;
      EXPECT_GT(max_abs_diff(y32, x), 1e-3) << c << " " << seed;
    }
  }
  // The ends of the range (fastai's clamp to [1e-7, 1 - 1e-7]), exact 0.5, and values that are
  // powers of two (the log's mantissa boundaries), by hand in double.
  std::vector<float> edge = {0.0f, 1e-9f, 1e-7f, 1e-4f, 0.125f, 0.25f, 0.5f, 0.70710677f, 0.75f, 0.9999f, 1.0f - 1e-7f, 1.0f};
  const int64_t ne = static_cast<int64_t>(edge.size());
  TensorImage e = cast<TensorImage>(tensor(edge, {1, 1, 1, ne}));
  auto t = std::make_shared<LightingTfm>(
      std::vector<LightingPart>{{LightingPart::Kind::Brightness, 0.4, 1.0, false},
                                {LightingPart::Kind::Contrast, 0.4, 1.0, false}},
      5);
  std::vector<float> got = (*t)(Item(e), 0).tensor().to_vector<float>();
  const double b = t->current()[0][0], cc = t->current()[1][0];
  for (int64_t i = 0; i < ne; ++i) {
    // The clamp happens in f32 (as in the tensor path on f32): 1 - 1e-7 rounds to 1 - 2^-23.
    const double v = std::min(std::max(edge[static_cast<size_t>(i)], 1e-7f), 1.0f - 1e-7f);
    const double l = (std::log(v / (1 - v)) + std::log(b / (1 - b))) * cc;
    EXPECT_NEAR(got[static_cast<size_t>(i)], 1 / (1 + std::exp(-l)), 2e-6) << edge[static_cast<size_t>(i)];
  }
  // Non-contiguous input.
  TensorImage big = random_images({6, 3, 8, 8}, 7);
  Tensor strided = cast<TensorImage>(big.slice(0, 0, 6, 2).slice(3, 0, 8, 2));
  Tensor a = (*make(4))(Item(strided), 0).tensor();
  Tensor r = (*make(4))(Item(cast<TensorImage>(strided.contiguous().to(DType::F64))), 0).tensor();
  EXPECT_EQ(a.shape(), Shape({3, 3, 8, 4}));
  EXPECT_LT(max_abs_diff(a, r), 1e-5);
}

TEST(AugmentLighting, HsvRoundTripAndHue) {
  // Known colours: red, green, blue, gray.
  Tensor rgb = tensor(std::vector<float>{1, 0, 0, 0.5f, 0, 1, 0, 0.5f, 0, 0, 1, 0.5f}, {1, 3, 1, 4});
  Tensor hsv = rgb2hsv(rgb);
  auto v = hsv.to_vector<float>();
  EXPECT_NEAR(v[0], 0.0, 1e-6);
  EXPECT_NEAR(v[1], 1.0 / 3, 1e-6);
  EXPECT_NEAR(v[2], 2.0 / 3, 1e-6);
  EXPECT_NEAR(v[4 + 0], 1.0, 1e-6);  // saturation of red
  EXPECT_NEAR(v[4 + 3], 0.0, 1e-6);  // gray
  EXPECT_NEAR(v[8 + 3], 0.5, 1e-6);  // value of gray
  TensorImage x = random_images({3, 3, 7, 7});
  EXPECT_LT(max_abs_diff(hsv2rgb(rgb2hsv(x)), x), 1e-5);
  auto hue = std::make_shared<Hue>(0.1, 1.0, false, 9);
  Tensor y = (*hue)(Item(x), 0).tensor();
  EXPECT_TRUE(is_a<TensorImage>(y));
  EXPECT_GT(max_abs_diff(y, x), 1e-3);
  // Hue keeps saturation and value.
  EXPECT_LT(max_abs_diff(rgb2hsv(y).narrow(1, 1, 2), rgb2hsv(x).narrow(1, 1, 2)), 1e-4);
  EXPECT_STRATA_ERROR(rgb2hsv(zeros({1, 2, 3, 3})), ShapeError, {"rgb2hsv", "[1, 2, 3, 3]"});
}

TEST(AugmentLighting, RandomErasing) {
  RandomErasing re({.p = 1.0, .sl = 0.1, .sh = 0.3, .seed = 4});
  EXPECT_EQ(re.order, 100);
  Tensor x = cast<TensorImage>(full({4, 3, 20, 20}, 7.0));
  Tensor y = re(Item(x), 0).tensor();
  ASSERT_EQ(re.current().size(), 4u);
  for (const auto& a : re.current()) {
    Tensor changed = y[a.n] != 7.0;
    // Exactly the drawn rectangle changed (in every channel).
    const int64_t count = sum(changed.to(DType::I64)).item<int64_t>();
    EXPECT_EQ(count, 3 * (a.r1 - a.r0) * (a.c1 - a.c0)) << a.n;
    EXPECT_EQ(sum(changed.narrow(1, a.r0, a.r1 - a.r0).narrow(2, a.c0, a.c1 - a.c0).to(DType::I64)).item<int64_t>(),
              count);
    const double area = static_cast<double>((a.r1 - a.r0) * (a.c1 - a.c0));
    EXPECT_LE(area, 0.3 * 400 * 1.5 + 40);
  }
  // The input is not modified; p 0 and the validation split change nothing.
  EXPECT_EQ(max(x).item(), 7.0);
  RandomErasing none({.p = 0.0});
  EXPECT_TRUE(none(Item(x), 0).tensor().is_same(x));
  EXPECT_TRUE(re(Item(x), 1).tensor().is_same(x));
  EXPECT_STRATA_ERROR(RandomErasing({.sl = 0.5, .sh = 0.2}), ValueError, {"RandomErasing", "sl"});
  // One-channel images are erased too; masks are not.
  Tensor bw = cast(full({2, 1, 8, 8}, 3.0), TensorImageBW::type());
  Tensor m = cast(ones({2, 8, 8}, {.dtype = DType::I64}), TensorMask::type());
  Item out = re(Item::tuple({bw, m}), 0);
  EXPECT_GT(sum((out[0].tensor() != 3.0).to(DType::I64)).item<int64_t>(), 0);
  EXPECT_TRUE(out[1].tensor().is_same(m));
}

TEST(AugmentNormalize, EncodeDecodeAndStats) {
  auto nrm = Normalize::from_stats(imagenet_stats.mean, imagenet_stats.std);
  EXPECT_EQ(nrm->order, 99);
  TensorImage x = random_images({2, 3, 4, 4});
  Tensor y = (*nrm)(Item(x)).tensor();
  EXPECT_TRUE(is_a<TensorImage>(y));
  EXPECT_NEAR(y[1][2][3][0].item(), (x[1][2][3][0].item() - 0.406) / 0.225, 1e-5);
  Tensor back = nrm->decode(Item(y)).tensor();
  EXPECT_LT(max_abs_diff(back, x), 1e-6);
  EXPECT_TRUE(is_a<TensorImage>(back));
  // Masks and labels pass.
  Tensor m = cast(ones({2, 4, 4}, {.dtype = DType::I64}), TensorMask::type());
  EXPECT_TRUE((*nrm)(Item(m)).tensor().is_same(m));
  // A BW batch with one-channel stats.
  auto bw = Normalize::from_stats({0.5}, {0.25});
  Tensor g = cast(full({2, 1, 3, 3}, 1.0), TensorImageBW::type());
  EXPECT_NEAR(max((*bw)(Item(g)).tensor()).item(), 2.0, 1e-6);
  EXPECT_NEAR(min((*bw)(Item(x)).tensor()).item(), (min(x).item() - 0.5) / 0.25, 1e-5);  // one stat broadcasts
  auto two = Normalize::from_stats({0.5, 0.5}, {1.0, 1.0});
  EXPECT_STRATA_ERROR((*two)(Item(x)), ShapeError, {"Normalize", "2 stats for 3 channels"});
  EXPECT_STRATA_ERROR(Normalize::from_stats({0.5, 0.5}, {1.0}), ValueError, {"Normalize.from_stats"});
  Normalize empty_stats;
  EXPECT_STRATA_ERROR(empty_stats(Item(x)), ValueError, {"Normalize", "no stats"});
}

TEST(AugmentNormalize, LearnsStatsFromOneBatchAtSetup) {
  Generator g(3);
  Tensor x = rand({16, 3, 8, 8}, {}, &g) * tensor(std::vector<float>{1.f, 2.f, 4.f}, {1, 3, 1, 1}) + 1.0;
  TensorImage batch = cast<TensorImage>(x);
  auto nrm = std::make_shared<Normalize>();
  Pipeline p({nrm});
  VectorSource src({Item::tuple({batch, cast(zeros({16}, {.dtype = DType::I64}), TensorCategory::type())})});
  p.setup(&src);
  ASSERT_EQ(nrm->mean.size(), 3u);
  for (int64_t c = 0; c < 3; ++c) {
    EXPECT_NEAR(nrm->mean[static_cast<size_t>(c)], mean(x.select(1, c)).item(), 1e-5);
    EXPECT_NEAR(nrm->std[static_cast<size_t>(c)], strata::std(x.select(1, c)).item() + 1e-7, 1e-5);
  }
  Tensor y = p(Item(batch)).tensor();
  for (int64_t c = 0; c < 3; ++c) {
    EXPECT_NEAR(mean(y.select(1, c)).item(), 0.0, 1e-5);
    EXPECT_NEAR(strata::std(y.select(1, c)).item(), 1.0, 1e-4);
  }
  EXPECT_LT(max_abs_diff(p.decode(Item(y)).tensor(), x), 1e-5);
}

TEST(AugmentList, AugTransformsLikeFastai) {
  auto t = aug_transforms();
  ASSERT_EQ(t.size(), 2u);
  auto* aff = dynamic_cast<AffineCoordTfm*>(t[0].get());
  auto* lig = dynamic_cast<LightingTfm*>(t[1].get());
  ASSERT_TRUE(aff && lig);
  EXPECT_EQ(aff->aff_fs.size(), 3u);  // Flip, Rotate, Zoom
  EXPECT_EQ(aff->coord_fs.size(), 1u);
  EXPECT_DOUBLE_EQ(aff->coord_fs[0].magnitude, 0.2);
  EXPECT_DOUBLE_EQ(aff->coord_fs[0].p, 0.75);
  EXPECT_EQ(aff->opts.pad_mode, PaddingMode::Reflection);
  EXPECT_TRUE(aff->opts.align_corners);
  ASSERT_EQ(lig->parts.size(), 2u);
  EXPECT_EQ(lig->parts[0].kind, LightingPart::Kind::Brightness);
  EXPECT_EQ(lig->parts[1].kind, LightingPart::Kind::Contrast);
  EXPECT_DOUBLE_EQ(lig->parts[0].p, 0.75);
  // mult scales rotation, lighting and warp; zero turns them off.
  auto none = aug_transforms({.do_flip = false, .max_rotate = 0, .max_zoom = 1.0, .max_lighting = 0, .max_warp = 0});
  EXPECT_TRUE(none.empty());
  auto doubled = aug_transforms({.mult = 2.0});
  EXPECT_DOUBLE_EQ(dynamic_cast<LightingTfm&>(*doubled[1]).parts[0].max_lighting, 0.4);
  EXPECT_DOUBLE_EQ(dynamic_cast<AffineCoordTfm&>(*doubled[0]).coord_fs[0].magnitude, 0.4);
  // flip_vert: Dihedral instead of Flip (8 orientations appear).
  auto dih = aug_transforms({.flip_vert = true, .max_rotate = 0, .max_zoom = 1.0, .max_lighting = 0, .max_warp = 0});
  ASSERT_EQ(dih.size(), 1u);
  EXPECT_EQ(dih[0]->name, "Dihedral");
  // xtra_tfms come last.
  auto xtra = aug_transforms({.xtra_tfms = {std::make_shared<RandomErasing>()}});
  ASSERT_EQ(xtra.size(), 3u);
  EXPECT_EQ(xtra[2]->name, "RandomErasing");
}
