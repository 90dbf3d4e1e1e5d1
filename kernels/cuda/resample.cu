// CUDA grid_sample, forward and backward (CudaTable::grid_sample, grid_sample_backward), with the
// CPU kernels' semantics (kernels/cpu/resample_grid.cpp). Every coordinate, padding, tap, weight
// and coordinate-gradient formula comes from kernels/resample_functors.h, so the CPU tests cover
// the math these kernels run.
//
// Work split: one thread per output pixel (n, i, j), a grid-stride loop over N * Ho * Wo. The
// thread reads its grid entry and computes the source position and the four taps once, then
// loops over the channels (the same taps in each of the C planes); along a warp j varies
// fastest, so the output writes are coalesced. The per-pixel bodies are in
// kernels/resample_pixels.h (tests/kernels/test_resample_pixels.cpp runs them on the host).
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
#include "kernels/resample_pixels.h"

namespace strata::cuda {
namespace {

using kernels::SampleParams;

using kernels::ResampleDims;

ResampleDims dims_of(const Tensor& input, const Tensor& grid) {
  return {input.size(0), input.size(1), input.size(2), input.size(3), grid.size(1), grid.size(2)};
}

template <class T>
T* ptr(const Tensor& t) {
  return t.defined() ? static_cast<T*>(t.raw_data()) : nullptr;
}

// The type grad_input is accumulated in: the storage type for f32/f64, f32 for f16/bf16.
template <class T>
using accum_t = std::conditional_t<std::is_same_v<T, double>, double, float>;

struct AtomicAdd {
  template <class G>
  __device__ __forceinline__ void operator()(G* p, G v) const {
    atomicAdd(p, v);
  }
};

template <class T, class A>
__global__ void grid_sample_kernel(const T* __restrict__ in, const T* __restrict__ grid, T* __restrict__ out,
                                   ResampleDims d, SampleParams p) {
  const int64_t total = d.n * d.oh * d.ow, step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < total; idx += step)
    kernels::grid_sample_pixel<T, A>(in, grid, out, d, p, idx);
}

// gin (may be null): the accumulator of grad_input, G = accum_t<T>; gg (may be null): grad_grid.
template <class T, class A, class G>
__global__ void grid_sample_backward_kernel(const T* __restrict__ go, const T* __restrict__ in,
                                            const T* __restrict__ grid, G* __restrict__ gin, T* __restrict__ gg,
                                            ResampleDims d, SampleParams p) {
  const int64_t total = d.n * d.oh * d.ow, step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < total; idx += step)
    kernels::grid_sample_backward_pixel<T, A, G>(go, in, grid, gin, gg, d, p, idx, AtomicAdd{});
}

template <class T>
void forward_typed(const Tensor& input, const Tensor& grid, const SampleParams& p, const Tensor& out) {
  using A = compute_t<T>;
  const ResampleDims d = dims_of(input, grid);
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
  const ResampleDims d = dims_of(input, grid);
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
