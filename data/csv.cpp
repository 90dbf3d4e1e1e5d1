// CSV parsing with quotes; Row column lookup with clear errors.
#include "data/csv.h"

#include <fstream>
#include <sstream>

#include "tensor/error.h"

namespace strata::data {

namespace {
std::string join_cols(const std::vector<std::string>& h) {
  std::string s;
  for (size_t i = 0; i < h.size(); ++i) s += (i ? ", " : "") + h[i];
  return s;
}
}  // namespace

bool Row::has(const std::string& col) const {
  if (!header_) return false;
  for (const auto& h : *header_)
    if (h == col) return true;
  return false;
}

const std::string& Row::at(const std::string& col) const {
  if (header_)
    for (size_t i = 0; i < header_->size(); ++i)
      if ((*header_)[i] == col) return cells_.at(i);
  STRATA_THROW(ValueError, "Row: no column '{}' (columns: {})", col, header_ ? join_cols(*header_) : "");
}

const std::string& Row::at(size_t i) const {
  STRATA_CHECK(i < cells_.size(), IndexError, "Row: column {} out of range ({} columns)", i, cells_.size());
  return cells_[i];
}

std::vector<Item> CsvTable::rows() const {
  std::vector<Item> out;
  out.reserve(data.size());
  for (const auto& r : data) out.push_back(Item::object(r));
  return out;
}

CsvTable parse_csv(const std::string& text, char delim) {
  std::vector<std::vector<std::string>> lines;
  std::vector<std::string> cur;
  std::string cell;
  bool in_quotes = false, any = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          cell += '"';
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        cell += c;
      }
      continue;
    }
    if (c == '"') {
      in_quotes = true;
      any = true;
    } else if (c == delim) {
      cur.push_back(std::move(cell));
      cell.clear();
      any = true;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      if (any || !cell.empty()) {
        cur.push_back(std::move(cell));
        lines.push_back(std::move(cur));
      }
      cur.clear();
      cell.clear();
      any = false;
    } else {
      cell += c;
      any = true;
    }
  }
  STRATA_CHECK(!in_quotes, ValueError, "read_csv: unterminated quoted cell");
  if (any || !cell.empty()) {
    cur.push_back(std::move(cell));
    lines.push_back(std::move(cur));
  }
  CsvTable t;
  if (lines.empty()) return t;
  t.header = lines[0];
  auto header = std::make_shared<const std::vector<std::string>>(t.header);
  for (size_t l = 1; l < lines.size(); ++l) {
    STRATA_CHECK(lines[l].size() == t.header.size(), ValueError, "read_csv: line {} has {} cells but the header has {}",
                 l + 1, lines[l].size(), t.header.size());
    t.data.emplace_back(header, std::move(lines[l]));
  }
  return t;
}

CsvTable read_csv(const std::filesystem::path& path, char delim) {
  std::ifstream f(path, std::ios::binary);
  STRATA_CHECK(f.good(), IOError, "read_csv: cannot open '{}'", path.string());
  std::stringstream ss;
  ss << f.rdbuf();
  try {
    return parse_csv(ss.str(), delim);
  } catch (const ValueError& e) {
    STRATA_THROW(ValueError, "{} (in '{}')", e.what(), path.string());
  }
}

}  // namespace strata::data
