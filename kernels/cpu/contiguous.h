#pragma once
// The hot contiguous loops of the elementwise kernels (kernels/cpu/elementwise.cpp), for f32 and
// f64 data: out[i] = f(a[i]) and out[i] = f(a[i], b[i]) with b (or a) possibly one broadcast
// scalar.
//
// Each loop is compiled for AVX-512F, x86-64-v3 (AVX2 + FMA) and baseline x86-64 (GCC
// target_clones) and the loader picks the best the CPU has, so a generic build still runs 8- or
// 16-wide where it matters (compute-bound functors like exp; memory-bound adds are fine at any
// width). In the FMA clones GCC contracts a * b + c into one rounding (exp's polynomial, lerp,
// gelu, ...): such functors may differ in the last bit between CPUs with and without FMA, each
// result staying within its documented accuracy; functors of one operation (add, mul, div,
// max, compares, ...) give the same bits on every path. Results never depend on the thread count.
// (Non-temporal stores for outputs larger than the cache were tried and measured: no gain on
// adds, a 3x loss on exp, so they are not used.)
#include <cstdint>

#include "tensor/dtype.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define STRATA_CPU_CLONES __attribute__((target_clones("avx512f", "arch=x86-64-v3", "default")))
#else
#define STRATA_CPU_CLONES
#endif

namespace strata::kernels::cpu {

enum class Operands { kBoth, kScalarB, kScalarA };  // which inputs advance with i

// out[i] = f(a[i]) for i < n.
template <class T, class R, class F>
STRATA_CPU_CLONES void unary_contiguous(const F& f, R* o, const T* a, int64_t n) {
  using C = compute_t<T>;
  for (int64_t i = 0; i < n; ++i) o[i] = static_cast<R>(f(static_cast<C>(a[i])));
}

// out[i] = f(a[i], b[i]) for i < n; with kScalarB (kScalarA) b (a) is one value for every i.
template <Operands M, class T, class R, class F>
STRATA_CPU_CLONES void binary_contiguous(const F& f, R* o, const T* a, const T* b, int64_t n) {
  using C = compute_t<T>;
  if constexpr (M == Operands::kBoth) {
    for (int64_t i = 0; i < n; ++i) o[i] = static_cast<R>(f(static_cast<C>(a[i]), static_cast<C>(b[i])));
  } else if constexpr (M == Operands::kScalarB) {
    const C bv = static_cast<C>(*b);
    for (int64_t i = 0; i < n; ++i) o[i] = static_cast<R>(f(static_cast<C>(a[i]), bv));
  } else {
    const C av = static_cast<C>(*a);
    for (int64_t i = 0; i < n; ++i) o[i] = static_cast<R>(f(av, static_cast<C>(b[i])));
  }
}

}  // namespace strata::kernels::cpu
