// Image geometry: resampling values against hand computations and an independent double-precision
// reference of PIL's bilinear filter, padding modes, fastai's Resize / RandomCrop /
// RandomResizedCrop boxes (train and validation), reproducibility per seed.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "data/image_ops.h"
#include "support/expect_error.h"

using namespace strata;
using namespace strata::data;

namespace {

Image row_image(std::vector<uint8_t> v) {
  Image img(1, int(v.size()), 1);
  img.data = std::move(v);
  return img;
}

Image noise(int h, int w, int c, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Image img(h, w, c);
  for (auto& b : img.data) b = uint8_t(rng() & 255);
  return img;
}

// PIL's bilinear in doubles along one axis (the reference for the fixed-point implementation).
std::vector<double> ref_resample(const std::vector<double>& v, int out) {
  const int in = int(v.size());
  const double scale = double(in) / out, fs = std::max(scale, 1.0);
  std::vector<double> r(static_cast<size_t>(out));
  for (int o = 0; o < out; ++o) {
    const double center = (o + 0.5) * scale;
    double acc = 0, sum = 0;
    for (int i = 0; i < in; ++i) {
      const double wgt = std::max(0.0, 1.0 - std::abs((i + 0.5 - center) / fs));
      acc += wgt * v[size_t(i)];
      sum += wgt;
    }
    r[size_t(o)] = acc / sum;
  }
  return r;
}

}  // namespace

TEST(ImageOps, BilinearUpscaleByHand) {
  const Image up = resize(row_image({0, 255}), {1, 4});
  EXPECT_EQ(up.data, (std::vector<uint8_t>{0, 64, 191, 255}));
}

TEST(ImageOps, BilinearDownscaleAveragesLikePil) {
  // 0/255 stripes halved: interior outputs weigh (1/4, 3/4, 3/4, 1/4) / 2 -> 127.5 -> 128.
  std::vector<uint8_t> v;
  for (int i = 0; i < 16; ++i) v.push_back(i % 2 ? 255 : 0);
  const Image d = resize(row_image(v), {1, 8});
  for (int o = 1; o < 7; ++o) EXPECT_EQ(d.data[size_t(o)], 128) << o;
  // Edge: taps 0..2 with weights .75, .75, .25 on 0, 255, 0 -> 109.3.
  EXPECT_EQ(d.data[0], 109);
}

TEST(ImageOps, BilinearMatchesReferenceIn2D) {
  for (auto [h, w, oh, ow] : {std::array{13, 17, 5, 7}, std::array{8, 9, 20, 3}, std::array{30, 31, 30, 11}}) {
    const Image img = noise(h, w, 3, 7);
    const Image got = resize(img, {oh, ow});
    ASSERT_EQ(got.h, oh);
    ASSERT_EQ(got.w, ow);
    for (int ch = 0; ch < 3; ++ch) {
      // Reference: rows then columns in doubles (no intermediate rounding), so allow 1 step.
      std::vector<std::vector<double>> rows(static_cast<size_t>(h));
      for (int y = 0; y < h; ++y) {
        std::vector<double> r(static_cast<size_t>(w));
        for (int x = 0; x < w; ++x) r[size_t(x)] = img.at(y, x, ch);
        rows[size_t(y)] = ref_resample(r, ow);
      }
      for (int x = 0; x < ow; ++x) {
        std::vector<double> col(static_cast<size_t>(h));
        for (int y = 0; y < h; ++y) col[size_t(y)] = rows[size_t(y)][size_t(x)];
        const std::vector<double> ref = ref_resample(col, oh);
        for (int y = 0; y < oh; ++y)
          ASSERT_LE(std::abs(got.at(y, x, ch) - ref[size_t(y)]), 1.0) << h << "x" << w << " -> " << y << "," << x;
      }
    }
  }
  // A flat image stays exactly flat whatever the scale.
  const Image flat(9, 7, 3, 200);
  EXPECT_EQ(resize(flat, {4, 13}), Image(4, 13, 3, 200));
}

