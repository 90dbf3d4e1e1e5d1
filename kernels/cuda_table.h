#pragma once
// The CUDA backend's entry points. kernels/cuda registers a filled table at start-up
// (register_cuda_table); until then, or in a build without CUDA, asking for a kernel throws a
// DeviceError naming the op. Each family adds its entries here as its CUDA kernels land.
#include "kernels/dropout.h"
#include "kernels/conv.h"
#include "kernels/elementwise.h"
#include "kernels/embedding.h"
#include "kernels/index.h"
#include "kernels/loss.h"
#include "kernels/matmul.h"
#include "kernels/norm.h"
#include "kernels/optim.h"
#include "kernels/pool.h"
#include "kernels/random.h"
#include "kernels/reduce.h"
#include "kernels/resample.h"
#include "kernels/rnn.h"
#include "tensor/device_detail.h"

namespace strata::kernels {

struct CudaTable {
  // elementwise
  void (*unary)(UnaryOp, const Tensor&, const Tensor&, double, double) = nullptr;
  void (*binary)(BinaryOp, const Tensor&, const Tensor&, const Tensor&) = nullptr;
  void (*where)(const Tensor&, const Tensor&, const Tensor&, const Tensor&) = nullptr;
  void (*lerp)(const Tensor&, const Tensor&, const Tensor&, const Tensor&) = nullptr;
  void (*copy)(const Tensor&, const Tensor&) = nullptr;  // any direction host/device
  void (*fill)(const Tensor&, double) = nullptr;
  // fused unary backward (kernels/defs/unary_backward.def); optional: the composite formula
  // runs when it is missing
  void (*unary_backward)(UnaryOp, const Tensor&, const Tensor&, const Tensor&, double, double) = nullptr;
  // matmul: batched GEMM over views (kernels/matmul.h, cuBLAS on CUDA)
  void (*gemm)(const Tensor&, const Tensor&, const Tensor&, double, double) = nullptr;
  // norm: batch, layer and group norm forward/backward (kernels/norm.h)
  void (*batch_norm_forward)(const Tensor&, const Tensor&, const Tensor&, bool, double, const Tensor&, const Tensor&,
                             const Tensor&, const Tensor&) = nullptr;
  void (*batch_norm_backward)(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, bool,
                              const Tensor&, const Tensor&, const Tensor&) = nullptr;
  void (*layer_norm_forward)(const Tensor&, const Tensor&, const Tensor&, double, const Tensor&, const Tensor&,
                             const Tensor&) = nullptr;
  void (*layer_norm_backward)(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                              const Tensor&, const Tensor&, const Tensor&) = nullptr;
  void (*group_norm_forward)(const Tensor&, int64_t, const Tensor&, const Tensor&, double, const Tensor&,
                             const Tensor&, const Tensor&) = nullptr;
  void (*group_norm_backward)(const Tensor&, const Tensor&, int64_t, const Tensor&, const Tensor&, const Tensor&,
                              const Tensor&, const Tensor&, const Tensor&) = nullptr;
  // random
  void (*random_fill)(const Tensor&, Distribution, double, double, uint64_t, uint64_t, const Tensor&) = nullptr;
  // indexing (kernels/index.h)
  std::pair<int64_t, int64_t> (*index_min_max)(const Tensor&) = nullptr;
  void (*index_select)(const Tensor&, int64_t, const Tensor&, const Tensor&) = nullptr;
  void (*index_add)(const Tensor&, int64_t, const Tensor&, const Tensor&) = nullptr;
  void (*gather)(const Tensor&, int64_t, const Tensor&, const Tensor&) = nullptr;
  void (*scatter)(ScatterMode, const Tensor&, int64_t, const Tensor&, const Tensor&) = nullptr;
  void (*cat)(const std::vector<Tensor>&, int64_t, const Tensor&) = nullptr;
  Tensor (*nonzero)(const Tensor&) = nullptr;
  // loss: softmax rows and the fused class-index losses (kernels/loss.h)
  void (*softmax)(const Tensor&, int64_t, bool, const Tensor&) = nullptr;
  void (*softmax_backward)(const Tensor&, const Tensor&, int64_t, bool, const Tensor&) = nullptr;
  int64_t (*find_invalid_class_target)(const Tensor&, int64_t, int64_t) = nullptr;
  void (*cross_entropy_forward)(const Tensor&, int64_t, const ClassTargets&, const Tensor&, const Tensor&,
                                const Tensor&) = nullptr;
  void (*cross_entropy_backward)(const Tensor&, const Tensor&, int64_t, const ClassTargets&, const Tensor&,
                                 const Tensor&) = nullptr;
  void (*nll_loss_forward)(const Tensor&, int64_t, const ClassTargets&, const Tensor&, const Tensor&) = nullptr;
  void (*nll_loss_backward)(const Tensor&, int64_t, const ClassTargets&, const Tensor&) = nullptr;
  // pooling and upsampling (kernels/pool.h)
  void (*max_pool2d)(const Tensor&, const Pool2dParams&, const Tensor&, const Tensor&) = nullptr;
  void (*max_pool2d_backward)(const Tensor&, const Tensor&, const Tensor&) = nullptr;
  void (*avg_pool2d)(const Tensor&, const Pool2dParams&, const Tensor&) = nullptr;
  void (*avg_pool2d_backward)(const Tensor&, const Pool2dParams&, const Tensor&) = nullptr;
  void (*adaptive_avg_pool2d)(const Tensor&, const Tensor&) = nullptr;
  void (*adaptive_avg_pool2d_backward)(const Tensor&, const Tensor&) = nullptr;
  void (*adaptive_max_pool2d)(const Tensor&, const Tensor&, const Tensor&) = nullptr;
  void (*upsample_nearest2d)(const Tensor&, double, double, const Tensor&) = nullptr;
  void (*upsample_nearest2d_backward)(const Tensor&, double, double, const Tensor&) = nullptr;
  void (*upsample_bilinear2d)(const Tensor&, bool, double, double, const Tensor&) = nullptr;
  void (*upsample_bilinear2d_backward)(const Tensor&, bool, double, double, const Tensor&) = nullptr;
  // embedding/dropout (kernels/embedding.h, kernels/dropout.h)
  void (*embedding_forward)(const Tensor&, const Tensor&, const Tensor&) = nullptr;
  void (*embedding_dense_backward)(const Tensor&, const Tensor&, int64_t, const Tensor&) = nullptr;
  void (*embedding_bag_forward)(const Tensor&, const Tensor&, const Tensor&, BagMode, int64_t, const Tensor&,
                                const Tensor&, const Tensor&) = nullptr;
  void (*dropout_fill)(const Tensor&, const Tensor&, double, uint64_t, uint64_t) = nullptr;
  // conv: forward and the two backward products of a 2-d convolution (kernels/conv.h)
  void (*conv2d_forward)(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const ConvGeometry&) = nullptr;
  void (*conv2d_backward_data)(const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                               const ConvGeometry&) = nullptr;
  void (*conv2d_backward_weight)(const Tensor&, const Tensor&, const Tensor&, const ConvGeometry&) = nullptr;
  // reductions (kernels/reduce.h)
  void (*reduce)(ReduceOp, const Tensor&, const Tensor&, double) = nullptr;
  void (*arg_reduce)(bool, const Tensor&, int64_t, const Tensor&, const Tensor&) = nullptr;
  void (*cumsum)(const Tensor&, int64_t, const Tensor&, bool) = nullptr;
  // resample: grid_sample and the fused warp (kernels/resample.h)
  void (*grid_sample)(const Tensor&, const Tensor&, const SampleParams&, const Tensor&) = nullptr;
  void (*grid_sample_backward)(const Tensor&, const Tensor&, const Tensor&, const SampleParams&, const Tensor&,
                               const Tensor&) = nullptr;
  void (*warp_batch)(const Tensor&, const Tensor&, bool, const SampleParams&, const Tensor&) = nullptr;
  void (*warp_batch_backward)(const Tensor&, const Tensor&, bool, const SampleParams&, const Tensor&) = nullptr;
  void (*warp_points)(const Tensor&, const Tensor&, bool, const Tensor&) = nullptr;
  // optim: fused optimizer steps over a group's parameters (kernels/optim.h)
  void (*optim_step)(OptimKind, std::span<const OptimSlot>, const OptimCoeffs&) = nullptr;
  // rnn: the pointwise halves of an LSTM step (kernels/rnn.h); the GEMMs use `gemm`
  void (*lstm_cell_forward)(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&) = nullptr;
  void (*lstm_cell_backward)(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                             const Tensor&, const Tensor&) = nullptr;
  // norm (batch_norm_relu): batch norm with a fused ReLU, forward/backward (kernels/norm.h)
  void (*batch_norm_relu_forward)(const Tensor&, const Tensor&, const Tensor&, bool, double, const Tensor&,
                                  const Tensor&, const Tensor&, const Tensor&) = nullptr;
  void (*batch_norm_relu_backward)(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                                   const Tensor&, bool, const Tensor&, const Tensor&, const Tensor&) = nullptr;
};

const CudaTable& cuda_table();
void register_cuda_table(const CudaTable& table);

[[noreturn]] void throw_no_cuda_kernel(const char* op, Device device);
[[noreturn]] void throw_cuda_device_unusable(const char* op, Device device);

// True when `device` is a CUDA device that the runtime reports (the count is queried once).
inline bool cuda_device_usable(Device device) {
  return detail::g_cuda_device_count != nullptr && device.index < detail::g_cuda_device_count();
}

// The registered CUDA kernel `member`, or a DeviceError for `op` on `device`: no kernel
// registered, or no such device (a tensor that only claims to live there, e.g. from_blob with a
// CUDA device on a machine without one, must not reach the runtime).
template <class Fn>
Fn cuda_kernel(Fn CudaTable::*member, const char* op, Device device) {
  Fn fn = cuda_table().*member;
  if (!fn) throw_no_cuda_kernel(op, device);
  if (!cuda_device_usable(device)) throw_cuda_device_unusable(op, device);
  return fn;
}

}  // namespace strata::kernels
