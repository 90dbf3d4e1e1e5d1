// Indexing front ends (index_select, gather, scatter, scatter_add, index_add, masked_fill,
// masked_select, nonzero, one_hot): check at the door, read the index range once to reject
// out-of-range values, allocate, run the kernel, record for autograd, propagate semantic types.
//
// A 0-d input counts as 1-d of size 1 (PyTorch's rule for these ops): the kernels only ever see
// tensors with at least one dim. Kernel calls run under NoGradGuard; the op records itself.
#include "tensor/ops/index.h"

#include "autograd/formulas/index.h"
#include "autograd/grad_mode.h"
#include "autograd/record.h"
#include "kernels/elementwise.h"
#include "kernels/index.h"
#include "tensor/ops/check.h"
#include "tensor/semantic.h"

namespace strata {
namespace {

int64_t nonempty_dim(const Tensor& t) { return std::max<int64_t>(t.dim(), 1); }
// Size at d of t seen as at least 1-d.
int64_t size_at(const Tensor& t, int64_t d) { return t.dim() == 0 ? 1 : t.size(d); }
// For kernels (call under NoGradGuard): t seen as at least 1-d.
Tensor as_1d(const Tensor& t) { return t.dim() == 0 ? t.reshape({1}) : t; }

void check_index_dtype(const char* op, const Tensor& index) {
  STRATA_CHECK(index.dtype() == DType::I64 || index.dtype() == DType::I32, DTypeError,
               "{}: index must be i64 or i32, got {} (shape {})", op, index.dtype(), index.shape());
}

// Every index value in [0, size); names the first bound crossed.
void check_index_range(const char* op, const Tensor& index, int64_t dim, int64_t size) {
  if (index.numel() == 0) return;
  const auto [lo, hi] = kernels::index_min_max(index);
  const int64_t bad = lo < 0 ? lo : hi;
  STRATA_CHECK(lo >= 0 && hi < size, IndexError, "{}: index {} is out of range for dim {} of size {}", op, bad,
               dim, size);
}

void check_mask(const char* op, const Tensor& mask) {
  STRATA_CHECK(mask.dtype() == DType::Bool || mask.dtype() == DType::U8, DTypeError,
               "{}: mask must be bool (or u8), got {} (shape {})", op, mask.dtype(), mask.shape());
}

// A copy of x to write into: contiguous, same dtype, no history.
Tensor fresh_copy(const Tensor& x) {
  Tensor out = empty(x.shape(), {.dtype = x.dtype(), .device = x.device()});
  kernels::copy(x, out);
  return out;
}

// Shape rules shared by gather and the scatters: index has the ndim of `data`, and is no larger
// than `data` in every dim but `dim` (every dim at all when `all_dims`).
void check_index_fits(const char* op, const Tensor& index, const Tensor& data, const char* data_name,
                      int64_t dim, bool all_dims) {
  STRATA_CHECK(nonempty_dim(index) == nonempty_dim(data), ShapeError,
               "{}: index has {} dims but {} has {} (shapes {} and {})", op, index.dim(), data_name, data.dim(),
               index.shape(), data.shape());
  for (int64_t d = 0; d < nonempty_dim(index); ++d) {
    if (!all_dims && d == dim) continue;
    STRATA_CHECK(size_at(index, d) <= size_at(data, d), ShapeError,
                 "{}: index has size {} at dim {} but {} has size {} (shapes {} and {}); index may not be larger "
                 "than {}{}",
                 op, size_at(index, d), d, data_name, size_at(data, d), index.shape(), data.shape(), data_name,
                 all_dims ? "" : fmt::format(" except at dim {}", dim));
  }
}

// Checks a scatter / scatter_add call; returns the wrapped dim.
int64_t check_scatter(const char* op, const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src) {
  check_defined(op, x);
  check_defined(op, index, "index");
  check_defined(op, src, "src");
  check_same_device(op, x, index);
  check_same_device(op, x, src);
  check_index_dtype(op, index);
  STRATA_CHECK(src.dtype() == x.dtype(), DTypeError, "{}: src has dtype {} but input has {} (shapes {} and {})", op,
               src.dtype(), x.dtype(), src.shape(), x.shape());
  const int64_t d = wrap_dim(op, dim, nonempty_dim(x));
  check_index_fits(op, index, x, "input", d, false);
  check_index_fits(op, index, src, "src", d, true);
  check_index_range(op, index, d, size_at(x, d));
  return d;
}

// Checks an index_add call; returns the wrapped dim.
int64_t check_index_add(const char* op, const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src) {
  check_defined(op, x);
  check_defined(op, index, "index");
  check_defined(op, src, "src");
  check_same_device(op, x, index);
  check_same_device(op, x, src);
  check_index_dtype(op, index);
  STRATA_CHECK(index.dim() <= 1, ShapeError, "{}: index must be 0-d or 1-d, got shape {}", op, index.shape());
  STRATA_CHECK(src.dtype() == x.dtype(), DTypeError, "{}: src has dtype {} but input has {} (shapes {} and {})", op,
               src.dtype(), x.dtype(), src.shape(), x.shape());
  const int64_t d = wrap_dim(op, dim, nonempty_dim(x));
  STRATA_CHECK(nonempty_dim(src) == nonempty_dim(x), ShapeError, "{}: src has {} dims but input has {} (shapes {} and {})",
               op, src.dim(), x.dim(), src.shape(), x.shape());
  for (int64_t k = 0; k < nonempty_dim(x); ++k) {
    const int64_t want = k == d ? index.numel() : size_at(x, k);
    STRATA_CHECK(size_at(src, k) == want, ShapeError,
                 "{}: src has size {} at dim {} but {} is needed (src {}, input {}, index {})", op, size_at(src, k), k,
                 want, src.shape(), x.shape(), index.shape());
  }
  check_index_range(op, index, d, size_at(x, d));
  return d;
}

// In-place ops write through x: it must not be tracked by autograd nor have repeated elements,
// and src must not need a gradient (the in-place forms are not recorded).
void check_writable(const char* op, const Tensor& x, const Tensor& src) {
  autograd::check_inplace(op, x);
  STRATA_CHECK(!(GradMode::is_enabled() && src.requires_grad()), AutogradError,
               "{}: src (shape {}) requires grad but in-place index ops are not recorded; use the out-of-place op",
               op, src.shape());
  for (int64_t d = 0; d < x.dim(); ++d)
    STRATA_CHECK(x.stride(d) != 0 || x.size(d) <= 1, ValueError,
                 "{}: the input (shape {}, strides {}) has repeated elements (an expanded view); write into a copy",
                 op, x.shape(), x.strides());
}

Tensor scatter_op(const char* op, bool add, const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src) {
  const int64_t d = check_scatter(op, x, dim, index, src);
  Tensor out;
  {
    NoGradGuard no_grad;
    out = fresh_copy(x);
    kernels::scatter(add ? kernels::ScatterMode::add : kernels::ScatterMode::assign, as_1d(out), d, as_1d(index),
                     as_1d(src));
  }
  autograd::record_scatter(add, x, d, index, src, out);
  return propagate_semantics(out, {&x, &src});
}

}  // namespace

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  const char* op = "index_select";
  check_defined(op, x);
  check_defined(op, index, "index");
  check_same_device(op, x, index);
  check_index_dtype(op, index);
  STRATA_CHECK(index.dim() <= 1, ShapeError, "{}: index must be 0-d or 1-d, got shape {}", op, index.shape());
  const int64_t d = wrap_dim(op, dim, nonempty_dim(x));
  Shape shape = x.shape();
  if (x.dim() == 0) {
    STRATA_CHECK(index.numel() == 1, ShapeError,
                 "{}: indexing a 0-d input needs exactly one index, got index of shape {}", op, index.shape());
  } else {
    shape[d] = index.numel();
  }
  check_index_range(op, index, d, size_at(x, d));
  Tensor out = empty(shape, {.dtype = x.dtype(), .device = x.device()});
  {
    NoGradGuard no_grad;
    kernels::index_select(as_1d(x), d, as_1d(index), as_1d(out));
  }
  autograd::record_index_select(x, d, index, out);
  return propagate_semantics(out, {&x});
}

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  const char* op = "gather";
  check_defined(op, x);
  check_defined(op, index, "index");
  check_same_device(op, x, index);
  check_index_dtype(op, index);
  const int64_t d = wrap_dim(op, dim, nonempty_dim(x));
  check_index_fits(op, index, x, "input", d, false);
  check_index_range(op, index, d, size_at(x, d));
  Tensor out = empty(index.shape(), {.dtype = x.dtype(), .device = x.device()});
  {
    NoGradGuard no_grad;
    kernels::gather(as_1d(x), d, as_1d(index), as_1d(out));
  }
  autograd::record_gather(x, d, index, out);
  return propagate_semantics(out, {&x});
}

