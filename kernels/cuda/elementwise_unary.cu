// CUDA unary elementwise kernels (kernels/defs/unary.def, unary_param.def) on the shared functors
// of kernels/functors.h, through the launcher of loops.cuh. Every dtype but bool, as on the CPU.
// Registered into the CUDA kernel table (CudaTable::unary) at start-up.
// u8 instantiations of abs/sign compare an unsigned value with zero: harmless, and shared with the CPU.
#pragma nv_diag_suppress 186
#include "kernels/cuda/elementwise_ops.cuh"
#include "kernels/cuda/loops.cuh"

namespace strata::cuda {
namespace {

template <bool Native, class F>
void unary_dispatch(const F& f, const Tensor& x, const Tensor& out) {
  visit_dtype(out.dtype(), [&]<class T>() {
    if constexpr (std::is_same_v<T, bool>) {
      STRATA_THROW(DTypeError, "unary op: bool tensors are not supported");
    } else {
      using C = unary_compute_t<T, Native>;
      launch_elementwise<T, T>(UnaryFn<T, C, F>{f}, out, {&x});
    }
  });
}

void unary(UnaryOp op, const Tensor& x, const Tensor& out, double p0, double p1) {
  switch (op) {
#define UNARY(name, F, diff) \
  case UnaryOp::name: return unary_dispatch<integer_native(UnaryOp::name)>(kernels::F{}, x, out);
#include "kernels/defs/unary.def"
#undef UNARY
#define UNARY_P(name, F, diff) \
  case UnaryOp::name: return unary_dispatch<integer_native(UnaryOp::name)>(kernels::F{p0, p1}, x, out);
#include "kernels/defs/unary_param.def"
#undef UNARY_P
  }
}

const bool g_registered = register_kernels([](kernels::CudaTable& t) { t.unary = &unary; });

}  // namespace
}  // namespace strata::cuda
