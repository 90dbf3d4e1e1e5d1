#pragma once
// Index math of the CUDA elementwise and reduction kernels: the byte offsets of element i (in
// row-major order of the output's shape) in each of NARGS operands. Plain C++ with STRATA_HD
// methods, so the same code runs in kernels (kernels/cuda/loops.cuh, reduce.cu) and in a CPU test
// (tests/kernels/test_cuda_offset_calculator.cpp) that checks it against the tensors' strides on
// machines without a GPU.
//
// Dims are stored innermost first. Size-1 dims are dropped and a dim is merged into its inner
// neighbour when it is contiguous with it in every operand (stride == inner stride * inner size),
// so a contiguous tensor of any rank is one dim, and a row broadcast over a matrix two. At most
// kMaxDims dims remain (more throws DeviceError): enough for every layout Strata produces, and it
// keeps the calculator a small by-value kernel argument.
#include <cstdint>

#include "tensor/macros.h"
#include "tensor/tensor.h"

#if defined(__CUDACC__)
#define STRATA_UNROLL _Pragma("unroll")
#else
#define STRATA_UNROLL
#endif

namespace strata::cuda {

constexpr int kMaxDims = 8;

template <class T, int N>
struct Array {
  T v[N > 0 ? N : 1];
  STRATA_HD T& operator[](int i) { return v[i]; }
  STRATA_HD const T& operator[](int i) const { return v[i]; }
};

template <int NARGS>
struct OffsetCalculator {
  int ndim = 0;
  int64_t sizes[kMaxDims] = {};
  int64_t strides[kMaxDims][NARGS] = {};  // bytes

  STRATA_HD Array<int64_t, NARGS> get(int64_t linear) const {
    Array<int64_t, NARGS> off;
    STRATA_UNROLL
    for (int a = 0; a < NARGS; ++a) off[a] = 0;
    STRATA_UNROLL
    for (int d = 0; d < kMaxDims; ++d) {
      if (d == ndim) break;
      const int64_t i = linear % sizes[d];
      linear /= sizes[d];
      STRATA_UNROLL
      for (int a = 0; a < NARGS; ++a) off[a] += i * strides[d][a];
    }
    return off;
  }
};

// From dims given innermost first (sizes[d], strides[d][operand] in bytes), dropping size-1 dims
// and merging contiguous ones.
template <int NARGS>
OffsetCalculator<NARGS> offset_calculator_from_dims(int n, const int64_t* sizes, const int64_t (*strides)[NARGS]) {
  OffsetCalculator<NARGS> oc;
  int k = 0;
  for (int d = 0; d < n; ++d) {
    if (sizes[d] == 1) continue;
    bool merge = k > 0;
    for (int a = 0; a < NARGS && merge; ++a) merge = strides[d][a] == oc.strides[k - 1][a] * oc.sizes[k - 1];
    if (merge) {
      oc.sizes[k - 1] *= sizes[d];
      continue;
    }
    STRATA_CHECK(k < kMaxDims, DeviceError,
                 "CUDA kernel: more than {} dims remain after merging the contiguous ones; at most {} are supported",
                 kMaxDims, kMaxDims);
    oc.sizes[k] = sizes[d];
    for (int a = 0; a < NARGS; ++a) oc.strides[k][a] = strides[d][a];
    ++k;
  }
  oc.ndim = k;
  return oc;
}

// For operands of ops[0]'s shape (inputs already expanded to the output's shape).
template <int NARGS>
OffsetCalculator<NARGS> make_offset_calculator(const Tensor* const (&ops)[NARGS]) {
  const Tensor& out = *ops[0];
  constexpr int kMaxRank = 64;
  STRATA_CHECK(out.dim() <= kMaxRank, DeviceError, "CUDA kernel: {} dims are too many (shape {})", out.dim(),
               out.shape());
  int64_t sizes[kMaxRank];
  int64_t strides[kMaxRank][NARGS];
  int n = 0;
  for (int64_t d = out.dim() - 1; d >= 0; --d, ++n) {
    sizes[n] = out.shape()[d];
    for (int a = 0; a < NARGS; ++a) strides[n][a] = ops[a]->strides()[d] * ops[a]->itemsize();
  }
  return offset_calculator_from_dims<NARGS>(n, sizes, strides);
}

}  // namespace strata::cuda
