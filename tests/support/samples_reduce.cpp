// Samples for the reduce family (see op_samples.h). Filled in by the reduce family's owner.
#include "support/op_samples.h"

namespace strata::testing {
std::vector<OpSample> samples_reduce() { return {}; }
}  // namespace strata::testing
