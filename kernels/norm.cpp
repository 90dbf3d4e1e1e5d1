// Device switch for the normalization family: CPU kernels in kernels/cpu/norm_*.cpp, CUDA through
// the table's norm block (registered by kernels/cuda when it has them).
#include "kernels/norm.h"

#include "kernels/cuda_table.h"

namespace strata::kernels {

void batch_norm_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, bool compute_stats, double eps,
                        const Tensor& mean, const Tensor& invstd, const Tensor& var, const Tensor& out) {
  if (x.device().is_cuda())
    return cuda_kernel(&CudaTable::batch_norm_forward, "batch_norm", x.device())(x, weight, bias, compute_stats, eps,
                                                                                  mean, invstd, var, out);
  cpu::batch_norm_forward(x, weight, bias, compute_stats, eps, mean, invstd, var, out);
}

void batch_norm_backward(const Tensor& grad, const Tensor& x, const Tensor& weight, const Tensor& mean,
                         const Tensor& invstd, bool training, const Tensor& dx, const Tensor& dweight,
                         const Tensor& dbias) {
  if (x.device().is_cuda())
    return cuda_kernel(&CudaTable::batch_norm_backward, "batch_norm_backward", x.device())(
        grad, x, weight, mean, invstd, training, dx, dweight, dbias);
  cpu::batch_norm_backward(grad, x, weight, mean, invstd, training, dx, dweight, dbias);
}

void batch_norm_relu_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, bool compute_stats,
                             double eps, const Tensor& mean, const Tensor& invstd, const Tensor& var,
                             const Tensor& out) {
  if (x.device().is_cuda())
    return cuda_kernel(&CudaTable::batch_norm_relu_forward, "batch_norm_relu", x.device())(
        x, weight, bias, compute_stats, eps, mean, invstd, var, out);
  cpu::batch_norm_relu_forward(x, weight, bias, compute_stats, eps, mean, invstd, var, out);
}

void batch_norm_relu_backward(const Tensor& grad, const Tensor& x, const Tensor& weight, const Tensor& bias,
                              const Tensor& mean, const Tensor& invstd, bool training, const Tensor& dx,
                              const Tensor& dweight, const Tensor& dbias) {
  if (x.device().is_cuda())
    return cuda_kernel(&CudaTable::batch_norm_relu_backward, "batch_norm_relu_backward", x.device())(
        grad, x, weight, bias, mean, invstd, training, dx, dweight, dbias);
  cpu::batch_norm_relu_backward(grad, x, weight, bias, mean, invstd, training, dx, dweight, dbias);
}

void layer_norm_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps, const Tensor& out,
                        const Tensor& mean, const Tensor& rstd) {
  if (x.device().is_cuda())
    return cuda_kernel(&CudaTable::layer_norm_forward, "layer_norm", x.device())(x, weight, bias, eps, out, mean,
                                                                                  rstd);
  cpu::layer_norm_forward(x, weight, bias, eps, out, mean, rstd);
}

void layer_norm_backward(const Tensor& grad, const Tensor& x, const Tensor& weight, const Tensor& mean,
                         const Tensor& rstd, const Tensor& dx, const Tensor& dweight, const Tensor& dbias) {
  if (x.device().is_cuda())
    return cuda_kernel(&CudaTable::layer_norm_backward, "layer_norm_backward", x.device())(grad, x, weight, mean,
                                                                                            rstd, dx, dweight, dbias);
  cpu::layer_norm_backward(grad, x, weight, mean, rstd, dx, dweight, dbias);
}

void group_norm_forward(const Tensor& x, int64_t groups, const Tensor& weight, const Tensor& bias, double eps,
                        const Tensor& out, const Tensor& mean, const Tensor& rstd) {
  if (x.device().is_cuda())
    return cuda_kernel(&CudaTable::group_norm_forward, "group_norm", x.device())(x, groups, weight, bias, eps, out,
                                                                                  mean, rstd);
  cpu::group_norm_forward(x, groups, weight, bias, eps, out, mean, rstd);
}

void group_norm_backward(const Tensor& grad, const Tensor& x, int64_t groups, const Tensor& weight,
                         const Tensor& mean, const Tensor& rstd, const Tensor& dx, const Tensor& dweight,
                         const Tensor& dbias) {
  if (x.device().is_cuda())
    return cuda_kernel(&CudaTable::group_norm_backward, "group_norm_backward", x.device())(
        grad, x, groups, weight, mean, rstd, dx, dweight, dbias);
  cpu::group_norm_backward(grad, x, groups, weight, mean, rstd, dx, dweight, dbias);
}

}  // namespace strata::kernels