TEST(ImageOps, BilinearUnrolledTapsMatchTheReference) {
  // The horizontal pass unrolls 3-tap (upsampling) and 5-tap (shrinking up to 2x) windows; every
  // channel count, with windows shifted at both image edges.
  for (int c : {1, 3, 4})
    for (auto [h, w, oh, ow] : {std::array{24, 32, 17, 19}, std::array{7, 6, 12, 13}, std::array{10, 240, 10, 224},
                                std::array{5, 5, 5, 3}}) {
      const Image img = noise(h, w, c, uint64_t(11 + c));
      const Image got = resize(img, {oh, ow});
      for (int ch = 0; ch < c; ++ch) {
        std::vector<std::vector<double>> rows(static_cast<size_t>(h));
        for (int y = 0; y < h; ++y) {
          std::vector<double> r(static_cast<size_t>(w));
          for (int x = 0; x < w; ++x) r[size_t(x)] = img.at(y, x, ch);
          rows[size_t(y)] = ref_resample(r, ow);
        }
        for (int x = 0; x < ow; ++x) {
          std::vector<double> col(static_cast<size_t>(h));
          for (int y = 0; y < h; ++y) col[size_t(y)] = rows[size_t(y)][size_t(x)];
          const std::vector<double> ref = ref_resample(col, oh);
          for (int y = 0; y < oh; ++y)
            ASSERT_LE(std::abs(got.at(y, x, ch) - ref[size_t(y)]), 1.0) << c << ": " << h << "x" << w << " -> " << y
                                                                        << "," << x;
        }
      }
    }
}

TEST(ImageOps, NearestKeepsCodes) {
  Image m(2, 2, 1);
  m.data = {1, 2, 3, 4};
  const Image up = resize(m, {4, 4}, Interp::Nearest);
  EXPECT_EQ(up.data, (std::vector<uint8_t>{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}));
  const Image big = noise(31, 29, 1, 3);
  std::set<uint8_t> before(big.data.begin(), big.data.end());
  const Image small = resize(big, {10, 12}, Interp::Nearest);
  for (uint8_t v : small.data) EXPECT_TRUE(before.count(v));
  // Downscale by 2 picks the centre-ward pixel: floor((o + 0.5) * 2) = 2 o + 1.
  const Image d = resize(row_image({10, 11, 12, 13}), {1, 2}, Interp::Nearest);
  EXPECT_EQ(d.data, (std::vector<uint8_t>{11, 13}));
}

TEST(ImageOps, PadModes) {
  const Image r = row_image({1, 2, 3, 4});
  const CropBox box{0, -2, 1, 8};
  EXPECT_EQ(crop_pad(r, box, PadMode::Zeros).data, (std::vector<uint8_t>{0, 0, 1, 2, 3, 4, 0, 0}));
  EXPECT_EQ(crop_pad(r, box, PadMode::Border).data, (std::vector<uint8_t>{1, 1, 1, 2, 3, 4, 4, 4}));
  EXPECT_EQ(crop_pad(r, box, PadMode::Reflection).data, (std::vector<uint8_t>{3, 2, 1, 2, 3, 4, 3, 2}));
  // Far past the edge reflection keeps mirroring (period 2 (n - 1) = 6).
  EXPECT_EQ(crop_pad(r, {0, 4, 1, 6}, PadMode::Reflection).data, (std::vector<uint8_t>{3, 2, 1, 2, 3, 4}));
  // Rows too: a 2x1 column padded above and below.
  Image col(2, 1, 1);
  col.data = {5, 6};
  EXPECT_EQ(pad(col, 1, 2, 0, 0, PadMode::Reflection).data, (std::vector<uint8_t>{6, 5, 6, 5, 6}));
  EXPECT_EQ(pad(col, 1, 0, 1, 0, PadMode::Zeros).data, (std::vector<uint8_t>{0, 0, 0, 5, 0, 6}));
  // Multi-channel pixels move together.
  Image rgb(1, 2, 3);
  rgb.data = {1, 2, 3, 4, 5, 6};
  EXPECT_EQ(pad(rgb, 0, 0, 1, 0, PadMode::Border).data, (std::vector<uint8_t>{1, 2, 3, 1, 2, 3, 4, 5, 6}));
  EXPECT_STRATA_ERROR(pad(rgb, -1, 0, 0, 0), ValueError, {"pad", "top -1"});
}

