// TfmdLists, Datasets and the target transforms (data/tfmd_lists.h, data/datasets.h,
// data/categorize.h): lazy access, subsets with their split_idx, setup on the training items,
// decode, Categorize's vocab and errors, MultiCategorize + OneHotEncode, RegressionSetup.
#include <gtest/gtest.h>

#include "data/categorize.h"
#include "data/datasets.h"
#include "data/tfmd_lists.h"
#include "strata.h"
#include "support/expect_error.h"

using namespace strata;
using namespace strata::data;

namespace {
std::vector<Item> strs(std::initializer_list<const char*> s) {
  std::vector<Item> out;
  for (const char* x : s) out.emplace_back(x);
  return out;
}
}  // namespace

TEST(TfmdLists, LazySubsetsAndSplitIdx) {
  int calls = 0;
  auto count = std::make_shared<Transform>("Count");
  count->encodes<int64_t>([&calls](int64_t i) {
    ++calls;
    return i * 10;
  });
  auto aug = std::make_shared<Transform>("Aug");
  aug->split_idx = 0;
  aug->encodes<int64_t>([](int64_t i) { return i + 1; });
  TfmdLists tl({Item(0), Item(1), Item(2), Item(3)}, {count, aug}, {.splits = {{3, 1}, {0, 2}}});
  EXPECT_EQ(calls, 0);  // nothing applied until accessed
  EXPECT_EQ(tl.size(), 4);
  EXPECT_EQ(tl[1].as_int(), 10);  // no split: the augmentation is skipped
  EXPECT_EQ(calls, 1);
  TfmdLists tr = tl.train(), va = tl.valid();
  EXPECT_EQ(tr.split_idx(), 0);
  EXPECT_EQ(tr.size(), 2);
  EXPECT_EQ(tr[0].as_int(), 31);  // augmented on train
  EXPECT_EQ(tr[1].as_int(), 11);
  EXPECT_EQ(va[0].as_int(), 0);   // not on valid
  EXPECT_EQ(va[1].as_int(), 20);
  EXPECT_EQ(tr.raw(0).as_int(), 3);
  EXPECT_EQ(tl[-1].as_int(), 30);
  EXPECT_STRATA_ERROR(tl[4], IndexError, {"TfmdLists", "index 4", "4 items"});
  EXPECT_STRATA_ERROR(tl.subset(2), IndexError, {"no split 2"});
  EXPECT_STRATA_ERROR(TfmdLists({Item(0)}, {count}, {.splits = {{0, 5}}}), IndexError, {"index 5"});
}

TEST(Categorize, VocabFromTrainingItemsSortedAndDecodes) {
  auto cat = std::make_shared<Categorize>();
  // 'bird' is only in the validation split: not in the vocab.
  TfmdLists tl(strs({"dog", "cat", "bird", "dog"}), {cat}, {.splits = {{0, 1, 3}, {2}}});
  EXPECT_EQ(cat->vocab().str(), "['cat', 'dog']");
  Item y = tl.train()[0];
  EXPECT_TRUE(is_a<TensorCategory>(y.tensor()));
  EXPECT_EQ(y.tensor().dtype(), DType::I64);
  EXPECT_EQ(y.tensor().dim(), 0);
  EXPECT_EQ(y.tensor().item<int64_t>(), 1);
  const auto* m = meta_as<CategoryMeta>(y.tensor());
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(*m->vocab, (std::vector<std::string>{"cat", "dog"}));
  EXPECT_EQ(tl.decode(y).str(), "dog");
  EXPECT_EQ(tl.train()[1].tensor().item<int64_t>(), 0);
  // Out of vocab: an error naming the label.
  EXPECT_STRATA_ERROR(tl.valid()[0], ValueError, {"Categorize", "'bird'", "not included in the training data", "'cat'"});
}

