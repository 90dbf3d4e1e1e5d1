// Tensor handle basics: layout queries, data access, views and autograd accessors.
// View ops make a new TensorImpl over the same storage and record a backward node when the
// source requires grad (autograd/formulas/movement.cpp).
#include "tensor/tensor.h"

#include <algorithm>
#include <numeric>

#include "autograd/formulas/movement.h"
#include "autograd/record.h"
#include "tensor/ops.h"
#include "tensor/semantic.h"
#include "tensor/small_alloc.h"

namespace strata {

TensorImpl::TensorImpl() = default;
TensorImpl::~TensorImpl() = default;

std::shared_ptr<TensorImpl> make_tensor_impl() {
  return std::allocate_shared<TensorImpl>(PoolAllocator<TensorImpl>());
}

void Tensor::throw_undefined() { STRATA_THROW(ValueError, "use of an undefined tensor"); }

int64_t Tensor::size(int64_t d) const { return shape()[wrap_dim("size", d, dim())]; }
int64_t Tensor::stride(int64_t d) const { return strides()[wrap_dim("stride", d, dim())]; }

bool Tensor::is_contiguous() const {
  const auto& sh = shape();
  const auto& st = strides();
  if (sh.numel() == 0) return true;  // nothing to lay out, whatever the strides
  int64_t expected = 1;
  for (int64_t i = sh.ndim() - 1; i >= 0; --i) {
    if (sh[i] == 1) continue;
    if (st[i] != expected) return false;
    expected *= sh[i];
  }
  return true;
}

void* Tensor::raw_data() const {
  auto& im = impl();
  return static_cast<char*>(im.storage->data) + im.offset * dtype_size(im.dtype);
}

template <class T>
T* Tensor::data() const {
  STRATA_CHECK(dtype() == dtype_of<T>(), DTypeError, "data<{}>(): tensor has dtype {}",
               dtype_name(dtype_of<T>()), dtype());
  STRATA_CHECK(device().is_cpu(), DeviceError, "data(): tensor is on {}; call .cpu() first", device());
  return static_cast<T*>(raw_data());
}

template <class T>
T Tensor::item() const {
  STRATA_CHECK(numel() == 1, ShapeError, "item(): tensor of shape {} has {} elements, not 1", shape(), numel());
  Tensor c = device().is_cpu() ? *this : cpu();
  return visit_dtype(c.dtype(), [&]<class S>() {
    return static_cast<T>(static_cast<compute_t<S>>(*static_cast<const S*>(c.raw_data())));
  });
}

template <class T>
std::vector<T> Tensor::to_vector() const {
  Tensor c = contiguous().cpu().to(dtype_of<T>());
  const T* p = c.data<T>();
  return std::vector<T>(p, p + c.numel());
}

#define STRATA_INSTANTIATE_DATA(T)                 \
  template T* Tensor::data<T>() const;             \
  template T Tensor::item<T>() const;              \
  template std::vector<T> Tensor::to_vector<T>() const;
STRATA_INSTANTIATE_DATA(float)
STRATA_INSTANTIATE_DATA(double)
STRATA_INSTANTIATE_DATA(Half)
STRATA_INSTANTIATE_DATA(BFloat16)
STRATA_INSTANTIATE_DATA(int64_t)
STRATA_INSTANTIATE_DATA(int32_t)
STRATA_INSTANTIATE_DATA(uint8_t)
STRATA_INSTANTIATE_DATA(bool)
#undef STRATA_INSTANTIATE_DATA

// ---- views ----
namespace {

// A new handle over the same storage with the given layout; semantic type and metadata travel.
Tensor make_view(const Tensor& src, Shape shape, Strides strides, int64_t offset) {
  auto impl = make_tensor_impl();
  impl->storage = src.storage();
  impl->shape = std::move(shape);
  impl->strides = std::move(strides);
  impl->offset = offset;
  impl->dtype = src.dtype();
  impl->sem = src.semantic_type();
  impl->meta = src.meta();
  return Tensor(std::move(impl));
}

// Resolves one -1 in a requested shape against numel.
Shape infer_shape(const char* op, const Shape& requested, int64_t numel, const Shape& from) {
  Shape out = requested;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      STRATA_CHECK(infer < 0, ShapeError, "{}: only one dim can be -1 in {}", op, requested);
      infer = static_cast<int64_t>(i);
    } else {
      STRATA_CHECK(out[i] >= 0, ShapeError, "{}: invalid size {} in {}", op, out[i], requested);
      known *= out[i];
    }
  }
  if (infer >= 0) {
    STRATA_CHECK(known != 0 && numel % known == 0, ShapeError,
                 "{}: shape {} is invalid for a tensor of shape {} ({} elements)", op, requested, from, numel);
    out[infer] = numel / known;
  }
  STRATA_CHECK(out.numel() == numel, ShapeError,
               "{}: shape {} is invalid for a tensor of shape {} ({} elements)", op, requested, from, numel);
  return out;
}

