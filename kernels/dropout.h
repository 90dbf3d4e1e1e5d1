#pragma once
// Dropout kernel entry point. The mask is drawn from Philox4x32-10 (kernels/philox.h) exactly
// like the random kernels: element i (row-major) uses block offset + i / 4, lane i % 4, so a
// (seed, offset) pair gives the same mask for any thread count and on any device, and backward
// can regenerate it instead of saving it.
#include <cstdint>

#include "tensor/tensor.h"

namespace strata::kernels {

// out[i] = keep_i ? x[i] * scale : 0 with keep_i = (U_i < 1 - p), scale = 1 / (1 - p); with x
// undefined, x[i] = 1 (out is then the scaled mask). out (and x) contiguous, floating, same
// shape; 0 <= p < 1.
void dropout_fill(const Tensor& out, const Tensor& x, double p, uint64_t seed, uint64_t offset);

namespace cpu {
void dropout_fill(const Tensor& out, const Tensor& x, double p, uint64_t seed, uint64_t offset);
}

}  // namespace strata::kernels
