// Samples for the index family (see op_samples.h). Filled in by the index family's owner.
#include "support/op_samples.h"

namespace strata::testing {
std::vector<OpSample> samples_index() { return {}; }
}  // namespace strata::testing