// Strides for viewing a tensor of (shape, strides) as new_shape without a copy, if possible.
// Walks chunks of dims that are contiguous with each other (numpy's attempt_nocopy_reshape).
bool view_strides(const Shape& shape, const Strides& strides, const Shape& new_shape, Strides& out) {
  out = Strides(new_shape.size(), 0);
  if (shape.numel() == 0) {
    out = contiguous_strides(new_shape);
    return true;
  }
  // Drop size-1 dims from the source.
  std::vector<int64_t> sh, st;
  for (size_t i = 0; i < shape.size(); ++i)
    if (shape[i] != 1) {
      sh.push_back(shape[i]);
      st.push_back(strides[i]);
    }
  size_t oi = 0, ni = 0;
  const size_t on = sh.size(), nn = new_shape.size();
  while (oi < on || ni < nn) {
    // skip size-1 new dims
    if (ni < nn && new_shape[ni] == 1) {
      out[ni] = (ni + 1 < nn ? 1 : 1);
      ++ni;
      continue;
    }
    if (oi >= on || ni >= nn) return false;
    int64_t op = sh[oi], np = new_shape[ni];
    size_t oj = oi + 1, nj = ni + 1;
    while (op != np) {
      if (op < np) {
        if (oj >= on) return false;
        op *= sh[oj++];
      } else {
        if (nj >= nn) return false;
        np *= new_shape[nj++];
      }
    }
    // source dims [oi, oj) must be contiguous with each other
    for (size_t k = oi; k + 1 < oj; ++k)
      if (st[k] != st[k + 1] * sh[k + 1]) return false;
    // assign strides for new dims [ni, nj) from the innermost source stride
    int64_t acc = st[oj - 1];
    for (size_t k = nj; k-- > ni;) {
      out[k] = acc;
      acc *= new_shape[k];
    }
    oi = oj;
    ni = nj;
  }
  return true;
}

}  // namespace

Tensor Tensor::view(const Shape& requested) const {
  Shape ns = infer_shape("view", requested, numel(), shape());
  Strides st;
  STRATA_CHECK(view_strides(shape(), strides(), ns, st), ShapeError,
               "view: cannot view a tensor of shape {} and strides {} as {} without a copy; use reshape",
               shape(), strides(), ns);
  Tensor out = make_view(*this, ns, st, offset());
  autograd::record_view_reshape(*this, out);
  return out;
}

Tensor Tensor::reshape(const Shape& requested) const {
  Shape ns = infer_shape("reshape", requested, numel(), shape());
  Strides st;
  if (view_strides(shape(), strides(), ns, st)) {
    Tensor out = make_view(*this, ns, st, offset());
    autograd::record_view_reshape(*this, out);
    return out;
  }
  return contiguous().view(ns);
}

Tensor Tensor::flatten(int64_t start_dim, int64_t end_dim) const {
  if (dim() == 0) return reshape({1});
  const int64_t s = wrap_dim("flatten", start_dim, dim());
  const int64_t e = wrap_dim("flatten", end_dim, dim());
  STRATA_CHECK(s <= e, IndexError, "flatten: start_dim {} is after end_dim {}", start_dim, end_dim);
  Shape ns;
  for (int64_t i = 0; i < s; ++i) ns.push_back(size(i));
  int64_t m = 1;
  for (int64_t i = s; i <= e; ++i) m *= size(i);
  ns.push_back(m);
  for (int64_t i = e + 1; i < dim(); ++i) ns.push_back(size(i));
  return reshape(ns);
}

Tensor Tensor::permute(std::span<const int64_t> dims) const {
  STRATA_CHECK(static_cast<int64_t>(dims.size()) == dim(), ShapeError,
               "permute: got {} dims for a tensor of shape {}", dims.size(), shape());
  Shape ns(dims.size());
  Strides st(dims.size());
  std::vector<int64_t> perm(dims.size());
  std::vector<bool> used(dims.size(), false);
  for (size_t i = 0; i < dims.size(); ++i) {
    const int64_t d = wrap_dim("permute", dims[i], dim());
    STRATA_CHECK(!used[d], IndexError, "permute: dim {} repeated in the permutation", d);
    used[d] = true;
    perm[i] = d;
    ns[i] = shape()[d];
    st[i] = strides()[d];
  }
  Tensor out = make_view(*this, ns, st, offset());
  autograd::record_view_permute(*this, out, perm);
  return out;
}

