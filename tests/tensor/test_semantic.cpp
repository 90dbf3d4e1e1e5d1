// Semantic tensor types: the hierarchy, the C++ wrappers, cast without copy, metadata, and
// propagation of type + metadata through ops and views (fastai's "first semantic input wins").
#include <gtest/gtest.h>

#include <string>
#include <type_traits>

#include "strata.h"

// A user-defined semantic type (and a child of it), declared as a user would, at namespace scope.
STRATA_SEMANTIC_TYPE(TensorKeypoint, strata::TensorPoint);
STRATA_SEMANTIC_TYPE(TensorFaceKeypoint, TensorKeypoint);

namespace strata {
namespace {

template <class E, class F>
void expect_error(F&& f, const std::string& substr) {
  try {
    f();
    ADD_FAILURE() << "expected an exception containing '" << substr << "'";
  } catch (const E& e) {
    EXPECT_NE(std::string(e.what()).find(substr), std::string::npos) << "message: " << e.what();
  }
}

Tensor range_tensor(const Shape& shape) {
  return arange(0.0, static_cast<double>(shape.numel()), 1.0, {.dtype = DType::F32}).reshape(shape);
}

// ---- hierarchy ----
TEST(SemanticHierarchy, ParentsFollowFastai) {
  EXPECT_EQ(TensorBase::type()->parent, nullptr);
  EXPECT_EQ(TensorImageBase::type()->parent, TensorBase::type());
  EXPECT_EQ(TensorImage::type()->parent, TensorImageBase::type());
  EXPECT_EQ(TensorImageBW::type()->parent, TensorImageBase::type());
  EXPECT_EQ(TensorMask::type()->parent, TensorImageBase::type());
  EXPECT_EQ(TensorPoint::type()->parent, TensorBase::type());
  EXPECT_EQ(TensorBBox::type()->parent, TensorPoint::type());  // fastai: class TensorBBox(TensorPoint)
  EXPECT_EQ(TensorCategory::type()->parent, TensorBase::type());
  EXPECT_EQ(TensorMultiCategory::type()->parent, TensorBase::type());
  EXPECT_EQ(TensorText::type()->parent, TensorBase::type());
  EXPECT_EQ(LMTensorText::type()->parent, TensorText::type());
  EXPECT_STREQ(TensorMultiCategory::type()->name, "TensorMultiCategory");
  EXPECT_EQ(TensorImage::type(), &semantic_types::TensorImage);
}

TEST(SemanticHierarchy, IsAWalksTheParentChainOnly) {
  EXPECT_TRUE(TensorMask::type()->is_a(TensorMask::type()));
  EXPECT_TRUE(TensorMask::type()->is_a(TensorImageBase::type()));
  EXPECT_TRUE(TensorMask::type()->is_a(TensorBase::type()));
  EXPECT_FALSE(TensorMask::type()->is_a(TensorImage::type()));  // siblings
  EXPECT_FALSE(TensorImageBase::type()->is_a(TensorImage::type()));  // a parent is not its child
  EXPECT_TRUE(TensorBBox::type()->is_a(TensorPoint::type()));
  EXPECT_FALSE(TensorPoint::type()->is_a(TensorBBox::type()));
  EXPECT_TRUE(LMTensorText::type()->is_a(TensorText::type()));
  EXPECT_FALSE(TensorCategory::type()->is_a(TensorMultiCategory::type()));
}

TEST(SemanticHierarchy, DepthCountsStepsToTensorBase) {
  EXPECT_EQ(TensorBase::type()->depth(), 0);
  EXPECT_EQ(TensorImageBase::type()->depth(), 1);
  EXPECT_EQ(TensorImage::type()->depth(), 2);
  EXPECT_EQ(TensorMask::type()->depth(), 2);
  EXPECT_EQ(TensorBBox::type()->depth(), 2);
  EXPECT_EQ(TensorCategory::type()->depth(), 1);
  EXPECT_EQ(LMTensorText::type()->depth(), 2);
}

TEST(SemanticHierarchy, WrapperClassesMirrorTheRuntimeChain) {
  static_assert(std::is_base_of_v<Tensor, TensorBase>);
  static_assert(std::is_base_of_v<TensorImageBase, TensorMask>);
  static_assert(std::is_base_of_v<TensorPoint, TensorBBox>);
  static_assert(std::is_base_of_v<TensorText, LMTensorText>);
  static_assert(!std::is_base_of_v<TensorImage, TensorMask>);
  static_assert(!std::is_convertible_v<Tensor, TensorImage>);  // tagging is explicit
  auto takes_image_base = [](const TensorImageBase& x) { return semantic_name(x); };
  TensorMask m = cast<TensorMask>(zeros({2, 2}));
  EXPECT_EQ(takes_image_base(m), "TensorMask");  // upcast keeps the runtime type
}

// ---- user-defined types ----
TEST(SemanticUserType, DeclaredWithTheMacroJoinsTheHierarchy) {
  EXPECT_STREQ(TensorKeypoint::type()->name, "TensorKeypoint");
  EXPECT_EQ(TensorKeypoint::type()->parent, TensorPoint::type());
  EXPECT_EQ(TensorFaceKeypoint::type()->parent, TensorKeypoint::type());
  EXPECT_EQ(TensorFaceKeypoint::type()->depth(), 3);
  EXPECT_EQ(TensorKeypoint::type(), TensorKeypoint::type());  // one object
  static_assert(std::is_base_of_v<TensorPoint, TensorKeypoint>);

  TensorFaceKeypoint k = cast<TensorFaceKeypoint>(zeros({5, 2}));
  EXPECT_EQ(semantic_name(k), "TensorFaceKeypoint");
  EXPECT_TRUE(is_a<TensorKeypoint>(k));
  EXPECT_TRUE(is_a<TensorPoint>(k));
  EXPECT_FALSE(is_a<TensorBBox>(k));
  EXPECT_EQ(semantic_name(k * 2.0), "TensorFaceKeypoint");  // propagates like a built-in
  TensorKeypoint up(k);                                      // upcast wrapper keeps the type
  EXPECT_EQ(semantic_name(up), "TensorFaceKeypoint");
}

// ---- wrappers, cast, is_a, semantic_name ----
TEST(SemanticCast, RetagsWithoutCopyingAndLeavesTheOriginalAlone) {
  Tensor x = range_tensor({2, 3});
  TensorMask m = cast<TensorMask>(x);
  EXPECT_FALSE(m.is_same(x));
  EXPECT_TRUE(m.shares_storage(x));
  EXPECT_EQ(m.raw_data(), x.raw_data());
  EXPECT_EQ(m.shape(), x.shape());
  EXPECT_EQ(m.semantic_type(), TensorMask::type());
  EXPECT_EQ(x.semantic_type(), nullptr);  // the original keeps its (absent) type
  EXPECT_EQ(semantic_name(x), "Tensor");

  TensorImage img = cast<TensorImage>(m);  // sibling re-tag
  EXPECT_EQ(img.raw_data(), x.raw_data());
  EXPECT_EQ(semantic_name(img), "TensorImage");
  EXPECT_EQ(semantic_name(m), "TensorMask");

  x.data<float>()[4] = 42.0f;  // one buffer: writes show through every alias
  EXPECT_EQ(img.to_vector<float>()[4], 42.0f);
}

TEST(SemanticCast, OfANonContiguousViewKeepsItsLayout) {
  Tensor x = range_tensor({3, 4}).t();
  TensorImage img = cast<TensorImage>(x);
  EXPECT_EQ(img.strides(), x.strides());
  EXPECT_EQ(img.offset(), x.offset());
  EXPECT_EQ(img.to_vector<float>(), x.to_vector<float>());
}

TEST(SemanticCast, KeepsMetadataAndCastToTensorGivesAPlainTensor) {
  TensorImage img = with_meta(cast<TensorImage>(zeros({1, 4, 6})), ImageMeta{{.h = 4, .w = 6}});
  TensorMask m = cast<TensorMask>(img);
  ASSERT_NE(meta_as<ImageMeta>(m), nullptr);
  EXPECT_EQ(meta_as<ImageMeta>(m)->img_size, (ImageSize{4, 6}));
  Tensor plain = cast<Tensor>(img);
  EXPECT_EQ(plain.semantic_type(), nullptr);
  EXPECT_EQ(plain.meta(), nullptr);
  EXPECT_EQ(plain.raw_data(), img.raw_data());
  EXPECT_EQ(semantic_name(img), "TensorImage");
}

TEST(SemanticCast, SharesTheAutogradGraphPosition) {
  Tensor x = tensor({1.0f, 2.0f, 3.0f}).requires_grad_();
  TensorImage img = cast<TensorImage>(x);
  EXPECT_TRUE(img.requires_grad());
  Tensor y = img * img;
  EXPECT_EQ(semantic_name(y), "TensorImage");
  y.backward(ones({3}));
  ASSERT_TRUE(x.grad().defined());
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{2.0f, 4.0f, 6.0f}));
}

