// Device switch for the matmul family, and the layout rule that decides when an operand can go to
// the GEMM as it is (row- or column-major last two dims) and when the front end must copy it.
#include "kernels/matmul.h"

#include <algorithm>

#include "kernels/cuda_table.h"

namespace strata::kernels {

MatrixLayout matrix_layout(int64_t rows, int64_t cols, int64_t stride_rows, int64_t stride_cols) {
  // An empty matrix is never read: any layout will do.
  if (rows == 0 || cols == 0) return {true, false, std::max<int64_t>(cols, 1)};
  const bool row_major = (cols == 1 || stride_cols == 1) && (rows == 1 || stride_rows >= cols);
  if (row_major) return {true, false, rows == 1 ? cols : stride_rows};
  const bool col_major = (rows == 1 || stride_rows == 1) && (cols == 1 || stride_cols >= rows);
  if (col_major) return {true, true, cols == 1 ? rows : stride_cols};
  return {};
}

MatrixLayout matrix_layout(const Tensor& t) {
  return matrix_layout(t.size(-2), t.size(-1), t.stride(-2), t.stride(-1));
}

void gemm(const Tensor& a, const Tensor& b, const Tensor& out, double alpha, double beta) {
  if (out.device().is_cuda()) return cuda_kernel(&CudaTable::gemm, "matmul", out.device())(a, b, out, alpha, beta);
  cpu::gemm(a, b, out, alpha, beta);
}

}  // namespace strata::kernels
