// The CUDA conv entries of the CudaTable: each resolves ConvGeometry::algorithm (automatic is
// cuDNN in builds with it, else the implicit GEMM; cuDNN requested without it is a DeviceError
// naming the op) and runs that implementation. Problems with a zero dim anywhere go to the
// implicit GEMM, which handles them (an output of bias only, a zero weight gradient), so cuDNN
// never sees an empty descriptor; so do pairs whose sizes cuDNN rejects: conv_transpose2d with an
// output_padding >= stride (allowed when dilation is larger) gives an input that conv2d would map
// to a larger output than the gradient it is paired with. The choice actually run is noted for tests
// (kernels::last_cuda_conv_algorithm). Under implicit_gemm, depthwise convolutions run the direct
// kernels of conv_depthwise.cu (the GEMM tiles would be 1/64 full).
#include "kernels/cuda/conv_cuda.h"
#include "kernels/cuda/loops.cuh"

namespace strata::cuda {
namespace {

using kernels::ConvGeometry;
using kernels::ConvProduct;

constexpr bool kCudnnBuilt = STRATA_WITH_CUDNN != 0;

bool any_empty(std::initializer_list<const Tensor*> ts) {
  for (const Tensor* t : ts)
    if (t->defined() && t->numel() == 0) return true;
  return false;
}

// conv2d of `in` (NCHW) by `w` under g gives exactly out's spatial size, as cuDNN requires.
bool sizes_match(const Tensor& in, const Tensor& w, const Tensor& out, const ConvGeometry& g) {
  const int64_t ho = (in.size(2) + 2 * g.pad_h - g.dil_h * (w.size(2) - 1) - 1) / g.stride_h + 1;
  const int64_t wo = (in.size(3) + 2 * g.pad_w - g.dil_w * (w.size(3) - 1) - 1) / g.stride_w + 1;
  return ho == out.size(2) && wo == out.size(3);
}

ConvAlgorithm choose(const ConvGeometry& g, ConvProduct product, const char* op, bool implicit_only) {
  ConvAlgorithm a = kernels::resolve_conv_algorithm(g.algorithm, kCudnnBuilt, op);
  if (implicit_only) a = ConvAlgorithm::implicit_gemm;
  kernels::note_cuda_conv_algorithm(product, a);
  return a;
}

void forward(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& y, const ConvGeometry& g) {
  const ConvAlgorithm a = choose(g, ConvProduct::forward, "conv2d", any_empty({&x, &w, &y}));
#if STRATA_WITH_CUDNN
  if (a == ConvAlgorithm::cudnn) return conv2d_forward_cudnn(x, w, bias, y, g);
#endif
  (void)a;
  if (conv2d_is_depthwise(x, w, g)) return conv2d_forward_depthwise(x, w, bias, y, g);
  conv2d_forward_implicit_gemm(x, w, bias, y, g);
}

void backward_data(const Tensor& gy, const Tensor& w, const Tensor& bias, const Tensor& gx, const ConvGeometry& g) {
  const ConvAlgorithm a = choose(g, ConvProduct::backward_data, "conv_transpose2d", 
                                   any_empty({&gy, &w, &gx}) || !sizes_match(gx, w, gy, g));
#if STRATA_WITH_CUDNN
  if (a == ConvAlgorithm::cudnn) return conv2d_backward_data_cudnn(gy, w, bias, gx, g);
#endif
  (void)a;
  if (conv2d_is_depthwise(gx, w, g)) return conv2d_backward_data_depthwise(gy, w, bias, gx, g);
  conv2d_backward_data_implicit_gemm(gy, w, bias, gx, g);
}

void backward_weight(const Tensor& x, const Tensor& gy, const Tensor& gw, const ConvGeometry& g) {
  const ConvAlgorithm a = choose(g, ConvProduct::backward_weight, "conv2d_backward", 
                                   any_empty({&x, &gy, &gw}) || !sizes_match(x, gw, gy, g));
#if STRATA_WITH_CUDNN
  if (a == ConvAlgorithm::cudnn) return conv2d_backward_weight_cudnn(x, gy, gw, g);
#endif
  (void)a;
  if (conv2d_is_depthwise(x, gw, g)) return conv2d_backward_weight_depthwise(x, gy, gw, g);
  conv2d_backward_weight_implicit_gemm(x, gy, gw, g);
}

}  // namespace

const bool g_registered = register_kernels([](kernels::CudaTable& t) {
  t.conv2d_forward = &forward;
  t.conv2d_backward_data = &backward_data;
  t.conv2d_backward_weight = &backward_weight;
});

}  // namespace strata::cuda
