// Samples for the random ops. Each sample draws from its own seeded Generator, so repeated calls
// return the same values (the op-list test calls each function more than once).
#include "support/op_samples.h"

namespace strata::testing {
namespace {
using TL = std::vector<Tensor>;
OpSample random_sample(const std::string& op, std::function<Tensor(DType, Generator*)> draw) {
  return OpSample{op, "seeded", [](DType dt) { return TL{zeros({1}, {.dtype = dt})}; },
                  [draw](const TL& in) {
                    Generator gen(99);
                    return draw(in[0].dtype(), &gen).to(in[0].dtype());
                  }};
}
}  // namespace

std::vector<OpSample> samples_random() {
  return {
      random_sample("rand", [](DType dt, Generator* g) { return rand({3, 5}, {.dtype = dt}, g); }),
      random_sample("randn", [](DType dt, Generator* g) { return randn({4, 3}, {.dtype = dt}, g); }),
      random_sample("randint", [](DType, Generator* g) { return randint(-3, 7, {10}, {.dtype = DType::I64}, g); }),
      random_sample("randperm", [](DType, Generator* g) { return randperm(9, {.dtype = DType::I64}, g); }),
      random_sample("bernoulli", [](DType dt, Generator* g) { return bernoulli(full({8}, 0.3, {.dtype = dt}), g); }),
  };
}

}  // namespace strata::testing
