// DataBlock (data/datablock.h, data/block.h, data/block_vision.h): a synthetic folder of text
// files labelled by parent folder and split by grandparent, CSV-driven multi-label and
// regression blocks, summary() tracing every step and naming the one that fails, and the vision
// blocks on generated PNGs and (when present) ../shared/data's mnist_tiny and camvid_tiny.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "data/block_vision.h"
#include "data/csv.h"
#include "data/datablock.h"
#include "data/files.h"
#include "data/image.h"
#include "data/labellers.h"
#include "strata.h"
#include "support/expect_error.h"
#include "support/test_files.h"

using namespace strata;
using namespace strata::data;
namespace fs = std::filesystem;
using strata::testing::TempDir;
using strata::testing::shared_data;

namespace {


// Reads a file of whitespace-separated numbers into an f32 tensor.
TransformBlock NumbersBlock() {
  auto read = make_transform("read_numbers", [](const Item& p) {
    std::ifstream f(item_path(p));
    std::vector<float> v;
    float x;
    while (f >> x) v.push_back(x);
    return Item(tensor(v, {static_cast<int64_t>(v.size())}));
  });
  return {.name = "NumbersBlock", .type_tfms = {read}};
}

// root/{train,valid}/{neg,pos}/k.txt holding "label_code k k": neg code 0, pos code 1.
void write_text_tree(const TempDir& d, int n_train, int n_valid) {
  int k = 0;
  for (const char* split : {"train", "valid"})
    for (const char* cls : {"neg", "pos"})
      for (int i = 0; i < (std::string(split) == "train" ? n_train : n_valid); ++i, ++k)
        d.write(fs::path(split) / cls / (std::to_string(k) + ".txt"),
                std::string(std::string(cls) == "pos" ? "1 " : "0 ") + std::to_string(k) + " " + std::to_string(k));
}

std::function<std::vector<Item>(const Item&)> get_files_fn(std::vector<std::string> exts) {
  return [exts](const Item& src) { return to_items(get_files(item_path(src), {.extensions = exts})); };
}


}  // namespace

TEST(DataBlock, SyntheticFolderWithParentLabelAndGrandparentSplitter) {
  TempDir d;
  write_text_tree(d, 5, 3);
  d.write("train/neg/notes.md", "ignored: not a .txt");
  DataBlock db({.blocks = {NumbersBlock(), CategoryBlock()},
                .get_items = get_files_fn({".txt"}),
                .get_y = parent_label,
                .splitter = GrandparentSplitter()});
  Datasets ds = db.datasets(Item(d.path));
  EXPECT_EQ(ds.size(), 16);
  EXPECT_EQ(ds.train().size(), 10);
  EXPECT_EQ(ds.valid().size(), 6);
  EXPECT_EQ(ds.n_inp(), 1);
  DataLoaders dls = db.dataloaders(Item(d.path), {.bs = 4, .seed = 11, .num_workers = 2});
  EXPECT_EQ(dls.train().size(), 2);  // 10 / 4 with drop_last
  EXPECT_EQ(dls.valid().size(), 2);  // 6 / 4, last partial kept
  std::set<int64_t> seen;
  for (DataLoader* dl : {&dls.train(), &dls.valid()}) {
    for (const Batch& b : *dl) {
      ASSERT_EQ(b.size(), 2u);
      EXPECT_EQ(b[0].dim(), 2);
      EXPECT_EQ(b[0].size(1), 3);
      EXPECT_TRUE(is_a<TensorCategory>(b[1]));
      auto x = b[0].to_vector<float>();
      auto y = b[1].to_vector<int64_t>();
      for (size_t i = 0; i < y.size(); ++i) {
        EXPECT_EQ(static_cast<int64_t>(x[3 * i]), y[i]);  // the label matches the file's folder
        seen.insert(static_cast<int64_t>(x[3 * i + 1]));
      }
    }
  }
  EXPECT_EQ(seen.size(), 14u);  // 8 train items (2 dropped) + 6 valid
  const auto* m = meta_as<CategoryMeta>(dls.one_batch()[1]);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(*m->vocab, (std::vector<std::string>{"neg", "pos"}));
  // Decoding a sample gives the label back.
  Item s = ds.valid()[0];
  EXPECT_EQ(ds.decode(s)[1].str(), "neg");
}

