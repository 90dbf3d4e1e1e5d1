#include "kernels/embedding.h"

#include "kernels/cuda_table.h"

namespace strata::kernels {

void embedding_forward(const Tensor& weight, const Tensor& indices, const Tensor& out) {
  if (out.device().is_cuda())
    return cuda_kernel(&CudaTable::embedding_forward, "embedding", out.device())(weight, indices, out);
  cpu::embedding_forward(weight, indices, out);
}

void embedding_dense_backward(const Tensor& grad, const Tensor& indices, int64_t padding_idx,
                              const Tensor& grad_weight) {
  if (grad_weight.device().is_cuda())
    return cuda_kernel(&CudaTable::embedding_dense_backward, "embedding_backward", grad_weight.device())(
        grad, indices, padding_idx, grad_weight);
  cpu::embedding_dense_backward(grad, indices, padding_idx, grad_weight);
}

void embedding_bag_forward(const Tensor& weight, const Tensor& indices, const Tensor& offsets, BagMode mode,
                           int64_t padding_idx, const Tensor& out, const Tensor& argmax, const Tensor& count) {
  if (out.device().is_cuda())
    return cuda_kernel(&CudaTable::embedding_bag_forward, "embedding_bag", out.device())(
        weight, indices, offsets, mode, padding_idx, out, argmax, count);
  cpu::embedding_bag_forward(weight, indices, offsets, mode, padding_idx, out, argmax, count);
}

}  // namespace strata::kernels
