// Device switch for the conv family: CPU kernels in kernels/cpu/conv.cpp, CUDA through the table.
#include "kernels/conv.h"

#include "kernels/cuda_table.h"

namespace strata::kernels {

void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& y, const ConvGeometry& g) {
  if (y.device().is_cuda()) return cuda_kernel(&CudaTable::conv2d_forward, "conv2d", y.device())(x, w, bias, y, g);
  cpu::conv2d_forward(x, w, bias, y, g);
}

void conv2d_backward_data(const Tensor& gy, const Tensor& w, const Tensor& bias, const Tensor& gx,
                          const ConvGeometry& g) {
  if (gx.device().is_cuda())
    return cuda_kernel(&CudaTable::conv2d_backward_data, "conv_transpose2d", gx.device())(gy, w, bias, gx, g);
  cpu::conv2d_backward_data(gy, w, bias, gx, g);
}

void conv2d_backward_weight(const Tensor& x, const Tensor& gy, const Tensor& gw, const ConvGeometry& g) {
  if (gw.device().is_cuda())
    return cuda_kernel(&CudaTable::conv2d_backward_weight, "conv2d_backward", gw.device())(x, gy, gw, g);
  cpu::conv2d_backward_weight(x, gy, gw, g);
}

}  // namespace strata::kernels
