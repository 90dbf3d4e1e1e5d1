#pragma once
// Arithmetic that rounds every step, on the host and on the device alike. nvcc contracts
// `a * b + c` into one fused multiply-add (one rounding instead of two) by default; the host
// compiler here does not. Where a CPU kernel and its CUDA twin must agree bit for bit (a sampled
// position that picks a source pixel, a random draw scaled into [low, high)), the shared functor
// spells its products and sums with these, which compile to the plain operators on the host and to
// the never-contracted __fmul_rn / __fadd_rn family on the device.
#include "tensor/macros.h"

namespace strata::kernels {

STRATA_HD_INLINE float mul_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}
STRATA_HD_INLINE double mul_rn(double a, double b) {
#if defined(__CUDA_ARCH__)
  return __dmul_rn(a, b);
#else
  return a * b;
#endif
}
STRATA_HD_INLINE float add_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}
STRATA_HD_INLINE double add_rn(double a, double b) {
#if defined(__CUDA_ARCH__)
  return __dadd_rn(a, b);
#else
  return a + b;
#endif
}

}  // namespace strata::kernels