TEST(ImageOps, CropAndCenterCropPad) {
  Image img(5, 5, 1);
  for (int i = 0; i < 25; ++i) img.data[size_t(i)] = uint8_t(i);
  EXPECT_EQ(crop(img, {1, 2, 2, 3}).data, (std::vector<uint8_t>{7, 8, 9, 12, 13, 14}));
  EXPECT_STRATA_ERROR(crop(img, {4, 0, 2, 2}), IndexError, {"crop", "5x5"});
  const Image c = center_crop_pad(img, {3, 3});
  EXPECT_EQ(c.data, (std::vector<uint8_t>{6, 7, 8, 11, 12, 13, 16, 17, 18}));
  // 5 -> 8: top-left floor(-3 / 2) = -2, so 2 zero rows above and 1 below (fastai's split).
  const Image p = center_crop_pad(img, {8, 8});
  EXPECT_EQ(p.at(0, 4, 0), 0);
  EXPECT_EQ(p.at(1, 4, 0), 0);
  EXPECT_EQ(p.at(2, 2, 0), 0);
  EXPECT_EQ(p.at(2, 3, 0), 1);
  EXPECT_EQ(p.at(6, 6, 0), 24);
  EXPECT_EQ(p.at(7, 6, 0), 0);
  EXPECT_STRATA_ERROR(resize(img, {0, 3}), ValueError, {"resize", "0x3"});
  EXPECT_STRATA_ERROR(resize(Image(), {2, 3}), ValueError, {"resize", "empty"});
}

TEST(ImageOps, ResizeBoxesFollowFastai) {
  const HW orig{100, 200};
  EXPECT_EQ(resize_box(orig, {50, 50}, ResizeMethod::Crop, {}), (CropBox{0, 50, 100, 100}));
  EXPECT_EQ(resize_box(orig, {50, 50}, ResizeMethod::Pad, {}), (CropBox{-50, 0, 200, 200}));
  EXPECT_EQ(resize_box(orig, {50, 50}, ResizeMethod::Squish, {}), (CropBox{0, 0, 100, 200}));
  EXPECT_EQ(resize_box(orig, {50, 50}, ResizeMethod::Crop, {0.0, 0.0}), (CropBox{0, 0, 100, 100}));
  EXPECT_EQ(resize_box(orig, {50, 50}, ResizeMethod::Crop, {0.999, 0.3}), (CropBox{0, 99, 100, 100}));
  // Non-square target: 100x200 to 30x40 -> ratios 3.33 (h), 5 (w); crop uses 3.33: 100x133.
  EXPECT_EQ(resize_box(orig, {30, 40}, ResizeMethod::Crop, {}), (CropBox{0, 33, 100, 133}));

  std::mt19937_64 a(5), b(5);
  const ResizeDraw da = draw_resize(ResizeMethod::Crop, true, a), db = draw_resize(ResizeMethod::Crop, true, b);
  EXPECT_EQ(da.pct_x, db.pct_x);
  EXPECT_EQ(da.pct_y, db.pct_y);
  EXPECT_NE(da.pct_x, 0.5);
  EXPECT_EQ(draw_resize(ResizeMethod::Crop, false, a).pct_x, 0.5);
  const ResizeDraw sq = draw_resize(ResizeMethod::Squish, true, a);
  EXPECT_EQ(sq.pct_y, 0.5);

  // Image and mask resized with one draw stay aligned; the output has the target size.
  Image img(100, 200, 3), mask(100, 200, 1);
  for (int y = 0; y < 100; ++y)
    for (int x = 0; x < 200; ++x) {
      const uint8_t v = x < 120 ? 0 : 255;
      img.at(y, x, 0) = img.at(y, x, 1) = img.at(y, x, 2) = v;
      mask.at(y, x, 0) = x < 120 ? 1 : 2;
    }
  const Image ri = apply_resize(img, {50, 50}, ResizeMethod::Crop, da);
  const Image rm = apply_resize(mask, {50, 50}, ResizeMethod::Crop, da, PadMode::Reflection, Interp::Nearest);
  ASSERT_EQ(ri.h, 50);
  ASSERT_EQ(rm.w, 50);
  for (int x = 0; x < 50; ++x) {
    if (rm.at(25, x, 0) == 1) EXPECT_LT(ri.at(25, x, 0), 200) << x;
    else EXPECT_GT(ri.at(25, x, 0), 55) << x;
  }
  std::mt19937_64 r(1);
  const Image padded = resize_method(img, {64, 64}, ResizeMethod::Pad, PadMode::Zeros, false, r);
  EXPECT_EQ(padded.h, 64);
  EXPECT_EQ(padded.at(0, 10, 0), 0);  // zero band above the image
}

