// Device switch for the conv family: CPU kernels in kernels/cpu/conv.cpp, CUDA through the table.
#include "kernels/conv.h"

#include <atomic>

#include "kernels/cuda_table.h"
#include "tensor/error.h"

namespace strata::kernels {

ConvGeometry conv_geometry(const Conv2dOptions& o) {
  return {o.stride[0], o.stride[1], o.padding[0], o.padding[1], o.dilation[0], o.dilation[1], o.groups, o.algorithm};
}

ConvGeometry conv_geometry(const ConvTranspose2dOptions& o) {
  return {o.stride[0], o.stride[1], o.padding[0], o.padding[1], o.dilation[0], o.dilation[1], o.groups, o.algorithm};
}

const char* conv_algorithm_name(ConvAlgorithm a) {
  switch (a) {
    case ConvAlgorithm::automatic: return "automatic";
    case ConvAlgorithm::cudnn: return "cudnn";
    case ConvAlgorithm::implicit_gemm: return "implicit_gemm";
  }
  return "unknown";
}

namespace {
std::atomic<ConvAlgorithm> g_last_cuda_algorithm[3] = {ConvAlgorithm::automatic, ConvAlgorithm::automatic,
                                                       ConvAlgorithm::automatic};
}  // namespace

ConvAlgorithm last_cuda_conv_algorithm(ConvProduct product) {
  return g_last_cuda_algorithm[static_cast<int>(product)].load(std::memory_order_relaxed);
}

void note_cuda_conv_algorithm(ConvProduct product, ConvAlgorithm algorithm) {
  g_last_cuda_algorithm[static_cast<int>(product)].store(algorithm, std::memory_order_relaxed);
}

ConvAlgorithm resolve_conv_algorithm(ConvAlgorithm requested, bool cudnn_built, const char* op) {
  if (requested == ConvAlgorithm::automatic)
    return cudnn_built ? ConvAlgorithm::cudnn : ConvAlgorithm::implicit_gemm;
  STRATA_CHECK(requested != ConvAlgorithm::cudnn || cudnn_built, DeviceError,
               "{}: ConvAlgorithm::cudnn was requested but this build has no cuDNN (STRATA_WITH_CUDNN is off); "
               "use ConvAlgorithm::automatic or ConvAlgorithm::implicit_gemm",
               op);
  return requested;
}

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
