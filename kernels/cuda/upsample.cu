// CUDA upsampling kernels (kernels/pool.h): nearest (+ backward) and bilinear (+ backward, with or
// without align_corners), on the [planes, H, W] views.
//
// Forward: one thread per output element. Nearest is a pure gather copy, so it runs on the storage
// width alone (1, 2, 4 or 8 bytes: every dtype, as on the CPU, from four instantiations); bilinear
// computes in compute_t<T> for f32, f64, f16, bf16.
// Backward: one thread per input-gradient element, a gather over the outputs that sampled it. The
// sampled source never decreases along an output axis, so those outputs are a contiguous range
// found by binary search (kernels/pool_functors.h: nearest_first_reaching, linear_first_reaching);
// they are added in the CPU scatter's order with the CPU's rounding, so the gradients are the
// CPU's bit for bit and deterministic, with no atomics. The source positions are computed with
// the CPU's float arithmetic, unfused (kernels/rounded_math.h), so both devices sample the same
// pixels.
#include "kernels/cuda/grid_stride.cuh"

namespace strata::cuda {
namespace {

using kernels::LinearTaps;
using kernels::PoolDims;

// S: an unsigned type of the element's width (the copy never looks at the value).
template <class S>
__global__ void nearest_kernel(const S* x, S* out, PoolDims d, double scale_h, double scale_w) {
  const int64_t n = d.planes * d.oh * d.ow;
  for (int64_t i = first_item(); i < n; i += item_step()) {
    const int64_t ox = i % d.ow, row = i / d.ow, oy = row % d.oh, plane = row / d.oh;
    const int64_t sy = kernels::nearest_source(oy, d.ih, d.oh, scale_h);
    const int64_t sx = kernels::nearest_source(ox, d.iw, d.ow, scale_w);
    out[i] = x[(plane * d.ih + sy) * d.iw + sx];
  }
}

template <class T>
__global__ void nearest_backward_kernel(const T* g, T* gi, PoolDims d, double scale_h, double scale_w) {
  const int64_t n = d.planes * d.ih * d.iw;
  for (int64_t i = first_item(); i < n; i += item_step()) {
    const int64_t w = i % d.iw, row = i / d.iw, h = row % d.ih, plane = row / d.ih;
    gi[i] = kernels::nearest_grad_at(g + plane * d.oh * d.ow, d, h, w, scale_h, scale_w, gi[i]);
  }
}

template <class T, class A = compute_t<T>>
__global__ void bilinear_kernel(const T* x, T* out, PoolDims d, A scale_h, A scale_w, bool align_corners) {
  const int64_t n = d.planes * d.oh * d.ow;
  for (int64_t i = first_item(); i < n; i += item_step()) {
    const int64_t ox = i % d.ow, row = i / d.ow, oy = row % d.oh, plane = row / d.oh;
    const LinearTaps<A> ty = kernels::linear_taps<A>(oy, d.ih, scale_h, align_corners);
    const LinearTaps<A> tx = kernels::linear_taps<A>(ox, d.iw, scale_w, align_corners);
    out[i] = kernels::bilinear_at(x + plane * d.ih * d.iw, d, ty, tx);
  }
}

template <class T, class A = compute_t<T>>
__global__ void bilinear_backward_kernel(const T* g, T* gi, PoolDims d, A scale_h, A scale_w, bool align_corners) {
  const int64_t n = d.planes * d.ih * d.iw;
  for (int64_t i = first_item(); i < n; i += item_step()) {
    const int64_t w = i % d.iw, row = i / d.iw, h = row % d.ih, plane = row / d.ih;
    gi[i] = kernels::bilinear_grad_at(g + plane * d.oh * d.ow, d, h, w, scale_h, scale_w, align_corners, gi[i]);
  }
}

template <class S>
void nearest_as(const Tensor& x, double scale_h, double scale_w, const Tensor& out) {
  launch(out, out.numel(), &nearest_kernel<S>, static_cast<const S*>(x.raw_data()), static_cast<S*>(out.raw_data()),
         dims_of(x, out), scale_h, scale_w);
}

void upsample_nearest2d(const Tensor& x, double scale_h, double scale_w, const Tensor& out) {
  switch (x.itemsize()) {
    case 1: return nearest_as<uint8_t>(x, scale_h, scale_w, out);
    case 2: return nearest_as<uint16_t>(x, scale_h, scale_w, out);
    case 4: return nearest_as<uint32_t>(x, scale_h, scale_w, out);
    case 8: return nearest_as<uint64_t>(x, scale_h, scale_w, out);
    default: STRATA_THROW(DTypeError, "upsample_nearest2d: unsupported element size {}", x.itemsize());
  }
}

void upsample_nearest2d_backward(const Tensor& grad_out, double scale_h, double scale_w, const Tensor& grad_in) {
  const PoolDims d = dims_of(grad_in, grad_out);
  visit_floating(grad_in.dtype(), "upsample_nearest2d_backward", [&]<class T>() {
    launch(grad_in, grad_in.numel(), &nearest_backward_kernel<T>, grad_out.data<T>(), grad_in.data<T>(), d, scale_h,
           scale_w);
  });
}

void upsample_bilinear2d(const Tensor& x, bool align_corners, double scale_h, double scale_w, const Tensor& out) {
  const PoolDims d = dims_of(x, out);
  visit_floating(x.dtype(), "upsample_bilinear2d", [&]<class T>() {
    using A = compute_t<T>;
    launch(out, out.numel(), &bilinear_kernel<T, A>, x.data<T>(), out.data<T>(), d,
           kernels::linear_scale<A>(d.ih, d.oh, align_corners, scale_h),
           kernels::linear_scale<A>(d.iw, d.ow, align_corners, scale_w), align_corners);
  });
}

void upsample_bilinear2d_backward(const Tensor& grad_out, bool align_corners, double scale_h, double scale_w,
                                  const Tensor& grad_in) {
  const PoolDims d = dims_of(grad_in, grad_out);
  visit_floating(grad_in.dtype(), "upsample_bilinear2d_backward", [&]<class T>() {
    using A = compute_t<T>;
    launch(grad_in, grad_in.numel(), &bilinear_backward_kernel<T, A>, grad_out.data<T>(), grad_in.data<T>(), d,
           kernels::linear_scale<A>(d.ih, d.oh, align_corners, scale_h),
           kernels::linear_scale<A>(d.iw, d.ow, align_corners, scale_w), align_corners);
  });
}

const bool g_registered = register_kernels([](kernels::CudaTable& t) {
  t.upsample_nearest2d = &upsample_nearest2d;
  t.upsample_nearest2d_backward = &upsample_nearest2d_backward;
  t.upsample_bilinear2d = &upsample_bilinear2d;
  t.upsample_bilinear2d_backward = &upsample_bilinear2d_backward;
});

}  // namespace
}  // namespace strata::cuda