TEST(ImageOps, RandomCrop) {
  std::mt19937_64 rng(9);
  std::set<int> lefts;
  for (int i = 0; i < 200; ++i) {
    const CropBox b = draw_random_crop({10, 20}, {4, 5}, true, rng);
    ASSERT_GE(b.top, 0);
    ASSERT_LE(b.top, 6);
    ASSERT_GE(b.left, 0);
    ASSERT_LE(b.left, 15);
    lefts.insert(b.left);
  }
  EXPECT_EQ(lefts.size(), 16u);  // every position reachable
  EXPECT_EQ(draw_random_crop({10, 20}, {4, 5}, false, rng), (CropBox{3, 7, 4, 5}));
  EXPECT_EQ(draw_random_crop({3, 3}, {5, 5}, true, rng), (CropBox{-1, -1, 5, 5}));
}

TEST(ImageOps, RandomResizedCropTrain) {
  std::mt19937_64 rng(123);
  const HW orig{300, 400};
  for (int i = 0; i < 300; ++i) {
    const RandomResizedCropDraw d = draw_random_resized_crop(orig, {64, 64}, true, rng);
    EXPECT_EQ(d.resize_to, (HW{64, 64}));
    EXPECT_FALSE(d.final_center_crop);
    ASSERT_GE(d.box.top, 0);
    ASSERT_GE(d.box.left, 0);
    ASSERT_LE(d.box.top + d.box.h, orig.h);
    ASSERT_LE(d.box.left + d.box.w, orig.w);
    const double frac = double(d.box.h) * d.box.w / (300.0 * 400.0);
    EXPECT_GT(frac, 0.075);
    EXPECT_LE(frac, 1.0);
    const double ratio = double(d.box.w) / d.box.h;
    EXPECT_GT(ratio, 0.74);
    EXPECT_LT(ratio, 1.35);
  }
  // Same seed, same draws.
  std::mt19937_64 a(77), b(77);
  EXPECT_EQ(draw_random_resized_crop(orig, {64, 64}, true, a).box, draw_random_resized_crop(orig, {64, 64}, true, b).box);
  // A 10x1000 strip never fits a 3/4..4/3 crop of >= 8% area in 10 tries: fallback, centred,
  // w = int(10 * 4/3) = 13.
  std::mt19937_64 c(1);
  const RandomResizedCropDraw f = draw_random_resized_crop({10, 1000}, {32, 32}, true, c);
  EXPECT_EQ(f.box, (CropBox{0, 493, 10, 13}));
  const RandomResizedCropDraw g = draw_random_resized_crop({1000, 10}, {32, 32}, true, c);
  EXPECT_EQ(g.box, (CropBox{493, 0, 13, 10}));  // int(10 / 0.75) = 13
}

TEST(ImageOps, RandomResizedCropValidation) {
  std::mt19937_64 rng(1);
  const RandomResizedCropDraw d = draw_random_resized_crop({300, 400}, {224, 224}, false, rng);
  // xtra = ceil(224 * 0.14 / 8) * 8 = 32: the whole image squished to 256x256, then centre 224.
  EXPECT_EQ(d.box, (CropBox{0, 0, 300, 400}));
  EXPECT_EQ(d.resize_to, (HW{256, 256}));
  EXPECT_TRUE(d.final_center_crop);
  Image img(300, 400, 3);
  for (int y = 0; y < 300; ++y)
    for (int x = 0; x < 400; ++x) img.at(y, x, 0) = uint8_t(x * 255 / 399);
  const Image out = apply_random_resized_crop(img, {224, 224}, d);
  EXPECT_EQ(out.h, 224);
  EXPECT_EQ(out.w, 224);
  // Column 0 of the output is column 16 of the 256-wide squish: about 16.5 / 256 of the way.
  EXPECT_NEAR(out.at(100, 0, 0), 255.0 * 16.5 / 256, 2.0);
  // Validation draws consume no randomness.
  std::mt19937_64 fresh(1);
  EXPECT_EQ(rng(), fresh());
}