Tensor scatter(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src) {
  return scatter_op("scatter", false, x, dim, index, src);
}

Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src) {
  return scatter_op("scatter_add", true, x, dim, index, src);
}

Tensor index_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src) {
  const int64_t d = check_index_add("index_add", x, dim, index, src);
  Tensor out;
  {
    NoGradGuard no_grad;
    out = fresh_copy(x);
    kernels::index_add(as_1d(out), d, as_1d(index), as_1d(src));
  }
  autograd::record_index_add(x, d, index, src, out);
  return propagate_semantics(out, {&x, &src});
}

Tensor& index_add_(Tensor& x, int64_t dim, const Tensor& index, const Tensor& src) {
  const int64_t d = check_index_add("index_add_", x, dim, index, src);
  check_writable("index_add_", x, src);
  {
    NoGradGuard no_grad;
    kernels::index_add(as_1d(x), d, as_1d(index), as_1d(src));
  }
  x.bump_version();
  return x;
}

Tensor& scatter_add_(Tensor& x, int64_t dim, const Tensor& index, const Tensor& src) {
  const int64_t d = check_scatter("scatter_add_", x, dim, index, src);
  check_writable("scatter_add_", x, src);
  {
    NoGradGuard no_grad;
    kernels::scatter(kernels::ScatterMode::add, as_1d(x), d, as_1d(index), as_1d(src));
  }
  x.bump_version();
  return x;
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
  const char* op = "masked_fill";
  check_defined(op, x);
  check_defined(op, mask, "mask");
  check_same_device(op, x, mask);
  check_mask(op, mask);
  STRATA_CHECK(broadcast_shapes(op, x.shape(), mask.shape()) == x.shape(), ShapeError,
               "{}: mask of shape {} does not broadcast to the input's shape {}", op, mask.shape(), x.shape());
  Tensor out = empty(x.shape(), {.dtype = x.dtype(), .device = x.device()});
  Tensor bool_mask;
  {
    NoGradGuard no_grad;
    bool_mask = mask.dtype() == DType::Bool ? mask : mask.to(DType::Bool);
    Tensor fill = full({}, value, {.dtype = x.dtype(), .device = x.device()});
    kernels::where(kernel_input(bool_mask, DType::Bool, x.shape()), fill.expand(x.shape()), x, out);
  }
  autograd::record_masked_fill(x, bool_mask, out);
  return propagate_semantics(out, {&x});
}

