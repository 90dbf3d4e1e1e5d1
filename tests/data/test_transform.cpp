// Transform semantics (data/transform.h, data/pipeline.h): dispatch on semantic and C++ types,
// tuple mapping vs ItemTransform, split_idx skipping, type retention, RandTransform draws, and
// Pipeline order / setup order / full and partial decode.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "data/item.h"
#include "data/pipeline.h"
#include "data/rng.h"
#include "data/transform.h"
#include "strata.h"
#include "support/expect_error.h"

using namespace strata;
using namespace strata::data;

namespace {
Tensor vec(std::vector<float> v) { return tensor(v, {static_cast<int64_t>(v.size())}); }
std::vector<float> vals(const Item& x) { return x.tensor().to_vector<float>(); }
}  // namespace

TEST(Item, KindsAccessAndErrors) {
  Item s("cat");
  EXPECT_TRUE(s.is_str());
  EXPECT_EQ(s.str(), "cat");
  EXPECT_EQ(Item(int64_t{3}).as_int(), 3);
  EXPECT_DOUBLE_EQ(Item(2).as_float(), 2.0);
  Item t = Item::tuple({Item("a"), Item(1)});
  EXPECT_EQ(t.size(), 2u);
  EXPECT_EQ(t.repr(), "('a', 1)");
  EXPECT_EQ(Item::list({Item("a")}).repr(), "['a']");
  EXPECT_STRATA_ERROR(s.tensor(), ValueError, {"expected a tensor", "str", "'cat'"});
  EXPECT_STRATA_ERROR(t[5], IndexError, {"index 5", "tuple of 2"});
  EXPECT_EQ(Item(TensorImage(vec({1, 2}))).type_key(), TypeKey(TensorImage::type()));
  EXPECT_EQ(s.type_key().name(), "str");
  EXPECT_EQ(t.type_key().name(), "tuple");
  EXPECT_EQ(Item::list({}).type_key().name(), "list");
  EXPECT_TRUE(Item(TensorImage(vec({1, 2}))) == Item(TensorImage(vec({1, 2}))));
  EXPECT_FALSE(Item(TensorImage(vec({1, 2}))) == Item(TensorMask(vec({1, 2}))));
  EXPECT_FALSE(Item(vec({1, 2})) == Item(vec({1, 3})));
}

TEST(Transform, DispatchesOnTensorImageMaskAndBBox) {
  Transform t("Tag");
  t.encodes<TensorImage>([](const TensorImage& x) { return x * 2.0; })
      .encodes<TensorMask>([](const TensorMask& x) { return x + 100.0; })
      .encodes<TensorPoint>([](const TensorPoint& x) { return x - 1.0; });
  EXPECT_EQ(vals(t(TensorImage(vec({1, 2})))), (std::vector<float>{2, 4}));
  EXPECT_EQ(vals(t(TensorMask(vec({1, 2})))), (std::vector<float>{101, 102}));
  // TensorBBox is a TensorPoint: the point function applies.
  Item box = t(TensorBBox(vec({5, 6, 7, 8})));
  EXPECT_EQ(vals(box), (std::vector<float>{4, 5, 6, 7}));
  EXPECT_TRUE(is_a<TensorBBox>(box.tensor()));
  // No registration for a plain tensor or a string: passes through unchanged.
  Tensor plain = vec({1, 2});
  EXPECT_TRUE(t(plain).tensor().is_same(plain));
  EXPECT_EQ(t(Item("x")).str(), "x");
}

TEST(Transform, DispatchesOnCppTypes) {
  Transform t("Kinds");
  t.encodes<std::string>([](const std::string& s) { return s + "!"; })
      .encodes<int64_t>([](int64_t i) { return i * 10; })
      .encodes<double>([](double d) { return d / 2; })
      .encodes<std::filesystem::path>([](const std::filesystem::path& p) { return p.filename().string(); });
  EXPECT_EQ(t(Item("hi")).str(), "hi!");
  EXPECT_EQ(t(Item(4)).as_int(), 40);
  EXPECT_DOUBLE_EQ(t(Item(3.0)).as_float(), 1.5);
  EXPECT_EQ(t(Item(std::filesystem::path("a/b.txt"))).str(), "b.txt");
}

