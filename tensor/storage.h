#pragma once
// Storage: a ref-counted buffer of bytes on one device, shared by a tensor and all its views.
// It also holds the version counter that autograd uses to detect in-place changes of saved
// tensors: every view of the same storage sees the same counter.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "tensor/device.h"

namespace strata {

struct StorageImpl {
  void* data = nullptr;
  size_t nbytes = 0;
  Device device;
  std::function<void(void*)> deleter;  // empty for memory from an Allocator
  uint32_t version = 0;                // bumped by every in-place write

  StorageImpl(size_t nbytes, Device device);                                 // allocates
  StorageImpl(void* data, size_t nbytes, Device device, std::function<void(void*)> deleter);  // borrows
  ~StorageImpl();
  StorageImpl(const StorageImpl&) = delete;
  StorageImpl& operator=(const StorageImpl&) = delete;
};

using Storage = std::shared_ptr<StorageImpl>;

// A new storage of `nbytes` on `device` (its bookkeeping from the small-object pool).
Storage make_storage(size_t nbytes, Device device);

}  // namespace strata
