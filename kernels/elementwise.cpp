// Device switch for the elementwise family: CPU kernels here, CUDA kernels through the table
// that the CUDA backend registers (kernels/cuda_table.h).
#include "kernels/elementwise.h"

#include "kernels/cuda_table.h"

namespace strata::kernels {

bool is_compare(BinaryOp op) {
  switch (op) {
#define COMPARE(name, F) case BinaryOp::name:
#include "kernels/defs/compare.def"
#undef COMPARE
    return true;
    default: return false;
  }
}

bool has_unary_backward(UnaryOp op, Device device) {
  switch (op) {
#define UNARY_BACKWARD(name, F, reads) case UnaryOp::name:
#include "kernels/defs/unary_backward.def"
#undef UNARY_BACKWARD
      return device.is_cpu() || cuda_table().unary_backward != nullptr;
    default:
      return false;
  }
}

bool unary_backward_reads_output(UnaryOp op) {
  constexpr bool input = false, output = true;
  switch (op) {
#define UNARY_BACKWARD(name, F, reads) \
  case UnaryOp::name: return reads;
#include "kernels/defs/unary_backward.def"
#undef UNARY_BACKWARD
    default:
      return false;
  }
}

void unary_backward(UnaryOp op, const Tensor& g, const Tensor& v, const Tensor& out, double p0, double p1) {
  if (out.device().is_cuda())
    return cuda_kernel(&CudaTable::unary_backward, "unary_backward", out.device())(op, g, v, out, p0, p1);
  cpu::unary_backward(op, g, v, out, p0, p1);
}

void unary(UnaryOp op, const Tensor& x, const Tensor& out, double p0, double p1) {
  if (out.device().is_cuda()) return cuda_kernel(&CudaTable::unary, "unary", out.device())(op, x, out, p0, p1);
  cpu::unary(op, x, out, p0, p1);
}

void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  if (out.device().is_cuda()) return cuda_kernel(&CudaTable::binary, "binary", out.device())(op, a, b, out);
  cpu::binary(op, a, b, out);
}

void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) {
  if (out.device().is_cuda()) return cuda_kernel(&CudaTable::where, "where", out.device())(cond, a, b, out);
  cpu::where(cond, a, b, out);
}

void lerp(const Tensor& a, const Tensor& b, const Tensor& w, const Tensor& out) {
  if (out.device().is_cuda()) return cuda_kernel(&CudaTable::lerp, "lerp", out.device())(a, b, w, out);
  cpu::lerp(a, b, w, out);
}

void copy(const Tensor& src, const Tensor& dst) {
  if (src.device().is_cuda() || dst.device().is_cuda())
    return cuda_kernel(&CudaTable::copy, "copy", src.device().is_cuda() ? src.device() : dst.device())(src, dst);
  cpu::copy(src, dst);
}

void fill(const Tensor& dst, double value) {
  if (dst.device().is_cuda()) return cuda_kernel(&CudaTable::fill, "fill", dst.device())(dst, value);
  cpu::fill(dst, value);
}

}  // namespace strata::kernels
