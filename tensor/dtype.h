#pragma once
// DType: the element type of a tensor, and the rules that combine them.
//
// Promotion follows PyTorch: bool < u8 < i32 < i64 < floating; among floats f16 and bf16 meet at
// f32, and anything with f64 is f64. `visit_dtype` turns a runtime DType into a C++ type:
//
//   visit_dtype(t.dtype(), "fill", [&]<class T>() { fill(t.data<T>(), n, T(1)); });
#include <cstdint>
#include <string_view>
#include <type_traits>

#include "tensor/error.h"
#include "tensor/half.h"

namespace strata {

enum class DType : uint8_t { F32, F64, F16, BF16, I64, I32, U8, Bool };
inline constexpr int kNumDTypes = 8;

constexpr std::string_view dtype_name(DType d) {
  switch (d) {
    case DType::F32: return "f32";
    case DType::F64: return "f64";
    case DType::F16: return "f16";
    case DType::BF16: return "bf16";
    case DType::I64: return "i64";
    case DType::I32: return "i32";
    case DType::U8: return "u8";
    case DType::Bool: return "bool";
  }
  return "?";
}

constexpr int64_t dtype_size(DType d) {
  switch (d) {
    case DType::F64: case DType::I64: return 8;
    case DType::F32: case DType::I32: return 4;
    case DType::F16: case DType::BF16: return 2;
    case DType::U8: case DType::Bool: return 1;
  }
  return 0;
}

constexpr bool is_floating(DType d) {
  return d == DType::F32 || d == DType::F64 || d == DType::F16 || d == DType::BF16;
}
constexpr bool is_integral(DType d) { return d == DType::I64 || d == DType::I32 || d == DType::U8; }

// The dtype both operands are converted to by a binary op.
DType promote_types(DType a, DType b);

// The C++ type stored for each dtype, and back.
template <DType D> struct dtype_cpp;
template <> struct dtype_cpp<DType::F32> { using type = float; };
template <> struct dtype_cpp<DType::F64> { using type = double; };
template <> struct dtype_cpp<DType::F16> { using type = Half; };
template <> struct dtype_cpp<DType::BF16> { using type = BFloat16; };
template <> struct dtype_cpp<DType::I64> { using type = int64_t; };
template <> struct dtype_cpp<DType::I32> { using type = int32_t; };
template <> struct dtype_cpp<DType::U8> { using type = uint8_t; };
template <> struct dtype_cpp<DType::Bool> { using type = bool; };

template <class T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::F32; }
template <> constexpr DType dtype_of<double>() { return DType::F64; }
template <> constexpr DType dtype_of<Half>() { return DType::F16; }
template <> constexpr DType dtype_of<BFloat16>() { return DType::BF16; }
template <> constexpr DType dtype_of<int64_t>() { return DType::I64; }
template <> constexpr DType dtype_of<int32_t>() { return DType::I32; }
template <> constexpr DType dtype_of<uint8_t>() { return DType::U8; }
template <> constexpr DType dtype_of<bool>() { return DType::Bool; }

// The type arithmetic is done in: f16/bf16 compute in float.
template <class T> struct compute_type { using type = T; };
template <> struct compute_type<Half> { using type = float; };
template <> struct compute_type<BFloat16> { using type = float; };
template <class T> using compute_t = typename compute_type<T>::type;

// Calls f.template operator()<T>() with T the C++ type of `d`.
template <class F>
decltype(auto) visit_dtype(DType d, F&& f) {
  switch (d) {
    case DType::F32: return f.template operator()<float>();
    case DType::F64: return f.template operator()<double>();
    case DType::F16: return f.template operator()<Half>();
    case DType::BF16: return f.template operator()<BFloat16>();
    case DType::I64: return f.template operator()<int64_t>();
    case DType::I32: return f.template operator()<int32_t>();
    case DType::U8: return f.template operator()<uint8_t>();
    case DType::Bool: return f.template operator()<bool>();
  }
  return f.template operator()<float>();
}

// Same, restricted to floating dtypes; other dtypes throw DTypeError naming `op`.
template <class F>
decltype(auto) visit_floating(DType d, const char* op, F&& f) {
  switch (d) {
    case DType::F32: return f.template operator()<float>();
    case DType::F64: return f.template operator()<double>();
    case DType::F16: return f.template operator()<Half>();
    case DType::BF16: return f.template operator()<BFloat16>();
    default: break;
  }
  STRATA_THROW(DTypeError, "{}: expected a floating dtype, got {}", op, dtype_name(d));
}

}  // namespace strata

template <>
struct fmt::formatter<strata::DType> : fmt::formatter<std::string_view> {
  auto format(strata::DType d, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(strata::dtype_name(d), ctx);
  }
};
