// CPU elementwise kernels: the functors of kernels/functors.h applied by StridedLoop.
// Each body special-cases contiguous runs and scalar (stride-0) operands: for f32/f64 these are
// the multi-ISA loops of kernels/cpu/contiguous.h, for other dtypes a plain loop the compiler
// vectorizes; other strides take the generic path.
#include <cstring>

#include "kernels/cpu/contiguous.h"
#include "kernels/cpu/loops.h"
#include "kernels/elementwise.h"
#include "kernels/functors.h"

namespace strata::kernels::cpu {
namespace {

// f32 and f64 take the multi-ISA loops of contiguous.h; other dtypes a plain loop.
template <class T>
constexpr bool kClonedLoops = std::is_same_v<T, float> || std::is_same_v<T, double>;

template <class T, class F>
void unary_typed(const F& f, const Tensor& x, const Tensor& out) {
  using C = compute_t<T>;
  StridedLoop<2> loop({&out, &x});
  loop.run([&](char** p, const int64_t* s, int64_t n) {
    T* o = reinterpret_cast<T*>(p[0]);
    const T* a = reinterpret_cast<const T*>(p[1]);
    if (s[0] == sizeof(T) && s[1] == sizeof(T)) {
      if constexpr (kClonedLoops<T>) {
        unary_contiguous<T>(f, o, a, n);
      } else {
        for (int64_t i = 0; i < n; ++i) o[i] = static_cast<T>(f(static_cast<C>(a[i])));
      }
    } else {
      for (int64_t i = 0; i < n; ++i) {
        *reinterpret_cast<T*>(p[0] + i * s[0]) =
            static_cast<T>(f(static_cast<C>(*reinterpret_cast<const T*>(p[1] + i * s[1]))));
      }
    }
  });
}

template <class F>
void unary_dispatch(const F& f, const Tensor& x, const Tensor& out) {
  visit_dtype(out.dtype(), [&]<class T>() {
    if constexpr (std::is_same_v<T, bool>) {
      STRATA_THROW(DTypeError, "unary op: bool tensors are not supported");
    } else {
      unary_typed<T>(f, x, out);
    }
  });
}

// R is the result element type (T, or bool for comparisons).
template <class T, class R, class F>
void binary_typed(const F& f, const Tensor& a, const Tensor& b, const Tensor& out) {
  using C = compute_t<T>;
  StridedLoop<3> loop({&out, &a, &b});
  loop.run([&](char** p, const int64_t* s, int64_t n) {
    R* o = reinterpret_cast<R*>(p[0]);
    const T* x = reinterpret_cast<const T*>(p[1]);
    const T* y = reinterpret_cast<const T*>(p[2]);
    constexpr int64_t sz = sizeof(T);
    if constexpr (kClonedLoops<T>) {
      if (s[0] == sizeof(R) && s[1] == sz && s[2] == sz) {
        return binary_contiguous<Operands::kBoth, T>(f, o, x, y, n);
      } else if (s[0] == sizeof(R) && s[1] == sz && s[2] == 0) {
        return binary_contiguous<Operands::kScalarB, T>(f, o, x, y, n);
      } else if (s[0] == sizeof(R) && s[1] == 0 && s[2] == sz) {
        return binary_contiguous<Operands::kScalarA, T>(f, o, x, y, n);
      }
    }
    if (s[0] == sizeof(R) && s[1] == sz && s[2] == sz) {
      for (int64_t i = 0; i < n; ++i) o[i] = static_cast<R>(f(static_cast<C>(x[i]), static_cast<C>(y[i])));
    } else if (s[0] == sizeof(R) && s[1] == sz && s[2] == 0) {
      const C yv = static_cast<C>(*y);
      for (int64_t i = 0; i < n; ++i) o[i] = static_cast<R>(f(static_cast<C>(x[i]), yv));
    } else if (s[0] == sizeof(R) && s[1] == 0 && s[2] == sz) {
      const C xv = static_cast<C>(*x);
      for (int64_t i = 0; i < n; ++i) o[i] = static_cast<R>(f(xv, static_cast<C>(y[i])));
    } else {
      for (int64_t i = 0; i < n; ++i) {
        const C xv = static_cast<C>(*reinterpret_cast<const T*>(p[1] + i * s[1]));
        const C yv = static_cast<C>(*reinterpret_cast<const T*>(p[2] + i * s[2]));
        *reinterpret_cast<R*>(p[0] + i * s[0]) = static_cast<R>(f(xv, yv));
      }
    }
  });
}

template <class F, bool Compare>
void binary_dispatch(const F& f, const Tensor& a, const Tensor& b, const Tensor& out) {
  visit_dtype(a.dtype(), [&]<class T>() {
    if constexpr (Compare) {
      binary_typed<T, bool>(f, a, b, out);
    } else if constexpr (std::is_same_v<T, bool>) {
      STRATA_THROW(DTypeError, "arithmetic on bool tensors is not supported; convert with to()");
    } else {
      binary_typed<T, T>(f, a, b, out);
    }
  });
}

template <class Src, class Dst>
void copy_typed(const Tensor& src, const Tensor& dst) {
  StridedLoop<2> loop({&dst, &src});
  loop.run([&](char** p, const int64_t* s, int64_t n) {
    if constexpr (std::is_same_v<Src, Dst>) {
      if (s[0] == sizeof(Dst) && s[1] == sizeof(Src)) {
        std::memcpy(p[0], p[1], n * sizeof(Dst));
        return;
      }
    }
    using C = std::conditional_t<std::is_same_v<Src, Half> || std::is_same_v<Src, BFloat16>, float, Src>;
    for (int64_t i = 0; i < n; ++i) {
      const C v = static_cast<C>(*reinterpret_cast<const Src*>(p[1] + i * s[1]));
      Dst out;
      if constexpr (std::is_same_v<Dst, bool>) {
        out = v != C(0);
      } else if constexpr (std::is_same_v<Dst, Half> || std::is_same_v<Dst, BFloat16>) {
        out = Dst(static_cast<float>(v));
      } else if constexpr (std::is_integral_v<Dst> && std::is_floating_point_v<C>) {
        // Truncate through i64, then wrap to the narrower type (defined, and what PyTorch gives
        // on x86), instead of a direct float -> u8/i32 cast, which is undefined when out of range.
        out = static_cast<Dst>(static_cast<int64_t>(v));
      } else {
        out = static_cast<Dst>(v);
      }
      *reinterpret_cast<Dst*>(p[0] + i * s[0]) = out;
    }
  });
}

}  // namespace


void unary(UnaryOp op, const Tensor& x, const Tensor& out, double p0, double p1) {
  switch (op) {
#define UNARY(name, F, diff) \
  case UnaryOp::name: return unary_dispatch(F{}, x, out);
#include "kernels/defs/unary.def"
#undef UNARY
#define UNARY_P(name, F, diff) \
  case UnaryOp::name: return unary_dispatch(F{p0, p1}, x, out);
#include "kernels/defs/unary_param.def"
#undef UNARY_P
  }
}

void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  switch (op) {
#define BINARY(name, F, diff) \
  case BinaryOp::name: return binary_dispatch<F, false>(F{}, a, b, out);
#include "kernels/defs/binary.def"
#undef BINARY
#define COMPARE(name, F) \
  case BinaryOp::name: return binary_dispatch<F, true>(F{}, a, b, out);
#include "kernels/defs/compare.def"
#undef COMPARE
  }
}