TEST(DataBlock, GettersNInpAndListSource) {
  // A list source (no get_items), getters per block, two inputs.
  DataBlock db({.blocks = {TransformBlock{}, TransformBlock{}, RegressionBlock()},
                .getters = {[](const Item& x) { return Item(x.as_int() * 1.0); },
                            [](const Item& x) { return Item(x.as_int() * 2.0); },
                            [](const Item& x) { return Item(x.as_int() * 0.5); }},
                .splitter = EndSplitter(0.5)});
  EXPECT_EQ(db.n_inp(), 2);
  std::vector<Item> src;
  for (int i = 0; i < 4; ++i) src.emplace_back(i);
  Datasets ds = db.datasets(Item::list(src));
  Item s = ds.valid()[1];
  EXPECT_DOUBLE_EQ(s[0].as_float(), 3.0);
  EXPECT_DOUBLE_EQ(s[1].as_float(), 6.0);
  EXPECT_EQ(s[2].tensor().dtype(), DType::F32);
  EXPECT_FLOAT_EQ(s[2].tensor().item<float>(), 1.5f);
  Batch b = db.dataloaders(Item::list(src), {.bs = 2, .shuffle = false}).valid().one_batch();
  EXPECT_EQ(b.size(), 3u);
  EXPECT_EQ(b[2].to_vector<float>(), (std::vector<float>{1.0f, 1.5f}));
  EXPECT_STRATA_ERROR(db.datasets(Item("not a list")), ValueError, {"no get_items", "'not a list'"});
  EXPECT_STRATA_ERROR(DataBlock({.blocks = {CategoryBlock()}, .getters = {parent_label, parent_label}}), ValueError,
                      {"2 getters for 1 blocks"});
}

TEST(DataBlock, MultiCategoryFromCsvWithColReader) {
  CsvTable t = parse_csv("x,tags,is_valid\n1,a b,0\n2,b,0\n3,c a,0\n4,b,1\n");
  DataBlock db({.blocks = {RegressionBlock(), MultiCategoryBlock()},
                .get_x = [](const Item& r) { return Item(std::stod(r.object_as<Row>()->at("x"))); },
                .get_y = ColReader("tags", {.label_delim = ' '}),
                .splitter = ColSplitter()});
  Datasets ds = db.datasets(Item::list(t.rows()));
  EXPECT_EQ(ds.train().size(), 3);
  Item s = ds.train()[2];
  EXPECT_EQ(s[1].tensor().to_vector<float>(), (std::vector<float>{1, 0, 1}));  // a, c
  EXPECT_EQ(ds.decode(s)[1].repr(), "['a', 'c']");
  Batch b = db.dataloaders(Item::list(t.rows()), {.bs = 3, .shuffle = false}).train().one_batch();
  EXPECT_EQ(b[1].shape(), Shape({3, 3}));
  EXPECT_TRUE(is_a<TensorMultiCategory>(b[1]));
}

TEST(DataBlock, SummaryTracesEveryStep) {
  TempDir d;
  write_text_tree(d, 2, 1);
  DataBlock db({.blocks = {NumbersBlock(), CategoryBlock()},
                .get_items = get_files_fn({".txt"}),
                .get_y = parent_label,
                .splitter = GrandparentSplitter()});
  std::ostringstream out;
  std::string s = db.summary(Item(d.path), &out, 2);
  EXPECT_EQ(s, out.str());
  for (const char* part : {"Found 6 items", "2 datasets of sizes 4,2", "Setting up Pipeline: read_numbers", "Building one sample",
                           "applying get_y gives\n      'neg'", "applying Categorize", "TensorCategory(0)",
                           "Final sample", "Collating items in a batch", "TensorCategory of shape [2]",
                           "No batch_tfms to apply"})
    EXPECT_NE(s.find(part), std::string::npos) << "missing \"" << part << "\" in:\n" << s;
}

