// CUDA fused backward of unary ops (kernels/defs/unary_backward.def): out = F(g, v) on the shared
// functors of kernels/functors.h, floating dtypes only (as on the CPU). With this entry in the
// table, has_unary_backward() reports the fused kernel for CUDA tensors too.
#include "kernels/cuda/elementwise_ops.cuh"
#include "kernels/cuda/loops.cuh"

namespace strata::cuda {
namespace {

void unary_backward(UnaryOp op, const Tensor& g, const Tensor& v, const Tensor& out, double p0, double p1) {
  switch (op) {
#define UNARY_BACKWARD(name, F, reads)                                                         \
  case UnaryOp::name:                                                                          \
    return visit_floating(out.dtype(), #name "_backward", [&]<class T>() {                     \
      launch_elementwise<T, T, T>(BinaryFn<T, compute_t<T>, kernels::F>{kernels::F{p0, p1}}, out, {&g, &v}); \
    });
#include "kernels/defs/unary_backward.def"
#undef UNARY_BACKWARD
    default:
      STRATA_THROW(ValueError, "unary_backward: no fused backward kernel for this op");
  }
}

const bool g_registered = register_kernels([](kernels::CudaTable& t) { t.unary_backward = &unary_backward; });

}  // namespace
}  // namespace strata::cuda
