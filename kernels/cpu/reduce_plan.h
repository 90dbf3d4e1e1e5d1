#pragma once
// Layout analysis shared by the CPU reduction kernels (reduce.cpp, reduce_index.cpp).
//
// A reduction of x into out (out has x's dims, size 1 where reduced) is described by two lists of
// dims, kept and reduced, each ordered outermost to innermost by x's stride (stride-0 dims count
// as outermost), with size-1 dims dropped and neighbours merged where the memory layout allows.
// A contiguous [4096, 4096] reduced over dim 1 becomes kept {4096 @ 4096} and reduced {4096 @ 1};
// reduced over both dims it becomes one reduced dim {16777216 @ 1}.
//
// The innermost dim decides the engine: when it is kept with stride 1 and at least 8 wide (column
// sums: the kept dims are contiguous and the reduction walks whole rows) the kernels accumulate rows into a vector of
// outputs ("columns"); otherwise each output walks its own reduced elements, innermost reduced
// dim first ("rows": contiguous when its stride is 1, strided otherwise).
#include <cstdint>

#include "tensor/tensor.h"

namespace strata::kernels::cpu {

struct ReducePlan {
  SmallDims kept_size, kept_in, kept_out;  // kept dims: size, x stride, out stride (elements)
  SmallDims red_size, red_in;              // reduced dims: size, x stride (elements)
  int64_t n_out = 1;                       // number of outputs
  int64_t n_red = 1;                       // elements reduced into each output
  bool columns = false;                    // innermost dim is kept, x stride 1, at least 8 wide
};

ReducePlan plan_reduction(const Tensor& x, const Tensor& out);

// Walks flat indices over dims (outermost first), keeping N offsets (one per stride set).
template <int N>
class Odometer {
 public:
  Odometer(const SmallDims& size, std::array<const SmallDims*, N> strides) : size_(size), idx_(size.size(), 0) {
    for (int k = 0; k < N; ++k) stride_[k] = strides[k];
  }
  // Positions at flat index `flat` (row-major over the dims).
  void seek(int64_t flat) {
    off_.fill(0);
    for (int64_t d = static_cast<int64_t>(size_.size()) - 1; d >= 0; --d) {
      idx_[d] = flat % size_[d];
      flat /= size_[d];
      for (int k = 0; k < N; ++k) off_[k] += idx_[d] * (*stride_[k])[d];
    }
  }
  void next() {
    for (int64_t d = static_cast<int64_t>(size_.size()) - 1; d >= 0; --d) {
      for (int k = 0; k < N; ++k) off_[k] += (*stride_[k])[d];
      if (++idx_[d] < size_[d]) return;
      for (int k = 0; k < N; ++k) off_[k] -= size_[d] * (*stride_[k])[d];
      idx_[d] = 0;
    }
  }
  int64_t offset(int k = 0) const { return off_[k]; }

 private:
  const SmallDims& size_;
  std::array<const SmallDims*, N> stride_{};
  SmallDims idx_;
  std::array<int64_t, N> off_{};
};

}  // namespace strata::kernels::cpu
