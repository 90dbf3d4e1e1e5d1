// Device switch for the indexing family: CPU kernels in kernels/cpu/index.cpp, CUDA kernels
// through the table the CUDA backend registers (kernels/cuda_table.h).
#include "kernels/index.h"

#include "kernels/cuda_table.h"

namespace strata::kernels {

std::pair<int64_t, int64_t> index_min_max(const Tensor& index) {
  if (index.device().is_cuda())
    return cuda_kernel(&CudaTable::index_min_max, "index_min_max", index.device())(index);
  return cpu::index_min_max(index);
}

void index_select(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& out) {
  if (out.device().is_cuda())
    return cuda_kernel(&CudaTable::index_select, "index_select", out.device())(x, dim, index, out);
  cpu::index_select(x, dim, index, out);
}

void index_add(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src) {
  if (out.device().is_cuda())
    return cuda_kernel(&CudaTable::index_add, "index_add", out.device())(out, dim, index, src);
  cpu::index_add(out, dim, index, src);
}

void gather(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& out) {
  if (out.device().is_cuda()) return cuda_kernel(&CudaTable::gather, "gather", out.device())(x, dim, index, out);
  cpu::gather(x, dim, index, out);
}

void scatter(ScatterMode mode, const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src) {
  if (out.device().is_cuda())
    return cuda_kernel(&CudaTable::scatter, "scatter", out.device())(mode, out, dim, index, src);
  cpu::scatter(mode, out, dim, index, src);
}

void cat(const std::vector<Tensor>& inputs, int64_t dim, const Tensor& out) {
  if (out.device().is_cuda()) return cuda_kernel(&CudaTable::cat, "cat", out.device())(inputs, dim, out);
  cpu::cat(inputs, dim, out);
}

Tensor nonzero(const Tensor& x) {
  if (x.device().is_cuda()) return cuda_kernel(&CudaTable::nonzero, "nonzero", x.device())(x);
  return cpu::nonzero(x);
}

}  // namespace strata::kernels
