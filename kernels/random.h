#pragma once
// Random kernels: fill a contiguous tensor from Philox blocks starting at `offset` under `seed`.
// Element i uses block offset + i / 4, lane i % 4 (normal: Box-Muller over lane pairs).
#include <cstdint>

#include "tensor/tensor.h"

namespace strata::kernels {

enum class Distribution : uint8_t { Uniform, Normal, Bernoulli };

// Number of Philox blocks a draw of n elements consumes.
inline uint64_t philox_blocks(int64_t n) { return static_cast<uint64_t>((n + 3) / 4); }

// out = low + (high - low) * U   |   mean + std * N   |   U < p  (p: a tensor of out's shape)
void random_fill(const Tensor& out, Distribution dist, double a, double b, uint64_t seed, uint64_t offset,
                 const Tensor& p = Tensor());

namespace cpu {
void random_fill(const Tensor& out, Distribution dist, double a, double b, uint64_t seed, uint64_t offset,
                 const Tensor& p);
}

}  // namespace strata::kernels