TEST(Transform, MapsOverTuplesButNotLists) {
  Transform t("Inc");
  t.encodes<int64_t>([](int64_t i) { return i + 1; });
  Item y = t(Item::tuple({Item(1), Item::tuple({Item(2), Item(3)}), Item("s")}));
  EXPECT_EQ(y.repr(), "(2, (3, 4), 's')");
  // A list is one value: no int registration applies to it.
  Item l = t(Item::list({Item(1), Item(2)}));
  EXPECT_EQ(l.repr(), "[1, 2]");
}

TEST(Transform, ItemTransformSeesTheWholeTuple) {
  ItemTransform swap("Swap");
  swap.encodes<Tuple>([](const std::vector<Item>& xs) { return Item::tuple({xs[1], xs[0]}); });
  EXPECT_EQ(swap(Item::tuple({Item(1), Item("a")})).repr(), "('a', 1)");
  // The same function in an ordinary Transform never sees a tuple: elements are not tuples.
  Transform per_elem("Swap");
  per_elem.encodes<Tuple>([](const std::vector<Item>& xs) { return Item::tuple({xs[1], xs[0]}); });
  EXPECT_EQ(per_elem(Item::tuple({Item(1), Item("a")})).repr(), "(1, 'a')");
}

TEST(Transform, SplitIdxSkipsOtherSplits) {
  Transform aug("Aug");
  aug.split_idx = 0;
  aug.encodes<int64_t>([](int64_t i) { return i + 1; });
  EXPECT_EQ(aug(Item(1), 0).as_int(), 2);           // training
  EXPECT_EQ(aug(Item(1), 1).as_int(), 1);           // validation: skipped
  EXPECT_EQ(aug(Item(1)).as_int(), 1);              // no split given: skipped (fastai)
  EXPECT_EQ(aug.decode(Item(1), 1).as_int(), 1);
  Transform all("All");
  all.encodes<int64_t>([](int64_t i) { return i + 1; });
  EXPECT_EQ(all(Item(1), 1).as_int(), 2);
}

TEST(Transform, RetainsTheInputTypeOfAPlainResult) {
  Transform t("MakePlain");
  // The function builds a fresh (plain) tensor: the result takes the input's type and metadata.
  t.encodes<TensorImage>([](const TensorImage& x) { return tensor(x.to_vector<float>(), x.shape()) * 3.0; });
  Tensor img = with_meta(TensorImage(vec({1, 2})), ImageMeta({.h = 1, .w = 2}));
  Item y = t(img);
  EXPECT_TRUE(is_a<TensorImage>(y.tensor()));
  ASSERT_NE(meta_as<ImageMeta>(y.tensor()), nullptr);
  EXPECT_EQ(meta_as<ImageMeta>(y.tensor())->img_size.w, 2);
  EXPECT_EQ(vals(y), (std::vector<float>{3, 6}));
  // retain_type off: the plain result stays plain.
  t.retain_type = false;
  EXPECT_EQ(t(img).tensor().semantic_type(), nullptr);
  // A forced return type wins (fastai's return annotation).
  Transform f("ToCat");
  f.encodes<TensorImage>([](const TensorImage& x) { return tensor(x.to_vector<float>(), x.shape()); },
                         TensorCategory::type());
  EXPECT_TRUE(is_a<TensorCategory>(f(img).tensor()));
  // A result of another, non-ancestor type keeps it.
  Transform m("ToMask");
  m.encodes<TensorImage>([](const TensorImage& x) { return cast<TensorMask>(x); });
  EXPECT_TRUE(is_a<TensorMask>(m(img).tensor()));
}

