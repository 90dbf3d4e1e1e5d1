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

void check_writable(const char* op, const Tensor& dst) {
  for (int64_t d = 0; d < dst.dim(); ++d) {
    STRATA_CHECK(dst.stride(d) != 0 || dst.size(d) <= 1, ValueError,
                 "{}: cannot write in place to a tensor of shape {} whose elements overlap in memory "
                 "(strides {}, e.g. an expanded view); call contiguous() or clone() first",
                 op, dst.shape(), dst.strides());
  }
}

bool can_cast(DType from, DType to) {
  if (is_floating(from) && !is_floating(to)) return false;
  if (from != DType::Bool && to == DType::Bool) return false;
  return true;
}

void check_can_cast(const char* op, DType result, const Tensor& dst) {
  STRATA_CHECK(can_cast(result, dst.dtype()), DTypeError,
               "{}: the result has dtype {}, which cannot be written in place into a tensor of dtype {} "
               "(shape {})",
               op, result, dst.dtype(), dst.shape());
}

bool overlaps_differently(const Tensor& a, const Tensor& b) {
  if (!a.shares_storage(b) || a.numel() == 0 || b.numel() == 0) return false;
  return !(a.offset() == b.offset() && a.shape() == b.shape() && a.strides() == b.strides() &&
           a.dtype() == b.dtype());
}

Tensor kernel_input(const Tensor& t, DType dtype, const Shape& shape) {
  if (t.dtype() == dtype && t.shape() == shape) return t;
  NoGradGuard no_grad;
  Tensor r = t.dtype() == dtype ? t : t.to(dtype);
  return r.shape() == shape ? r : r.expand(shape);
}

}  // namespace strata
