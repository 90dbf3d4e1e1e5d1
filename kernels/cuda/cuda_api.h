#pragma once
// The CUDA backend's public C++ API: devices, streams, events, the caching allocator's statistics
// and pinned host memory. Plain C++ (no CUDA header), so programs and tests compiled by the host
// compiler can use it; the definitions live in kernels/cuda/*.cu and exist only in builds with
// the CUDA backend (STRATA_WITH_CUDA). Every call throws DeviceError on a runtime failure.
//
// Streams: each thread has a current stream per device, initially the device's default (legacy)
// stream. Kernels, copies and allocations of a tensor on device d are queued on d's current
// stream of the calling thread, so work queued by one thread runs in order:
//
//   strata::cuda::Stream s = strata::cuda::create_stream();
//   { strata::cuda::StreamGuard g(s); y = x.exp(); }   // runs on s
//   strata::cuda::Event e; e.record(s); e.wait(strata::cuda::current_stream());
#include <cstddef>
#include <cstdint>

#include "tensor/device_caching_allocator.h"

namespace strata {
class Tensor;
}

namespace strata::cuda {

// ---- debug mode ----
// Synchronize after every kernel launch so that a fault is reported at the launch that caused it:
// on when the environment has STRATA_CUDA_SYNC=1 (read once); set_sync_after_launch overrides it.
bool sync_after_launch();
void set_sync_after_launch(bool on);

// ---- devices ----
int current_device();
void set_device(int device);
void synchronize_device(int device = -1);  // -1: the current device

class DeviceGuard {
 public:
  explicit DeviceGuard(int device);
  ~DeviceGuard();
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_;
};

// ---- streams ----
// A stream handle (a cudaStream_t) and its device. handle == nullptr is the default stream.
struct Stream {
  void* handle = nullptr;
  int device = 0;
  bool operator==(const Stream&) const = default;
  uint64_t id() const { return reinterpret_cast<uint64_t>(handle); }
};

Stream default_stream(int device = -1);
Stream current_stream(int device = -1);  // the calling thread's current stream on `device`
void set_current_stream(Stream stream);  // for stream.device, this thread only
// A new non-blocking stream on `device` (it does not synchronize with the default stream);
// destroy_stream releases it.
Stream create_stream(int device = -1);
void destroy_stream(Stream stream);
void synchronize(Stream stream);
bool query(Stream stream);  // true when all work queued on it has finished

// Makes `stream` current for its device until the end of the scope.
class StreamGuard {
 public:
  explicit StreamGuard(Stream stream);
  ~StreamGuard();
  StreamGuard(const StreamGuard&) = delete;
  StreamGuard& operator=(const StreamGuard&) = delete;

 private:
  Stream previous_;
};

// ---- events ----
class Event {
 public:
  explicit Event(bool enable_timing = true);
  ~Event();
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  void record(Stream stream);        // record on `stream` (its device)
  void record();                     // on the current stream of the current device
  void wait(Stream stream) const;    // later work on `stream` waits for this event
  void synchronize() const;          // the host waits
  bool query() const;                // recorded work has finished
  // Milliseconds between this event and `end` (both recorded, both with timing enabled).
  float elapsed_ms(const Event& end) const;
  void* handle() const { return event_; }

 private:
  void* event_ = nullptr;
  int device_ = -1;
  bool timing_;
};

// ---- the caching device allocator (tensor/device_caching_allocator.h) ----
DeviceAllocatorStats memory_stats(int device = -1);
void reset_peak_memory_stats(int device = -1);
void empty_cache();  // every device: cached segments go back to the driver
// Marks that `t`'s memory is used by work on `stream` (another stream than the one it was
// allocated on): the allocator will not reuse it before that work has finished.
void record_stream(const Tensor& t, Stream stream);

// ---- matrix products (kernels/cuda/gemm.cu) ----
// Whether f32 matmuls may run on the TF32 tensor cores (cuBLAS CUBLAS_COMPUTE_32F_FAST_TF32:
// operands rounded to 10 mantissa bits, f32 accumulation; relative errors near 1e-3 instead of
// f32's 1e-6). Default false (PyTorch's default for matmul). Process-wide; read at each product.
// f16 and bf16 products always accumulate in f32 and are not affected.
void set_allow_tf32(bool allow);
bool allow_tf32();

// ---- pinned (page-locked) host memory ----
// Blocks are cached; a block given back with a stream is reused only once that stream's work
// queued so far has finished (a copy from it may still be in flight).
void* pinned_alloc(size_t nbytes);
void pinned_free(void* ptr, Stream stream);
size_t pinned_cached_bytes();
void pinned_empty_cache();

}  // namespace strata::cuda
