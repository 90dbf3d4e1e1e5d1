// Device switch for the pooling family: CPU kernels in kernels/cpu/pool.cpp, CUDA kernels
// through the table the CUDA backend registers (kernels/cuda_table.h).
#include "kernels/pool.h"

#include "kernels/cuda_table.h"

namespace strata::kernels {

void max_pool2d(const Tensor& x, const Pool2dParams& params, const Tensor& out, const Tensor& indices) {
  if (out.device().is_cuda())
    return cuda_kernel(&CudaTable::max_pool2d, "max_pool2d", out.device())(x, params, out, indices);
  cpu::max_pool2d(x, params, out, indices);
}

void max_pool2d_backward(const Tensor& grad_out, const Tensor& indices, const Tensor& grad_in) {
  if (grad_in.device().is_cuda())
    return cuda_kernel(&CudaTable::max_pool2d_backward, "max_pool2d_backward", grad_in.device())(grad_out, indices,
                                                                                                grad_in);
  cpu::max_pool2d_backward(grad_out, indices, grad_in);
}

void avg_pool2d(const Tensor& x, const Pool2dParams& params, const Tensor& out) {
  if (out.device().is_cuda()) return cuda_kernel(&CudaTable::avg_pool2d, "avg_pool2d", out.device())(x, params, out);
  cpu::avg_pool2d(x, params, out);
}

void avg_pool2d_backward(const Tensor& grad_out, const Pool2dParams& params, const Tensor& grad_in) {
  if (grad_in.device().is_cuda())
    return cuda_kernel(&CudaTable::avg_pool2d_backward, "avg_pool2d_backward", grad_in.device())(grad_out, params,
                                                                                                grad_in);
  cpu::avg_pool2d_backward(grad_out, params, grad_in);
}

void adaptive_avg_pool2d(const Tensor& x, const Tensor& out) {
  if (out.device().is_cuda())
    return cuda_kernel(&CudaTable::adaptive_avg_pool2d, "adaptive_avg_pool2d", out.device())(x, out);
  cpu::adaptive_avg_pool2d(x, out);
}

void adaptive_avg_pool2d_backward(const Tensor& grad_out, const Tensor& grad_in) {
  if (grad_in.device().is_cuda())
    return cuda_kernel(&CudaTable::adaptive_avg_pool2d_backward, "adaptive_avg_pool2d_backward",
                       grad_in.device())(grad_out, grad_in);
  cpu::adaptive_avg_pool2d_backward(grad_out, grad_in);
}

void adaptive_max_pool2d(const Tensor& x, const Tensor& out, const Tensor& indices) {
  if (out.device().is_cuda())
    return cuda_kernel(&CudaTable::adaptive_max_pool2d, "adaptive_max_pool2d", out.device())(x, out, indices);
  cpu::adaptive_max_pool2d(x, out, indices);
}

void upsample_nearest2d(const Tensor& x, double scale_h, double scale_w, const Tensor& out) {
  if (out.device().is_cuda())
    return cuda_kernel(&CudaTable::upsample_nearest2d, "upsample_nearest2d", out.device())(x, scale_h, scale_w, out);
  cpu::upsample_nearest2d(x, scale_h, scale_w, out);
}

void upsample_nearest2d_backward(const Tensor& grad_out, double scale_h, double scale_w, const Tensor& grad_in) {
  if (grad_in.device().is_cuda())
    return cuda_kernel(&CudaTable::upsample_nearest2d_backward, "upsample_nearest2d_backward",
                       grad_in.device())(grad_out, scale_h, scale_w, grad_in);
  cpu::upsample_nearest2d_backward(grad_out, scale_h, scale_w, grad_in);
}

void upsample_bilinear2d(const Tensor& x, bool align_corners, double scale_h, double scale_w, const Tensor& out) {
  if (out.device().is_cuda())
    return cuda_kernel(&CudaTable::upsample_bilinear2d, "upsample_bilinear2d", out.device())(x, align_corners,
                                                                                            scale_h, scale_w, out);
  cpu::upsample_bilinear2d(x, align_corners, scale_h, scale_w, out);
}

void upsample_bilinear2d_backward(const Tensor& grad_out, bool align_corners, double scale_h, double scale_w,
                                  const Tensor& grad_in) {
  if (grad_in.device().is_cuda())
    return cuda_kernel(&CudaTable::upsample_bilinear2d_backward, "upsample_bilinear2d_backward",
                       grad_in.device())(grad_out, align_corners, scale_h, scale_w, grad_in);
  cpu::upsample_bilinear2d_backward(grad_out, align_corners, scale_h, scale_w, grad_in);
}

}  // namespace strata::kernels