TEST(DataBlock, SummaryNamesTheFailingStep) {
  TempDir d;
  write_text_tree(d, 2, 1);
  DataBlock db({.blocks = {NumbersBlock(), CategoryBlock()},
                .get_items = get_files_fn({".txt"}),
                .get_y = RegexLabeller(R"(/(\w+)_\d+\.txt$)"),
                .splitter = GrandparentSplitter()});
  std::string s = db.summary(Item(d.path), nullptr);
  EXPECT_NE(s.find("applying get_y"), std::string::npos) << s;
  EXPECT_NE(s.find("failed"), std::string::npos) << s;
  EXPECT_NE(s.find("RegexLabeller: failed to find"), std::string::npos) << s;
  EXPECT_EQ(s.find("Final sample"), std::string::npos) << s;
  // The same DataBlock throws from datasets() with the labeller's message.
  EXPECT_STRATA_ERROR(db.datasets(Item(d.path)), ValueError, {"RegexLabeller", ".txt"});
  // A failure at sample time (not during setup) is reported the same way.
  DataBlock bad_x({.blocks = {TransformBlock{}, CategoryBlock(std::vector<Item>{Item("neg"), Item("pos")})},
                   .get_items = get_files_fn({".txt"}),
                   .get_x = [](const Item& p) -> Item { STRATA_THROW(IOError, "cannot decode '{}'", item_path(p).string()); },
                   .get_y = parent_label,
                   .splitter = GrandparentSplitter()});
  std::string t = bad_x.summary(Item(d.path), nullptr);
  EXPECT_NE(t.find("applying get_x failed"), std::string::npos) << t;
  EXPECT_NE(t.find("cannot decode"), std::string::npos) << t;
}

TEST(DataBlock, ImageBlockOnGeneratedPngs) {
  TempDir d;
  for (int k = 0; k < 6; ++k) {
    Image img(4, 5, 3, static_cast<uint8_t>(k * 40));
    const std::string cls = k % 2 ? "b" : "a";
    fs::create_directories(d.path / cls);
    save_png(img, d.path / cls / (std::to_string(k) + ".png"));
  }
  DataBlock db({.blocks = {ImageBlock(), CategoryBlock()},
                .get_items = [](const Item& p) { return to_items(get_image_files(item_path(p))); },
                .get_y = parent_label,
                .splitter = RandomSplitter(0.34, 0)});
  DataLoaders dls = db.dataloaders(Item(d.path), {.bs = 2, .shuffle = false});
  Batch b = dls.valid().one_batch();
  EXPECT_TRUE(is_a<TensorImage>(b[0]));
  EXPECT_EQ(b[0].shape(), Shape({2, 3, 4, 5}));
  EXPECT_EQ(b[0].dtype(), DType::F32);
  // Pixel values are k*40/255 where k is the file's number, and the label is k's parity.
  auto x = b[0].to_vector<float>();
  auto y = b[1].to_vector<int64_t>();
  for (int i = 0; i < 2; ++i) {
    const int k = static_cast<int>(std::lround(x[static_cast<size_t>(i) * 60] * 255.0f / 40.0f));
    EXPECT_EQ(y[static_cast<size_t>(i)], k % 2);
  }
  // The batch decodes back to u8 through IntToFloatTensor.
  Item dec = dls.valid().batch_pipeline().decode(from_batch(b));
  EXPECT_EQ(dec[0].tensor().dtype(), DType::U8);
  EXPECT_EQ(static_cast<int>(dec[0].tensor().to_vector<float>()[0]), static_cast<int>(std::lround(x[0] * 255)));
  // A corrupt file: IOError naming it, reported by summary at the loading step.
  d.write("a/!bad.png", "not a png");  // sorts first
  DataBlock first_train({.blocks = {ImageBlock(), CategoryBlock()},
                         .get_items = [](const Item& p) { return to_items(get_image_files(item_path(p))); },
                         .get_y = parent_label,
                         .splitter = EndSplitter(0.34)});
  std::string s = first_train.summary(Item(d.path), nullptr);
  EXPECT_NE(s.find("applying PILImage.create failed"), std::string::npos) << s;
  EXPECT_NE(s.find("!bad.png"), std::string::npos) << s;
}