void unary_backward(UnaryOp op, const Tensor& g, const Tensor& v, const Tensor& out, double p0, double p1) {
  switch (op) {
#define UNARY_BACKWARD(name, F, reads)                                                       \
  case UnaryOp::name:                                                                        \
    return visit_floating(out.dtype(), #name "_backward",                                    \
                          [&]<class T>() { binary_typed<T, T>(F{p0, p1}, g, v, out); });
#include "kernels/defs/unary_backward.def"
#undef UNARY_BACKWARD
    default:
      STRATA_THROW(ValueError, "unary_backward: no fused backward kernel for this op");
  }
}

void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) {
  visit_dtype(out.dtype(), [&]<class T>() {
    StridedLoop<4> loop({&out, &cond, &a, &b});
    loop.run([&](char** p, const int64_t* s, int64_t n) {
      for (int64_t i = 0; i < n; ++i) {
        const bool c = *reinterpret_cast<const bool*>(p[1] + i * s[1]);
        *reinterpret_cast<T*>(p[0] + i * s[0]) = *reinterpret_cast<const T*>((c ? p[2] + i * s[2] : p[3] + i * s[3]));
      }
    });
  });
}

void lerp(const Tensor& a, const Tensor& b, const Tensor& w, const Tensor& out) {
  visit_floating(out.dtype(), "lerp", [&]<class T>() {
    using C = compute_t<T>;
    LerpF f;
    StridedLoop<4> loop({&out, &a, &b, &w});
    loop.run([&](char** p, const int64_t* s, int64_t n) {
      for (int64_t i = 0; i < n; ++i) {
        const C av = static_cast<C>(*reinterpret_cast<const T*>(p[1] + i * s[1]));
        const C bv = static_cast<C>(*reinterpret_cast<const T*>(p[2] + i * s[2]));
        const C wv = static_cast<C>(*reinterpret_cast<const T*>(p[3] + i * s[3]));
        *reinterpret_cast<T*>(p[0] + i * s[0]) = static_cast<T>(f(av, bv, wv));
      }
    });
  });
}

void copy(const Tensor& src, const Tensor& dst) {
  visit_dtype(src.dtype(), [&]<class S>() {
    visit_dtype(dst.dtype(), [&]<class D>() { copy_typed<S, D>(src, dst); });
  });
}

void fill(const Tensor& dst, double value) {
  visit_dtype(dst.dtype(), [&]<class T>() {
    T v;
    if constexpr (std::is_same_v<T, bool>) {
      v = value != 0.0;
    } else if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) {
      v = T(static_cast<float>(value));
    } else if constexpr (std::is_integral_v<T>) {
      v = static_cast<T>(static_cast<int64_t>(value));  // as in copy: truncate, then wrap
    } else {
      v = static_cast<T>(value);
    }
    StridedLoop<1> loop({&dst});
    loop.run([&](char** p, const int64_t* s, int64_t n) {
      if (s[0] == sizeof(T)) {
        T* o = reinterpret_cast<T*>(p[0]);
        for (int64_t i = 0; i < n; ++i) o[i] = v;
      } else {
        for (int64_t i = 0; i < n; ++i) *reinterpret_cast<T*>(p[0] + i * s[0]) = v;
      }
    });
  });
}

}  // namespace strata::kernels::cpu
