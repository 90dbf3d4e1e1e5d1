#pragma once
// The typed device pointer of a tensor's element 0 for kernel arguments. Tensor::data<T>() is the
// CPU accessor (it refuses CUDA tensors); backend code that has already checked the dtype (the
// front ends do) reads the storage through raw_data(), which works on any device.
#include "tensor/tensor.h"

namespace strata::cuda {

template <class T>
T* dptr(const Tensor& t) {
  return static_cast<T*>(t.raw_data());
}

}  // namespace strata::cuda
