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

namespace strata::cuda {
namespace {

using kernels::BilinearTaps;
using kernels::Padded;
using kernels::SampleMode;
using kernels::SampleParams;
using kernels::WarpTransform;

struct Dims {
  int64_t n, c, h, w, oh, ow;
};

template <class T>
T* ptr(const Tensor& t) {
  return static_cast<T*>(t.raw_data());
}

const WarpTransform* transforms_of(const Tensor& t) { return static_cast<const WarpTransform*>(t.raw_data()); }

// Coordinate arithmetic as on the CPU: double for f64, float for everything else.
template <class T>
using coord_t = std::conditional_t<std::is_same_v<T, double>, double, float>;
template <class T>
using accum_t = std::conditional_t<std::is_same_v<T, double>, double, float>;

// The output pixel of flat index idx: sample n, pixel `at` within the output plane, row, col.
struct Pixel {
  int64_t n, at, row, col;
};
__device__ __forceinline__ Pixel pixel_of(int64_t idx, const Dims& d) {
  const int64_t oplane = d.oh * d.ow;
  Pixel px;
  px.n = idx / oplane;
  px.at = idx - px.n * oplane;
  px.row = px.at / d.ow;
  px.col = px.at - px.row * d.ow;
  return px;
}

template <class T, class A>
__global__ void warp_bilinear_kernel(const T* __restrict__ in, const WarpTransform* __restrict__ tf,
                                     T* __restrict__ out, Dims d, bool perspective, SampleParams p) {
  const int64_t oplane = d.oh * d.ow, plane = d.h * d.w, total = d.n * oplane;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < total; idx += step) {
    const Pixel px = pixel_of(idx, d);
    Padded<A> sx, sy;
    kernels::warp_source(tf[px.n], perspective, px.row, px.col, d.oh, d.ow, d.h, d.w, p, sx, sy);
    const BilinearTaps<A> t = kernels::bilinear_taps(sx.coord, sy.coord, d.w, d.h);
    const T* src = in + px.n * d.c * plane;
    T* dst = out + px.n * d.c * oplane + px.at;
    for (int64_t c = 0; c < d.c; ++c) {
      const T* s = src + c * plane;  // every tap offset is inside the plane (clamped when outside)
      const A v = t.w[0] * static_cast<A>(s[t.off[0]]) + t.w[1] * static_cast<A>(s[t.off[1]]) +
                  t.w[2] * static_cast<A>(s[t.off[2]]) + t.w[3] * static_cast<A>(s[t.off[3]]);
      dst[c * oplane] = static_cast<T>(v);
    }
  }
}

// S: an unsigned integer of the element's size (the bits are copied); A: the coordinate type.
template <class S, class A>
__global__ void warp_nearest_kernel(const S* __restrict__ in, const WarpTransform* __restrict__ tf,
                                    S* __restrict__ out, Dims d, bool perspective, SampleParams p) {
  const int64_t oplane = d.oh * d.ow, plane = d.h * d.w, total = d.n * oplane;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < total; idx += step) {
    const Pixel px = pixel_of(idx, d);
    Padded<A> sx, sy;
    kernels::warp_source(tf[px.n], perspective, px.row, px.col, d.oh, d.ow, d.h, d.w, p, sx, sy);
    const int64_t ix = kernels::nearest_index(sx.coord, d.w), iy = kernels::nearest_index(sy.coord, d.h);
    const bool ok = ix >= 0 && iy >= 0;
    const S* src = in + px.n * d.c * plane + (ok ? iy * d.w + ix : 0);
    S* dst = out + px.n * d.c * oplane + px.at;
    for (int64_t c = 0; c < d.c; ++c) dst[c * oplane] = ok ? src[c * plane] : S(0);
  }
}

// gin: grad_input's accumulator (G = accum_t<T>), the caller's zero-filled tensor or a workspace.
template <class T, class A, class G>
__global__ void warp_backward_kernel(const T* __restrict__ go, const WarpTransform* __restrict__ tf,
                                     G* __restrict__ gin, Dims d, bool perspective, SampleParams p) {
  const int64_t oplane = d.oh * d.ow, plane = d.h * d.w, total = d.n * oplane;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < total; idx += step) {
    const Pixel px = pixel_of(idx, d);
    Padded<A> sx, sy;
    kernels::warp_source(tf[px.n], perspective, px.row, px.col, d.oh, d.ow, d.h, d.w, p, sx, sy);
    const T* g = go + px.n * d.c * oplane + px.at;
    G* dst = gin + px.n * d.c * plane;
    if (p.mode == SampleMode::Nearest) {
      const int64_t ix = kernels::nearest_index(sx.coord, d.w), iy = kernels::nearest_index(sy.coord, d.h);
      if (ix < 0 || iy < 0) continue;
      for (int64_t c = 0; c < d.c; ++c)
        atomicAdd(dst + c * plane + iy * d.w + ix, static_cast<G>(static_cast<A>(g[c * oplane])));
      continue;
    }
    const BilinearTaps<A> t = kernels::bilinear_taps(sx.coord, sy.coord, d.w, d.h);
    for (int64_t c = 0; c < d.c; ++c) {
      const A gc = static_cast<A>(g[c * oplane]);
#pragma unroll
      for (int k = 0; k < 4; ++k)
        if (t.in[k]) atomicAdd(dst + c * plane + t.off[k], static_cast<G>(t.w[k] * gc));
    }
  }
}

template <class T, class A>
__global__ void warp_points_kernel(const T* __restrict__ pts, const WarpTransform* __restrict__ inv,
                                   T* __restrict__ out, int64_t n, int64_t count, bool perspective) {
  const int64_t total = n * count;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += step) {
    double x, y;
    kernels::warp_backward_point(inv[i / count], perspective, static_cast<double>(static_cast<A>(pts[2 * i])),
                                 static_cast<double>(static_cast<A>(pts[2 * i + 1])), x, y);
    out[2 * i] = static_cast<T>(x);
    out[2 * i + 1] = static_cast<T>(y);
  }
}

Dims dims_of(const Tensor& input, const Tensor& out) {
  return {input.size(0), input.size(1), input.size(2), input.size(3), out.size(2), out.size(3)};
}

template <class S, class A>
void launch_nearest(const Tensor& input, const Tensor& tf, bool perspective, const SampleParams& p, const Tensor& out,
                    const Dims& d, int64_t total, cudaStream_t stream) {
  warp_nearest_kernel<S, A><<<grid_for(total, kThreads), kThreads, 0, stream>>>(
      ptr<const S>(input), transforms_of(tf), ptr<S>(out), d, perspective, p);
}

void warp_batch(const Tensor& input, const Tensor& transforms, bool perspective, const SampleParams& params,
                const Tensor& out) {
  const Dims d = dims_of(input, out);
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
  const Dims d{grad_input.size(0), grad_input.size(1), grad_input.size(2), grad_input.size(3), grad_out.size(2),
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
