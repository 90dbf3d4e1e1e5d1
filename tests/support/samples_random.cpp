// Samples for the random ops. Each sample draws from its own seeded Generator, so repeated calls
// return the same values (the op-list test calls each function more than once). The draw is made
// on the device of the sample's (dtype-carrying) input, so the CUDA op-list test draws on the GPU
// from the same seed (Philox: the same values on CPU and CUDA).
#include "support/op_samples.h"

namespace strata::testing {
namespace {
using TL = std::vector<Tensor>;
OpSample random_sample(const std::string& op, std::function<Tensor(TensorOptions, Generator*)> draw) {
  return OpSample{op, "seeded", [](DType dt) { return TL{zeros({1}, {.dtype = dt})}; },
                  [draw](const TL& in) {
                    Generator gen(99);
                    return draw({.dtype = in[0].dtype(), .device = in[0].device()}, &gen).to(in[0].dtype());
                  }};
}
TensorOptions as_i64(TensorOptions o) { return {.dtype = DType::I64, .device = o.device}; }
}  // namespace

std::vector<OpSample> samples_random() {
  return {
      random_sample("rand", [](TensorOptions o, Generator* g) { return rand({3, 5}, o, g); }),
      random_sample("randn", [](TensorOptions o, Generator* g) { return randn({4, 3}, o, g); }),
      random_sample("randint", [](TensorOptions o, Generator* g) { return randint(-3, 7, {10}, as_i64(o), g); }),
      random_sample("randperm", [](TensorOptions o, Generator* g) { return randperm(9, as_i64(o), g); }),
      random_sample("bernoulli", [](TensorOptions o, Generator* g) { return bernoulli(full({8}, 0.3, o), g); }),
  };
}

}  // namespace strata::testing