TEST(Transform, DecodeOfEncodeIsIdentity) {
  Transform t("Scale");
  t.encodes<TensorImage>([](const TensorImage& x) { return x.to(DType::F32) / 255.0; })
      .decodes<TensorImage>([](const TensorImage& x) { return (x * 255.0).to(DType::U8); });
  Tensor u8 = tensor(std::vector<uint8_t>{0, 17, 255}, {3});
  Item x = TensorImage(u8);
  Item enc = t(x);
  EXPECT_EQ(enc.tensor().dtype(), DType::F32);
  EXPECT_TRUE(t.decode(enc) == x);
  // Tuples decode element-wise.
  Item pair = Item::tuple({x, Item("label")});
  EXPECT_TRUE(t.decode(t(pair)) == pair);
}

namespace {
struct Flip : RandTransform {
  explicit Flip(double p) : RandTransform("Flip", p) {
    encodes<int64_t>([](int64_t i) { return -i; });
  }
};
}  // namespace

TEST(RandTransform, DrawsOncePerItemAndOnlyOnTrain) {
  auto f = std::make_shared<Flip>(0.5);
  int flipped = 0;
  RngScope scope(Rng(123));
  for (int i = 0; i < 400; ++i) {
    Item y = (*f)(Item::tuple({Item(1), Item(1)}), 0);
    // Both elements of a tuple are flipped together.
    EXPECT_EQ(y[0].as_int(), y[1].as_int());
    flipped += y[0].as_int() == -1;
  }
  EXPECT_GT(flipped, 150);
  EXPECT_LT(flipped, 250);
  // Validation split: never applied.
  for (int i = 0; i < 20; ++i) EXPECT_EQ((*f)(Item(1), 1).as_int(), 1);
  // p = 1: always; p = 0: never.
  f->p = 1.0;
  EXPECT_EQ((*f)(Item(1), 0).as_int(), -1);
  EXPECT_TRUE(f->do_());
  f->p = 0.0;
  EXPECT_EQ((*f)(Item(1), 0).as_int(), 1);
  EXPECT_FALSE(f->do_());
}

TEST(RandTransform, SameSeedSameDraws) {
  auto f = std::make_shared<Flip>(0.5);
  auto run = [&] {
    RngScope scope(Rng(7));
    std::vector<int64_t> out;
    for (int i = 0; i < 50; ++i) out.push_back((*f)(Item(1), 0).as_int());
    return out;
  };
  EXPECT_EQ(run(), run());
}

TEST(Pipeline, SortsByOrderAndDecodesInReverse) {
  auto add = std::make_shared<Transform>("Add");
  add->order = 5;
  add->encodes<int64_t>([](int64_t i) { return i + 3; }).decodes<int64_t>([](int64_t i) { return i - 3; });
  auto mul = std::make_shared<Transform>("Mul");
  mul->order = 1;
  mul->encodes<int64_t>([](int64_t i) { return i * 2; }).decodes<int64_t>([](int64_t i) { return i / 2; });
  Pipeline p({add, mul});
  EXPECT_EQ(p.str(), "Pipeline: Mul -- {order: 1} -> Add -- {order: 5}");
  EXPECT_EQ(p(Item(5)).as_int(), 13);  // (5 * 2) + 3
  EXPECT_EQ(p.decode(p(Item(5))).as_int(), 5);
}

TEST(Pipeline, PartialDecodeStopsAtAShowableItem) {
  auto to_str = std::make_shared<Transform>("ToStr");
  to_str->encodes<std::string>([](const std::string& s) { return int64_t(s.size()); })
      .decodes<int64_t>([](int64_t n) { return std::string(static_cast<size_t>(n), 'x'); });
  auto to_tensor = std::make_shared<Transform>("ToTensor");
  to_tensor->order = 1;
  to_tensor->encodes<int64_t>([](int64_t n) { return tensor(std::vector<int64_t>{n}, {1}); })
      .decodes<Tensor>([](const Tensor& t) { return t.item<int64_t>(); });
  Pipeline p({to_str, to_tensor});
  Item enc = p(Item("abc"));
  EXPECT_TRUE(enc.is_tensor());
  EXPECT_EQ(p.decode(enc, true).str(), "xxx");
  // Partial: an int can show itself, so decoding stops before ToStr's decodes.
  EXPECT_EQ(p.decode(enc, false).as_int(), 3);
}

