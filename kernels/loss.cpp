// Device switch for the loss family: CPU kernels here, CUDA kernels through the table that the
// CUDA backend registers (kernels/cuda_table.h).
#include "kernels/loss.h"

#include "kernels/cuda_table.h"

namespace strata::kernels {

void softmax(const Tensor& x, int64_t dim, bool log, const Tensor& out) {
  if (out.device().is_cuda()) return cuda_kernel(&CudaTable::softmax, log ? "log_softmax" : "softmax", out.device())(x, dim, log, out);
  cpu::softmax(x, dim, log, out);
}

void softmax_backward(const Tensor& grad, const Tensor& y, int64_t dim, bool log, const Tensor& grad_in) {
  if (grad_in.device().is_cuda())
    return cuda_kernel(&CudaTable::softmax_backward, log ? "log_softmax_backward" : "softmax_backward",
                       grad_in.device())(grad, y, dim, log, grad_in);
  cpu::softmax_backward(grad, y, dim, log, grad_in);
}

int64_t find_invalid_class_target(const Tensor& target, int64_t num_classes, int64_t ignore_index) {
  if (target.device().is_cuda())
    return cuda_kernel(&CudaTable::find_invalid_class_target, "class targets", target.device())(target, num_classes,
                                                                                              ignore_index);
  return cpu::find_invalid_class_target(target, num_classes, ignore_index);
}

void cross_entropy_forward(const Tensor& x, int64_t dim, const ClassTargets& t, const Tensor& loss,
                           const Tensor& item_weight, const Tensor& lse) {
  if (x.device().is_cuda())
    return cuda_kernel(&CudaTable::cross_entropy_forward, "cross_entropy", x.device())(x, dim, t, loss, item_weight, lse);
  cpu::cross_entropy_forward(x, dim, t, loss, item_weight, lse);
}

void cross_entropy_backward(const Tensor& grad_item, const Tensor& x, int64_t dim, const ClassTargets& t,
                            const Tensor& lse, const Tensor& grad_x) {
  if (x.device().is_cuda())
    return cuda_kernel(&CudaTable::cross_entropy_backward, "cross_entropy_backward", x.device())(grad_item, x, dim, t,
                                                                                                lse, grad_x);
  cpu::cross_entropy_backward(grad_item, x, dim, t, lse, grad_x);
}

void nll_loss_forward(const Tensor& x, int64_t dim, const ClassTargets& t, const Tensor& loss,
                      const Tensor& item_weight) {
  if (x.device().is_cuda())
    return cuda_kernel(&CudaTable::nll_loss_forward, "nll_loss", x.device())(x, dim, t, loss, item_weight);
  cpu::nll_loss_forward(x, dim, t, loss, item_weight);
}

void nll_loss_backward(const Tensor& grad_item, int64_t dim, const ClassTargets& t, const Tensor& grad_x) {
  if (grad_x.device().is_cuda())
    return cuda_kernel(&CudaTable::nll_loss_backward, "nll_loss_backward", grad_x.device())(grad_item, dim, t, grad_x);
  cpu::nll_loss_backward(grad_item, dim, t, grad_x);
}

bool has_fused_loss_kernels(Device device) {
  if (!device.is_cuda()) return true;
  const CudaTable& table = cuda_table();
  return table.softmax_backward && table.cross_entropy_backward && table.nll_loss_backward;
}

}  // namespace strata::kernels
