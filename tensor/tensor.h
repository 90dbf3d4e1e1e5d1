#pragma once
// Tensor: Strata's n-dimensional array, a cheap handle (shared_ptr) to a TensorImpl.
//
// Copying a Tensor copies the handle, not the data: `Tensor b = a;` aliases a. Views (reshape,
// permute, slice, select, expand, ...) make a new TensorImpl over the same Storage with other
// shape/strides/offset; `contiguous()` copies only when the layout requires it. Every tensor may
// carry a semantic type (TensorImage, TensorMask, ... see tensor/semantic.h) and metadata, which
// ops propagate by fastai's rule, and autograd state (requires_grad, grad, grad_fn).
//
//   Tensor x = strata::randn({3, 4}).requires_grad_();
//   Tensor y = (x * x).sum();
//   y.backward();                     // x.grad() == 2 * x
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tensor/dtype.h"
#include "tensor/shape.h"
#include "tensor/storage.h"

namespace strata {

class Tensor;
struct SemanticType;
struct SemanticMeta;
namespace autograd {
struct Node;
struct AutogradMeta;
}  // namespace autograd

struct TensorImpl {
  Storage storage;
  Shape shape;
  Strides strides;
  int64_t offset = 0;  // in elements
  DType dtype = DType::F32;
  std::unique_ptr<autograd::AutogradMeta> autograd;  // null until autograd touches the tensor
  const SemanticType* sem = nullptr;                 // null: a plain tensor
  std::shared_ptr<const SemanticMeta> meta;          // img_size, vocab, ... (may be null)

  TensorImpl();
  ~TensorImpl();
};

// A new, empty TensorImpl from the small-object pool (tensor/small_alloc.h). Every op result and
// every view is one: use this rather than std::make_shared.
std::shared_ptr<TensorImpl> make_tensor_impl();

class Tensor {
 public:
  Tensor() = default;  // undefined: defined() == false
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- identity and layout ----
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl().shape; }
  const Strides& strides() const { return impl().strides; }
  int64_t offset() const { return impl().offset; }
  int64_t dim() const { return impl().shape.ndim(); }
  int64_t size(int64_t dim) const;  // negative dims count from the end
  int64_t stride(int64_t dim) const;
  int64_t numel() const { return impl().shape.numel(); }
  DType dtype() const { return impl().dtype; }
  Device device() const { return impl().storage->device; }
  int64_t itemsize() const { return dtype_size(dtype()); }
  int64_t nbytes() const { return numel() * itemsize(); }
  bool is_contiguous() const;
  bool is_floating_point() const { return is_floating(dtype()); }
  const Storage& storage() const { return impl().storage; }
  bool is_same(const Tensor& o) const { return impl_ == o.impl_; }
  bool shares_storage(const Tensor& o) const { return impl().storage == o.impl().storage; }
  std::string str() const;  // readable print-out (tensor/print.cpp)

  // ---- raw data (CPU) ----
  // Pointer to element [0, 0, ...] of this view; checks the dtype and that the tensor is on CPU.
  template <class T> T* data() const;
  void* raw_data() const;  // byte pointer to element 0, any device
  template <class T> T item() const;  // the single element of a one-element tensor, converted
  double item() const { return item<double>(); }
  template <class T> std::vector<T> to_vector() const;  // all elements in row-major order

  // ---- views: share storage ----
  Tensor view(const Shape& shape) const;     // -1 infers one dim; layout must allow it
  Tensor reshape(const Shape& shape) const;  // a view when possible, else a copy
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;
  Tensor permute(std::span<const int64_t> dims) const;
  Tensor permute(std::initializer_list<int64_t> dims) const {
    return permute(std::span<const int64_t>(dims.begin(), dims.size()));
  }
  Tensor transpose(int64_t dim0, int64_t dim1) const;
  Tensor t() const;  // transpose of a 2-d tensor
  Tensor slice(int64_t dim, int64_t start, int64_t end, int64_t step = 1) const;  // python a[s:e:k]
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  Tensor select(int64_t dim, int64_t index) const;  // removes dim
  Tensor operator[](int64_t index) const { return select(0, index); }
  Tensor expand(const Shape& shape) const;  // -1 keeps a dim; size-1 dims broadcast with stride 0
  Tensor expand_as(const Tensor& other) const { return expand(other.shape()); }
  Tensor squeeze() const;
  Tensor squeeze(int64_t dim) const;
  Tensor unsqueeze(int64_t dim) const;
  Tensor contiguous() const;  // this tensor when already contiguous, else a packed copy
  Tensor alias() const;       // a new handle to the same data and graph position

