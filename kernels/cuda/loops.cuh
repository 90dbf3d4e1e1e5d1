#pragma once
// The elementwise launch machinery shared by the CUDA kernel families (elementwise.cu, copy.cu):
// one output and N inputs of the same shape (inputs are already expanded to the output's shape by
// the front ends), a per-element functor `fn(in0, in1, ...) -> out` on storage types.
//
// Two kernels per (functor, types):
//   - contiguous: every operand contiguous and its pointer aligned to a vector of VEC elements,
//     VEC = 16 bytes / the widest element: one 128-bit (or narrower for bool/u8 inputs next to
//     wider ones) load per operand and thread, grid-stride over vectors, then a scalar tail;
//   - strided: everything else (broadcast stride-0 operands, transposes, slices): a grid-stride
//     loop whose byte offsets come from an OffsetCalculator (offset_calculator.h) over the
//     merged dims, at most kMaxDims = 8.
#include <array>
#include <cstdint>
#include <tuple>
#include <type_traits>
#include <utility>

#include "kernels/cuda/cuda_api.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/offset_calculator.h"
#include "kernels/cuda_table.h"
#include "kernels/cuda/stream_internal.h"
#include "tensor/tensor.h"

namespace strata::cuda {

constexpr int kThreads = 256;

template <class T, int VEC>
struct alignas(sizeof(T) * VEC) Vec {
  T v[VEC];
};

template <class... T>
constexpr int widest() {
  size_t w = 1;
  ((w = sizeof(T) > w ? sizeof(T) : w), ...);
  return static_cast<int>(w);
}

template <class R, class... In, class Fn, size_t... I>
__device__ __forceinline__ R apply_at(const Fn& fn, const Array<const char*, sizeof...(In)>& in, int64_t i,
                                      std::index_sequence<I...>) {
  return fn(reinterpret_cast<const In*>(in[I])[i]...);
}

// (The pack comes last: nvcc requires it of variadic __global__ templates.)
template <int VEC, class R, class Fn, class... In>
__global__ void contiguous_kernel(int64_t n, R* out, Array<const char*, sizeof...(In)> in, Fn fn) {
  constexpr int N = sizeof...(In);
  using Tup = std::tuple<In...>;
  const int64_t nvec = n / VEC;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const int64_t tid = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  for (int64_t v = tid; v < nvec; v += step) {
    Vec<R, VEC> r;
    if constexpr (N == 0) {
#pragma unroll
      for (int j = 0; j < VEC; ++j) r.v[j] = fn();
    } else if constexpr (N == 1) {
      using A = std::tuple_element_t<0, Tup>;
      const Vec<A, VEC> a = reinterpret_cast<const Vec<A, VEC>*>(in[0])[v];
#pragma unroll
      for (int j = 0; j < VEC; ++j) r.v[j] = fn(a.v[j]);
    } else if constexpr (N == 2) {
      using A = std::tuple_element_t<0, Tup>;
      using B = std::tuple_element_t<1, Tup>;
      const Vec<A, VEC> a = reinterpret_cast<const Vec<A, VEC>*>(in[0])[v];
      const Vec<B, VEC> b = reinterpret_cast<const Vec<B, VEC>*>(in[1])[v];
#pragma unroll
      for (int j = 0; j < VEC; ++j) r.v[j] = fn(a.v[j], b.v[j]);
    } else {
      static_assert(N == 3, "contiguous_kernel: at most 3 inputs");
      using A = std::tuple_element_t<0, Tup>;
      using B = std::tuple_element_t<1, Tup>;
      using C = std::tuple_element_t<2, Tup>;
      const Vec<A, VEC> a = reinterpret_cast<const Vec<A, VEC>*>(in[0])[v];
      const Vec<B, VEC> b = reinterpret_cast<const Vec<B, VEC>*>(in[1])[v];
      const Vec<C, VEC> c = reinterpret_cast<const Vec<C, VEC>*>(in[2])[v];
#pragma unroll
      for (int j = 0; j < VEC; ++j) r.v[j] = fn(a.v[j], b.v[j], c.v[j]);
    }
    reinterpret_cast<Vec<R, VEC>*>(out)[v] = r;
  }
  // The tail that does not fill a vector.
  const int64_t i = nvec * VEC + tid;
  if (i < n) out[i] = apply_at<R, In...>(fn, in, i, std::index_sequence_for<In...>{});
}

template <class R, class Fn, class... In>
__global__ void strided_kernel(int64_t n, OffsetCalculator<sizeof...(In) + 1> oc, char* out,
                               Array<const char*, sizeof...(In)> in, Fn fn) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) {
    const Array<int64_t, sizeof...(In) + 1> off = oc.get(i);
    Array<const char*, sizeof...(In)> p;
#pragma unroll
    for (int a = 0; a < static_cast<int>(sizeof...(In)); ++a) p[a] = in[a] + off[a + 1];
    *reinterpret_cast<R*>(out + off[0]) = apply_at<R, In...>(fn, p, 0, std::index_sequence_for<In...>{});
  }
}

inline bool aligned_to(const void* p, size_t bytes) { return reinterpret_cast<uintptr_t>(p) % bytes == 0; }

// Runs out[i] = fn(inputs[i]...) over all elements on out's device and current stream. R and In
// are the storage types of out and the inputs; the caller has checked the dtypes.
template <class R, class... In, class Fn>
void launch_elementwise(const Fn& fn, const Tensor& out, const std::array<const Tensor*, sizeof...(In)>& inputs) {
  constexpr int N = sizeof...(In);
  const int64_t n = out.numel();
  if (n == 0) return;
  const cudaStream_t stream = stream_for(out.device());
  DeviceGuard guard(out.device().index);
  Array<const char*, N> in{};
  for (int a = 0; a < N; ++a) in[a] = static_cast<const char*>(inputs[a]->raw_data());
  char* o = static_cast<char*>(out.raw_data());

  constexpr int VEC = 16 / widest<R, In...>();
  bool contiguous = out.is_contiguous() && aligned_to(o, sizeof(R) * VEC);
  for (int a = 0; a < N && contiguous; ++a)
    contiguous = inputs[a]->is_contiguous() && aligned_to(in[a], inputs[a]->itemsize() * VEC);
  if (contiguous) {
    const int64_t items = n / VEC > 0 ? n / VEC : 1;
    contiguous_kernel<VEC, R, Fn, In...><<<grid_for(items, kThreads), kThreads, 0, stream>>>(n, reinterpret_cast<R*>(o), in, fn);
  } else {
    const Tensor* ops[N + 1];
    ops[0] = &out;
    for (int a = 0; a < N; ++a) ops[a + 1] = inputs[a];
    const auto oc = make_offset_calculator<N + 1>(ops);
    strided_kernel<R, Fn, In...><<<grid_for(n, kThreads), kThreads, 0, stream>>>(n, oc, o, in, fn);
  }
  STRATA_CUDA_LAUNCH_CHECK(stream);
}

// Adds a family's entries to the registered CUDA kernel table. Called from static initializers
// (one per .cu file, single-threaded, in any order): each reads the table, sets its members and
// writes it back, so families do not overwrite each other.
template <class Set>
bool register_kernels(Set&& set) {
  kernels::CudaTable t = kernels::cuda_table();
  set(t);
  kernels::register_cuda_table(t);
  return true;
}

}  // namespace strata::cuda
