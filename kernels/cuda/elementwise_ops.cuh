#pragma once
// Per-element adapters from the shared math functors (kernels/functors.h) to storage types:
// load the storage type, compute in compute_t (f32 for f16/bf16), store the result type. Shared
// by the elementwise kernel files (elementwise_unary.cu, elementwise_binary.cu,
// elementwise_backward.cu).
#include <type_traits>

#include "kernels/elementwise.h"
#include "kernels/functors.h"
#include "tensor/dtype.h"

namespace strata::cuda {

using kernels::BinaryOp;
using kernels::UnaryOp;

// Integer inputs: ops that are integer arithmetic compute in the integer type (as on the CPU);
// the others (exp, floor, pow, ...) call the floating math in double, which is what the CPU's
// std:: overloads for integers do (the device has no integer overloads of them).
constexpr bool integer_native(UnaryOp op) {
  switch (op) {
    case UnaryOp::neg: case UnaryOp::abs: case UnaryOp::square: case UnaryOp::sign: case UnaryOp::relu:
    case UnaryOp::clamp: case UnaryOp::leaky_relu: case UnaryOp::add_scalar: case UnaryOp::mul_scalar:
      return true;
    default:
      return false;
  }
}

template <class T, bool Native>
using unary_compute_t = std::conditional_t<std::is_integral_v<T> && !Native, double, compute_t<T>>;

template <class T, class C, class F>
struct UnaryFn {
  F f;
  __device__ __forceinline__ T operator()(T x) const { return static_cast<T>(f(static_cast<C>(x))); }
};

template <class T, class C, class F>
struct BinaryFn {
  F f;
  __device__ __forceinline__ T operator()(T a, T b) const { return static_cast<T>(f(static_cast<C>(a), static_cast<C>(b))); }
};

template <class T, class F>
struct CompareFn {
  F f;
  __device__ __forceinline__ bool operator()(T a, T b) const {
    using C = compute_t<T>;
    return f(static_cast<C>(a), static_cast<C>(b));
  }
};

}  // namespace strata::cuda
