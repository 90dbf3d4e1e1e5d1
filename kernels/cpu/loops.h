#pragma once
// The CPU iteration helper for elementwise-style kernels.
//
// StridedLoop<N> walks N operands of one shape together (operand 0 is usually the output;
// inputs are broadcast views with stride 0 where they repeat). It first merges dims that are
// contiguous for every operand, so a contiguous op becomes one flat run, then splits the flat
// index range across threads. The body receives runs along the innermost dim:
//
//   body(char* ptrs[N], const int64_t byte_strides[N], int64_t n)
//
// and is expected to special-case the common strides (all == element size, or 0 for a scalar).
#include <array>
#include <cstdint>
#include <vector>

#include "kernels/cpu/parallel.h"
#include "tensor/tensor.h"

namespace strata::kernels::cpu {

template <int N>
class StridedLoop {
 public:
  // All tensors must have the same shape.
  explicit StridedLoop(const std::array<const Tensor*, N>& ts) {
    const Shape& shape = ts[0]->shape();
    numel_ = shape.numel();
    for (int k = 0; k < N; ++k) base_[k] = static_cast<char*>(ts[k]->raw_data());
    // Dims in reverse (innermost first), dropping size-1 dims, merging where possible.
    for (int64_t d = shape.ndim() - 1; d >= 0; --d) {
      if (shape[d] == 1) continue;
      std::array<int64_t, N> st;
      for (int k = 0; k < N; ++k) st[k] = ts[k]->strides()[d] * ts[k]->itemsize();
      if (!sizes_.empty()) {
        bool merge = true;
        for (int k = 0; k < N; ++k) merge = merge && st[k] == strides_.back()[k] * sizes_.back();
        if (merge) {
          sizes_.back() *= shape[d];
          continue;
        }
      }
      sizes_.push_back(shape[d]);
      strides_.push_back(st);
    }
    if (sizes_.empty()) {  // a scalar, or all dims of size 1
      sizes_.push_back(1);
      std::array<int64_t, N> st{};
      for (int k = 0; k < N; ++k) st[k] = ts[k]->itemsize();
      strides_.push_back(st);
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
    const size_t nd = sizes_.size();
    // Multi-index of `lo` (dim 0 is innermost).
    std::vector<int64_t> idx(nd, 0);
    int64_t rem = lo;
    for (size_t d = 0; d < nd; ++d) {
      idx[d] = rem % sizes_[d];
      rem /= sizes_[d];
    }
    std::array<char*, N> ptrs;
    for (int k = 0; k < N; ++k) {
      int64_t off = 0;
      for (size_t d = 0; d < nd; ++d) off += idx[d] * strides_[d][k];
      ptrs[k] = base_[k] + off;
    }
    std::array<int64_t, N> inner_strides = strides_[0];
    int64_t pos = lo;
    while (pos < hi) {
      const int64_t n = std::min(sizes_[0] - idx[0], hi - pos);
      body(ptrs.data(), inner_strides.data(), n);
      pos += n;
      if (pos >= hi) break;
      // advance: move the innermost index by n, carry outward
      for (int k = 0; k < N; ++k) ptrs[k] += n * strides_[0][k];
      idx[0] += n;
      for (size_t d = 0; d < nd && idx[d] == sizes_[d]; ++d) {
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
  std::array<char*, N> base_{};
  std::vector<int64_t> sizes_;                  // innermost first, merged
  std::vector<std::array<int64_t, N>> strides_;  // bytes
};

}  // namespace strata::kernels::cpu
