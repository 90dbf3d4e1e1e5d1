// The splitters: index arithmetic over the items.
#include "data/splitters.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <random>
#include <set>

#include "data/csv.h"
#include "data/rng.h"
#include "tensor/error.h"

namespace strata::data {

namespace {
uint64_t seed_or_random(std::optional<uint64_t> seed) {
  if (seed) return *seed;
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}
Splits from_valid_mask(const std::vector<bool>& valid) {
  Splits s(2);
  for (size_t i = 0; i < valid.size(); ++i) s[valid[i] ? 1 : 0].push_back(static_cast<int64_t>(i));
  return s;
}
void check_pct(const char* name, double pct) {
  STRATA_CHECK(pct >= 0.0 && pct <= 1.0, ValueError, "{}: valid_pct must be in [0, 1], got {}", name, pct);
}
}  // namespace

std::filesystem::path item_path(const Item& x) {
  if (x.is_path()) return x.path();
  if (x.is_str()) return std::filesystem::path(x.str());
  STRATA_THROW(ValueError, "expected a Path or a str naming a file, got {} {}", x.kind_name(), x.repr());
}

Splitter RandomSplitter(double valid_pct, std::optional<uint64_t> seed) {
  check_pct("RandomSplitter", valid_pct);
  return [valid_pct, seed](const std::vector<Item>& items) {
    const int64_t n = static_cast<int64_t>(items.size());
    Rng r(seed_or_random(seed));
    std::vector<int64_t> perm = r.permutation(n);
    const int64_t cut = static_cast<int64_t>(valid_pct * static_cast<double>(n));
    return Splits{std::vector<int64_t>(perm.begin() + cut, perm.end()), std::vector<int64_t>(perm.begin(), perm.begin() + cut)};
  };
}

Splitter GrandparentSplitter(std::string train_name, std::string valid_name) {
  return [train_name, valid_name](const std::vector<Item>& items) {
    Splits s(2);
    for (size_t i = 0; i < items.size(); ++i) {
      const std::string gp = item_path(items[i]).parent_path().parent_path().filename().string();
      if (gp == train_name) s[0].push_back(static_cast<int64_t>(i));
      else if (gp == valid_name) s[1].push_back(static_cast<int64_t>(i));
    }
    return s;
  };
}

Splitter IndexSplitter(std::vector<int64_t> valid_idx) {
  return [valid_idx](const std::vector<Item>& items) {
    const int64_t n = static_cast<int64_t>(items.size());
    std::vector<bool> valid(items.size(), false);
    for (int64_t i : valid_idx) {
      STRATA_CHECK(i >= 0 && i < n, IndexError, "IndexSplitter: index {} out of range for {} items", i, n);
      valid[static_cast<size_t>(i)] = true;
    }
    Splits s(2);
    for (int64_t i = 0; i < n; ++i)
      if (!valid[static_cast<size_t>(i)]) s[0].push_back(i);
    s[1] = valid_idx;
    return s;
  };
}

Splitter EndSplitter(double valid_pct, bool valid_last) {
  check_pct("EndSplitter", valid_pct);
  return [valid_pct, valid_last](const std::vector<Item>& items) {
    const int64_t n = static_cast<int64_t>(items.size());
    const int64_t cut = static_cast<int64_t>(valid_pct * static_cast<double>(n));
    Splits s(2);
    for (int64_t i = 0; i < n; ++i) {
      const bool valid = valid_last ? i >= n - cut : i < cut;
      s[valid ? 1 : 0].push_back(i);
    }
    return s;
  };
}

Splitter FuncSplitter(std::function<bool(const Item&)> f) {
  return [f](const std::vector<Item>& items) {
    std::vector<bool> valid;
    for (const Item& x : items) valid.push_back(f(x));
    return from_valid_mask(valid);
  };
}

Splitter MaskSplitter(std::vector<bool> mask) {
  return [mask](const std::vector<Item>& items) {
    STRATA_CHECK(mask.size() == items.size(), ValueError, "MaskSplitter: mask of {} for {} items", mask.size(),
                 items.size());
    return from_valid_mask(mask);
  };
}

Splitter FileSplitter(std::filesystem::path fname) {
  return [fname](const std::vector<Item>& items) {
    std::ifstream f(fname);
    STRATA_CHECK(f.good(), IOError, "FileSplitter: cannot read '{}'", fname.string());
    std::set<std::string> names;
    std::string line;
    while (std::getline(f, line)) {
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
      if (!line.empty()) names.insert(line);
    }
    std::vector<bool> valid;
    for (const Item& x : items) valid.push_back(names.count(item_path(x).filename().string()) > 0);
    return from_valid_mask(valid);
  };
}

Splitter ColSplitter(std::string col, std::optional<std::string> on) {
  return [col, on](const std::vector<Item>& items) {
    std::vector<bool> valid;
    for (const Item& x : items) {
      const Row* r = x.object_as<Row>();
      STRATA_CHECK(r != nullptr, ValueError, "ColSplitter: items must be table rows (Row), got {} {}", x.kind_name(),
                   x.repr());
      const std::string& v = r->at(col);
      valid.push_back(on ? v == *on : (v == "1" || v == "true" || v == "True" || v == "TRUE" || v == "yes"));
    }
    return from_valid_mask(valid);
  };
}

Splitter TrainTestSplitter(double test_size, std::optional<uint64_t> random_state,
                           std::function<Item(const Item&)> stratify, bool shuffle) {
  STRATA_CHECK(test_size > 0.0 && test_size < 1.0, ValueError, "TrainTestSplitter: test_size must be in (0, 1), got {}",
               test_size);
  return [test_size, random_state, stratify, shuffle](const std::vector<Item>& items) {
    const int64_t n = static_cast<int64_t>(items.size());
    const int64_t n_test = static_cast<int64_t>(std::ceil(test_size * static_cast<double>(n)));
    Splits s(2);
    if (!shuffle) {
      STRATA_CHECK(!stratify, ValueError, "TrainTestSplitter: stratify needs shuffle");
      for (int64_t i = 0; i < n; ++i) s[i < n - n_test ? 0 : 1].push_back(i);
      return s;
    }
    Rng r(seed_or_random(random_state));
    if (!stratify) {
      std::vector<int64_t> perm = r.permutation(n);
      s[1].assign(perm.begin(), perm.begin() + n_test);
      s[0].assign(perm.begin() + n_test, perm.end());
      return s;
    }
    // Stratified: each class gives floor(share) test items, the remainder going to the classes
    // with the largest fractional parts (sklearn's _approximate_mode), then shuffled picks.
    std::map<std::string, std::vector<int64_t>> classes;
    for (int64_t i = 0; i < n; ++i) classes[stratify(items[static_cast<size_t>(i)]).repr()].push_back(i);
    std::vector<std::pair<std::string, double>> frac;
    std::map<std::string, int64_t> take;
    int64_t given = 0;
    for (auto& [k, idx] : classes) {
      const double want = static_cast<double>(idx.size()) * static_cast<double>(n_test) / static_cast<double>(n);
      take[k] = static_cast<int64_t>(std::floor(want));
      given += take[k];
      frac.emplace_back(k, want - std::floor(want));
    }
    std::stable_sort(frac.begin(), frac.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    for (size_t j = 0; given < n_test && j < frac.size(); ++j, ++given) ++take[frac[j].first];
    for (auto& [k, idx] : classes) {
      r.shuffle(idx);
      const int64_t t = take[k];
      s[1].insert(s[1].end(), idx.begin(), idx.begin() + t);
      s[0].insert(s[0].end(), idx.begin() + t, idx.end());
    }
    r.shuffle(s[0]);
    r.shuffle(s[1]);
    return s;
  };
}

}  // namespace strata::data
