#include "tensor/storage.h"

#include "tensor/allocator.h"
#include "tensor/small_alloc.h"

namespace strata {

StorageImpl::StorageImpl(size_t n, Device dev) : nbytes(n), device(dev) {
  data = allocator_for(dev).allocate_on(dev, n);
}

StorageImpl::StorageImpl(void* d, size_t n, Device dev, std::function<void(void*)> del)
    : data(d), nbytes(n), device(dev), deleter(std::move(del)) {
  if (!deleter) deleter = [](void*) {};  // borrowed without ownership
}

Storage make_storage(size_t nbytes, Device device) {
  return std::allocate_shared<StorageImpl>(PoolAllocator<StorageImpl>(), nbytes, device);
}

StorageImpl::~StorageImpl() {
  if (deleter) {
    deleter(data);
  } else if (data) {
    allocator_for(device).deallocate_on(device, data, nbytes);
  }
}

}  // namespace strata
