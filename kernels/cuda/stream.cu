// Devices, streams and events (kernels/cuda/cuda_api.h). The current stream is a thread-local
// handle per device: nullptr, the legacy default stream, until set_current_stream changes it.
// A fixed array (no allocation, no initialization guard) because it is read on every launch.
#include <cuda_runtime.h>

#include "kernels/cuda/cuda_api.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/stream_internal.h"
#include "tensor/error.h"

namespace strata::cuda {
namespace {

constexpr int kMaxDevices = 64;
thread_local cudaStream_t t_current[kMaxDevices] = {};

int resolve(int device) {
  if (device >= 0) {
    STRATA_CHECK(device < kMaxDevices, DeviceError, "cuda:{}: device index out of range (at most {} devices)", device,
                 kMaxDevices);
    return device;
  }
  return current_device();
}

}  // namespace

int current_device() {
  int d = 0;
  STRATA_CUDA_CHECK(cudaGetDevice(&d));
  return d;
}

void set_device(int device) { STRATA_CUDA_CHECK(cudaSetDevice(device)); }

void synchronize_device(int device) {
  DeviceGuard g(resolve(device));
  STRATA_CUDA_CHECK(cudaDeviceSynchronize());
}

DeviceGuard::DeviceGuard(int device) : previous_(current_device()) {
  if (device != previous_) set_device(device);
}
DeviceGuard::~DeviceGuard() {
  int now = 0;
  if (cudaGetDevice(&now) == cudaSuccess && now != previous_) (void)cudaSetDevice(previous_);
}

Stream default_stream(int device) { return Stream{nullptr, resolve(device)}; }

Stream current_stream(int device) {
  const int d = resolve(device);
  return Stream{t_current[d], d};
}

void set_current_stream(Stream stream) { t_current[resolve(stream.device)] = static_cast<cudaStream_t>(stream.handle); }

Stream create_stream(int device) {
  const int d = resolve(device);
  DeviceGuard g(d);
  cudaStream_t s = nullptr;
  STRATA_CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  return Stream{s, d};
}

void destroy_stream(Stream stream) {
  if (!stream.handle) return;  // the default stream is not ours
  DeviceGuard g(stream.device);
  STRATA_CUDA_CHECK(cudaStreamDestroy(static_cast<cudaStream_t>(stream.handle)));
}

void synchronize(Stream stream) {
  DeviceGuard g(stream.device);
  STRATA_CUDA_CHECK(cudaStreamSynchronize(static_cast<cudaStream_t>(stream.handle)));
}

bool query(Stream stream) {
  DeviceGuard g(stream.device);
  const cudaError_t s = cudaStreamQuery(static_cast<cudaStream_t>(stream.handle));
  if (s == cudaErrorNotReady) {
    (void)cudaGetLastError();
    return false;
  }
  STRATA_CUDA_CHECK(s);
  return true;
}

StreamGuard::StreamGuard(Stream stream) : previous_(current_stream(stream.device)) { set_current_stream(stream); }
StreamGuard::~StreamGuard() { set_current_stream(previous_); }

cudaStream_t stream_for(Device device) { return t_current[resolve(device.index)]; }

// ---- events ----
Event::Event(bool enable_timing) : timing_(enable_timing) {}

Event::~Event() {
  if (event_) (void)cudaEventDestroy(static_cast<cudaEvent_t>(event_));
}

void Event::record(Stream stream) {
  DeviceGuard g(stream.device);
  if (!event_) {
    cudaEvent_t e = nullptr;
    STRATA_CUDA_CHECK(cudaEventCreateWithFlags(&e, timing_ ? cudaEventDefault : cudaEventDisableTiming));
    event_ = e;
    device_ = stream.device;
  }
  STRATA_CHECK(device_ == stream.device, DeviceError, "Event::record: the event belongs to cuda:{}, the stream to cuda:{}",
               device_, stream.device);
  STRATA_CUDA_CHECK(cudaEventRecord(static_cast<cudaEvent_t>(event_), static_cast<cudaStream_t>(stream.handle)));
}

void Event::record() { record(current_stream()); }

void Event::wait(Stream stream) const {
  if (!event_) return;  // never recorded: nothing to wait for (as in PyTorch)
  DeviceGuard g(stream.device);
  STRATA_CUDA_CHECK(cudaStreamWaitEvent(static_cast<cudaStream_t>(stream.handle), static_cast<cudaEvent_t>(event_), 0));
}

void Event::synchronize() const {
  if (event_) STRATA_CUDA_CHECK(cudaEventSynchronize(static_cast<cudaEvent_t>(event_)));
}

bool Event::query() const {
  if (!event_) return true;
  const cudaError_t s = cudaEventQuery(static_cast<cudaEvent_t>(event_));
  if (s == cudaErrorNotReady) {
    (void)cudaGetLastError();
    return false;
  }
  STRATA_CUDA_CHECK(s);
  return true;
}

float Event::elapsed_ms(const Event& end) const {
  STRATA_CHECK(event_ && end.event_, DeviceError, "Event::elapsed_ms: both events must have been recorded");
  STRATA_CHECK(timing_ && end.timing_, DeviceError, "Event::elapsed_ms: both events need enable_timing = true");
  float ms = 0;
  STRATA_CUDA_CHECK(cudaEventElapsedTime(&ms, static_cast<cudaEvent_t>(event_), static_cast<cudaEvent_t>(end.event_)));
  return ms;
}

}  // namespace strata::cuda
