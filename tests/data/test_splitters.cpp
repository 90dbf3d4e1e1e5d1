// Splitters, labellers, get_files and the CSV reader (data/splitters.h, data/labellers.h,
// data/files.h, data/csv.h): exact indices for every splitter, error texts, a temp dir tree.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "data/csv.h"
#include "data/files.h"
#include "data/labellers.h"
#include "data/rng.h"
#include "data/splitters.h"
#include "support/expect_error.h"
#include "support/test_files.h"

using namespace strata;
using namespace strata::data;
namespace fs = std::filesystem;
using strata::testing::TempDir;

namespace {
using Idx = std::vector<int64_t>;
std::vector<Item> n_items(int n) {
  std::vector<Item> v;
  for (int i = 0; i < n; ++i) v.emplace_back(i);
  return v;
}
std::vector<Item> paths(std::initializer_list<const char*> ps) {
  std::vector<Item> v;
  for (const char* p : ps) v.emplace_back(fs::path(p));
  return v;
}
}  // namespace

TEST(Splitters, RandomSplitterCutsAPermutation) {
  Splits s = RandomSplitter(0.2, 42)(n_items(10));
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[1].size(), 2u);  // int(0.2 * 10)
  EXPECT_EQ(s[0].size(), 8u);
  // The definition: the first cut of the seed's permutation are valid.
  Idx perm = Rng(42).permutation(10);
  EXPECT_EQ(s[1], Idx(perm.begin(), perm.begin() + 2));
  EXPECT_EQ(s[0], Idx(perm.begin() + 2, perm.end()));
  std::set<int64_t> all(s[0].begin(), s[0].end());
  all.insert(s[1].begin(), s[1].end());
  EXPECT_EQ(all.size(), 10u);
  EXPECT_EQ(RandomSplitter(0.2, 42)(n_items(10)), s);   // same seed, same split
  EXPECT_NE(RandomSplitter(0.2, 43)(n_items(10)), s);
  EXPECT_EQ(RandomSplitter(0.25, 1)(n_items(7))[1].size(), 1u);  // int(1.75)
  EXPECT_STRATA_ERROR(RandomSplitter(1.5), ValueError, {"RandomSplitter", "valid_pct", "1.5"});
}

TEST(Splitters, GrandparentSplitter) {
  auto items = paths({"d/train/cat/1.png", "d/valid/cat/2.png", "d/train/dog/3.png", "d/test/dog/4.png",
                      "d/valid/dog/5.png"});
  Splits s = GrandparentSplitter()(items);
  EXPECT_EQ(s[0], (Idx{0, 2}));
  EXPECT_EQ(s[1], (Idx{1, 4}));  // 'test' is in neither
  Splits t = GrandparentSplitter("valid", "test")(items);
  EXPECT_EQ(t[0], (Idx{1, 4}));
  EXPECT_EQ(t[1], (Idx{3}));
  // Strings work as paths.
  EXPECT_EQ(GrandparentSplitter()({Item("x/train/a/b.png")})[0], (Idx{0}));
}

TEST(Splitters, IndexEndFuncMaskSplitters) {
  auto items = n_items(6);
  Splits s = IndexSplitter({4, 1})(items);
  EXPECT_EQ(s[0], (Idx{0, 2, 3, 5}));
  EXPECT_EQ(s[1], (Idx{4, 1}));
  EXPECT_STRATA_ERROR(IndexSplitter({6})(items), IndexError, {"IndexSplitter", "index 6", "6 items"});

  Splits e = EndSplitter(0.34)(items);  // int(2.04) = 2
  EXPECT_EQ(e[0], (Idx{0, 1, 2, 3}));
  EXPECT_EQ(e[1], (Idx{4, 5}));
  Splits f = EndSplitter(0.34, false)(items);
  EXPECT_EQ(f[0], (Idx{2, 3, 4, 5}));
  EXPECT_EQ(f[1], (Idx{0, 1}));
  EXPECT_EQ(EndSplitter(0.0)(items)[1], Idx{});

  Splits fs_ = FuncSplitter([](const Item& x) { return x.as_int() % 3 == 0; })(items);
  EXPECT_EQ(fs_[0], (Idx{1, 2, 4, 5}));
  EXPECT_EQ(fs_[1], (Idx{0, 3}));

  Splits m = MaskSplitter({true, false, false, true, false, false})(items);
  EXPECT_EQ(m[0], (Idx{1, 2, 4, 5}));
  EXPECT_EQ(m[1], (Idx{0, 3}));
  EXPECT_STRATA_ERROR(MaskSplitter({true})(items), ValueError, {"MaskSplitter", "mask of 1 for 6 items"});
}

