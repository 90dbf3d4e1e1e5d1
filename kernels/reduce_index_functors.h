#pragma once
// The comparison of argmax/argmin (kernels/reduce.h: arg_reduce), shared by the CPU kernel
// (kernels/cpu/reduce_index.cpp) and the CUDA kernel (kernels/cuda/reduce_index.cu) so both pick
// the same element: the first occurrence of the extreme, NaN counting as the extreme (the first
// NaN wins and is never replaced).
#include <type_traits>

#include "tensor/macros.h"

namespace strata::kernels {

// Is v strictly better than best? NaN beats everything and, once found, is never replaced.
template <bool IsMax, class T>
STRATA_HD_INLINE bool arg_better(T v, T best) {
  if constexpr (std::is_floating_point_v<T>) {
    if (best != best) return false;
    if (v != v) return true;
  }
  return IsMax ? v > best : v < best;
}

// Does candidate (v, i) win over the current (best, bi)? Better, or as good at a smaller index:
// a total order over (value, index) pairs, so combining partial results in any tree gives the
// sequential scan's answer.
template <bool IsMax, class T, class I>
STRATA_HD_INLINE bool arg_wins(T v, I i, T best, I bi) {
  return arg_better<IsMax>(v, best) || (!arg_better<IsMax>(best, v) && i < bi);
}

}  // namespace strata::kernels