Tensor Tensor::transpose(int64_t d0, int64_t d1) const {
  if (dim() < 2 && (d0 == 0 || d0 == -1) && (d1 == 0 || d1 == -1)) return alias();
  const int64_t a = wrap_dim("transpose", d0, dim());
  const int64_t b = wrap_dim("transpose", d1, dim());
  std::vector<int64_t> perm(dim());
  std::iota(perm.begin(), perm.end(), 0);
  std::swap(perm[a], perm[b]);
  return permute(perm);
}

Tensor Tensor::t() const {
  STRATA_CHECK(dim() <= 2, ShapeError, "t: expects a tensor with <= 2 dims, got shape {}", shape());
  return dim() < 2 ? alias() : transpose(0, 1);
}

Tensor Tensor::slice(int64_t d, int64_t start, int64_t end, int64_t step) const {
  const int64_t dd = wrap_dim("slice", d, dim());
  STRATA_CHECK(step > 0, ValueError, "slice: step must be positive, got {}", step);
  const int64_t n = shape()[dd];
  auto clampi = [n](int64_t v) {
    if (v < 0) v += n;
    return std::clamp<int64_t>(v, 0, n);
  };
  const int64_t s = clampi(start);
  const int64_t e = std::max(s, clampi(end));
  Shape ns = shape();
  Strides st = strides();
  ns[dd] = (e - s + step - 1) / step;
  st[dd] = strides()[dd] * step;
  Tensor out = make_view(*this, ns, st, offset() + s * strides()[dd]);
  autograd::record_view_slice(*this, out, dd, s, step);
  return out;
}

Tensor Tensor::narrow(int64_t d, int64_t start, int64_t length) const {
  const int64_t dd = wrap_dim("narrow", d, dim());
  const int64_t n = shape()[dd];
  if (start < 0) start += n;
  STRATA_CHECK(start >= 0 && length >= 0 && start + length <= n, IndexError,
               "narrow: start {} and length {} are out of range for dim {} of size {}", start, length, dd, n);
  return slice(dd, start, start + length, 1);
}

Tensor Tensor::select(int64_t d, int64_t index) const {
  STRATA_CHECK(dim() > 0, IndexError, "select: cannot index a 0-d tensor");
  const int64_t dd = wrap_dim("select", d, dim());
  const int64_t n = shape()[dd];
  STRATA_CHECK(index >= -n && index < n, IndexError,
               "select: index {} is out of range for dim {} of size {} (shape {})", index, dd, n, shape());
  if (index < 0) index += n;
  Shape ns = shape();
  Strides st = strides();
  const int64_t off = offset() + index * st[dd];
  ns.erase(dd);
  st.erase(dd);
  Tensor out = make_view(*this, ns, st, off);
  autograd::record_view_select(*this, out, dd, index);
  return out;
}

Tensor Tensor::expand(const Shape& target) const {
  STRATA_CHECK(target.ndim() >= dim(), ShapeError, "expand: cannot expand shape {} to {} (fewer dims)",
               shape(), target);
  const int64_t lead = target.ndim() - dim();
  Shape ns(target.size());
  Strides st(target.size());
  for (int64_t i = 0; i < target.ndim(); ++i) {
    if (i < lead) {
      STRATA_CHECK(target[i] >= 0, ShapeError, "expand: new leading dim {} cannot be -1 in {}", i, target);
      ns[i] = target[i];
      st[i] = 0;
      continue;
    }
    const int64_t cur = shape()[i - lead];
    const int64_t want = target[i] == -1 ? cur : target[i];
    STRATA_CHECK(want >= 0, ShapeError, "expand: invalid size {} at dim {} of {}", target[i], i, target);
    if (cur == want) {
      ns[i] = cur;
      st[i] = strides()[i - lead];
    } else {
      STRATA_CHECK(cur == 1, ShapeError,
                   "expand: cannot expand shape {} to {} (dim {}: {} is not 1)", shape(), target, i, cur);
      ns[i] = want;
      st[i] = 0;
    }
  }
  if (ns == shape()) return *this;
  Tensor out = make_view(*this, ns, st, offset());
  autograd::record_view_expand(*this, out);
  return out;
}

