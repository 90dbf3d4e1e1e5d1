// Tensor factories: empty, zeros, ones, full, arange, linspace, eye, tensor(values), from_blob.
#include <cmath>

#include "autograd/grad_mode.h"
#include "kernels/elementwise.h"
#include "tensor/ops.h"

namespace strata {

Tensor empty(const Shape& shape, TensorOptions opts) {
  for (int64_t d : shape)
    STRATA_CHECK(d >= 0, ShapeError, "empty: negative dimension in shape {}", shape);
  auto impl = make_tensor_impl();
  const int64_t n = shape.numel();
  impl->storage = make_storage(static_cast<size_t>(n * dtype_size(opts.dtype)), opts.device);
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = opts.dtype;
  Tensor t(std::move(impl));
  if (opts.requires_grad) t.requires_grad_(true);
  return t;
}

Tensor full(const Shape& shape, double value, TensorOptions opts) {
  const bool rg = opts.requires_grad;
  opts.requires_grad = false;
  Tensor t = empty(shape, opts);
  kernels::fill(t, value);
  if (rg) t.requires_grad_(true);
  return t;
}

Tensor zeros(const Shape& shape, TensorOptions opts) { return full(shape, 0.0, opts); }
Tensor ones(const Shape& shape, TensorOptions opts) { return full(shape, 1.0, opts); }
Tensor empty_like(const Tensor& t) { return empty(t.shape(), {.dtype = t.dtype(), .device = t.device()}); }
Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), {.dtype = t.dtype(), .device = t.device()}); }
Tensor ones_like(const Tensor& t) { return ones(t.shape(), {.dtype = t.dtype(), .device = t.device()}); }
Tensor full_like(const Tensor& t, double v) { return full(t.shape(), v, {.dtype = t.dtype(), .device = t.device()}); }
Tensor scalar_tensor(double value, TensorOptions opts) { return full({}, value, opts); }

Tensor arange(double start, double end, double step, TensorOptions opts) {
  STRATA_CHECK(step != 0.0, ValueError, "arange: step must be nonzero");
  STRATA_CHECK(std::isfinite(start) && std::isfinite(end), ValueError, "arange: start and end must be finite");
  const double span = (end - start) / step;
  const int64_t n = span > 0 ? static_cast<int64_t>(std::ceil(span)) : 0;
  Tensor t = empty({n}, {.dtype = opts.dtype});
  visit_dtype(opts.dtype, [&]<class T>() {
    T* p = t.data<T>();
    for (int64_t i = 0; i < n; ++i) p[i] = static_cast<T>(static_cast<compute_t<T>>(start + static_cast<double>(i) * step));
  });
  Tensor r = opts.device.is_cpu() ? t : t.to(opts.device);
  if (opts.requires_grad) r.requires_grad_(true);
  return r;
}

Tensor arange(int64_t end, TensorOptions opts) { return arange(0.0, static_cast<double>(end), 1.0, opts); }

Tensor linspace(double start, double end, int64_t steps, TensorOptions opts) {
  STRATA_CHECK(steps >= 0, ValueError, "linspace: steps must be >= 0, got {}", steps);
  Tensor t = empty({steps}, {.dtype = opts.dtype});
  const double step = steps > 1 ? (end - start) / static_cast<double>(steps - 1) : 0.0;
  visit_dtype(opts.dtype, [&]<class T>() {
    T* p = t.data<T>();
    for (int64_t i = 0; i < steps; ++i) {
      // Fill from both ends so the last value is exactly `end`.
      const double v = i < steps / 2 || steps == 1 ? start + step * static_cast<double>(i)
                                                   : end - step * static_cast<double>(steps - 1 - i);
      p[i] = static_cast<T>(static_cast<compute_t<T>>(v));
    }
  });
  Tensor r = opts.device.is_cpu() ? t : t.to(opts.device);
  if (opts.requires_grad) r.requires_grad_(true);
  return r;
}

Tensor eye(int64_t n, int64_t m, TensorOptions opts) {
  if (m < 0) m = n;
  STRATA_CHECK(n >= 0, ValueError, "eye: n must be >= 0, got {}", n);
  Tensor t = zeros({n, m}, {.dtype = opts.dtype});
  visit_dtype(opts.dtype, [&]<class T>() {
    T* p = t.data<T>();
    for (int64_t i = 0; i < std::min(n, m); ++i) p[i * m + i] = static_cast<T>(static_cast<compute_t<T>>(1));
  });
  Tensor r = opts.device.is_cpu() ? t : t.to(opts.device);
  if (opts.requires_grad) r.requires_grad_(true);
  return r;
}

template <class T>
Tensor tensor(const std::vector<T>& values, const Shape& shape, TensorOptions opts) {
  const Shape s = shape.empty() ? Shape{static_cast<int64_t>(values.size())} : shape;
  STRATA_CHECK(s.numel() == static_cast<int64_t>(values.size()), ShapeError,
               "tensor: {} values do not fill shape {} ({} elements)", values.size(), s, s.numel());
  Tensor t = empty(s, {.dtype = dtype_of<T>()});
  T* p = t.data<T>();
  for (size_t i = 0; i < values.size(); ++i) p[i] = values[i];
  Tensor r = t;
  if (opts.dtype != dtype_of<T>()) r = r.to(opts.dtype);
  if (!opts.device.is_cpu()) r = r.to(opts.device);
  if (opts.requires_grad) r.requires_grad_(true);
  return r;
}
template Tensor tensor<float>(const std::vector<float>&, const Shape&, TensorOptions);
template Tensor tensor<double>(const std::vector<double>&, const Shape&, TensorOptions);
template Tensor tensor<int64_t>(const std::vector<int64_t>&, const Shape&, TensorOptions);
template Tensor tensor<int32_t>(const std::vector<int32_t>&, const Shape&, TensorOptions);
template Tensor tensor<uint8_t>(const std::vector<uint8_t>&, const Shape&, TensorOptions);
template Tensor tensor<Half>(const std::vector<Half>&, const Shape&, TensorOptions);
template Tensor tensor<BFloat16>(const std::vector<BFloat16>&, const Shape&, TensorOptions);

Tensor tensor(std::initializer_list<float> values, const Shape& shape) {
  return tensor<float>(std::vector<float>(values), shape);
}

// std::vector<bool> is bit-packed: copy element by element.
template <>
Tensor tensor<bool>(const std::vector<bool>& values, const Shape& shape, TensorOptions opts) {
  const Shape s = shape.empty() ? Shape{static_cast<int64_t>(values.size())} : shape;
  STRATA_CHECK(s.numel() == static_cast<int64_t>(values.size()), ShapeError,
               "tensor: {} values do not fill shape {} ({} elements)", values.size(), s, s.numel());
  Tensor t = empty(s, {.dtype = DType::Bool});
  bool* p = t.data<bool>();
  for (size_t i = 0; i < values.size(); ++i) p[i] = values[i];
  Tensor r = opts.dtype == DType::Bool ? t : t.to(opts.dtype);
  return opts.device.is_cpu() ? r : r.to(opts.device);
}

Tensor from_blob(void* data, const Shape& shape, DType dtype, std::function<void(void*)> deleter, Device device) {
  for (int64_t d : shape)
    STRATA_CHECK(d >= 0, ShapeError, "from_blob: negative dimension in shape {}", shape);
  STRATA_CHECK(data != nullptr || shape.numel() == 0, ValueError, "from_blob: null data for shape {}", shape);
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<StorageImpl>(data, static_cast<size_t>(shape.numel() * dtype_size(dtype)), device,
                                                std::move(deleter));
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

}  // namespace strata
