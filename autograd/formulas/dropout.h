#pragma once
// Recording of dropout on the autograd graph. The mask is not saved: backward regenerates it
// from the Philox state (seed, offset) the forward drew with, which costs a few integer rounds per
// four elements instead of a mask-sized buffer kept alive until backward.
#include <cstdint>

#include "tensor/tensor.h"

namespace strata::autograd {

void record_dropout(const Tensor& x, double p, uint64_t seed, uint64_t offset, const Tensor& out);

}  // namespace strata::autograd