TEST(SemanticCast, UndefinedTensorIsAnError) {
  expect_error<ValueError>([] { cast<TensorImage>(Tensor()); }, "cast: tensor is undefined");
  expect_error<ValueError>([] { with_meta(Tensor(), ImageMeta{}); }, "with_meta");
}

TEST(SemanticWrapper, ConstructorTagsAnAliasUnlessAlreadyOfTheType) {
  Tensor x = zeros({2, 2});
  TensorImage img(x);
  EXPECT_EQ(semantic_name(img), "TensorImage");
  EXPECT_EQ(semantic_name(x), "Tensor");  // argument untouched
  EXPECT_EQ(img.raw_data(), x.raw_data());

  Tensor mask_as_tensor = cast<TensorMask>(x);
  TensorImageBase base(mask_as_tensor);  // already a TensorImageBase: same handle, type kept
  EXPECT_TRUE(base.is_same(mask_as_tensor));
  EXPECT_EQ(semantic_name(base), "TensorMask");

  TensorCategory cat(mask_as_tensor);  // unrelated: re-tagged alias
  EXPECT_EQ(semantic_name(cat), "TensorCategory");
  EXPECT_EQ(semantic_name(mask_as_tensor), "TensorMask");

  TensorImage undefined{Tensor()};
  EXPECT_FALSE(undefined.defined());
  EXPECT_FALSE(TensorImage().defined());
}

