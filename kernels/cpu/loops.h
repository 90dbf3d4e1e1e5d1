#pragma once
// The CPU iteration helper for elementwise-style kernels.
//
// StridedLoop<N> walks N operands of one shape together (operand 0 is usually the output;
// inputs are broadcast views with stride 0 where they repeat). When every operand is contiguous
// the whole range is one flat run; otherwise it merges dims that are contiguous for every
// operand, so a contiguous op becomes one flat run, then splits the flat index range across
// threads. The body receives runs along the innermost dim:
//
//   body(char* ptrs[N], const int64_t byte_strides[N], int64_t n)
//
// and is expected to special-case the common strides (all == element size, or 0 for a scalar).
// Everything lives in fixed arrays (no allocation: a tiny op's loop setup is a few dozen
// instructions); at most kMaxLoopDims dims remain after merging, more is a ShapeError.
#include <algorithm>
#include <array>
#include <cstdint>

#include "kernels/cpu/parallel.h"
#include "tensor/tensor.h"

namespace strata::kernels::cpu {

inline constexpr int kMaxLoopDims = 16;

template <int N>
class StridedLoop {
 public:
  // All tensors must have the same shape.
  explicit StridedLoop(const std::array<const Tensor*, N>& ts) {
    const Shape& shape = ts[0]->shape();
    numel_ = shape.numel();
    bool all_contiguous = true;
    for (int k = 0; k < N; ++k) {
      base_[k] = static_cast<char*>(ts[k]->raw_data());
      itemsize_[k] = ts[k]->itemsize();
      all_contiguous = all_contiguous && ts[k]->is_contiguous();
    }
    if (all_contiguous || numel_ <= 1) {
      nd_ = 1;
      sizes_[0] = numel_;
      for (int k = 0; k < N; ++k) strides_[0][k] = itemsize_[k];
      return;
    }
    // Dims in reverse (innermost first), dropping size-1 dims, merging where possible.
    for (int64_t d = shape.ndim() - 1; d >= 0; --d) {
      if (shape[d] == 1) continue;
      std::array<int64_t, N> st;
      for (int k = 0; k < N; ++k) st[k] = ts[k]->strides()[d] * itemsize_[k];
      if (nd_ > 0) {
        bool merge = true;
        for (int k = 0; k < N; ++k) merge = merge && st[k] == strides_[nd_ - 1][k] * sizes_[nd_ - 1];
        if (merge) {
          sizes_[nd_ - 1] *= shape[d];
          continue;
        }
      }
      STRATA_CHECK(nd_ < kMaxLoopDims, ShapeError,
                   "elementwise kernel: tensors of shape {} have more than {} dims that cannot be merged "
                   "(call contiguous() first)",
                   shape, kMaxLoopDims);
      sizes_[nd_] = shape[d];
      strides_[nd_] = st;
      ++nd_;
    }
  }

  int64_t numel() const { return numel_; }

  // Runs body over all elements; `grain` is the minimum number of elements per thread chunk.
  template <class Body>
  void run(Body&& body, int64_t grain = 32768) const {
    if (numel_ == 0) return;
    parallel_for(0, numel_, grain, [&](int64_t lo, int64_t hi) { run_range(lo, hi, body); });
  }

 private:
  template <class Body>
  void run_range(int64_t lo, int64_t hi, Body& body) const {
    std::array<char*, N> ptrs;
    if (nd_ == 1) {  // one flat run
      for (int k = 0; k < N; ++k) ptrs[k] = base_[k] + lo * strides_[0][k];
      body(ptrs.data(), strides_[0].data(), hi - lo);
      return;
    }
    const int nd = nd_;
    // Multi-index of `lo` (dim 0 is innermost).
    std::array<int64_t, kMaxLoopDims> idx;
    int64_t rem = lo;
    for (int d = 0; d < nd; ++d) {
      idx[d] = rem % sizes_[d];
      rem /= sizes_[d];
    }
    for (int k = 0; k < N; ++k) {
      int64_t off = 0;
      for (int d = 0; d < nd; ++d) off += idx[d] * strides_[d][k];
      ptrs[k] = base_[k] + off;
    }
    const std::array<int64_t, N> inner_strides = strides_[0];
    int64_t pos = lo;
    while (pos < hi) {
      const int64_t n = std::min(sizes_[0] - idx[0], hi - pos);
      body(ptrs.data(), inner_strides.data(), n);
      pos += n;
      if (pos >= hi) break;
      // advance: move the innermost index by n, carry outward
      for (int k = 0; k < N; ++k) ptrs[k] += n * strides_[0][k];
      idx[0] += n;
      for (int d = 0; d < nd && idx[d] == sizes_[d]; ++d) {
        idx[d] = 0;
        for (int k = 0; k < N; ++k) ptrs[k] -= sizes_[d] * strides_[d][k];
        if (d + 1 < nd) {
          ++idx[d + 1];
          for (int k = 0; k < N; ++k) ptrs[k] += strides_[d + 1][k];
        }
      }
    }
  }

  int64_t numel_ = 0;
  int nd_ = 0;  // merged dims; 0 only when every dim has size 1 (then numel_ <= 1 took the flat path)
  std::array<char*, N> base_{};
  std::array<int64_t, N> itemsize_{};
  std::array<int64_t, kMaxLoopDims> sizes_;                  // innermost first, merged
  std::array<std::array<int64_t, N>, kMaxLoopDims> strides_;  // bytes
};

}  // namespace strata::kernels::cpu
