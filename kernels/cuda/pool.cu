// CUDA pooling kernels (kernels/pool.h): max_pool2d (with indices) and its backward (shared with
// adaptive_max_pool2d), avg_pool2d (+ backward, count_include_pad and ceil_mode as the CPU),
// adaptive_avg_pool2d (+ backward), adaptive_max_pool2d. f32, f64, f16, bf16.
//
// One thread per output element (forward) or per input-gradient element (avg backwards), in a
// grid-stride loop over the [planes, H, W] views, flat index fastest along W so neighbouring
// threads touch neighbouring memory. The per-element bodies are kernels/pool_functors.h, tested on
// the host against the CPU kernels (tests/kernels/test_cuda_pool.cpp).
//
// Backwards: avg and adaptive avg are gathers (each input gradient sums the shares of the outputs
// that cover it, in the CPU's order): deterministic, no atomics, bit-identical to the CPU. Max
// backward is a scatter to the saved argmax with atomicAdd: the table entry carries no window
// geometry (adaptive max shares it), so the kernel cannot tell whether windows overlap. Where they
// do not (stride >= kernel, the usual max_pool2d(2)), every input receives at most one add onto its
// zero, which is exact and deterministic; where they overlap, two outputs can pick the same input
// and the order of their adds (and so the last bit in f32, a bf16 rounding) can vary run to run.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "kernels/cuda/grid_stride.cuh"

