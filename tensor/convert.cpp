// Copies and conversions: clone, to(dtype), to(device), copy_, fill_.
#include "autograd/formulas/elementwise.h"
#include "autograd/record.h"
#include "kernels/elementwise.h"
#include "tensor/ops.h"
#include "tensor/ops/check.h"
#include "tensor/semantic.h"

namespace strata {

Tensor Tensor::clone() const {
  Tensor out = empty(shape(), {.dtype = dtype(), .device = device()});
  kernels::copy(*this, out);
  autograd::record_identity(*this, out, "CloneBackward");
  return propagate_semantics(out, {this});
}

Tensor Tensor::to(DType dt) const {
  if (dt == dtype()) return *this;
  Tensor out = empty(shape(), {.dtype = dt, .device = device()});
  kernels::copy(*this, out);
  if (is_floating(dt)) autograd::record_to_dtype(*this, out);
  return propagate_semantics(out, {this});
}

Tensor Tensor::to(Device dev) const {
  if (dev == device()) return *this;
  Tensor out = empty(shape(), {.dtype = dtype(), .device = dev});
  kernels::copy(*this, out);
  autograd::record_to_device(*this, out);
  return propagate_semantics(out, {this});
}

Tensor& Tensor::copy_(const Tensor& src) {
  autograd::check_inplace("copy_", *this);
  check_writable("copy_", *this);
  STRATA_CHECK(src.defined(), ValueError, "copy_: source is undefined");
  Tensor s = src;
  {
    NoGradGuard no_grad;
    if (s.shape() != shape()) {
      const Shape b = broadcast_shapes("copy_", s.shape(), shape());
      STRATA_CHECK(b == shape(), ShapeError, "copy_: a source of shape {} cannot be broadcast to the destination shape {}",
                   s.shape(), shape());
      s = s.expand(shape());
    }
    // Reading a view of the destination while writing it would see overwritten values.
    if (overlaps_differently(s, *this)) s = s.clone();
  }
  kernels::copy(s, *this);
  bump_version();
  return *this;
}

Tensor& Tensor::fill_(double value) {
  autograd::check_inplace("fill_", *this);
  check_writable("fill_", *this);
  kernels::fill(*this, value);
  bump_version();
  return *this;
}

}  // namespace strata
