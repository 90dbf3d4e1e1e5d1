// Copies that involve a CUDA tensor, in any direction (CudaTable::copy), and fill on CUDA
// (CudaTable::fill). Tensor::to(Device), copy_ and clone route here through kernels::copy.
//
//   device -> device, same device: cudaMemcpyAsync when both are contiguous with one dtype,
//     else the conversion kernel (strided, converting as cpu::copy does);
//   device -> other device: the source made contiguous on its device, the current stream there
//     synchronized, cudaMemcpyPeerAsync into a staging tensor on the destination, then a local copy;
//   host -> device: the source converted/made contiguous on the CPU if needed, copied into pinned
//     staging memory, then cudaMemcpyAsync on the destination's current stream (the pinned block
//     is reused only after that copy has finished, so the call returns without waiting);
//   device -> host: made contiguous with the destination dtype on the device, cudaMemcpyAsync into
//     pinned staging, the stream synchronized (the caller reads the result at once), then copied
//     into the destination on the CPU.
// Temporaries on a device are freed while work that uses them may still be queued: the caching
// allocator reuses a block only for work on the same stream, which runs after it.
#include <cstring>
#include <type_traits>

#include "kernels/cuda/loops.cuh"
#include "kernels/elementwise.h"

namespace strata::cuda {
namespace {

template <class T>
constexpr bool kHalfLike = std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>;

// The conversions of cpu::copy (kernels/cpu/elementwise.cpp), element by element.
template <class Src, class Dst>
struct ConvertFn {
  __device__ __forceinline__ Dst operator()(Src s) const {
    using C = std::conditional_t<kHalfLike<Src>, float, Src>;
    const C v = static_cast<C>(s);
    if constexpr (std::is_same_v<Dst, bool>) {
      return v != C(0);
    } else if constexpr (kHalfLike<Dst>) {
      return Dst(static_cast<float>(v));
    } else if constexpr (std::is_integral_v<Dst> && std::is_floating_point_v<C>) {
      return static_cast<Dst>(static_cast<int64_t>(v));
    } else {
      return static_cast<Dst>(v);
    }
  }
};

template <class T>
struct FillFn {
  T value;
  __device__ __forceinline__ T operator()() const { return value; }
};

// dst = src on one device (dtype conversion, any strides).
void device_copy(const Tensor& src, const Tensor& dst) {
  if (dst.numel() == 0) return;
  if (src.dtype() == dst.dtype() && src.is_contiguous() && dst.is_contiguous()) {
    DeviceGuard g(dst.device().index);
    STRATA_CUDA_CHECK(cudaMemcpyAsync(dst.raw_data(), src.raw_data(), static_cast<size_t>(dst.nbytes()),
                                      cudaMemcpyDeviceToDevice, stream_for(dst.device())));
    return;
  }
  visit_dtype(src.dtype(), [&]<class S>() {
    visit_dtype(dst.dtype(), [&]<class D>() { launch_elementwise<D, S>(ConvertFn<S, D>{}, dst, {&src}); });
  });
}

// A contiguous tensor with `src`'s values in `dtype` on `src`'s device (src itself when it is one).
Tensor contiguous_on_device(const Tensor& src, DType dtype) {
  if (src.is_contiguous() && src.dtype() == dtype) return src;
  Tensor t = empty(src.shape(), {.dtype = dtype, .device = src.device()});
  device_copy(src, t);
  return t;
}

void host_to_device(const Tensor& src, const Tensor& dst) {
  Tensor host = src;
  if (!(src.is_contiguous() && src.dtype() == dst.dtype())) {
    host = empty(dst.shape(), {.dtype = dst.dtype()});
    kernels::cpu::copy(src, host);
  }
  const Tensor dev = dst.is_contiguous() ? dst : empty(dst.shape(), {.dtype = dst.dtype(), .device = dst.device()});
  const size_t n = static_cast<size_t>(dst.nbytes());
  const Stream stream = current_stream(dst.device().index);
  void* pinned = pinned_alloc(n);
  std::memcpy(pinned, host.raw_data(), n);
  {
    DeviceGuard g(dst.device().index);
    const cudaError_t s = cudaMemcpyAsync(dev.raw_data(), pinned, n, cudaMemcpyHostToDevice,
                                          static_cast<cudaStream_t>(stream.handle));
    pinned_free(pinned, stream);  // reused once the copy has finished
    STRATA_CUDA_CHECK(s);
  }
  if (!dev.is_same(dst)) device_copy(dev, dst);
}

void device_to_host(const Tensor& src, const Tensor& dst) {
  const Tensor dev = contiguous_on_device(src, dst.dtype());
  const size_t n = static_cast<size_t>(dst.nbytes());
  const Stream stream = current_stream(src.device().index);
  void* pinned = pinned_alloc(n);
  {
    DeviceGuard g(src.device().index);
    cudaError_t s = cudaMemcpyAsync(pinned, dev.raw_data(), n, cudaMemcpyDeviceToHost,
                                    static_cast<cudaStream_t>(stream.handle));
    if (s == cudaSuccess) s = cudaStreamSynchronize(static_cast<cudaStream_t>(stream.handle));
    if (s != cudaSuccess) {
      pinned_free(pinned, stream);
      STRATA_CUDA_CHECK(s);
    }
  }
  if (dst.is_contiguous()) {
    std::memcpy(dst.raw_data(), pinned, n);
  } else {
    const Tensor staged = from_blob(pinned, dst.shape(), dst.dtype());  // borrowed, no deleter
    kernels::cpu::copy(staged, dst);
  }
  pinned_free(pinned, stream);
}

void device_to_device(const Tensor& src, const Tensor& dst) {
  if (src.device() == dst.device()) return device_copy(src, dst);
  // Across devices: the peer copy runs on the destination's stream, after the source's pending work.
  const Tensor s = contiguous_on_device(src, src.dtype());
  synchronize(current_stream(src.device().index));
  const Tensor staged = dst.is_contiguous() && dst.dtype() == src.dtype()
                            ? dst
                            : empty(dst.shape(), {.dtype = src.dtype(), .device = dst.device()});
  {
    DeviceGuard g(dst.device().index);
    STRATA_CUDA_CHECK(cudaMemcpyPeerAsync(staged.raw_data(), dst.device().index, s.raw_data(), src.device().index,
                                          static_cast<size_t>(s.nbytes()), stream_for(dst.device())));
  }
  // The source temporary may be freed now: its device's stream has no pending work on it.
  synchronize(current_stream(dst.device().index));
  if (!staged.is_same(dst)) device_copy(staged, dst);
}

void copy(const Tensor& src, const Tensor& dst) {
  if (dst.numel() == 0) return;
  const bool from_dev = src.device().is_cuda(), to_dev = dst.device().is_cuda();
  if (from_dev && to_dev) return device_to_device(src, dst);
  if (to_dev) return host_to_device(src, dst);
  device_to_host(src, dst);
}

void fill(const Tensor& dst, double value) {
  visit_dtype(dst.dtype(), [&]<class T>() {
    T v;  // the conversions of cpu::fill
    if constexpr (std::is_same_v<T, bool>) {
      v = value != 0.0;
    } else if constexpr (kHalfLike<T>) {
      v = T(static_cast<float>(value));
    } else if constexpr (std::is_integral_v<T>) {
      v = static_cast<T>(static_cast<int64_t>(value));
    } else {
      v = static_cast<T>(value);
    }
    launch_elementwise<T>(FillFn<T>{v}, dst, {});
  });
}

const bool g_registered = register_kernels([](kernels::CudaTable& t) {
  t.copy = &copy;
  t.fill = &fill;
});

}  // namespace
}  // namespace strata::cuda
