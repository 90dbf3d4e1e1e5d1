#include "kernels/optim.h"

#include "kernels/cuda_table.h"

namespace strata::kernels {

void optim_step(OptimKind kind, std::span<const OptimSlot> slots, const OptimCoeffs& coeffs) {
  if (slots.empty()) return;
  const Device device = slots.front().param.device();
  if (device.is_cuda()) return cuda_kernel(&CudaTable::optim_step, "optim_step", device)(kind, slots, coeffs);
  cpu::optim_step(kind, slots, coeffs);
}

}  // namespace strata::kernels
