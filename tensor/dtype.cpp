#include "tensor/dtype.h"

namespace strata {

DType promote_types(DType a, DType b) {
  if (a == b) return a;
  if (a == DType::F64 || b == DType::F64) return DType::F64;
  if (a == DType::F32 || b == DType::F32) return DType::F32;
  const bool fa = is_floating(a), fb = is_floating(b);
  if (fa && fb) return DType::F32;  // f16 with bf16
  if (fa) return a;
  if (fb) return b;
  // both integral or bool: rank bool < u8 < i32 < i64
  auto rank = [](DType d) {
    switch (d) {
      case DType::Bool: return 0;
      case DType::U8: return 1;
      case DType::I32: return 2;
      default: return 3;
    }
  };
  return rank(a) >= rank(b) ? a : b;
}

}  // namespace strata
