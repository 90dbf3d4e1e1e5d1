#include "tensor/shape.h"

#include <algorithm>

namespace strata {

void SmallDims::grow(size_t n) {
  if (n <= capacity_) return;
  const size_t cap = std::max(n, capacity_ * 2);
  auto* fresh = new int64_t[cap];
  std::copy(data(), data() + size_, fresh);
  release();
  heap_ = fresh;
  capacity_ = cap;
}

void SmallDims::insert(size_t pos, int64_t v) {
  resize(size_ + 1);
  int64_t* d = data();
  for (size_t i = size_ - 1; i > pos; --i) d[i] = d[i - 1];
  d[pos] = v;
}

void SmallDims::erase(size_t pos) {
  int64_t* d = data();
  for (size_t i = pos; i + 1 < size_; ++i) d[i] = d[i + 1];
  --size_;
}

bool SmallDims::operator==(const SmallDims& o) const {
  return size_ == o.size_ && std::equal(begin(), end(), o.begin());
}

static std::string join_dims(const SmallDims& d) {
  std::string s = "[";
  for (size_t i = 0; i < d.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(d[i]);
  }
  return s + "]";
}

std::string Shape::str() const { return join_dims(*this); }
std::string Strides::str() const { return join_dims(*this); }

Strides contiguous_strides(const Shape& shape) {
  Strides st(shape.size(), 1);
  int64_t acc = 1;
  for (int64_t i = shape.ndim() - 1; i >= 0; --i) {
    st[i] = acc;
    acc *= std::max<int64_t>(shape[i], 1);
  }
  return st;
}

Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b) {
  if (a == b) return a;
  const size_t n = std::max(a.size(), b.size());
  Shape out(n, 1);
  for (size_t i = 0; i < n; ++i) {
    const int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da == db || db == 1) {
      out[i] = da;
    } else if (da == 1) {
      out[i] = db;
    } else {
      STRATA_THROW(ShapeError, "{}: shapes {} and {} are not broadcastable (dim {}: {} vs {})", op,
                   a, b, i, da, db);
    }
  }
  return out;
}

int64_t wrap_dim(const char* op, int64_t dim, int64_t ndim) {
  const int64_t n = std::max<int64_t>(ndim, 1);  // a 0-d tensor accepts dim 0 / -1
  STRATA_CHECK(dim >= -n && dim < n, IndexError,
               "{}: dim {} is out of range for a tensor with {} dims", op, dim, ndim);
  return dim < 0 ? dim + n : dim;
}

}  // namespace strata