TEST(SemanticIsA, TypedAndRuntimeForms) {
  Tensor plain = zeros({2});
  Tensor bbox = cast<TensorBBox>(zeros({1, 4}));
  EXPECT_TRUE(is_a<Tensor>(plain));
  EXPECT_FALSE(is_a<TensorBase>(plain));  // a plain tensor is not a TensorBase (as in fastai)
  EXPECT_TRUE(is_a<TensorBase>(bbox));
  EXPECT_TRUE(is_a<TensorPoint>(bbox));
  EXPECT_TRUE(is_a<TensorBBox>(bbox));
  EXPECT_FALSE(is_a<TensorImageBase>(bbox));
  EXPECT_TRUE(is_a(bbox, TensorPoint::type()));
  EXPECT_FALSE(is_a(plain, TensorPoint::type()));
  EXPECT_FALSE(is_a<Tensor>(Tensor()));
  EXPECT_FALSE(is_a<TensorImage>(Tensor()));
  EXPECT_EQ(semantic_name(Tensor()), "Tensor");
  EXPECT_EQ(semantic_name(cast<LMTensorText>(zeros({3}, {.dtype = DType::I64}))), "LMTensorText");
}

// ---- metadata ----
TEST(SemanticMetadata, WithMetaAttachesToAnAliasAndMetaAsChecksTheType) {
  TensorImage img = cast<TensorImage>(zeros({3, 8, 10}));
  TensorImage sized = with_meta(img, ImageMeta{{.h = 8, .w = 10}});
  EXPECT_EQ(meta_as<ImageMeta>(img), nullptr);  // the argument is untouched
  ASSERT_NE(meta_as<ImageMeta>(sized), nullptr);
  EXPECT_EQ(meta_as<ImageMeta>(sized)->img_size.h, 8);
  EXPECT_EQ(meta_as<ImageMeta>(sized)->img_size.w, 10);
  EXPECT_EQ(meta_as<CategoryMeta>(sized), nullptr);  // different type
  EXPECT_EQ(meta_as<PointMeta>(sized), nullptr);
  EXPECT_EQ(meta_as<ImageMeta>(Tensor()), nullptr);
  EXPECT_EQ(sized.raw_data(), img.raw_data());
  EXPECT_EQ(sized.meta()->str(), "img_size=(h=8, w=10)");
}

