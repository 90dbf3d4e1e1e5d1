// CUDA grid_sample, forward and backward (CudaTable::grid_sample, grid_sample_backward), with the
// CPU kernels' semantics (kernels/cpu/resample_grid.cpp). Every coordinate, padding, tap, weight
// and coordinate-gradient formula comes from kernels/resample_functors.h, so the CPU tests cover
// the math these kernels run.
//
// Work split: one thread per output pixel (n, i, j), a grid-stride loop over N * Ho * Wo. The
// thread reads its grid entry and computes the source position and the four taps once, then
// loops over the channels (the same taps in each of the C planes); along a warp j varies
// fastest, so the output writes are coalesced.
//
// Backward, same split. grad_input is a scatter (several output pixels can share a tap), done
// with atomicAdd: the order of the additions is not fixed, so f32/f64 grad_input may differ
// between runs in the last bits (the CPU's is deterministic). f16/bf16 scatter into an f32
// workspace (no half atomics, and no rounding per addition), converted once at the end.
// grad_grid of a pixel is written by the thread that owns it, summing the channels in order:
// deterministic, and the same sum in the same order as the CPU.
//
// Dtypes: f32, f64, f16, bf16 (the front end admits floating inputs only). Sizes: offsets are
// int64 (N * C * H * W may pass 2^31; one plane stays under 2^31, checked by the front end).
#include <type_traits>

#include "kernels/cuda/loops.cuh"
#include "kernels/elementwise.h"
#include "kernels/resample.h"

namespace strata::cuda {
namespace {

using kernels::BilinearPos;
using kernels::BilinearTaps;
using kernels::Padded;
using kernels::SampleMode;
using kernels::SampleParams;

struct Dims {
  int64_t n, c, h, w, oh, ow;
};

Dims dims_of(const Tensor& input, const Tensor& grid) {
  return {input.size(0), input.size(1), input.size(2), input.size(3), grid.size(1), grid.size(2)};
}

template <class T>
T* ptr(const Tensor& t) {
  return t.defined() ? static_cast<T*>(t.raw_data()) : nullptr;
}

// The type grad_input is accumulated in: the storage type for f32/f64, f32 for f16/bf16.
template <class T>
using accum_t = std::conditional_t<std::is_same_v<T, double>, double, float>;

template <class T, class A>
__global__ void grid_sample_kernel(const T* __restrict__ in, const T* __restrict__ grid, T* __restrict__ out, Dims d,
                                   SampleParams p) {
  const int64_t oplane = d.oh * d.ow, plane = d.h * d.w, total = d.n * oplane;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < total; idx += step) {
    const int64_t n = idx / oplane, at = idx - n * oplane;
    // grid is [N, Ho, Wo, 2] contiguous: pixel idx's (x, y) is at 2 * idx.
    const A x = kernels::source_coord(static_cast<A>(grid[2 * idx]), d.w, p).coord;
    const A y = kernels::source_coord(static_cast<A>(grid[2 * idx + 1]), d.h, p).coord;
    const T* src = in + n * d.c * plane;
    T* dst = out + n * d.c * oplane + at;
    if (p.mode == SampleMode::Nearest) {
      const int64_t ix = kernels::nearest_index(x, d.w), iy = kernels::nearest_index(y, d.h);
      const bool ok = ix >= 0 && iy >= 0;
      const int64_t off = ok ? iy * d.w + ix : 0;
      for (int64_t c = 0; c < d.c; ++c) dst[c * oplane] = ok ? src[c * plane + off] : T(0);
      continue;
    }
    const BilinearTaps<A> t = kernels::bilinear_taps(x, y, d.w, d.h);
    for (int64_t c = 0; c < d.c; ++c) {
      const T* s = src + c * plane;  // every tap offset is inside the plane (clamped when outside)
      const A v = t.w[0] * static_cast<A>(s[t.off[0]]) + t.w[1] * static_cast<A>(s[t.off[1]]) +
                  t.w[2] * static_cast<A>(s[t.off[2]]) + t.w[3] * static_cast<A>(s[t.off[3]]);
      dst[c * oplane] = static_cast<T>(v);
    }
  }
}

// gin (may be null): the accumulator of grad_input, G = accum_t<T>; gg (may be null): grad_grid.
template <class T, class A, class G>
__global__ void grid_sample_backward_kernel(const T* __restrict__ go, const T* __restrict__ in,
                                            const T* __restrict__ grid, G* __restrict__ gin, T* __restrict__ gg,
                                            Dims d, SampleParams p) {
  const int64_t oplane = d.oh * d.ow, plane = d.h * d.w, total = d.n * oplane;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < total; idx += step) {
    const int64_t n = idx / oplane, at = idx - n * oplane;
    const Padded<A> sx = kernels::source_coord(static_cast<A>(grid[2 * idx]), d.w, p);
    const Padded<A> sy = kernels::source_coord(static_cast<A>(grid[2 * idx + 1]), d.h, p);
    const T* g = go + n * d.c * oplane + at;
    if (p.mode == SampleMode::Nearest) {
      const int64_t ix = kernels::nearest_index(sx.coord, d.w), iy = kernels::nearest_index(sy.coord, d.h);
      if (gin && ix >= 0 && iy >= 0) {
        G* dst = gin + n * d.c * plane + iy * d.w + ix;
        for (int64_t c = 0; c < d.c; ++c) atomicAdd(dst + c * plane, static_cast<G>(static_cast<A>(g[c * oplane])));
      }
      if (gg) gg[2 * idx] = gg[2 * idx + 1] = T(0);
      continue;
    }
    const BilinearPos<A> pos = kernels::bilinear_pos(sx.coord, sy.coord, d.w, d.h);
    const BilinearTaps<A> t = kernels::bilinear_taps(sx.coord, sy.coord, d.w, d.h);
    A gx = A(0), gy = A(0);
    for (int64_t c = 0; c < d.c; ++c) {
      const A gc = static_cast<A>(g[c * oplane]);
      if (gin) {
        G* dst = gin + (n * d.c + c) * plane;
#pragma unroll
        for (int k = 0; k < 4; ++k)
          if (t.in[k]) atomicAdd(dst + t.off[k], static_cast<G>(t.w[k] * gc));
      }
      if (gg) {
        const T* s = in + (n * d.c + c) * plane;
        A v[4];
#pragma unroll
        for (int k = 0; k < 4; ++k) v[k] = t.in[k] ? static_cast<A>(s[t.off[k]]) : A(0);
        kernels::add_bilinear_coord_grad(v, pos.fx, pos.fy, gc, gx, gy);
      }
    }
    if (gg) {
      gg[2 * idx] = static_cast<T>(gx * sx.grad);
      gg[2 * idx + 1] = static_cast<T>(gy * sy.grad);
    }
  }
}

