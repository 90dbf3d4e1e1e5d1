#pragma once
// Shape and Strides: small vectors of int64 (dims up to 6 inline, more on the heap).
// broadcast_shapes implements numpy broadcasting and names the op when shapes do not match.
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <vector>

#include "tensor/error.h"

namespace strata {

class SmallDims {
 public:
  static constexpr int kInline = 6;

  SmallDims() = default;
  SmallDims(std::initializer_list<int64_t> v) { assign(v.begin(), v.size()); }
  explicit SmallDims(std::span<const int64_t> v) { assign(v.data(), v.size()); }
  SmallDims(const std::vector<int64_t>& v) { assign(v.data(), v.size()); }  // NOLINT
  explicit SmallDims(size_t n, int64_t value = 0) {
    resize(n);
    for (size_t i = 0; i < n; ++i) data()[i] = value;
  }
  SmallDims(const SmallDims& o) { assign(o.data(), o.size()); }
  SmallDims& operator=(const SmallDims& o) {
    if (this != &o) assign(o.data(), o.size());
    return *this;
  }
  SmallDims(SmallDims&& o) noexcept { move_from(o); }
  SmallDims& operator=(SmallDims&& o) noexcept {
    if (this != &o) {
      release();
      move_from(o);
    }
    return *this;
  }
  ~SmallDims() { release(); }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  int64_t* data() { return heap_ ? heap_ : inline_; }
  const int64_t* data() const { return heap_ ? heap_ : inline_; }
  int64_t& operator[](size_t i) { return data()[i]; }
  int64_t operator[](size_t i) const { return data()[i]; }
  int64_t* begin() { return data(); }
  int64_t* end() { return data() + size_; }
  const int64_t* begin() const { return data(); }
  const int64_t* end() const { return data() + size_; }
  int64_t back() const { return data()[size_ - 1]; }
  operator std::span<const int64_t>() const { return {data(), size_}; }  // NOLINT
  std::vector<int64_t> vec() const { return {begin(), end()}; }

  void resize(size_t n, int64_t value = 0) {
    if (n > capacity_) grow(n);
    int64_t* d = data();
    for (size_t i = size_; i < n; ++i) d[i] = value;
    size_ = n;
  }
  void push_back(int64_t v) {
    resize(size_ + 1);
    data()[size_ - 1] = v;
  }
  void insert(size_t pos, int64_t v);
  void erase(size_t pos);

  bool operator==(const SmallDims& o) const;
  bool operator!=(const SmallDims& o) const { return !(*this == o); }

 private:
  void assign(const int64_t* p, size_t n) {
    if (n > capacity_) grow(n);
    int64_t* d = data();
    for (size_t i = 0; i < n; ++i) d[i] = p[i];
    size_ = n;
  }
  void grow(size_t n);  // capacity >= n, keeping the elements
  void release() {
    delete[] heap_;
    heap_ = nullptr;
  }
  void move_from(SmallDims& o) {
    size_ = o.size_;
    capacity_ = o.capacity_;
    if (o.heap_) {
      heap_ = o.heap_;
      o.heap_ = nullptr;
    } else {
      for (size_t i = 0; i < size_; ++i) inline_[i] = o.inline_[i];
    }
    o.size_ = 0;
    o.capacity_ = kInline;
  }
  int64_t inline_[kInline] = {};
  int64_t* heap_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = kInline;
};

// The sizes of a tensor's dimensions.
class Shape : public SmallDims {
 public:
  using SmallDims::SmallDims;
  Shape() = default;
  Shape(const SmallDims& d) : SmallDims(d) {}  // NOLINT
  int64_t ndim() const { return static_cast<int64_t>(size()); }
  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : *this) n *= d;
    return n;
  }
  std::string str() const;  // "[2, 3]"
};

// Steps in elements between neighbours along each dimension.
class Strides : public SmallDims {
 public:
  using SmallDims::SmallDims;
  Strides() = default;
  Strides(const SmallDims& d) : SmallDims(d) {}  // NOLINT
  std::string str() const;
};

// Row-major strides of a contiguous tensor of this shape.
Strides contiguous_strides(const Shape& shape);

// numpy broadcasting of two or more shapes; throws ShapeError naming `op` and the dim.
Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b);

// Normalizes a possibly negative dim against ndim; throws IndexError naming `op`.
int64_t wrap_dim(const char* op, int64_t dim, int64_t ndim);

}  // namespace strata

template <>
struct fmt::formatter<strata::Shape> : fmt::formatter<std::string> {
  auto format(const strata::Shape& s, format_context& ctx) const {
    return fmt::formatter<std::string>::format(s.str(), ctx);
  }
};
template <>
struct fmt::formatter<strata::Strides> : fmt::formatter<std::string> {
  auto format(const strata::Strides& s, format_context& ctx) const {
    return fmt::formatter<std::string>::format(s.str(), ctx);
  }
};
