// Dropout front ends. dropout draws its mask inside the kernel (fused with the multiply) from a
// Philox range reserved on the generator; dropout2d and dropout_mask draw a small scaled mask and
// broadcast-multiply it, so their gradient comes from mul.
#include "tensor/ops/dropout.h"

#include "autograd/formulas/dropout.h"
#include "kernels/dropout.h"
#include "kernels/random.h"
#include "tensor/ops.h"
#include "tensor/semantic.h"

namespace strata {
namespace {

void check_p(const char* op, const Tensor& x, double p) {
  STRATA_CHECK(p >= 0.0 && p <= 1.0, ValueError, "{}: p must be in [0, 1], got {}", op, p);
  STRATA_CHECK(x.is_floating_point(), DTypeError, "{}: input must be floating, got {}", op, x.dtype());
}

}  // namespace

Tensor dropout_with_state(const Tensor& x, double p, uint64_t seed, uint64_t offset) {
  check_p("dropout", x, p);
  Tensor out;
  if (p >= 1.0) {
    out = zeros(x.shape(), {.dtype = x.dtype(), .device = x.device()});
  } else {
    out = empty(x.shape(), {.dtype = x.dtype(), .device = x.device()});
    kernels::dropout_fill(out, x.contiguous(), p, seed, offset);
  }
  autograd::record_dropout(x, p, seed, offset, out);
  propagate_semantics(out, {&x});
  return out;
}

Tensor dropout(const Tensor& x, double p, bool training, Generator* gen) {
  check_p("dropout", x, p);
  if (!training || p == 0.0) return x;
  const auto [seed, offset] = reserve_philox(gen, kernels::philox_blocks(x.numel()));
  return dropout_with_state(x, p, seed, offset);
}

Tensor dropout_mask(const Tensor& like, const Shape& mask_shape, double p, Generator* gen) {
  check_p("dropout_mask", like, p);
  const TensorOptions opts{.dtype = like.dtype(), .device = like.device()};
  if (p >= 1.0) return zeros(mask_shape, opts);
  Tensor mask = empty(mask_shape, opts);
  const auto [seed, offset] = reserve_philox(gen, kernels::philox_blocks(mask.numel()));
  kernels::dropout_fill(mask, Tensor(), p, seed, offset);
  return mask;
}

Tensor dropout2d(const Tensor& x, double p, bool training, Generator* gen) {
  check_p("dropout2d", x, p);
  STRATA_CHECK(x.dim() >= 2, ShapeError, "dropout2d: input must be [N, C, ...] with at least 2 dims, got shape {}",
               x.shape());
  if (!training || p == 0.0) return x;
  std::vector<int64_t> dims(static_cast<size_t>(x.dim()), 1);
  dims[0] = x.size(0);
  dims[1] = x.size(1);
  Tensor out = x * dropout_mask(x, Shape(dims), p, gen);
  propagate_semantics(out, {&x});
  return out;
}

}  // namespace strata