Tensor masked_select(const Tensor& x, const Tensor& mask) {
  const char* op = "masked_select";
  check_defined(op, x);
  check_defined(op, mask, "mask");
  check_same_device(op, x, mask);
  check_mask(op, mask);
  const Shape shape = broadcast_shapes(op, x.shape(), mask.shape());
  Tensor out, positions;
  {
    NoGradGuard no_grad;
    Tensor flat_mask = kernel_input(mask, DType::Bool, shape).contiguous().reshape({-1});
    positions = kernels::nonzero(flat_mask).reshape({-1});
    Tensor flat_x = kernel_input(x, x.dtype(), shape).contiguous().reshape({-1});
    out = empty({positions.numel()}, {.dtype = x.dtype(), .device = x.device()});
    kernels::index_select(flat_x, 0, positions, out);
  }
  autograd::record_masked_select(x, shape, positions, out);
  return propagate_semantics(out, {&x});
}

Tensor nonzero(const Tensor& x) {
  check_defined("nonzero", x);
  Tensor out;
  {
    NoGradGuard no_grad;
    out = kernels::nonzero(x.contiguous());
  }
  return propagate_semantics(out, {&x});
}

Tensor one_hot(const Tensor& labels, int64_t num_classes) {
  const char* op = "one_hot";
  check_defined(op, labels, "labels");
  STRATA_CHECK(labels.dtype() == DType::I64 || labels.dtype() == DType::I32, DTypeError,
               "{}: labels must be i64 (or i32), got {} (shape {})", op, labels.dtype(), labels.shape());
  STRATA_CHECK(num_classes >= -1, ValueError, "{}: num_classes must be -1 (infer) or >= 0, got {}", op, num_classes);
  if (labels.numel() > 0) {
    const auto [lo, hi] = kernels::index_min_max(labels);
    if (num_classes == -1) num_classes = hi + 1;
    const int64_t bad = lo < 0 ? lo : hi;
    STRATA_CHECK(lo >= 0 && hi < num_classes, IndexError, "{}: class {} is out of range for num_classes {}", op, bad,
                 num_classes);
  } else {
    STRATA_CHECK(num_classes >= 0, ValueError, "{}: cannot infer num_classes from empty labels (shape {})", op,
                 labels.shape());
  }
  Shape shape = labels.shape();
  shape.push_back(num_classes);
  Tensor out = zeros(shape, {.dtype = DType::I64, .device = labels.device()});
  {
    NoGradGuard no_grad;
    Shape one = labels.shape();
    one.push_back(1);
    Tensor ones_src = full({}, 1.0, {.dtype = DType::I64, .device = labels.device()}).expand(one);
    kernels::scatter(kernels::ScatterMode::assign, out, labels.dim(), labels.unsqueeze(-1), ones_src);
  }
  return propagate_semantics(out, {&labels});
}

}  // namespace strata
