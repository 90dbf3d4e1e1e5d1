#pragma once
// A minimal CSV table (RFC 4180 quoting: "a, b" and "" for a quote inside quotes), enough for
// fastai's from_df / ColReader / ColSplitter uses. Rows are Items (object kind, type Row), so a
// DataBlock can get_items from a table and ColReader can read them.
//
//   CsvTable t = read_csv("labels.csv");          // header line first
//   std::vector<Item> rows = t.rows();
//   rows[0].object_as<Row>()->at("label");       // ValueError naming a missing column
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "data/item.h"

namespace strata::data {

// One row: the cells, with a shared header to find columns by name.
class Row {
 public:
  Row() = default;
  Row(std::shared_ptr<const std::vector<std::string>> header, std::vector<std::string> cells)
      : header_(std::move(header)), cells_(std::move(cells)) {}
  // The cell of column `col`; ValueError naming the column and the available ones when absent.
  const std::string& at(const std::string& col) const;
  const std::string& at(size_t i) const;
  bool has(const std::string& col) const;
  const std::vector<std::string>& cells() const { return cells_; }
  const std::vector<std::string>& header() const { return *header_; }

 private:
  std::shared_ptr<const std::vector<std::string>> header_;
  std::vector<std::string> cells_;
};

struct CsvTable {
  std::vector<std::string> header;
  std::vector<Row> data;
  size_t size() const { return data.size(); }
  std::vector<Item> rows() const;  // Item::object(Row) each
};

// Parses CSV text (first line = header). A row with a different number of cells -> ValueError
// naming the line.
CsvTable parse_csv(const std::string& text, char delim = ',');
// Reads a CSV file (IOError naming the path when it cannot be read).
CsvTable read_csv(const std::filesystem::path& path, char delim = ',');

}  // namespace strata::data
