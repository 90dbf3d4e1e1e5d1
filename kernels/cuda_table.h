#pragma once
// The CUDA backend's entry points. kernels/cuda registers a filled table at start-up
// (register_cuda_table); until then, or in a build without CUDA, asking for a kernel throws a
// DeviceError naming the op. Each family adds its entries here as its CUDA kernels land.
#include "kernels/elementwise.h"
#include "kernels/matmul.h"
#include "kernels/random.h"

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
  // random
  void (*random_fill)(const Tensor&, Distribution, double, double, uint64_t, uint64_t, const Tensor&) = nullptr;
};

const CudaTable& cuda_table();
void register_cuda_table(const CudaTable& table);

[[noreturn]] void throw_no_cuda_kernel(const char* op, Device device);

// The registered CUDA kernel `member`, or a DeviceError for `op` on `device`.
template <class Fn>
Fn cuda_kernel(Fn CudaTable::*member, const char* op, Device device) {
  Fn fn = cuda_table().*member;
  if (!fn) throw_no_cuda_kernel(op, device);
  return fn;
}

}  // namespace strata::kernels
