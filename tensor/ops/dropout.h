#pragma once
// Dropout from the counter-based Philox generator (tensor/ops/random.h): a draw reserves
// ceil(n / 4) blocks from the generator and element i (row-major) is kept when its uniform is
// below 1 - p, so one seed gives one mask for any thread count and any device. Kept values are
// scaled by 1 / (1 - p) (inverted dropout); eval mode and p = 0 are the identity, p = 1 gives zeros.
//
//   Tensor h = strata::dropout(x, 0.5, /*training=*/true);
//   Tensor m = strata::dropout_mask(x, {x.size(0), 1, x.size(2)}, 0.3);  // locked over dim 1
//   Tensor y = x * m;
#include <cstdint>

#include "tensor/ops/random.h"
#include "tensor/tensor.h"

namespace strata {

Tensor dropout(const Tensor& x, double p, bool training = true, Generator* gen = nullptr);

// Channel-wise dropout of [N, C, ...] (usually [N, C, H, W]): one draw per (n, c) zeroes or
// scales the whole channel. x must have at least 2 dims.
Tensor dropout2d(const Tensor& x, double p, bool training = true, Generator* gen = nullptr);

// A scaled dropout mask of shape mask_shape in like's dtype and device: each value is 0 (with
// probability p) or 1 / (1 - p). For variational / locked dropout and weight-drop the caller
// broadcast-multiplies it (x * mask), so one mask serves many time steps.
Tensor dropout_mask(const Tensor& like, const Shape& mask_shape, double p, Generator* gen = nullptr);

// dropout with an explicit Philox state: the mask a generator at (seed, offset) would draw.
// Backward regenerates the mask this way instead of saving it.
Tensor dropout_with_state(const Tensor& x, double p, uint64_t seed, uint64_t offset);

}  // namespace strata
