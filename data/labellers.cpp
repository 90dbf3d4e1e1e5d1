// parent_label, RegexLabeller, ColReader.
#include "data/labellers.h"

#include "data/csv.h"
#include "data/splitters.h"
#include "tensor/error.h"

namespace strata::data {

Item parent_label(const Item& o) { return Item(item_path(o).parent_path().filename().string()); }

RegexLabeller::RegexLabeller(std::string pattern, bool match) : pattern_(std::move(pattern)), match_(match) {
  try {
    re_ = std::regex(pattern_);
  } catch (const std::regex_error& e) {
    STRATA_THROW(ValueError, "RegexLabeller: invalid pattern \"{}\": {}", pattern_, e.what());
  }
  STRATA_CHECK(re_.mark_count() >= 1, ValueError, "RegexLabeller: pattern \"{}\" has no group to take the label from",
               pattern_);
}

Item RegexLabeller::operator()(const Item& o) const {
  const std::string s = o.is_path() ? o.path().string() : o.is_str() ? o.str() : o.repr();
  std::smatch m;
  const bool found = match_ ? std::regex_search(s, m, re_, std::regex_constants::match_continuous)
                            : std::regex_search(s, m, re_);
  STRATA_CHECK(found, ValueError, "RegexLabeller: failed to find \"{}\" in \"{}\"", pattern_, s);
  return Item(m[1].str());
}

Item ColReader::read_one(const Item& row, const std::string& col) const {
  const Row* r = row.object_as<Row>();
  STRATA_CHECK(r != nullptr, ValueError, "ColReader: items must be table rows (Row), got {} {}", row.kind_name(),
               row.repr());
  const std::string& v = r->at(col);
  if (opts_.label_delim) {
    std::vector<Item> labels;
    size_t start = 0;
    while (start <= v.size()) {
      size_t end = v.find(*opts_.label_delim, start);
      if (end == std::string::npos) end = v.size();
      if (end > start) labels.emplace_back(opts_.pref + v.substr(start, end - start) + opts_.suff);
      start = end + 1;
    }
    return Item::list(std::move(labels));
  }
  std::string s = opts_.pref + v + opts_.suff;
  if (opts_.as_path) return Item(std::filesystem::path(s));
  return Item(std::move(s));
}

Item ColReader::operator()(const Item& row) const {
  if (cols_.size() == 1) return read_one(row, cols_[0]);
  std::vector<Item> out;
  for (const auto& c : cols_) out.push_back(read_one(row, c));
  return Item::list(std::move(out));
}

}  // namespace strata::data