TEST(Pipeline, SetupSeesItemsAsTheyWillBeAtCallTime) {
  // Double then Record: Record's setup must see doubled values.
  auto dbl = std::make_shared<Transform>("Double");
  dbl->encodes<int64_t>([](int64_t i) { return i * 2; });
  std::vector<int64_t> seen;
  std::vector<std::string> order;
  auto rec = std::make_shared<Transform>("Record");
  rec->order = 1;
  rec->setups([&](const ItemSource& items) {
    for (int64_t i = 0; i < items.size(); ++i) seen.push_back(items.get(i).as_int());
  });
  Pipeline p({rec, dbl});
  VectorSource src({Item(1), Item(2), Item(3)});
  p.setup(&src, false, [&](const Transform& t) { order.push_back(t.name); });
  EXPECT_EQ(order, (std::vector<std::string>{"Double", "Record"}));
  EXPECT_EQ(seen, (std::vector<int64_t>{2, 4, 6}));
}

TEST(Transform, MakeTransformWrapsFunctions) {
  TfmPtr t = make_transform("Upper", [](const Item& x) { return Item(x.str() + "_up"); });
  EXPECT_EQ((*t)(Item("a")).str(), "a_up");
  // Mapped over tuples like any Transform.
  EXPECT_EQ((*t)(Item::tuple({Item("a"), Item("b")})).repr(), "('a_up', 'b_up')");
  TfmPtr it = make_item_transform("First", [](const Item& x) { return x[0]; });
  EXPECT_EQ((*it)(Item::tuple({Item("a"), Item("b")})).str(), "a");
}

TEST(Pipeline, AFailingSetupLeavesThePipelineWhole) {
  auto ok = std::make_shared<Transform>("Ok");
  auto bad = std::make_shared<Transform>("Bad");
  bad->order = 1;
  bad->setups([](const ItemSource&) { STRATA_THROW(ValueError, "Bad: cannot learn"); });
  auto last = std::make_shared<Transform>("Last");
  last->order = 2;
  Pipeline p({ok, bad, last});
  VectorSource src({Item(1)});
  EXPECT_STRATA_ERROR(p.setup(&src), ValueError, {"Bad: cannot learn"});
  EXPECT_EQ(p.str(), "Pipeline: Ok -> Bad -- {order: 1} -> Last -- {order: 2}");
}

TEST(Transform, MasksDispatchAsImagesUnlessAMaskFunctionIsRegistered) {
  ImagePtr img = nullptr;
  Transform t("Which");
  t.encodes<ImagePtr>([](const ImagePtr&) { return std::string("image"); });
  EXPECT_EQ(t(Item(img)).str(), "image");
  EXPECT_EQ(t(Item::mask(img)).str(), "image");  // PILMask -> Image -> Any
  t.encodes<PILMask>([](const ImagePtr&) { return std::string("mask"); });
  EXPECT_EQ(t(Item(img)).str(), "image");
  EXPECT_EQ(t(Item::mask(img)).str(), "mask");
  EXPECT_EQ(Item::mask(img).type_key().name(), "PILMask");
}

TEST(Transform, ObjectItemsDispatchOnTheirType) {
  struct Box {
    int v;
  };
  Transform t("Obj");
  t.encodes<Box>([](const Box& b) { return int64_t{b.v * 2}; });
  EXPECT_EQ(t(Item::object(Box{21})).as_int(), 42);
  EXPECT_EQ(t(Item::object(std::string("not a Box"))).kind(), Item::Kind::Object);  // passes through
}