TEST(SemanticMetadata, BBoxMetaIsAPointMeta) {
  TensorBBox b = with_meta(cast<TensorBBox>(zeros({2, 4})), BBoxMeta{{.h = 100, .w = 200}});
  ASSERT_NE(meta_as<BBoxMeta>(b), nullptr);
  ASSERT_NE(meta_as<PointMeta>(b), nullptr);
  EXPECT_EQ(meta_as<PointMeta>(b)->img_size, (ImageSize{100, 200}));
  TensorPoint p = with_meta(cast<TensorPoint>(zeros({2, 2})), PointMeta{{.h = 1, .w = 2}});
  EXPECT_EQ(meta_as<BBoxMeta>(p), nullptr);
}

TEST(SemanticMetadata, WithMetaOnAPlainTensorTagsTensorBase) {
  Tensor t = with_meta(zeros({2}), CategoryMeta{make_vocab({"cat", "dog"})});
  EXPECT_EQ(semantic_name(t), "TensorBase");
  ASSERT_NE(meta_as<CategoryMeta>(t), nullptr);
  EXPECT_EQ(meta_as<CategoryMeta>(t)->vocab->at(1), "dog");
  EXPECT_EQ(semantic_name(t + 1.0), "TensorBase");  // so it travels
  EXPECT_NE(meta_as<CategoryMeta>(t + 1.0), nullptr);
}

TEST(SemanticMetadata, VocabIsSharedNotCopied) {
  Vocab v = make_vocab({"a", "b", "c", "d", "e", "f", "g", "h", "i"});
  TensorCategory c = with_meta(cast<TensorCategory>(tensor<int64_t>({0, 2, 1})), CategoryMeta{v});
  Tensor r = c.slice(0, 1, 3);
  ASSERT_NE(meta_as<CategoryMeta>(r), nullptr);
  EXPECT_EQ(meta_as<CategoryMeta>(r)->vocab.get(), v.get());
  EXPECT_EQ(r.meta().get(), c.meta().get());  // the same immutable metadata object
  EXPECT_EQ(r.meta()->str(), "vocab=[a, b, c, d, e, f, g, h, ...] (9 entries)");
  TextMeta tm{make_vocab({"xxunk", "xxpad"})};
  EXPECT_EQ(tm.str(), "vocab=[xxunk, xxpad] (2 entries)");
  EXPECT_EQ(TextMeta{}.str(), "vocab=none");
}

// ---- propagation: type AND metadata of the first semantic input ----
class SemanticPropagation : public ::testing::Test {
 protected:
  void SetUp() override {
    img = with_meta(cast<TensorImage>(range_tensor({2, 3, 4})), ImageMeta{{.h = 3, .w = 4}});
    plain = full({2, 3, 4}, 2.0);
  }
  void expect_image(const Tensor& t, const char* what) {
    SCOPED_TRACE(what);
    EXPECT_EQ(t.semantic_type(), TensorImage::type());
    EXPECT_EQ(t.meta().get(), img.meta().get());
  }
  TensorImage img;
  Tensor plain;
};

TEST_F(SemanticPropagation, ElementwiseWithThePlainTensorFirst) {
  Tensor s = add(plain, img);
  expect_image(s, "add(plain, image)");
  EXPECT_EQ(s.to_vector<float>()[5], 7.0f);  // the op still computes: 2 + 5
  Tensor p = plain * img;
  expect_image(p, "plain * image");
  EXPECT_EQ(p.to_vector<float>()[5], 10.0f);
  expect_image(img * plain, "image * plain");
  expect_image(plain - img, "plain - image");
  expect_image(img / 2.0, "image / scalar");
  expect_image(2.0 - img, "scalar - image");
  expect_image(exp(img), "exp");
  expect_image(sigmoid(plain[0] + img), "broadcast then sigmoid");
  EXPECT_EQ(semantic_name(plain + plain), "Tensor");  // no semantic input: stays plain
}