TEST(Splitters, FileSplitterReadsValidNames) {
  TempDir d;
  d.write("valid.txt", "b.png\nd.png\n");
  auto items = paths({"x/a.png", "y/b.png", "c.png", "z/d.png"});
  Splits s = FileSplitter(d.path / "valid.txt")(items);
  EXPECT_EQ(s[0], (Idx{0, 2}));
  EXPECT_EQ(s[1], (Idx{1, 3}));
  EXPECT_STRATA_ERROR(FileSplitter(d.path / "missing.txt")(items), IOError, {"FileSplitter", "missing.txt"});
}

TEST(Splitters, ColSplitterOverCsvRows) {
  CsvTable t = parse_csv("name,is_valid,fold\na,0,1\nb,1,2\nc,True,1\nd,false,2\n");
  auto rows = t.rows();
  Splits s = ColSplitter()(rows);
  EXPECT_EQ(s[0], (Idx{0, 3}));
  EXPECT_EQ(s[1], (Idx{1, 2}));
  Splits f = ColSplitter("fold", "2")(rows);
  EXPECT_EQ(f[1], (Idx{1, 3}));
  EXPECT_STRATA_ERROR(ColSplitter("nope")(rows), ValueError, {"no column 'nope'", "name, is_valid, fold"});
  EXPECT_STRATA_ERROR(ColSplitter()(n_items(2)), ValueError, {"ColSplitter", "Row"});
}

