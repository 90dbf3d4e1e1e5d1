#include "support/op_samples.h"

namespace strata::testing {

const std::vector<OpSample>& all_op_samples() {
  static const std::vector<OpSample> all = [] {
    std::vector<OpSample> v;
    // One family per line (keeps merges of new families conflict-free).
    for (auto family : {
             samples_elementwise,
             samples_movement,
             samples_reduce,
             samples_index,
             samples_matmul,
             samples_random,
             samples_loss,
             samples_pool,
             samples_embedding,
             samples_conv,
             samples_norm,
             samples_resample,
             samples_rnn,
         }) {
      auto s = family();
      v.insert(v.end(), s.begin(), s.end());
    }
    return v;
  }();
  return all;
}

Tensor sample_tensor(const Shape& shape, DType dtype, uint64_t seed, double low, double high, bool requires_grad) {
  Generator gen(seed);
  Tensor t = (rand(shape, {.dtype = DType::F64}, &gen) * (high - low) + low).to(dtype);
  if (requires_grad && is_floating(dtype)) t.requires_grad_(true);
  return t;
}

}  // namespace strata::testing