Tensor Tensor::squeeze() const {
  Shape ns;
  for (int64_t d : shape())
    if (d != 1) ns.push_back(d);
  return ns.ndim() == dim() ? alias() : view(ns);
}

Tensor Tensor::squeeze(int64_t d) const {
  if (dim() == 0) return alias();
  const int64_t dd = wrap_dim("squeeze", d, dim());
  if (shape()[dd] != 1) return alias();
  Shape ns = shape();
  ns.erase(dd);
  return view(ns);
}

Tensor Tensor::unsqueeze(int64_t d) const {
  const int64_t dd = wrap_dim("unsqueeze", d, dim() + 1);
  Shape ns = shape();
  ns.insert(dd, 1);
  return view(ns);
}

Tensor Tensor::alias() const {
  Tensor out = make_view(*this, shape(), strides(), offset());
  autograd::record_view_reshape(*this, out);
  return out;
}

Tensor Tensor::contiguous() const { return is_contiguous() ? *this : clone(); }

// ---- autograd accessors ----
bool Tensor::requires_grad() const {
  const auto* m = impl().autograd.get();
  return m && m->requires_grad;
}

Tensor& Tensor::requires_grad_(bool on) {
  auto& meta = autograd::autograd_meta(*this);
  STRATA_CHECK(!meta.grad_fn || on, AutogradError,
               "requires_grad_: cannot turn off requires_grad on a non-leaf tensor of shape {}; use detach()",
               shape());
  STRATA_CHECK(!on || is_floating_point(), DTypeError,
               "requires_grad_: only floating tensors can require gradients, got dtype {}", dtype());
  meta.requires_grad = on;
  return *this;
}

Tensor Tensor::grad() const {
  const auto* m = impl().autograd.get();
  return m ? m->grad : Tensor();
}

void Tensor::set_grad(const Tensor& g) {
  if (g.defined()) {
    STRATA_CHECK(g.shape() == shape(), ShapeError, "set_grad: gradient shape {} does not match tensor shape {}",
                 g.shape(), shape());
  }
  autograd::autograd_meta(*this).grad = g;
}

void Tensor::zero_grad() {
  if (auto* m = impl().autograd.get()) m->grad = Tensor();
}

bool Tensor::is_leaf() const {
  const auto* m = impl().autograd.get();
  return !m || !m->grad_fn;
}

std::shared_ptr<autograd::Node> Tensor::grad_fn() const {
  const auto* m = impl().autograd.get();
  return m ? m->grad_fn : nullptr;
}

void Tensor::backward(const Tensor& gradient, bool retain_graph) const {
  autograd::run_backward({*this}, {gradient}, retain_graph);
}

Tensor Tensor::detach() const {
  auto impl = make_tensor_impl();
  impl->storage = storage();
  impl->shape = shape();
  impl->strides = strides();
  impl->offset = offset();
  impl->dtype = dtype();
  impl->sem = semantic_type();
  impl->meta = meta();
  return Tensor(std::move(impl));
}

void Tensor::retain_grad() const {
  auto& meta = autograd::autograd_meta(*this);
  STRATA_CHECK(meta.requires_grad, AutogradError, "retain_grad: tensor of shape {} does not require grad", shape());
  if (!meta.grad_fn || meta.retains_grad) return;  // leaves keep their grad anyway
  meta.retains_grad = true;
  std::weak_ptr<TensorImpl> weak = impl_ptr();
  meta.grad_fn->retain_grad_hooks.push_back({meta.output_nr, [weak](const Tensor& g) {
    if (auto t = weak.lock()) {
      auto& m = *t->autograd;
      m.grad = m.grad.defined() ? add(m.grad, g) : g.detach().clone();
    }
    return Tensor();
  }});
}

void Tensor::register_hook(std::function<Tensor(const Tensor&)> hook) const {
  auto& meta = autograd::autograd_meta(*this);
  STRATA_CHECK(meta.requires_grad, AutogradError,
               "register_hook: tensor of shape {} does not require grad", shape());
  if (meta.grad_fn) {
    meta.grad_fn->tensor_pre_hooks.push_back({meta.output_nr, std::move(hook)});
  } else {
    meta.hooks.push_back(std::move(hook));
  }
}

void Tensor::set_semantic(const SemanticType* type, std::shared_ptr<const SemanticMeta> m) const {
  impl().sem = type;
  impl().meta = std::move(m);
}

}  // namespace strata