template <class T>
void forward_typed(const Tensor& input, const Tensor& grid, const SampleParams& p, const Tensor& out) {
  using A = compute_t<T>;
  const Dims d = dims_of(input, grid);
  const int64_t total = d.n * d.oh * d.ow;
  if (total == 0 || d.c == 0) return;
  const cudaStream_t stream = stream_for(out.device());
  DeviceGuard guard(out.device().index);
  grid_sample_kernel<T, A><<<grid_for(total, kThreads), kThreads, 0, stream>>>(ptr<const T>(input),
                                                                                ptr<const T>(grid), ptr<T>(out), d, p);
  STRATA_CUDA_LAUNCH_CHECK(stream);
}

template <class T>
void backward_typed(const Tensor& grad_out, const Tensor& input, const Tensor& grid, const SampleParams& p,
                    const Tensor& grad_input, const Tensor& grad_grid) {
  using A = compute_t<T>;
  using G = accum_t<T>;
  const Dims d = dims_of(input, grid);
  const int64_t total = d.n * d.oh * d.ow;
  if (total == 0 || (!grad_input.defined() && !grad_grid.defined())) return;
  // f16/bf16: scatter into an f32 copy of grad_input (which the caller zero-filled).
  constexpr bool kWorkspace = !std::is_same_v<G, T>;
  Tensor acc = grad_input;
  if (kWorkspace && grad_input.defined()) acc = grad_input.to(DType::F32);
  const cudaStream_t stream = stream_for(grad_out.device());
  DeviceGuard guard(grad_out.device().index);
  grid_sample_backward_kernel<T, A, G><<<grid_for(total, kThreads), kThreads, 0, stream>>>(
      ptr<const T>(grad_out), ptr<const T>(input), ptr<const T>(grid), ptr<G>(acc), ptr<T>(grad_grid), d, p);
  STRATA_CUDA_LAUNCH_CHECK(stream);
  if (kWorkspace && grad_input.defined()) kernels::copy(acc, grad_input);
}

void grid_sample(const Tensor& input, const Tensor& grid, const SampleParams& params, const Tensor& out) {
  visit_floating(input.dtype(), "grid_sample", [&]<class T>() { forward_typed<T>(input, grid, params, out); });
}

void grid_sample_backward(const Tensor& grad_out, const Tensor& input, const Tensor& grid, const SampleParams& params,
                          const Tensor& grad_input, const Tensor& grad_grid) {
  visit_floating(input.dtype(), "grid_sample_backward", [&]<class T>() {
    backward_typed<T>(grad_out, input, grid, params, grad_input, grad_grid);
  });
}

const bool g_registered = register_kernels([](kernels::CudaTable& t) {
  t.grid_sample = &grid_sample;
  t.grid_sample_backward = &grid_sample_backward;
});

}  // namespace
}  // namespace strata::cuda