TEST(Categorize, GivenVocabNumbersAndNoSetupError) {
  auto cat = std::make_shared<Categorize>(std::vector<Item>{Item("z"), Item("a")});
  EXPECT_EQ((*cat)(Item("a")).tensor().item<int64_t>(), 1);  // given vocab order kept
  auto nums = std::make_shared<Categorize>();
  TfmdLists tl({Item(10), Item(2), Item(2), Item(33)}, {nums});
  EXPECT_EQ(nums->vocab().str(), "[2, 10, 33]");  // numeric sort
  EXPECT_EQ(tl[0].tensor().item<int64_t>(), 1);
  EXPECT_EQ(tl.decode(tl[0]).as_int(), 10);
  Categorize fresh;
  EXPECT_STRATA_ERROR(fresh(Item("x")), ValueError, {"Categorize", "no vocab", "'x'"});
  // add_na puts #na# first.
  auto na = std::make_shared<Categorize>(std::nullopt, true, true);
  TfmdLists tl2(strs({"b", "a"}), {na});
  EXPECT_EQ(na->vocab().str(), "['#na#', 'a', 'b']");
}

TEST(MultiCategorize, OneHotRoundTrip) {
  auto mc = std::make_shared<MultiCategorize>();
  auto oh = std::make_shared<OneHotEncode>();
  std::vector<Item> items = {Item::list(strs({"b", "c"})), Item::list(strs({"a"})), Item::list({})};
  TfmdLists tl(items, {mc, oh});
  EXPECT_EQ(mc->vocab().str(), "['a', 'b', 'c']");
  ASSERT_TRUE(oh->c.has_value());
  EXPECT_EQ(*oh->c, 3);
  Item y = tl[0];
  EXPECT_TRUE(is_a<TensorMultiCategory>(y.tensor()));
  EXPECT_EQ(y.tensor().to_vector<float>(), (std::vector<float>{0, 1, 1}));
  EXPECT_EQ(tl.decode(y).repr(), "['b', 'c']");
  EXPECT_EQ(tl.decode(tl[2]).repr(), "[]");
  EXPECT_STRATA_ERROR((*mc)(Item::list(strs({"q"}))), ValueError, {"MultiCategorize", "'q'"});
}

TEST(RegressionSetup, NumbersToFloatTensorsAndBack) {
  auto r = std::make_shared<RegressionSetup>();
  TfmdLists tl({Item(1.5), Item(int64_t{2})}, {r});
  EXPECT_EQ(*r->c, 1);
  EXPECT_EQ(tl[0].tensor().dtype(), DType::F32);
  EXPECT_FLOAT_EQ(tl[1].tensor().item<float>(), 2.0f);
  EXPECT_DOUBLE_EQ(tl.decode(tl[0]).as_float(), 1.5);
  auto r2 = std::make_shared<RegressionSetup>();
  TfmdLists tl2({Item::list({Item(1.0), Item(2.0)})}, {r2});
  EXPECT_EQ(*r2->c, 2);
  EXPECT_EQ(tl2[0].tensor().shape(), Shape({2}));
  EXPECT_EQ(tl2.decode(tl2[0]).repr(), "[1, 2]");
}

TEST(Datasets, TuplesSubsetsNInpAndDecode) {
  auto first_char = make_transform("first", [](const Item& x) { return Item(x.str().substr(0, 1)); });
  auto len = make_transform("len", [](const Item& x) { return Item(static_cast<int64_t>(x.str().size())); });
  auto cat = std::make_shared<Categorize>();
  Datasets ds(strs({"apple", "bob", "cherry", "avocado"}), {{len}, {first_char, cat}}, {.splits = {{0, 1, 2}, {3}}});
  EXPECT_EQ(ds.n_inp(), 1);
  EXPECT_EQ(ds.size(), 4);
  EXPECT_EQ(cat->vocab().str(), "['a', 'b', 'c']");
  Item x = ds.train()[2];
  EXPECT_EQ(x[0].as_int(), 6);
  EXPECT_EQ(x[1].tensor().item<int64_t>(), 2);
  EXPECT_EQ(ds.decode(x).repr(), "(6, 'c')");
  EXPECT_EQ(ds.show(x), "x: 6, y: 'c'");
  EXPECT_EQ(ds.valid().size(), 1);
  EXPECT_EQ(ds.valid().split_idx(), 1);
  EXPECT_EQ(ds.valid()[0][1].tensor().item<int64_t>(), 0);  // 'a'
  // One pipeline: n_inp 1; three: 2 by default.
  Datasets three(strs({"x"}), {{len}, {len}, {len}});
  EXPECT_EQ(three.n_inp(), 2);
  EXPECT_STRATA_ERROR(Datasets(strs({"x"}), {{len}}, {.n_inp = 3}), ValueError, {"n_inp 3"});
}
