#include "kernels/random.h"

#include "kernels/cuda_table.h"

namespace strata::kernels {

void random_fill(const Tensor& out, Distribution dist, double a, double b, uint64_t seed, uint64_t offset,
                 const Tensor& p) {
  if (out.device().is_cuda())
    return cuda_kernel(&CudaTable::random_fill, "random", out.device())(out, dist, a, b, seed, offset, p);
  cpu::random_fill(out, dist, a, b, seed, offset, p);
}

}  // namespace strata::kernels
