#pragma once
// Splitters (fastai's data/transforms.py): a function from the items to (train indices, valid
// indices). Each factory returns a Splitter; DataBlock calls it on the collected items.
//
//   Splits s = RandomSplitter(0.2, 42)(items);   s[0] train, s[1] valid
//
// Items that name files may be Paths or strings; ColSplitter reads Row items (data/csv.h).
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "data/item.h"
#include "data/tfmd_lists.h"

namespace strata::data {

using Splitter = std::function<Splits(const std::vector<Item>&)>;

// A random permutation cut at int(valid_pct * n): valid = its first cut indices, train = the
// rest. The permutation depends on `seed` only (random when none).
Splitter RandomSplitter(double valid_pct = 0.2, std::optional<uint64_t> seed = std::nullopt);
// Items whose grandparent directory is named train_name / valid_name (others are left out).
Splitter GrandparentSplitter(std::string train_name = "train", std::string valid_name = "valid");
// valid = valid_idx, train = every other index (in order).
Splitter IndexSplitter(std::vector<int64_t> valid_idx);
// The last (or, valid_last false, the first) int(valid_pct * n) items are the validation set.
Splitter EndSplitter(double valid_pct = 0.2, bool valid_last = true);
// valid = items for which f is true.
Splitter FuncSplitter(std::function<bool(const Item&)> f);
// valid = items whose mask entry is true (ValueError when the lengths differ).
Splitter MaskSplitter(std::vector<bool> mask);
// valid = items whose file name is one of the lines of `fname` (IOError when unreadable).
Splitter FileSplitter(std::filesystem::path fname);
// Row items: valid where column `col` is truthy (1/true/True/yes) or, when `on` is given,
// equals it. ValueError naming a missing column.
Splitter ColSplitter(std::string col = "is_valid", std::optional<std::string> on = std::nullopt);
// sklearn's train_test_split: test = ceil(test_size * n) items drawn at random (seed
// random_state), train = the rest; stratify (a label per item) keeps each class's share in both
// sets; shuffle false takes the last items as the test set.
Splitter TrainTestSplitter(double test_size = 0.2, std::optional<uint64_t> random_state = std::nullopt,
                           std::function<Item(const Item&)> stratify = {}, bool shuffle = true);

// The path an item names (a Path, or a str read as one); ValueError for other kinds.
std::filesystem::path item_path(const Item& x);

}  // namespace strata::data