  // ---- copies and conversions ----
  Tensor clone() const;
  Tensor to(DType dtype) const;  // this tensor when the dtype already matches
  Tensor to(Device device) const;
  Tensor cpu() const { return to(Device::cpu()); }
  Tensor cuda(int index = 0) const { return to(Device::cuda(index)); }
  Tensor& copy_(const Tensor& src);  // in place; broadcasts and converts src
  Tensor& fill_(double value);
  Tensor& zero_() { return fill_(0.0); }

  // ---- autograd ----
  bool requires_grad() const;
  Tensor& requires_grad_(bool on = true);  // leaves with a floating dtype only
  Tensor grad() const;                     // undefined until a backward reaches this leaf
  void set_grad(const Tensor& g);
  void zero_grad();  // resets grad to undefined
  bool is_leaf() const;
  std::shared_ptr<autograd::Node> grad_fn() const;
  void backward(const Tensor& gradient = Tensor(), bool retain_graph = false) const;
  Tensor detach() const;  // same data, no history
  void retain_grad() const;  // keep .grad() on a non-leaf after backward
  // Runs on the gradient flowing into this tensor; may return a replacement (or undefined to keep).
  void register_hook(std::function<Tensor(const Tensor&)> hook) const;
  uint32_t version() const { return impl().storage->version; }
  void bump_version() const { ++impl().storage->version; }

  // ---- semantic type ----
  const SemanticType* semantic_type() const { return impl().sem; }
  const std::shared_ptr<const SemanticMeta>& meta() const { return impl().meta; }
  void set_semantic(const SemanticType* type, std::shared_ptr<const SemanticMeta> meta = nullptr) const;

  TensorImpl& impl() const {
    if (!impl_) [[unlikely]] throw_undefined();
    return *impl_;
  }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }

 private:
  [[noreturn]] static void throw_undefined();
  std::shared_ptr<TensorImpl> impl_;
};

// ---- factories (tensor/factory.cpp) ----
struct TensorOptions {
  DType dtype = DType::F32;
  Device device = Device::cpu();
  bool requires_grad = false;
};
Tensor empty(const Shape& shape, TensorOptions opts = {});
Tensor zeros(const Shape& shape, TensorOptions opts = {});
Tensor ones(const Shape& shape, TensorOptions opts = {});
Tensor full(const Shape& shape, double value, TensorOptions opts = {});
Tensor empty_like(const Tensor& t);
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor full_like(const Tensor& t, double value);
Tensor scalar_tensor(double value, TensorOptions opts = {});  // 0-d
// [start, end) with `step`; dtype i64 unless a float dtype is asked for.
Tensor arange(double start, double end, double step = 1.0, TensorOptions opts = {.dtype = DType::I64});
Tensor arange(int64_t end, TensorOptions opts = {.dtype = DType::I64});
Tensor linspace(double start, double end, int64_t steps, TensorOptions opts = {});
Tensor eye(int64_t n, int64_t m = -1, TensorOptions opts = {});
// Copies `values` into a new tensor of `shape` (default: 1-d) and dtype T.
template <class T>
Tensor tensor(const std::vector<T>& values, const Shape& shape = {}, TensorOptions opts = {.dtype = dtype_of<T>()});
Tensor tensor(std::initializer_list<float> values, const Shape& shape = {});
// Wraps memory owned elsewhere (no copy). `deleter` runs when the last view goes; may be empty.
Tensor from_blob(void* data, const Shape& shape, DType dtype, std::function<void(void*)> deleter = {},
                 Device device = Device::cpu());

}  // namespace strata

template <>
struct fmt::formatter<strata::Tensor> : fmt::formatter<std::string> {
  auto format(const strata::Tensor& t, format_context& ctx) const {
    return fmt::formatter<std::string>::format(t.str(), ctx);
  }
};