TEST(DataBlock, MnistTinyImageBlockBW) {
  const fs::path root = shared_data("mnist_tiny");
  if (root.empty()) GTEST_SKIP() << "../shared/data/mnist_tiny not present";
  DataBlock db({.blocks = {ImageBlock(ImageMode::BW), CategoryBlock()},
                .get_items = [](const Item& p) { return to_items(get_image_files(item_path(p))); },
                .get_y = parent_label,
                .splitter = GrandparentSplitter()});
  DataLoaders dls = db.dataloaders(Item(root), {.bs = 64, .seed = 0, .num_workers = 2});
  EXPECT_EQ(dls.train().n(), 709);
  EXPECT_EQ(dls.valid().n(), 699);
  Batch b = dls.one_batch();
  EXPECT_TRUE(is_a<TensorImageBW>(b[0]));
  EXPECT_EQ(b[0].shape(), Shape({64, 1, 28, 28}));
  EXPECT_EQ(b[0].dtype(), DType::F32);
  auto v = b[0].to_vector<float>();
  EXPECT_GE(*std::min_element(v.begin(), v.end()), 0.0f);
  EXPECT_LE(*std::max_element(v.begin(), v.end()), 1.0f);
  EXPECT_EQ(*meta_as<CategoryMeta>(b[1])->vocab, (std::vector<std::string>{"3", "7"}));
  int64_t n = 0;
  for (const Batch& vb : dls.valid()) n += vb[0].size(0);
  EXPECT_EQ(n, 699);
}

TEST(DataBlock, MnistTinyShowBatchWritesAPngGrid) {
  const fs::path root = shared_data("mnist_tiny");
  if (root.empty()) GTEST_SKIP() << "../shared/data/mnist_tiny not present";
  DataBlock db({.blocks = {ImageBlock(ImageMode::BW), CategoryBlock()},
                .get_items = [](const Item& p) { return to_items(get_image_files(item_path(p))); },
                .get_y = parent_label,
                .splitter = GrandparentSplitter()});
  DataLoaders dls = db.dataloaders(Item(root), {.bs = 16, .seed = 0});
  TempDir d;
  const fs::path png = d.path / "batch.png";
  dls.show_batch(png, {.max_n = 4});
  Image img = load_image(png);
  // Four 28x28 digits in a 2x2 grid, each cell scaled up to at least min_cell pixels, titled.
  EXPECT_GE(img.w, 2 * 96);
  EXPECT_GE(img.h, 2 * 96);
  const std::vector<uint8_t>& px = img.data;
  EXPECT_GT(std::count(px.begin(), px.end(), uint8_t{255}), 0);  // white background
  EXPECT_GT(std::count(px.begin(), px.end(), uint8_t{0}), 0);    // dark digit pixels and titles
}

TEST(DataBlock, CamvidTinyMaskBlock) {
  const fs::path root = shared_data("camvid_tiny");
  if (root.empty()) GTEST_SKIP() << "../shared/data/camvid_tiny not present";
  std::vector<std::string> codes;
  {
    std::ifstream f(root / "codes.txt");
    for (std::string line; std::getline(f, line);)
      if (!line.empty()) codes.push_back(line);
  }
  ASSERT_EQ(codes.size(), 32u);
  DataBlock db({.blocks = {ImageBlock(), MaskBlock(codes)},
                .get_items = [](const Item& p) { return to_items(get_image_files(item_path(p) / "images")); },
                .get_y = [root](const Item& p) {
                  const fs::path f = item_path(p);
                  return Item(root / "labels" / (f.stem().string() + "_P" + f.extension().string()));
                },
                .splitter = RandomSplitter(0.2, 0)});
  DataLoaders dls = db.dataloaders(Item(root), {.bs = 4, .seed = 0});
  Batch b = dls.one_batch();
  EXPECT_TRUE(is_a<TensorImage>(b[0]));
  EXPECT_EQ(b[0].shape(), Shape({4, 3, 96, 128}));
  EXPECT_TRUE(is_a<TensorMask>(b[1]));
  EXPECT_EQ(b[1].shape(), Shape({4, 96, 128}));
  EXPECT_EQ(b[1].dtype(), DType::I64);
  auto m = b[1].to_vector<int64_t>();
  EXPECT_GE(*std::min_element(m.begin(), m.end()), 0);
  EXPECT_LT(*std::max_element(m.begin(), m.end()), 32);
}
