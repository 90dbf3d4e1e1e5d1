#pragma once
// Matrix-product kernel entry point: one batched GEMM over tensor views, behind the device switch
// (CPU: kernels::cpu::gemm_*; CUDA: the table's `gemm`). Front ends (tensor/ops/matmul.cpp) check
// shapes and dtypes, choose layouts with matrix_layout() and allocate; this runs.
//
// A transposed operand costs nothing: a matrix whose last two dims have strides (1, ld) is handed
// to the GEMM with its trans flag set, so a.transpose(-1, -2) is never copied.
#include <cstdint>

#include "tensor/tensor.h"

namespace strata::kernels {

// How a rows x cols matrix with strides (stride_rows, stride_cols) is stored, as a GEMM sees it:
// row-major (trans = false, stride (ld, 1)) or column-major (trans = true, stride (1, ld)), with
// ld >= the inner extent. Size-1 dims accept any stride. `gemm_ready` is false for any other
// layout (a slice with a step, a broadcast row), which the caller copies with contiguous().
struct MatrixLayout {
  bool gemm_ready = false;
  bool trans = false;
  int64_t ld = 1;
};
MatrixLayout matrix_layout(int64_t rows, int64_t cols, int64_t stride_rows, int64_t stride_cols);
// The layout of the last two dims of t (t.dim() >= 2).
MatrixLayout matrix_layout(const Tensor& t);

// out[i] = alpha * a[i] @ b[i] + beta * out[i] for every batch index i.
//   a: [..., m, k], b: [..., k, n], out: [..., m, n], all with the same batch sizes (a and b may
//   be expanded views: stride 0 along broadcast batch dims) and the same floating dtype (f32 or
//   f64). The last two dims of a and b are gemm_ready; out is contiguous. beta == 0 ignores out's
//   contents (NaN included); k == 0 gives out = beta * out.
void gemm(const Tensor& a, const Tensor& b, const Tensor& out, double alpha, double beta);

namespace cpu {
void gemm(const Tensor& a, const Tensor& b, const Tensor& out, double alpha, double beta);
}

}  // namespace strata::kernels
