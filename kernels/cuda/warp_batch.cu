// CUDA warp_batch (the fused batch-augmentation resampler), its input gradient, and warp_points
// (CudaTable::warp_batch, warp_batch_backward, warp_points), with the CPU kernels' semantics
// (kernels/cpu/resample_warp.cpp).
//
// ONE kernel per batch and direction. A thread owns one output pixel (n, i, j) (grid-stride over
// N * Ho * Wo, j fastest: coalesced writes): it reads its sample's WarpTransform (f64 [N, 15],
// shared by the sample's pixels, so served from cache), maps the pixel's normalized coordinates
// through the 2x3 affine matrix and, with `perspective`, the homography, pads, and computes the
// taps once (kernels/resample_functors.h: warp_source, bilinear_taps, nearest_index: the
// formulas the CPU tests cover); then it loops over the channels with one interpolation each.
// The per-pixel bodies are in kernels/resample_pixels.h (tests/kernels/test_resample_pixels.cpp
// runs them on the host against the CPU kernels).
// Images are bilinear, masks (and mode Nearest) nearest; zeros, border and reflection padding;
// align_corners either way. The CPU plans rows with a constant per-pixel step (affine) in f32;
// here each pixel is mapped in f64, so coordinates can differ from the CPU's in the last f32
// bits (values by ~1e-5 of the image's local slope; a nearest tap exactly at a half-pixel tie
// may round the other way).
//
// Nearest copies storage bits, so its kernel is instantiated per element size (1, 2, 4, 8
// bytes; f64 with f64 coordinates), not per dtype: 5 instantiations cover all 8 dtypes. A zero
// (padding) is all-zero bits in every dtype.
//
// Backward: grad_input is a scatter, with atomicAdd (the order of the additions is not fixed:
// f32/f64 results may differ between runs in the last bits; the CPU's are deterministic).
// f16/bf16 scatter into an f32 workspace converted once at the end. warp_batch has no gradient
// w.r.t. the matrices, so nothing else is reduced.
#include <cstdint>
#include <type_traits>

#include "kernels/cuda/loops.cuh"
#include "kernels/elementwise.h"
#include "kernels/resample.h"
#include "kernels/resample_pixels.h"

namespace strata::cuda {
namespace {

using kernels::SampleMode;
using kernels::SampleParams;
using kernels::WarpTransform;

using kernels::ResampleDims;

template <class T>
T* ptr(const Tensor& t) {
  return static_cast<T*>(t.raw_data());
}

const WarpTransform* transforms_of(const Tensor& t) { return static_cast<const WarpTransform*>(t.raw_data()); }

// Coordinate arithmetic as on the CPU: double for f64, float for everything else; grad_input
// accumulates in the storage type for f32/f64, in f32 for f16/bf16.
template <class T>
using coord_t = std::conditional_t<std::is_same_v<T, double>, double, float>;
template <class T>
using accum_t = std::conditional_t<std::is_same_v<T, double>, double, float>;

struct AtomicAdd {
  template <class G>
  __device__ __forceinline__ void operator()(G* p, G v) const {
    atomicAdd(p, v);
  }
};

template <class T, class A>
__global__ void warp_bilinear_kernel(const T* __restrict__ in, const WarpTransform* __restrict__ tf,
                                     T* __restrict__ out, ResampleDims d, bool perspective, SampleParams p) {
  const int64_t total = d.n * d.oh * d.ow, step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < total; idx += step)
    kernels::warp_bilinear_pixel<T, A>(in, tf, out, d, perspective, p, idx);
}

// S: an unsigned integer of the element's size (the bits are copied); A: the coordinate type.
template <class S, class A>
__global__ void warp_nearest_kernel(const S* __restrict__ in, const WarpTransform* __restrict__ tf,
                                    S* __restrict__ out, ResampleDims d, bool perspective, SampleParams p) {
  const int64_t total = d.n * d.oh * d.ow, step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < total; idx += step)
    kernels::warp_nearest_pixel<S, A>(in, tf, out, d, perspective, p, idx);
}

// gin: grad_input's accumulator (G = accum_t<T>), the caller's zero-filled tensor or a workspace.
template <class T, class A, class G>
__global__ void warp_backward_kernel(const T* __restrict__ go, const WarpTransform* __restrict__ tf,
                                     G* __restrict__ gin, ResampleDims d, bool perspective, SampleParams p) {
  const int64_t total = d.n * d.oh * d.ow, step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < total; idx += step)
    kernels::warp_backward_pixel<T, A, G>(go, tf, gin, d, perspective, p, idx, AtomicAdd{});
}

