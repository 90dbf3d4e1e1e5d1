// CUDA random kernels (kernels/random.h, kernels/dropout.h): random_fill (uniform, normal,
// bernoulli) and dropout_fill, f32, f64, f16, bf16 (the front ends draw only floating tensors).
//
// The same Philox4x32-10 counter stream as the CPU: one thread per Philox block, block
// offset + b filling elements 4b .. 4b + 3, so a (seed, offset) pair gives the CPU's uniform bits
// element for element. The bits -> value math is kernels/random_functors.h, shared with the CPU
// kernels: uniform, bernoulli and the dropout mask are bit-identical across devices; normal
// values agree to f64 rounding (libdevice's log / cos / sin against glibc's). A thread's four
// elements are adjacent: when the tensors are aligned to four elements (fresh allocations are),
// whole blocks load and store as one vector (16 bytes in f32), else element by element.
#include "kernels/cuda/loops.cuh"
#include "kernels/random_functors.h"

namespace strata::cuda {
namespace {

using kernels::Distribution;
using kernels::DrawStore;
using kernels::DropoutFn;

// Stores the four values of element block `blk` (elements 4 blk .. 4 blk + 3, those below n):
// one vector store when `vec` (out aligned to four elements) and the block is whole.
template <class T, class Value>
__device__ __forceinline__ void store_block(T* out, int64_t blk, int64_t n, bool vec, Value value) {
  const int64_t base = blk * 4;
  if (vec && base + 4 <= n) {
    Vec<T, 4> q;
#pragma unroll
    for (int k = 0; k < 4; ++k) q.v[k] = value(k, base + k);
    reinterpret_cast<Vec<T, 4>*>(out)[blk] = q;
  } else {
#pragma unroll
    for (int k = 0; k < 4; ++k)
      if (base + k < n) out[base + k] = value(k, base + k);
  }
}

template <class T>
__global__ void random_kernel(T* out, const T* p, int64_t n, int64_t blocks, bool vec, Distribution dist, double a,
                              double b, uint64_t seed, uint64_t offset, DrawStore<T> store) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t blk = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; blk < blocks; blk += step) {
    double v[4];
    kernels::philox_values(dist, kernels::philox4x32(offset + static_cast<uint64_t>(blk), 0, seed),
                           kernels::uniform_bits<T>(), a, b, v);
    store_block(out, blk, n, vec, [&](int k, int64_t i) {
      return kernels::store_draw(store, v[k], p ? static_cast<double>(static_cast<compute_t<T>>(p[i])) : 0.0);
    });
  }
}

template <class T>
__global__ void dropout_kernel(T* out, const T* x, int64_t n, int64_t blocks, bool vec, DropoutFn<T> fn,
                               uint64_t seed, uint64_t offset) {
  using C = compute_t<T>;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t blk = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; blk < blocks; blk += step) {
    const kernels::Philox4 r = kernels::philox4x32(offset + static_cast<uint64_t>(blk), 0, seed);
    if (x && vec && blk * 4 + 4 <= n) {
      const Vec<T, 4> xs = reinterpret_cast<const Vec<T, 4>*>(x)[blk];
      store_block(out, blk, n, true, [&](int k, int64_t) { return fn(r.v[k], static_cast<C>(xs.v[k])); });
    } else {
      store_block(out, blk, n, vec, [&](int k, int64_t i) { return fn(r.v[k], x ? static_cast<C>(x[i]) : C(1)); });
    }
  }
}

void random_fill(const Tensor& out, Distribution dist, double a, double b, uint64_t seed, uint64_t offset,
                 const Tensor& p) {
  const int64_t n = out.numel();
  if (n == 0) return;
  const auto blocks = static_cast<int64_t>(kernels::philox_blocks(n));
  visit_floating(out.dtype(), "random", [&]<class T>() {
    DeviceGuard guard(out.device().index);
    const cudaStream_t stream = stream_for(out.device());
    const T* pp = p.defined() ? static_cast<const T*>(p.raw_data()) : nullptr;
    const bool vec = aligned_to(out.raw_data(), 4 * sizeof(T));
    random_kernel<T><<<grid_for(blocks, kThreads), kThreads, 0, stream>>>(
        static_cast<T*>(out.raw_data()), pp, n, blocks, vec, dist, a, b, seed, offset,
        kernels::make_draw_store<T>(dist, a, b));
    STRATA_CUDA_LAUNCH_CHECK(stream);
  });
}

void dropout_fill(const Tensor& out, const Tensor& x, double p, uint64_t seed, uint64_t offset) {
  const int64_t n = out.numel();
  if (n == 0) return;
  const auto blocks = static_cast<int64_t>(kernels::philox_blocks(n));
  visit_floating(out.dtype(), "dropout", [&]<class T>() {
    DeviceGuard guard(out.device().index);
    const cudaStream_t stream = stream_for(out.device());
    const T* xs = x.defined() ? static_cast<const T*>(x.raw_data()) : nullptr;
    const bool vec = aligned_to(out.raw_data(), 4 * sizeof(T)) && (!xs || aligned_to(xs, 4 * sizeof(T)));
    dropout_kernel<T><<<grid_for(blocks, kThreads), kThreads, 0, stream>>>(
        static_cast<T*>(out.raw_data()), xs, n, blocks, vec, kernels::make_dropout_fn<T>(p), seed, offset);
    STRATA_CUDA_LAUNCH_CHECK(stream);
  });
}

const bool g_registered = register_kernels([](kernels::CudaTable& t) {
  t.random_fill = &random_fill;
  t.dropout_fill = &dropout_fill;
});

}  // namespace
}  // namespace strata::cuda
