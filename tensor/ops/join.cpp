// Joining and splitting front ends. cat and stack copy (one kernel call, dtypes promoted across
// the inputs, one backward node); split, chunk and unbind return views (narrow, select), so they
// share storage with their input and get gradients from the view ops.
#include <numeric>

#include "autograd/formulas/index.h"
#include "autograd/grad_mode.h"
#include "kernels/index.h"
#include "tensor/ops/check.h"
#include "tensor/ops/index.h"
#include "tensor/semantic.h"

namespace strata {
namespace {

// Checks the list and returns the promoted dtype.
DType check_join_inputs(const char* op, const std::vector<Tensor>& tensors) {
  STRATA_CHECK(!tensors.empty(), ValueError, "{}: expected a non-empty list of tensors", op);
  DType dt = DType::Bool;
  for (size_t i = 0; i < tensors.size(); ++i) {
    STRATA_CHECK(tensors[i].defined(), ValueError, "{}: tensor {} is an undefined tensor", op, i);
    STRATA_CHECK(tensors[i].device() == tensors[0].device(), DeviceError,
                 "{}: tensor {} is on {} but tensor 0 is on {} (shapes {} and {})", op, i, tensors[i].device(),
                 tensors[0].device(), tensors[i].shape(), tensors[0].shape());
    dt = i == 0 ? tensors[i].dtype() : promote_types(dt, tensors[i].dtype());
  }
  return dt;
}

Tensor join(const char* op, bool stacked, const std::vector<Tensor>& tensors, int64_t dim, const Shape& shape,
            DType dtype, const std::vector<Tensor>& kernel_inputs) {
  Tensor out = empty(shape, {.dtype = dtype, .device = tensors[0].device()});
  kernels::cat(kernel_inputs, dim, out);
  if (stacked) {
    autograd::record_stack(tensors, dim, out);
  } else {
    autograd::record_cat(tensors, dim, out);
  }
  return propagate_semantics(out, tensors);
}

int64_t split_dim(const char* op, const Tensor& x, int64_t dim) {
  check_defined(op, x);
  STRATA_CHECK(x.dim() > 0, ShapeError, "{}: cannot split a 0-d tensor", op);
  return wrap_dim(op, dim, x.dim());
}

}  // namespace

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) {
  const char* op = "cat";
  const DType dt = check_join_inputs(op, tensors);
  const Tensor& first = tensors[0];
  for (size_t i = 0; i < tensors.size(); ++i) {
    STRATA_CHECK(tensors[i].dim() > 0, ShapeError, "{}: tensor {} is 0-d and cannot be concatenated", op, i);
    STRATA_CHECK(tensors[i].dim() == first.dim(), ShapeError, "{}: tensor {} has {} dims but tensor 0 has {} (shapes {} and {})",
                 op, i, tensors[i].dim(), first.dim(), tensors[i].shape(), first.shape());
  }
  const int64_t d = wrap_dim(op, dim, first.dim());
  Shape shape = first.shape();
  shape[d] = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    for (int64_t k = 0; k < first.dim(); ++k) {
      STRATA_CHECK(k == d || tensors[i].size(k) == first.size(k), ShapeError,
                   "{}: tensor {} has size {} at dim {} but tensor 0 has {} (shapes {} and {}); sizes must match "
                   "except in the cat dim {}",
                   op, i, tensors[i].size(k), k, first.size(k), tensors[i].shape(), first.shape(), d);
    }
    shape[d] += tensors[i].size(d);
  }
  return join(op, false, tensors, d, shape, dt, tensors);
}

Tensor stack(const std::vector<Tensor>& tensors, int64_t dim) {
  const char* op = "stack";
  const DType dt = check_join_inputs(op, tensors);
  const Tensor& first = tensors[0];
  for (size_t i = 0; i < tensors.size(); ++i) {
    STRATA_CHECK(tensors[i].shape() == first.shape(), ShapeError,
                 "{}: tensor {} has shape {} but tensor 0 has shape {}; stack needs equal shapes", op, i,
                 tensors[i].shape(), first.shape());
  }
  const int64_t d = wrap_dim(op, dim, first.dim() + 1);
  std::vector<Tensor> unsqueezed;
  {
    NoGradGuard no_grad;
    for (const Tensor& t : tensors) unsqueezed.push_back(t.unsqueeze(d));
  }
  Shape shape = first.shape();
  shape.insert(static_cast<size_t>(d), static_cast<int64_t>(tensors.size()));
  return join(op, true, tensors, d, shape, dt, unsqueezed);
}

std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t dim) {
  const char* op = "split";
  const int64_t d = split_dim(op, x, dim);
  const int64_t size = x.size(d);
  STRATA_CHECK(split_size > 0 || (split_size == 0 && size == 0), ValueError,
               "{}: split_size must be positive, got {} (dim {} of size {}, shape {})", op, split_size, d, size,
               x.shape());
  std::vector<Tensor> out;
  if (size == 0) {
    out.push_back(x.narrow(d, 0, 0));
    return out;
  }
  for (int64_t start = 0; start < size; start += split_size)
    out.push_back(x.narrow(d, start, std::min(split_size, size - start)));
  return out;
}

std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim) {
  const char* op = "split";
  const int64_t d = split_dim(op, x, dim);
  int64_t total = 0;
  for (int64_t s : sizes) {
    STRATA_CHECK(s >= 0, ValueError, "{}: sizes must be non-negative, got {}", op, Shape(sizes));
    total += s;
  }
  STRATA_CHECK(total == x.size(d), ValueError, "{}: sizes {} sum to {} but dim {} has size {} (shape {})", op,
               Shape(sizes), total, d, x.size(d), x.shape());
  std::vector<Tensor> out;
  int64_t start = 0;
  for (int64_t s : sizes) {
    out.push_back(x.narrow(d, start, s));
    start += s;
  }
  return out;
}

std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim) {
  const char* op = "chunk";
  const int64_t d = split_dim(op, x, dim);
  STRATA_CHECK(chunks > 0, ValueError, "{}: chunks must be positive, got {}", op, chunks);
  const int64_t size = x.size(d);
  if (size == 0) return split(x, std::vector<int64_t>(static_cast<size_t>(chunks), 0), d);
  return split(x, (size + chunks - 1) / chunks, d);
}

std::vector<Tensor> unbind(const Tensor& x, int64_t dim) {
  const int64_t d = split_dim("unbind", x, dim);
  std::vector<Tensor> out;
  for (int64_t i = 0; i < x.size(d); ++i) out.push_back(x.select(d, i));
  return out;
}

}  // namespace strata
