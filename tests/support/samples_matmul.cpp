// Samples for the matmul family (see op_samples.h). Filled in by the matmul family's owner.
#include "support/op_samples.h"

namespace strata::testing {
std::vector<OpSample> samples_matmul() { return {}; }
}  // namespace strata::testing
