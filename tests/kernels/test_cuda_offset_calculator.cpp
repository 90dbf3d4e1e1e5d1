// The index math of the CUDA elementwise and reduction kernels (kernels/cuda/offset_calculator.h)
// checked on the CPU, on every machine: for each element of the output, in row-major order, the
// byte offsets it computes in every operand equal those given by the tensors' own strides, for
// contiguous, transposed, stepped, offset, broadcast (stride 0) and high-rank layouts; and the
// dim merging leaves as few dims as the layouts allow.
#include <gtest/gtest.h>

#include <vector>

#include "kernels/cuda/offset_calculator.h"
#include "strata.h"
#include "support/expect_error.h"

namespace strata {
namespace {

// Offsets of the element with row-major index `linear` of `shape` in tensor t (bytes).
int64_t reference_offset(const Tensor& t, const Shape& shape, int64_t linear) {
  int64_t off = 0;
  for (int64_t d = shape.ndim() - 1; d >= 0; --d) {
    const int64_t i = linear % shape[d];
    linear /= shape[d];
    off += i * t.strides()[d] * t.itemsize();
  }
  return off;
}

template <int N>
void expect_matches(const Tensor* const (&ops)[N], int expected_dims) {
  const cuda::OffsetCalculator<N> oc = cuda::make_offset_calculator<N>(ops);
  EXPECT_EQ(oc.ndim, expected_dims);
  const Shape& shape = ops[0]->shape();
  for (int64_t i = 0; i < shape.numel(); ++i) {
    const auto off = oc.get(i);
    for (int a = 0; a < N; ++a) {
      ASSERT_EQ(off[a], reference_offset(*ops[a], shape, i)) << "element " << i << " operand " << a;
    }
  }
}

TEST(CudaOffsetCalculator, ContiguousTensorsOfAnyRankBecomeOneDim) {
  const Tensor a = zeros({2, 3, 4, 5}), b = zeros({2, 3, 4, 5}, {.dtype = DType::F16});
  const Tensor* ops[2] = {&a, &b};
  expect_matches<2>(ops, 1);
}

TEST(CudaOffsetCalculator, TransposedSteppedAndOffsetViews) {
  const Tensor out = zeros({6, 5, 4});
  const Tensor base = arange(0, 120, 1, {.dtype = DType::F32});
  const Tensor tr = base.reshape({4, 5, 6}).permute({2, 1, 0});                  // reversed strides
  const Tensor step = arange(0, 400, 1, {.dtype = DType::F64}).reshape({10, 10, 4}).slice(0, 1, 7).slice(1, 0, 10, 2);
  const Tensor* ops[3] = {&out, &tr, &step};
  expect_matches<3>(ops, 3);
}

TEST(CudaOffsetCalculator, BroadcastOperandsHaveStrideZeroAndMergeWhereTheyCan) {
  const Tensor out = zeros({7, 3, 9});
  const Tensor row = zeros({9}).expand({7, 3, 9});         // stride 0 in the two outer dims
  const Tensor col = zeros({7, 1, 1}).expand({7, 3, 9});   // stride 0 in the two inner dims
  {
    const Tensor* ops[2] = {&out, &row};
    expect_matches<2>(ops, 2);  // the outer dims merge (0 == 0 * 3); the inner one stays apart
  }
  {
    const Tensor* ops[3] = {&out, &row, &col};
    expect_matches<3>(ops, 3);  // row and col break the merges at different dims
  }
  const Tensor scalar = zeros({1, 1, 1}).expand({7, 3, 9});
  const Tensor* ops[2] = {&out, &scalar};
  expect_matches<2>(ops, 1);
}

TEST(CudaOffsetCalculator, SizeOneDimsAreDroppedAndEmptyOrScalarShapesWork) {
  const Tensor out = zeros({1, 4, 1, 3});
  const Tensor in = zeros({3, 4}).t().reshape({1, 4, 1, 3});
  const Tensor* ops[2] = {&out, &in};
  expect_matches<2>(ops, in.is_contiguous() ? 1 : 2);
  const Tensor s = zeros(Shape()), s2 = zeros(Shape());
  const Tensor* sops[2] = {&s, &s2};
  const auto oc = cuda::make_offset_calculator<2>(sops);
  EXPECT_EQ(oc.ndim, 0);
  EXPECT_EQ(oc.get(0)[0], 0);
  EXPECT_EQ(oc.get(0)[1], 0);
}

TEST(CudaOffsetCalculator, MoreThanEightUnmergeableDimsThrowDeviceError) {
  // A permutation of a 9-d tensor with sizes 2: no two neighbours are contiguous in both operands.
  const Tensor base = zeros(Shape(std::vector<int64_t>(9, 2)));
  const Tensor perm = base.permute({8, 7, 6, 5, 4, 3, 2, 1, 0});
  const Tensor out = zeros(Shape(std::vector<int64_t>(9, 2)));
  const Tensor* ops[2] = {&out, &perm};
  EXPECT_STRATA_ERROR(cuda::make_offset_calculator<2>(ops), DeviceError, {"more than 8 dims"});
  // Eight such dims are fine.
  const Tensor base8 = zeros(Shape(std::vector<int64_t>(8, 2)));
  const Tensor perm8 = base8.permute({7, 6, 5, 4, 3, 2, 1, 0});
  const Tensor out8 = zeros(Shape(std::vector<int64_t>(8, 2)));
  const Tensor* ops8[2] = {&out8, &perm8};
  expect_matches<2>(ops8, 8);
}

}  // namespace
}  // namespace strata
