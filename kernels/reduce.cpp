// Device switch for the reductions family: CPU kernels in kernels/cpu/reduce*.cpp, CUDA kernels
// through the table the CUDA backend registers (kernels/cuda_table.h).
#include "kernels/reduce.h"

#include "kernels/cuda_table.h"

namespace strata::kernels {

const char* reduce_op_name(ReduceOp op) {
  switch (op) {
    case ReduceOp::sum: return "sum";
    case ReduceOp::mean: return "mean";
    case ReduceOp::prod: return "prod";
    case ReduceOp::amax: return "amax";
    case ReduceOp::amin: return "amin";
    case ReduceOp::any: return "any";
    case ReduceOp::all: return "all";
    case ReduceOp::norm0: case ReduceOp::norm1: case ReduceOp::norm2: case ReduceOp::norm_inf:
    case ReduceOp::norm_neg_inf: case ReduceOp::norm_p: return "norm";
    case ReduceOp::var: return "var";
    case ReduceOp::std: return "std";
    case ReduceOp::logsumexp: return "logsumexp";
  }
  return "reduce";
}

void reduce(ReduceOp op, const Tensor& x, const Tensor& out, double param) {
  if (x.device().is_cuda())
    return cuda_kernel(&CudaTable::reduce, reduce_op_name(op), x.device())(op, x, out, param);
  cpu::reduce(op, x, out, param);
}

void arg_reduce(bool is_max, const Tensor& x, int64_t dim, const Tensor& values, const Tensor& indices) {
  if (x.device().is_cuda())
    return cuda_kernel(&CudaTable::arg_reduce, is_max ? "argmax" : "argmin", x.device())(is_max, x, dim, values,
                                                                                          indices);
  cpu::arg_reduce(is_max, x, dim, values, indices);
}

void cumsum(const Tensor& x, int64_t dim, const Tensor& out, bool reverse) {
  if (x.device().is_cuda()) return cuda_kernel(&CudaTable::cumsum, "cumsum", x.device())(x, dim, out, reverse);
  cpu::cumsum(x, dim, out, reverse);
}

}  // namespace strata::kernels
