#pragma once
// Labellers and getters (fastai's data/transforms.py): functions from an item to its label.
//
//   parent_label(Path("pets/cat/1.jpg"))                       -> 'cat'
//   RegexLabeller(R"(([^/]+)_\d+\.jpg$)")(Path("a/beagle_3.jpg")) -> 'beagle'
//   ColReader("label")(row) -> 'cat';  ColReader("tags", {.label_delim = ' '})(row) -> ['a', 'b']
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "data/item.h"

namespace strata::data {

// The name of the directory holding the file (Path or str item), as a str.
Item parent_label(const Item& o);

// fastai's RegexLabeller: the first group of `pattern` searched (match: matched from the start)
// in the item's path string. No match -> ValueError naming the pattern and the file.
class RegexLabeller {
 public:
  explicit RegexLabeller(std::string pattern, bool match = false);
  Item operator()(const Item& o) const;
  const std::string& pattern() const { return pattern_; }

 private:
  std::string pattern_;
  std::regex re_;
  bool match_;
};

struct ColReaderOptions {
  std::string pref{};                    // prepended to the value
  std::string suff{};                    // appended
  std::optional<char> label_delim{};     // split the value into a List of labels
  bool as_path = false;                // return Path(pref + value + suff) rather than a str
};

// fastai's ColReader over Row items (data/csv.h): the value of column `col` (one column) or a
// List of values (several). A missing column -> ValueError naming it.
class ColReader {
 public:
  explicit ColReader(std::string col, ColReaderOptions opts = {}) : cols_{std::move(col)}, opts_(std::move(opts)) {}
  explicit ColReader(std::vector<std::string> cols, ColReaderOptions opts = {})
      : cols_(std::move(cols)), opts_(std::move(opts)) {}
  Item operator()(const Item& row) const;

 private:
  Item read_one(const Item& row, const std::string& col) const;
  std::vector<std::string> cols_;
  ColReaderOptions opts_;
};

}  // namespace strata::data
