#include "kernels/dropout.h"

#include "kernels/cuda_table.h"

namespace strata::kernels {

void dropout_fill(const Tensor& out, const Tensor& x, double p, uint64_t seed, uint64_t offset) {
  if (out.device().is_cuda())
    return cuda_kernel(&CudaTable::dropout_fill, "dropout", out.device())(out, x, p, seed, offset);
  cpu::dropout_fill(out, x, p, seed, offset);
}

}  // namespace strata::kernels