template <class T, class A>
__global__ void warp_points_kernel(const T* __restrict__ pts, const WarpTransform* __restrict__ inv,
                                   T* __restrict__ out, int64_t n, int64_t count, bool perspective) {
  const int64_t total = n * count, step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += step)
    kernels::warp_point<T, A>(pts, inv, out, count, perspective, i);
}

ResampleDims dims_of(const Tensor& input, const Tensor& out) {
  return {input.size(0), input.size(1), input.size(2), input.size(3), out.size(2), out.size(3)};
}

template <class S, class A>
void launch_nearest(const Tensor& input, const Tensor& tf, bool perspective, const SampleParams& p, const Tensor& out,
                    const ResampleDims& d, int64_t total, cudaStream_t stream) {
  warp_nearest_kernel<S, A><<<grid_for(total, kThreads), kThreads, 0, stream>>>(
      ptr<const S>(input), transforms_of(tf), ptr<S>(out), d, perspective, p);
}

void warp_batch(const Tensor& input, const Tensor& transforms, bool perspective, const SampleParams& params,
                const Tensor& out) {
  const ResampleDims d = dims_of(input, out);
  const int64_t total = d.n * d.oh * d.ow;
  if (total == 0 || d.c == 0) return;
  const cudaStream_t stream = stream_for(out.device());
  DeviceGuard guard(out.device().index);
  if (params.mode == SampleMode::Nearest) {
    switch (input.itemsize()) {
      case 1: launch_nearest<uint8_t, float>(input, transforms, perspective, params, out, d, total, stream); break;
      case 2: launch_nearest<uint16_t, float>(input, transforms, perspective, params, out, d, total, stream); break;
      case 4: launch_nearest<uint32_t, float>(input, transforms, perspective, params, out, d, total, stream); break;
      case 8:
        if (input.dtype() == DType::F64)
          launch_nearest<uint64_t, double>(input, transforms, perspective, params, out, d, total, stream);
        else
          launch_nearest<uint64_t, float>(input, transforms, perspective, params, out, d, total, stream);
        break;
      default: STRATA_THROW(DTypeError, "warp_batch: unsupported dtype {} on {}", input.dtype(), out.device());
    }
  } else {
    visit_floating(input.dtype(), "warp_batch", [&]<class T>() {
      warp_bilinear_kernel<T, coord_t<T>><<<grid_for(total, kThreads), kThreads, 0, stream>>>(
          ptr<const T>(input), transforms_of(transforms), ptr<T>(out), d, perspective, params);
    });
  }
  STRATA_CUDA_LAUNCH_CHECK(stream);
}

void warp_batch_backward(const Tensor& grad_out, const Tensor& transforms, bool perspective,
                         const SampleParams& params, const Tensor& grad_input) {
  const ResampleDims d{grad_input.size(0), grad_input.size(1), grad_input.size(2), grad_input.size(3), grad_out.size(2),
               grad_out.size(3)};
  const int64_t total = d.n * d.oh * d.ow;
  if (total == 0 || d.c == 0) return;
  visit_floating(grad_input.dtype(), "warp_batch_backward", [&]<class T>() {
    using G = accum_t<T>;
    constexpr bool kWorkspace = !std::is_same_v<G, T>;
    // f16/bf16: scatter into an f32 copy of grad_input (which the caller zero-filled).
    const Tensor acc = kWorkspace ? grad_input.to(DType::F32) : grad_input;
    const cudaStream_t stream = stream_for(grad_input.device());
    DeviceGuard guard(grad_input.device().index);
    warp_backward_kernel<T, coord_t<T>, G><<<grid_for(total, kThreads), kThreads, 0, stream>>>(
        ptr<const T>(grad_out), transforms_of(transforms), ptr<G>(acc), d, perspective, params);
    STRATA_CUDA_LAUNCH_CHECK(stream);
    if (kWorkspace) kernels::copy(acc, grad_input);
  });
}

void warp_points(const Tensor& points, const Tensor& inverse_transforms, bool perspective, const Tensor& out) {
  const int64_t n = points.size(0), count = points.size(1);
  if (n * count == 0) return;
  const cudaStream_t stream = stream_for(out.device());
  DeviceGuard guard(out.device().index);
  visit_floating(points.dtype(), "warp_points", [&]<class T>() {
    warp_points_kernel<T, compute_t<T>><<<grid_for(n * count, kThreads), kThreads, 0, stream>>>(
        ptr<const T>(points), transforms_of(inverse_transforms), ptr<T>(out), n, count, perspective);
  });
  STRATA_CUDA_LAUNCH_CHECK(stream);
}

const bool g_registered = register_kernels([](kernels::CudaTable& t) {
  t.warp_batch = &warp_batch;
  t.warp_batch_backward = &warp_batch_backward;
  t.warp_points = &warp_points;
});

}  // namespace
}  // namespace strata::cuda
