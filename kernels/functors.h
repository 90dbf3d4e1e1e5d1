#pragma once
// Per-element math, shared by the CPU loops (kernels/cpu/elementwise.cpp) and the CUDA kernels
// (kernels/cuda/elementwise.cu): one definition of each formula, so the CPU tests cover the
// math that runs on the GPU. T is the compute type (float for f16/bf16 data).
//
// Parametrized functors carry their scalars (p0, p1) as members.
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "tensor/macros.h"

namespace strata::kernels {

template <class T>
STRATA_HD_INLINE T sigmoid_value(T x) {
  // Stable for large |x|: exp of a non-positive number only.
  if (x >= T(0)) {
    const T z = std::exp(-x);
    return T(1) / (T(1) + z);
  }
  const T z = std::exp(x);
  return z / (T(1) + z);
}

template <class T>
STRATA_HD_INLINE T softplus_value(T x) {
  // log(1 + exp(x)) without overflow; above 20 it equals x in f32.
  return x > T(20) ? x : std::log1p(std::exp(x));
}

// A scalar parameter in the compute type. Integers go through i64 so that, e.g., u8 - 1 wraps
// (a negative double converted straight to an unsigned type is undefined behaviour).
template <class T>
STRATA_HD_INLINE T scalar_as(double v) {
  if constexpr (std::is_integral_v<T>) {
    return static_cast<T>(static_cast<int64_t>(v));
  } else {
    return static_cast<T>(v);
  }
}

#define STRATA_UNARY_FUNCTOR(Name, expr)                     \
  struct Name {                                              \
    double p0 = 0, p1 = 0;                                   \
    template <class T>                                       \
    STRATA_HD_INLINE T operator()(T x) const { return expr; } \
  };

STRATA_UNARY_FUNCTOR(NegF, -x)
// abs(-0) is +0 and relu(NaN) is NaN, as in PyTorch.
STRATA_UNARY_FUNCTOR(AbsF, x < T(0) ? -x : (x == T(0) ? T(0) : x))
STRATA_UNARY_FUNCTOR(ExpF, std::exp(x))
STRATA_UNARY_FUNCTOR(LogF, std::log(x))
STRATA_UNARY_FUNCTOR(Log1pF, std::log1p(x))
STRATA_UNARY_FUNCTOR(Expm1F, std::expm1(x))
STRATA_UNARY_FUNCTOR(SqrtF, std::sqrt(x))
STRATA_UNARY_FUNCTOR(RsqrtF, T(1) / std::sqrt(x))
STRATA_UNARY_FUNCTOR(SquareF, x* x)
STRATA_UNARY_FUNCTOR(ReciprocalF, T(1) / x)
STRATA_UNARY_FUNCTOR(ErfF, std::erf(x))
STRATA_UNARY_FUNCTOR(SinF, std::sin(x))
STRATA_UNARY_FUNCTOR(CosF, std::cos(x))
STRATA_UNARY_FUNCTOR(TanhF, std::tanh(x))
STRATA_UNARY_FUNCTOR(SigmoidF, sigmoid_value(x))
STRATA_UNARY_FUNCTOR(ReluF, (x > T(0) || x != x) ? x : T(0))
// exact GELU: x * Phi(x)
STRATA_UNARY_FUNCTOR(GeluF, x * T(0.5) * (T(1) + std::erf(x * T(0.70710678118654752440))))
STRATA_UNARY_FUNCTOR(SiluF, x * sigmoid_value(x))
STRATA_UNARY_FUNCTOR(SoftplusF, softplus_value(x))
STRATA_UNARY_FUNCTOR(MishF, x * std::tanh(softplus_value(x)))
STRATA_UNARY_FUNCTOR(SignF, T((x > T(0)) - (x < T(0))))
STRATA_UNARY_FUNCTOR(FloorF, std::floor(x))
STRATA_UNARY_FUNCTOR(CeilF, std::ceil(x))
STRATA_UNARY_FUNCTOR(RoundF, std::nearbyint(x))  // half to even, like torch.round
STRATA_UNARY_FUNCTOR(LeakyReluF, x > T(0) ? x : x * scalar_as<T>(p0))
STRATA_UNARY_FUNCTOR(ClampF, (p0 == p0 && x < scalar_as<T>(p0)) ? scalar_as<T>(p0) : ((p1 == p1 && x > scalar_as<T>(p1)) ? scalar_as<T>(p1) : x))
STRATA_UNARY_FUNCTOR(PowScalarF, T(std::pow(x, T(p0))))
STRATA_UNARY_FUNCTOR(RPowScalarF, T(std::pow(T(p0), x)))
STRATA_UNARY_FUNCTOR(AddScalarF, x + scalar_as<T>(p0))
STRATA_UNARY_FUNCTOR(MulScalarF, x* scalar_as<T>(p0))
#undef STRATA_UNARY_FUNCTOR

#define STRATA_BINARY_FUNCTOR(Name, expr)                          \
  struct Name {                                                    \
    template <class T>                                             \
    STRATA_HD_INLINE T operator()(T a, T b) const { return expr; } \
  };
STRATA_BINARY_FUNCTOR(AddF, a + b)
STRATA_BINARY_FUNCTOR(SubF, a - b)
STRATA_BINARY_FUNCTOR(MulF, a* b)
STRATA_BINARY_FUNCTOR(DivF, a / b)
STRATA_BINARY_FUNCTOR(PowF, T(std::pow(a, b)))
// NaN propagates like torch.maximum/minimum.
STRATA_BINARY_FUNCTOR(MaximumF, (a != a) ? a : ((b != b) ? b : (a > b ? a : b)))
STRATA_BINARY_FUNCTOR(MinimumF, (a != a) ? a : ((b != b) ? b : (a < b ? a : b)))
#undef STRATA_BINARY_FUNCTOR

#define STRATA_COMPARE_FUNCTOR(Name, expr)                            \
  struct Name {                                                       \
    template <class T>                                                \
    STRATA_HD_INLINE bool operator()(T a, T b) const { return expr; } \
  };
STRATA_COMPARE_FUNCTOR(EqF, a == b)
STRATA_COMPARE_FUNCTOR(NeF, a != b)
STRATA_COMPARE_FUNCTOR(LtF, a < b)
STRATA_COMPARE_FUNCTOR(LeF, a <= b)
STRATA_COMPARE_FUNCTOR(GtF, a > b)
STRATA_COMPARE_FUNCTOR(GeF, a >= b)
STRATA_COMPARE_FUNCTOR(LogicalAndF, (a != T(0)) && (b != T(0)))
STRATA_COMPARE_FUNCTOR(LogicalOrF, (a != T(0)) || (b != T(0)))
STRATA_COMPARE_FUNCTOR(LogicalXorF, (a != T(0)) != (b != T(0)))
#undef STRATA_COMPARE_FUNCTOR

// Two forms so that w = 0 gives a and w = 1 gives b exactly (PyTorch's lerp does the same).
struct LerpF {
  template <class T>
  STRATA_HD_INLINE T operator()(T a, T b, T w) const {
    return (w < T(0.5) && w > T(-0.5)) ? a + w * (b - a) : b - (b - a) * (T(1) - w);
  }
};

}  // namespace strata::kernels
