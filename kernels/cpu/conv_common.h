#pragma once
// Internal to the CPU convolution files (conv.cpp, conv_direct.cpp, conv_strided_data.cpp,
// conv_thin.cpp): the small helpers they all need. Everything is in an anonymous namespace, so
// each file keeps its own thread_local scratch buffers (a buffer tag means the same thing only
// inside one file).
#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "kernels/cpu/microkernel.h"

namespace strata::kernels::cpu {
namespace {

// The GEMM's active micro-kernel set for T (run-time ISA choice).
template <class T>
const detail::KernelSet<T>& kernels() {
  if constexpr (std::is_same_v<T, float>)
    return detail::active_kernels_f32();
  else
    return detail::active_kernels_f64();
}

// A per-thread, 64-byte aligned scratch buffer that only grows (no page faults after the first
// call). Tag tells apart the buffers one thread needs at once.
template <class T, int Tag>
T* scratch(int64_t elems) {
  thread_local std::vector<T> buf;
  const int64_t pad = 64 / sizeof(T);
  if (static_cast<int64_t>(buf.size()) < elems + pad) buf.resize(static_cast<size_t>(elems + pad));
  auto addr = reinterpret_cast<uintptr_t>(buf.data());
  return reinterpret_cast<T*>((addr + 63) & ~uintptr_t{63});
}

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// The output positions o in [0, out) whose input position o * stride - pad + off lies in [0, in).
inline void valid_range(int64_t in, int64_t out, int64_t stride, int64_t pad, int64_t off, int64_t& lo, int64_t& hi) {
  const int64_t base = off - pad;  // input position of o = 0
  lo = base >= 0 ? 0 : (-base + stride - 1) / stride;
  hi = in - base <= 0 ? 0 : (in - base + stride - 1) / stride;
  lo = std::min(lo, out);
  hi = std::clamp(hi, lo, out);
}

}  // namespace
}  // namespace strata::kernels::cpu
