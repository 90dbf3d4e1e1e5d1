// The block factories.
#include "data/block.h"

#include "data/categorize.h"

namespace strata::data {

TransformBlock CategoryBlock(std::optional<std::vector<Item>> vocab, bool sort, bool add_na) {
  return {.name = "CategoryBlock", .type_tfms = {std::make_shared<Categorize>(std::move(vocab), sort, add_na)}};
}

TransformBlock MultiCategoryBlock(std::optional<std::vector<Item>> vocab, bool add_na) {
  return {.name = "MultiCategoryBlock",
          .type_tfms = {std::make_shared<MultiCategorize>(std::move(vocab), add_na), std::make_shared<OneHotEncode>()}};
}

TransformBlock RegressionBlock(std::optional<int64_t> n_out) {
  return {.name = "RegressionBlock", .type_tfms = {std::make_shared<RegressionSetup>(n_out)}};
}

}  // namespace strata::data
