// Device switch for the resampling family: CPU kernels in kernels/cpu/resample_*.cpp, CUDA
// kernels through the table the CUDA backend registers (kernels/cuda_table.h).
#include "kernels/resample.h"

#include "kernels/cuda_table.h"

namespace strata::kernels {

void grid_sample(const Tensor& input, const Tensor& grid, const SampleParams& params, const Tensor& out) {
  if (out.device().is_cuda())
    return cuda_kernel(&CudaTable::grid_sample, "grid_sample", out.device())(input, grid, params, out);
  cpu::grid_sample(input, grid, params, out);
}

void grid_sample_backward(const Tensor& grad_out, const Tensor& input, const Tensor& grid, const SampleParams& params,
                          const Tensor& grad_input, const Tensor& grad_grid) {
  if (grad_out.device().is_cuda())
    return cuda_kernel(&CudaTable::grid_sample_backward, "grid_sample_backward", grad_out.device())(
        grad_out, input, grid, params, grad_input, grad_grid);
  cpu::grid_sample_backward(grad_out, input, grid, params, grad_input, grad_grid);
}

void warp_batch(const Tensor& input, const Tensor& transforms, bool perspective, const SampleParams& params,
                const Tensor& out) {
  if (out.device().is_cuda())
    return cuda_kernel(&CudaTable::warp_batch, "warp_batch", out.device())(input, transforms, perspective, params,
                                                                           out);
  cpu::warp_batch(input, transforms, perspective, params, out);
}

void warp_batch_backward(const Tensor& grad_out, const Tensor& transforms, bool perspective,
                         const SampleParams& params, const Tensor& grad_input) {
  if (grad_input.device().is_cuda())
    return cuda_kernel(&CudaTable::warp_batch_backward, "warp_batch_backward", grad_input.device())(
        grad_out, transforms, perspective, params, grad_input);
  cpu::warp_batch_backward(grad_out, transforms, perspective, params, grad_input);
}

void warp_points(const Tensor& points, const Tensor& inverse_transforms, bool perspective, const Tensor& out) {
  if (out.device().is_cuda())
    return cuda_kernel(&CudaTable::warp_points, "warp_points", out.device())(points, inverse_transforms,
                                                                             perspective, out);
  cpu::warp_points(points, inverse_transforms, perspective, out);
}

}  // namespace strata::kernels
