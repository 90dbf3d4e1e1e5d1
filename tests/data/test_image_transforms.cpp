// The vision item transforms as Transforms: train vs validation behaviour, one draw per item shared
// by an (image, mask, points) tuple, masks resampled nearest (and kept masks), points moved with the
// crop, reproducibility per Rng seed; then through block_vision.h's ToTensor / IntToFloatTensor.
#include <gtest/gtest.h>

#include <set>

#include "data/block_vision.h"
#include "data/rng.h"
#include "data/vision_transforms.h"
#include "support/expect_error.h"

using namespace strata;
using namespace strata::data;

namespace {

// 100 x 200 (h x w): left part (x < 120) dark, right part bright; its mask codes 1 / 2.
ImagePtr halves(bool mask) {
  Image img(100, 200, mask ? 1 : 3);
  img.kind = mask ? ImageKind::Mask : ImageKind::Image;
  for (int y = 0; y < 100; ++y)
    for (int x = 0; x < 200; ++x)
      for (int k = 0; k < img.c; ++k) img.at(y, x, k) = mask ? (x < 120 ? 1 : 2) : (x < 120 ? 20 : 230);
  return std::make_shared<const Image>(std::move(img));
}

// x-gradient image: pixel value = x (mod 256) so crops reveal their left edge.
ImagePtr gradient(int h, int w) {
  Image img(h, w, 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) img.at(y, x, 0) = img.at(y, x, 1) = img.at(y, x, 2) = uint8_t(x);
  return std::make_shared<const Image>(std::move(img));
}

TensorPoint points(std::vector<float> xy, HW size) {
  return with_meta(TensorPoint(tensor(xy, {int64_t(xy.size() / 2), 2})), PointMeta(ImageSize{size.h, size.w}));
}

float at(const Tensor& t, int64_t i) { return t.contiguous().to(DType::F32).data<float>()[i]; }

}  // namespace

TEST(VisionTransforms, ResizeValidationIsCentred) {
  Resize r(HW{50, 50});
  EXPECT_EQ(r.order, 1);
  EXPECT_FALSE(r.split_idx.has_value());
  const Item out = r(Item(gradient(100, 200)), 1);
  ASSERT_TRUE(out.is_image());
  const Image& img = *out.image();
  EXPECT_EQ(img.h, 50);
  EXPECT_EQ(img.w, 50);
  // Centre crop of 100x100 from x = 50, halved: output x 0 averages source ~50..52.
  EXPECT_NEAR(img.at(25, 0, 0), 51, 1.5);
  EXPECT_NEAR(img.at(25, 49, 0), 148, 1.5);
}

TEST(VisionTransforms, ResizeTrainIsRandomAndReproducible) {
  Resize r(HW{50, 50});
  auto left_edge = [&](uint64_t seed) {
    RngScope scope{Rng(seed)};
    return int(r(Item(gradient(100, 200)), 0).image()->at(0, 0, 0));
  };
  EXPECT_EQ(left_edge(1), left_edge(1));
  std::set<int> seen;
  for (uint64_t s = 0; s < 20; ++s) seen.insert(left_edge(s));
  EXPECT_GT(seen.size(), 5u);
  for (int v : seen) EXPECT_LE(v, 101);  // window within the 100 px of slack
}

TEST(VisionTransforms, TupleSharesOneDrawMasksNearest) {
  Resize r(HW{40, 40});
  for (uint64_t seed = 0; seed < 10; ++seed) {
    RngScope scope{Rng(seed)};
    const Item out = r(Item::tuple({Item(halves(false)), Item(halves(true))}), 0);
    const Image& img = *out[0].image();
    const Image& m = *out[1].image();
    EXPECT_EQ(m.kind, ImageKind::Mask);
    EXPECT_FALSE(out[1].is_mask());  // a plain image item stays one
    for (int x = 0; x < 40; ++x) {
      const int code = m.at(20, x, 0);
      ASSERT_TRUE(code == 1 || code == 2) << code;  // nearest: no blended codes
      if (code == 1) EXPECT_LT(img.at(20, x, 0), 200) << seed << " " << x;
      else EXPECT_GT(img.at(20, x, 0), 50) << seed << " " << x;
    }
  }
}

TEST(VisionTransforms, MaskItemsStayMasks) {
  // A mask item (Item::mask, what MaskCreate makes) from a plain Image: resampled nearest anyway.
  Image gray = *halves(false);
  const ImagePtr m = std::make_shared<const Image>(convert_channels(gray, 1));
  for (const TfmPtr& t : std::vector<TfmPtr>{std::make_shared<Resize>(HW{30, 30}), std::make_shared<RandomCrop>(HW{30, 30}),
                                            std::make_shared<RandomResizedCrop>(HW{30, 30}),
                                            std::make_shared<CropPad>(HW{30, 30})}) {
    RngScope scope{Rng(5)};
    const Item out = (*t)(Item::tuple({Item(halves(false)), Item::mask(m)}), 0);
    ASSERT_TRUE(out[1].is_mask()) << t->name;
    EXPECT_EQ(out[1].image()->kind, ImageKind::Mask);
    EXPECT_EQ(out[1].image()->h, 30);
    for (uint8_t v : out[1].image()->data) ASSERT_TRUE(v == 20 || v == 230) << t->name << " " << int(v);
    const Item tens = ToTensor()(out);
    EXPECT_TRUE(is_a<TensorMask>(tens[1].tensor())) << t->name;
    EXPECT_TRUE(is_a<TensorImage>(tens[0].tensor()));
  }
}

