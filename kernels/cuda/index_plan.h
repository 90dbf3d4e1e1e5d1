#pragma once
// Index math of the CUDA gather / scatter family (kernels/cuda/index.cu, scatter.cu), plain C++ with
// STRATA_HD, so the same plan runs in the kernels and in a CPU test
// (tests/kernels/test_cuda_index_plan.cpp) that replays gather, index_select, scatter and
// index_add through it on host tensors and compares with the CPU kernels, on every machine.
//
// Every op of the family is one "indexed" walk, like the CPU's indexed_loop: for each position p
// of the index (index_select / index_add: the 1-d index broadcast with stride 0 over the other
// dims), `self` (the tensor indexed along dim) is addressed at p with p[dim] replaced by
// index[p], and `other` (gather's output, scatter's src) at p. The OffsetCalculator walks the
// positions with self's stride at dim set to 0; the kernel adds index[p] * self_dim_stride.
//
// A serial plan walks the "outer" positions only (dim collapsed to size 1, so it is merged away)
// and leaves the k steps along dim to one thread, in index order: scatter's "the last duplicate
// wins" then holds on the GPU as on the CPU, with no two threads writing the same element.
#include <cstdint>

#include "kernels/cuda/offset_calculator.h"
#include "tensor/tensor.h"

namespace strata::cuda {

struct IndexedPlan {
  OffsetCalculator<3> oc;         // operands: 0 self (stride 0 at dim), 1 index, 2 other; bytes
  int64_t n = 0;                  // positions the kernel walks (outer positions when serial)
  int64_t self_dim_stride = 0;    // bytes per index step in self
  int64_t k = 1;                  // serial: steps along dim per position
  int64_t index_dim_stride = 0;   // serial: bytes per step along dim in index
  int64_t other_dim_stride = 0;   // serial: bytes per step along dim in other
};

// The plan over `shape` (index's shape, or the broadcast one) with the three operands' element
// strides (index_strides may hold zeros) and item sizes.
inline IndexedPlan make_indexed_plan(const Shape& shape, int64_t dim, const Strides& self_strides, int64_t self_item,
                                     const Strides& index_strides, int64_t index_item, const Strides& other_strides,
                                     int64_t other_item, bool serial) {
  IndexedPlan p;
  const int nd = static_cast<int>(shape.ndim());
  STRATA_CHECK(nd <= 64, DeviceError, "CUDA indexing: {} dims are too many (shape {})", nd, shape);
  int64_t sizes[64];
  int64_t strides[64][3];
  p.n = 1;
  for (int d = nd - 1, m = 0; d >= 0; --d, ++m) {
    const bool along = d == dim;
    sizes[m] = serial && along ? 1 : shape[d];
    strides[m][0] = along ? 0 : self_strides[d] * self_item;
    strides[m][1] = index_strides[d] * index_item;
    strides[m][2] = other_strides[d] * other_item;
    p.n *= sizes[m];
  }
  p.oc = offset_calculator_from_dims<3>(nd, sizes, strides);
  p.self_dim_stride = self_strides[dim] * self_item;
  if (serial) {
    p.k = shape[dim];
    p.index_dim_stride = index_strides[dim] * index_item;
    p.other_dim_stride = other_strides[dim] * other_item;
    if (p.k == 0) p.n = 0;
  }
  return p;
}

// gather (read) / scatter (write): positions of index, which has the ndim of self and other.
inline IndexedPlan plan_indexed(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& other,
                                bool serial) {
  return make_indexed_plan(index.shape(), dim, self.strides(), self.itemsize(), index.strides(), index.itemsize(),
                           other.strides(), other.itemsize(), serial);
}

// index_select (read) / index_add (write): positions of other, the 1-d index running along dim.
inline IndexedPlan plan_index_1d(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& other) {
  Strides index_strides(other.dim(), 0);
  index_strides[dim] = index.stride(0);
  return make_indexed_plan(other.shape(), dim, self.strides(), self.itemsize(), index_strides, index.itemsize(),
                           other.strides(), other.itemsize(), false);
}

// Byte offset in self of position `i` (not serial), given the index values' base pointer.
template <class I>
STRATA_HD_INLINE int64_t indexed_self_offset(const IndexedPlan& p, const char* index, const Array<int64_t, 3>& off) {
  return off[0] + static_cast<int64_t>(*reinterpret_cast<const I*>(index + off[1])) * p.self_dim_stride;
}

}  // namespace strata::cuda