TEST(Splitters, TrainTestSplitter) {
  auto items = n_items(10);
  Splits s = TrainTestSplitter(0.25, 3)(items);  // ceil(2.5) = 3 test items
  EXPECT_EQ(s[1].size(), 3u);
  EXPECT_EQ(s[0].size(), 7u);
  Idx perm = Rng(3).permutation(10);
  EXPECT_EQ(s[1], Idx(perm.begin(), perm.begin() + 3));
  EXPECT_EQ(TrainTestSplitter(0.25, 3)(items), s);
  Splits ns = TrainTestSplitter(0.3, std::nullopt, {}, false)(items);
  EXPECT_EQ(ns[0], (Idx{0, 1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(ns[1], (Idx{7, 8, 9}));
  // Stratified: 8 'a' and 4 'b' with test_size 0.25 -> 2 'a' and 1 'b' in the test set.
  std::vector<Item> lab;
  for (int i = 0; i < 12; ++i) lab.emplace_back(i < 8 ? "a" : "b");
  Splits st = TrainTestSplitter(0.25, 7, [](const Item& x) { return x; })(lab);
  ASSERT_EQ(st[1].size(), 3u);
  int b = 0;
  for (int64_t i : st[1]) b += i >= 8;
  EXPECT_EQ(b, 1);
  std::set<int64_t> all(st[0].begin(), st[0].end());
  all.insert(st[1].begin(), st[1].end());
  EXPECT_EQ(all.size(), 12u);
}

TEST(Labellers, ParentLabelAndRegex) {
  EXPECT_EQ(parent_label(Item(fs::path("pets/cat/1.jpg"))).str(), "cat");
  EXPECT_EQ(parent_label(Item("pets/dog/2.jpg")).str(), "dog");
  RegexLabeller re(R"(([a-z_]+)_\d+\.jpg$)");
  EXPECT_EQ(re(Item(fs::path("images/great_pyrenees_173.jpg"))).str(), "great_pyrenees");
  EXPECT_STRATA_ERROR(re(Item(fs::path("images/Abyssinian.png"))), ValueError,
                      {"RegexLabeller", R"(([a-z_]+)_\d+\.jpg$)", "images/Abyssinian.png"});
  // match: anchored at the start of the path string.
  RegexLabeller m(R"(([a-z]+)/)", true);
  EXPECT_EQ(m(Item("abc/def/x")).str(), "abc");
  EXPECT_STRATA_ERROR(m(Item("/abc/x")), ValueError, {"failed to find", "/abc/x"});
  EXPECT_STRATA_ERROR(RegexLabeller("no group"), ValueError, {"no group"});
  EXPECT_STRATA_ERROR(RegexLabeller("(unclosed"), ValueError, {"invalid pattern"});
}

TEST(Labellers, ColReader) {
  CsvTable t = parse_csv("fname,label,tags\nimg1.png,cat,\"a b\"\nimg2.png,dog,c\n");
  auto rows = t.rows();
  EXPECT_EQ(ColReader("label")(rows[0]).str(), "cat");
  EXPECT_EQ(ColReader("fname", {.pref = "images/", .as_path = true})(rows[1]).path(), fs::path("images/img2.png"));
  EXPECT_EQ(ColReader("tags", {.label_delim = ' '})(rows[0]).repr(), "['a', 'b']");
  EXPECT_EQ(ColReader(std::vector<std::string>{"fname", "label"})(rows[1]).repr(), "['img2.png', 'dog']");
  EXPECT_STRATA_ERROR(ColReader("labels")(rows[0]), ValueError, {"no column 'labels'", "fname, label, tags"});
}

TEST(Csv, QuotesErrorsAndFiles) {
  CsvTable t = parse_csv("a,b\r\n\"x, y\",\"he said \"\"hi\"\"\"\r\n1,2");
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t.data[0].at("a"), "x, y");
  EXPECT_EQ(t.data[0].at("b"), "he said \"hi\"");
  EXPECT_EQ(t.data[1].at(size_t{1}), "2");
  EXPECT_STRATA_ERROR(parse_csv("a,b\n1,2,3\n"), ValueError, {"line 2 has 3 cells", "header has 2"});
  EXPECT_STRATA_ERROR(read_csv("/nonexistent/x.csv"), IOError, {"read_csv", "/nonexistent/x.csv"});
  TempDir d;
  d.write("t.csv", "k,v\n1,one\n");
  EXPECT_EQ(read_csv(d.path / "t.csv").data[0].at("v"), "one");
}

TEST(Files, GetFilesOnATempTree) {
  TempDir d;
  d.write("train/cat/a.PNG", "x");
  d.write("train/cat/b.txt", "x");
  d.write("train/dog/c.jpg", "x");
  d.write("valid/dog/d.jpeg", "x");
  d.write("valid/.hidden/e.png", "x");
  d.write("train/.f.png", "x");
  d.write("top.png", "x");
  auto rel = [&](const std::vector<fs::path>& ps) {
    std::vector<std::string> out;
    for (const auto& p : ps) out.push_back(fs::relative(p, d.path).string());
    return out;
  };
  EXPECT_EQ(rel(get_image_files(d.path)),
            (std::vector<std::string>{"top.png", "train/cat/a.PNG", "train/dog/c.jpg", "valid/dog/d.jpeg"}));
  EXPECT_EQ(rel(get_files(d.path, {.extensions = {"txt"}})), (std::vector<std::string>{"train/cat/b.txt"}));
  EXPECT_EQ(rel(get_files(d.path, {.recurse = false})), (std::vector<std::string>{"top.png"}));
  EXPECT_EQ(rel(get_files(d.path, {.extensions = {".png", ".jpg"}, .folders = {"train"}})),
            (std::vector<std::string>{"train/cat/a.PNG", "train/dog/c.jpg"}));
  EXPECT_EQ(get_files(d.path).size(), 5u);  // hidden files and folders skipped
  EXPECT_STRATA_ERROR(get_files(d.path / "nope"), IOError, {"get_files", "nope", "not a directory"});
}