TEST(VisionTransforms, PointsMoveWithTheCrop) {
  // Pixel x = 100 (normalized 0) and x = 150 (0.5), y = 50 (0), in a 100x200 image. Centre crop
  // keeps x 50..150: they map to 0 and 1.
  Resize r(HW{50, 50});
  const Item out = r(Item::tuple({Item(gradient(100, 200)), Item(points({0.f, 0.f, 0.5f, 0.f}, {100, 200}))}), 1);
  const Tensor p = out[1].tensor();
  EXPECT_TRUE(is_a<TensorPoint>(p));
  EXPECT_NEAR(at(p, 0), 0.0, 1e-6);
  EXPECT_NEAR(at(p, 2), 1.0, 1e-6);
  EXPECT_NEAR(at(p, 1), 0.0, 1e-6);
  ASSERT_NE(meta_as<PointMeta>(p), nullptr);
  EXPECT_EQ(meta_as<PointMeta>(p)->img_size, (ImageSize{50, 50}));

  // Boxes are pairs of points and keep their type and BBoxMeta.
  TensorBBox box = with_meta(TensorBBox(tensor({-1.f, -1.f, 0.f, 0.f}, {1, 4})), BBoxMeta(ImageSize{100, 200}));
  const Item ob = r(Item::tuple({Item(gradient(100, 200)), Item(box)}), 1);
  EXPECT_TRUE(is_a<TensorBBox>(ob[1].tensor()));
  EXPECT_NE(dynamic_cast<const BBoxMeta*>(ob[1].tensor().meta().get()), nullptr);
  EXPECT_NEAR(at(ob[1].tensor(), 0), -2.0, 1e-6);  // x = 0 px is 50 px left of the crop: -1 - 1
  EXPECT_NEAR(at(ob[1].tensor(), 2), 0.0, 1e-6);

  // Points alone use their PointMeta; without it they are an error naming the transform.
  CropPad cp(HW{50, 100});
  const Tensor q = cp(Item(points({0.f, 0.f}, {100, 200}))).tensor();
  EXPECT_NEAR(at(q, 0), 0.0, 1e-6);
  EXPECT_STRATA_ERROR(cp(Item(TensorPoint(tensor({0.f, 0.f}, {1, 2})))), ValueError, {"CropPad", "image size"});
}

TEST(VisionTransforms, RandomCropAndCropPad) {
  RandomCrop rc(HW{10, 10});
  {
    RngScope scope{Rng(3)};
    const ImagePtr keep = rc(Item(gradient(20, 50)), 0).image();
    const Image& a = *keep;
    EXPECT_EQ(a.w, 10);
    EXPECT_LE(a.at(0, 0, 0), 40);
  }
  EXPECT_EQ(rc(Item(gradient(20, 50)), 1).image()->at(0, 0, 0), 20);  // centred: (50 - 10) / 2
  CropPad cp(HW{4, 60});
  EXPECT_EQ(cp.order, 0);
  const ImagePtr keep = cp(Item(gradient(2, 50))).image();
  const Image& p = *keep;
  EXPECT_EQ(p.h, 4);
  EXPECT_EQ(p.w, 60);
  EXPECT_EQ(p.at(1, 5, 0), 0);  // floor(-10 / 2) = -5: five zero columns, then x = 0
  EXPECT_EQ(p.at(1, 6, 0), 1);
  EXPECT_EQ(p.at(0, 10, 0), 0);  // zero row above
}

TEST(VisionTransforms, RandomResizedCropTrainAndValid) {
  RandomResizedCrop rrc(HW{32, 32});
  const Item v = rrc(Item::tuple({Item(halves(false)), Item(halves(true))}), 1);
  EXPECT_EQ(v[0].image()->h, 32);
  EXPECT_EQ(v[0].image()->w, 32);
  EXPECT_EQ(v[1].image()->h, 32);
  EXPECT_EQ(v[1].image()->kind, ImageKind::Mask);
  // Images of different sizes in one item cannot share a crop.
  EXPECT_STRATA_ERROR(rrc(Item::tuple({Item(gradient(60, 80)), Item(halves(true))}), 1), ValueError,
                      {"RandomResizedCrop", "100x200"});
  std::set<int> seen;
  for (uint64_t s = 0; s < 10; ++s) {
    RngScope scope{Rng(s)};
    const ImagePtr keep = rrc(Item(gradient(60, 80)), 0).image();
    const Image& t = *keep;
    EXPECT_EQ(t.h, 32);
    seen.insert(t.at(0, 0, 0));
  }
  EXPECT_GT(seen.size(), 3u);
  // Validation with points: squish to 32 + xtra (8) = 40, centre crop 32: x' = x * 40 / 32.
  const Item vp = rrc(Item::tuple({Item(gradient(60, 80)), Item(points({0.5f, -0.5f}, {60, 80}))}), 1);
  EXPECT_NEAR(at(vp[1].tensor(), 0), 0.5 * 40 / 32, 1e-5);
  EXPECT_NEAR(at(vp[1].tensor(), 1), -0.5 * 40 / 32, 1e-5);
}

TEST(VisionTransforms, ThenToTensorAndIntToFloat) {
  // The rest of the item path (block_vision.h): crop, tensor, float and back.
  Resize r(HW{16, 16});
  const Item img = r(Item(gradient(20, 40)), 1);
  const Item t = ToTensor()(img);
  EXPECT_TRUE(is_a<TensorImage>(t.tensor()));
  EXPECT_EQ(t.tensor().shape(), Shape({3, 16, 16}));
  IntToFloatTensor itf;
  const Item f = itf(t);
  EXPECT_EQ(f.tensor().dtype(), DType::F32);
  EXPECT_TRUE(itf.decode(f) == t);
  EXPECT_EQ(tensor_to_image(t.tensor()).data, img.image()->data);
}
