#include "tensor/ops/check.h"

#include "autograd/grad_mode.h"

namespace strata {

void check_defined(const char* op, const Tensor& t, const char* arg) {
  STRATA_CHECK(t.defined(), ValueError, "{}: {} is an undefined tensor", op, arg);
}

void check_same_device(const char* op, const Tensor& a, const Tensor& b) {
  STRATA_CHECK(a.device() == b.device(), DeviceError,
               "{}: expected tensors on the same device, got {} (shape {}) and {} (shape {})", op,
               a.device(), a.shape(), b.device(), b.shape());
}

void check_floating(const char* op, const Tensor& t) {
  STRATA_CHECK(t.is_floating_point(), DTypeError, "{}: expected a floating tensor, got dtype {} (shape {})",
               op, t.dtype(), t.shape());
}

Tensor kernel_input(const Tensor& t, DType dtype, const Shape& shape) {
  if (t.dtype() == dtype && t.shape() == shape) return t;
  NoGradGuard no_grad;
  Tensor r = t.dtype() == dtype ? t : t.to(dtype);
  return r.shape() == shape ? r : r.expand(shape);
}

}  // namespace strata