TEST_F(SemanticPropagation, FirstSemanticInputWins) {
  TensorMask mask = with_meta(cast<TensorMask>(zeros({2, 3, 4})), ImageMeta{{.h = 30, .w = 40}});
  Tensor a = img + mask;
  Tensor b = mask + img;
  EXPECT_EQ(semantic_name(a), "TensorImage");
  EXPECT_EQ(meta_as<ImageMeta>(a)->img_size.w, 4);
  EXPECT_EQ(semantic_name(b), "TensorMask");
  EXPECT_EQ(meta_as<ImageMeta>(b)->img_size.w, 40);
}

TEST_F(SemanticPropagation, ViewsAndIndexing) {
  expect_image(img.reshape({6, 4}), "reshape");
  expect_image(img.view({-1}), "view");
  expect_image(img.permute({2, 0, 1}), "permute");
  expect_image(img.transpose(0, 2), "transpose");
  expect_image(img.slice(1, 0, 3, 2), "slice");
  expect_image(img.narrow(2, 1, 2), "narrow");
  expect_image(img.select(0, 1), "select");
  expect_image(img[1], "operator[]");
  expect_image(img[1][2], "nested indexing");
  expect_image(img.unsqueeze(0), "unsqueeze");
  expect_image(img.unsqueeze(0).squeeze(0), "squeeze");
  expect_image(img.flatten(1), "flatten");
  expect_image(img[0].unsqueeze(0).expand({5, 3, 4}), "expand");
  expect_image(img.detach(), "detach");
  expect_image(img.alias(), "alias");
  Tensor packed = img.permute({2, 1, 0}).contiguous();  // non-contiguous: a real copy
  EXPECT_FALSE(packed.shares_storage(img));
  expect_image(packed, "contiguous copy of a permuted view");
  Tensor reshaped_copy = img.transpose(0, 1).reshape({-1});  // reshape that must copy
  EXPECT_FALSE(reshaped_copy.shares_storage(img));
  expect_image(reshaped_copy, "reshape that copies");
}

TEST_F(SemanticPropagation, CopiesAndConversions) {
  Tensor c = img.clone();
  EXPECT_FALSE(c.shares_storage(img));
  expect_image(c, "clone");
  expect_image(img.to(DType::F64), "to(f64)");
  expect_image(img.to(DType::U8), "to(u8)");
  expect_image(img.to(DType::BF16).to(DType::F32), "to(bf16) and back");
  expect_image(img.to(Device::cpu()), "to(cpu)");
  expect_image(img.slice(2, 1, 3).clone(), "clone of a non-contiguous slice");
}

TEST_F(SemanticPropagation, DeviceMovesWhenAGpuIsPresent) {
  if (!cuda_is_available()) GTEST_SKIP() << "no CUDA device";
  Tensor g = img.cuda();
  expect_image(g, "cuda()");
  expect_image(g.cpu(), "cuda().cpu()");
}

TEST_F(SemanticPropagation, Where) {
  Tensor cond = plain[0] > 1.5;  // [3, 4] broadcasts, all true
  Tensor w = where(cond, plain, img);
  expect_image(w, "where(cond, plain, image)");
  EXPECT_EQ(w.to_vector<float>()[0], 2.0f);
  expect_image(where(cond, img, 0.0), "where(cond, image, scalar)");
  expect_image(where(cond, 1.0, img), "where(cond, scalar, image)");
}

TEST_F(SemanticPropagation, EmptyTensorsCarryTheTypeToo) {
  TensorMask empty_mask = cast<TensorMask>(zeros({0, 3}));
  Tensor r = (empty_mask + 1.0).reshape({3, 0});
  EXPECT_EQ(r.numel(), 0);
  EXPECT_EQ(semantic_name(r), "TensorMask");
}

}  // namespace
}  // namespace strata