namespace strata::cuda {
namespace {

using kernels::Pool2dParams;
using kernels::PoolDims;

// ---- forward: one thread per output -----------------------------------------------------------

template <class T>
__global__ void max_pool_kernel(const T* x, T* out, int64_t* index, Pool2dParams p, PoolDims d) {
  const int64_t n = d.planes * d.oh * d.ow;
  for (int64_t i = first_item(); i < n; i += item_step()) {
    const int64_t ox = i % d.ow, row = i / d.ow, oy = row % d.oh, plane = row / d.oh;
    kernels::max_pool_at(x + plane * d.ih * d.iw, p, d, oy, ox, out + i, index ? index + i : nullptr);
  }
}

template <class T>
__global__ void adaptive_max_kernel(const T* x, T* out, int64_t* index, PoolDims d) {
  const int64_t n = d.planes * d.oh * d.ow;
  for (int64_t i = first_item(); i < n; i += item_step()) {
    const int64_t ox = i % d.ow, row = i / d.ow, oy = row % d.oh, plane = row / d.oh;
    kernels::adaptive_max_at(x + plane * d.ih * d.iw, d, oy, ox, out + i, index + i);
  }
}

template <class T>
__global__ void avg_pool_kernel(const T* x, T* out, Pool2dParams p, PoolDims d) {
  const int64_t n = d.planes * d.oh * d.ow;
  for (int64_t i = first_item(); i < n; i += item_step()) {
    const int64_t ox = i % d.ow, row = i / d.ow, oy = row % d.oh, plane = row / d.oh;
    out[i] = kernels::avg_pool_at(x + plane * d.ih * d.iw, p, d, oy, ox);
  }
}

template <class T>
__global__ void adaptive_avg_kernel(const T* x, T* out, PoolDims d) {
  const int64_t n = d.planes * d.oh * d.ow;
  for (int64_t i = first_item(); i < n; i += item_step()) {
    const int64_t ox = i % d.ow, row = i / d.ow, oy = row % d.oh, plane = row / d.oh;
    out[i] = kernels::adaptive_avg_at(x + plane * d.ih * d.iw, d, oy, ox);
  }
}

// ---- backward ------------------------------------------------------------------------------------

// grad_in (zero-filled) += the gathered shares; one thread per input element.
template <class T>
__global__ void avg_pool_backward_kernel(const T* g, T* gi, Pool2dParams p, PoolDims d) {
  const int64_t n = d.planes * d.ih * d.iw;
  for (int64_t i = first_item(); i < n; i += item_step()) {
    const int64_t w = i % d.iw, row = i / d.iw, h = row % d.ih, plane = row / d.ih;
    gi[i] = kernels::avg_pool_grad_at(g + plane * d.oh * d.ow, p, d, h, w, gi[i]);
  }
}

template <class T>
__global__ void adaptive_avg_backward_kernel(const T* g, T* gi, PoolDims d) {
  const int64_t n = d.planes * d.ih * d.iw;
  for (int64_t i = first_item(); i < n; i += item_step()) {
    const int64_t w = i % d.iw, row = i / d.iw, h = row % d.ih, plane = row / d.ih;
    gi[i] = kernels::adaptive_avg_grad_at(g + plane * d.oh * d.ow, d, h, w, gi[i]);
  }
}

__device__ __forceinline__ void atomic_add(float* at, float v) { atomicAdd(at, v); }
__device__ __forceinline__ void atomic_add(double* at, double v) { atomicAdd(at, v); }
__device__ __forceinline__ void atomic_add(Half* at, Half v) {
  __half_raw raw;
  raw.x = v.bits;
  atomicAdd(reinterpret_cast<__half*>(at), __half(raw));
}
__device__ __forceinline__ void atomic_add(BFloat16* at, BFloat16 v) {
  __nv_bfloat16_raw raw;
  raw.x = v.bits;
  atomicAdd(reinterpret_cast<__nv_bfloat16*>(at), __nv_bfloat16(raw));
}

// grad_in[plane, index[k]] += grad_out[k]; one thread per output element. An index outside the
// plane (a window with no tap inside the input) adds nothing.
template <class T>
__global__ void max_pool_backward_kernel(const T* g, const int64_t* index, T* gi, int64_t n, int64_t out_plane,
                                         int64_t in_plane) {
  for (int64_t i = first_item(); i < n; i += item_step()) {
    const int64_t at = index[i];
    if (at < 0 || at >= in_plane) continue;
    atomic_add(gi + (i / out_plane) * in_plane + at, g[i]);
  }
}

// ---- table entries ---------------------------------------------------------------------------------

void max_pool2d(const Tensor& x, const Pool2dParams& p, const Tensor& out, const Tensor& indices) {
  const PoolDims d = dims_of(x, out);
  visit_floating(x.dtype(), "max_pool2d", [&]<class T>() {
    int64_t* index = indices.defined() ? indices.data<int64_t>() : nullptr;
    launch(out, out.numel(), &max_pool_kernel<T>, x.data<T>(), out.data<T>(), index, p, d);
  });
}

void max_pool2d_backward(const Tensor& grad_out, const Tensor& indices, const Tensor& grad_in) {
  const PoolDims d = dims_of(grad_in, grad_out);
  visit_floating(grad_in.dtype(), "max_pool2d_backward", [&]<class T>() {
    launch(grad_in, grad_out.numel(), &max_pool_backward_kernel<T>, grad_out.data<T>(), indices.data<int64_t>(),
           grad_in.data<T>(), grad_out.numel(), d.oh * d.ow, d.ih * d.iw);
  });
}

void avg_pool2d(const Tensor& x, const Pool2dParams& p, const Tensor& out) {
  const PoolDims d = dims_of(x, out);
  visit_floating(x.dtype(), "avg_pool2d", [&]<class T>() {
    launch(out, out.numel(), &avg_pool_kernel<T>, x.data<T>(), out.data<T>(), p, d);
  });
}

void avg_pool2d_backward(const Tensor& grad_out, const Pool2dParams& p, const Tensor& grad_in) {
  const PoolDims d = dims_of(grad_in, grad_out);
  visit_floating(grad_in.dtype(), "avg_pool2d_backward", [&]<class T>() {
    launch(grad_in, grad_in.numel(), &avg_pool_backward_kernel<T>, grad_out.data<T>(), grad_in.data<T>(), p, d);
  });
}

void adaptive_avg_pool2d(const Tensor& x, const Tensor& out) {
  const PoolDims d = dims_of(x, out);
  visit_floating(x.dtype(), "adaptive_avg_pool2d", [&]<class T>() {
    launch(out, out.numel(), &adaptive_avg_kernel<T>, x.data<T>(), out.data<T>(), d);
  });
}

void adaptive_avg_pool2d_backward(const Tensor& grad_out, const Tensor& grad_in) {
  const PoolDims d = dims_of(grad_in, grad_out);
  visit_floating(grad_in.dtype(), "adaptive_avg_pool2d_backward", [&]<class T>() {
    launch(grad_in, grad_in.numel(), &adaptive_avg_backward_kernel<T>, grad_out.data<T>(), grad_in.data<T>(), d);
  });
}

void adaptive_max_pool2d(const Tensor& x, const Tensor& out, const Tensor& indices) {
  const PoolDims d = dims_of(x, out);
  visit_floating(x.dtype(), "adaptive_max_pool2d", [&]<class T>() {
    launch(out, out.numel(), &adaptive_max_kernel<T>, x.data<T>(), out.data<T>(), indices.data<int64_t>(), d);
  });
}

const bool g_registered = register_kernels([](kernels::CudaTable& t) {
  t.max_pool2d = &max_pool2d;
  t.max_pool2d_backward = &max_pool2d_backward;
  t.avg_pool2d = &avg_pool2d;
  t.avg_pool2d_backward = &avg_pool2d_backward;
  t.adaptive_avg_pool2d = &adaptive_avg_pool2d;
  t.adaptive_avg_pool2d_backward = &adaptive_avg_pool2d_backward;
  t.adaptive_max_pool2d = &adaptive_max_pool2d;
});

}  // namespace
}  // namespace strata::cuda
