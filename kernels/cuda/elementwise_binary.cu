// CUDA binary elementwise kernels and comparisons (kernels/defs/binary.def, compare.def), where
// and lerp, on the shared functors of kernels/functors.h. Inputs arrive converted to one dtype
// and expanded to the output's shape (stride-0 broadcast dims take the strided kernel).
// Registered into the CUDA kernel table (binary, where, lerp) at start-up.
#include "kernels/cuda/elementwise_ops.cuh"
#include "kernels/cuda/loops.cuh"

namespace strata::cuda {
namespace {

template <class T>
struct WhereFn {
  __device__ __forceinline__ T operator()(bool c, T a, T b) const { return c ? a : b; }
};

template <class T>
struct LerpFn {
  __device__ __forceinline__ T operator()(T a, T b, T w) const {
    using C = compute_t<T>;
    return static_cast<T>(kernels::LerpF{}(static_cast<C>(a), static_cast<C>(b), static_cast<C>(w)));
  }
};

// pow on integers computes in double (the CPU's std::pow for integers does the same).
template <class F, bool Compare>
void binary_dispatch(const F& f, const Tensor& a, const Tensor& b, const Tensor& out) {
  visit_dtype(a.dtype(), [&]<class T>() {
    if constexpr (Compare) {
      launch_elementwise<bool, T, T>(CompareFn<T, F>{f}, out, {&a, &b});
    } else if constexpr (std::is_same_v<T, bool>) {
      STRATA_THROW(DTypeError, "arithmetic on bool tensors is not supported; convert with to()");
    } else {
      using C = std::conditional_t<std::is_integral_v<T> && std::is_same_v<F, kernels::PowF>, double, compute_t<T>>;
      launch_elementwise<T, T, T>(BinaryFn<T, C, F>{f}, out, {&a, &b});
    }
  });
}

void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  switch (op) {
#define BINARY(name, F, diff) \
  case BinaryOp::name: return binary_dispatch<kernels::F, false>(kernels::F{}, a, b, out);
#include "kernels/defs/binary.def"
#undef BINARY
#define COMPARE(name, F) \
  case BinaryOp::name: return binary_dispatch<kernels::F, true>(kernels::F{}, a, b, out);
#include "kernels/defs/compare.def"
#undef COMPARE
  }
}

void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) {
  visit_dtype(out.dtype(), [&]<class T>() { launch_elementwise<T, bool, T, T>(WhereFn<T>{}, out, {&cond, &a, &b}); });
}

void lerp(const Tensor& a, const Tensor& b, const Tensor& w, const Tensor& out) {
  visit_floating(out.dtype(), "lerp", [&]<class T>() { launch_elementwise<T, T, T, T>(LerpFn<T>{}, out, {&a, &b, &w}); });
}

const bool g_registered = register_kernels([](kernels::CudaTable& t) {
  t.binary = &binary;
  t.where = &where;
  t.lerp = &lerp;
});

}  // namespace
}  // namespace strata::cuda
