#pragma once
// Strata's one exception hierarchy. Every public entry point checks its arguments and throws one
// of these with the op name and the offending shapes, dtypes and devices in the message:
//
//   STRATA_CHECK(a.dim() == 2, ShapeError, "matmul: expected a 2-d tensor, got shape {}", a.shape());
//
// Library code never aborts or exits; kernels trust inputs that the front end has checked.
#include <fmt/core.h>
#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace strata {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
class ShapeError : public Error { using Error::Error; };        // incompatible or invalid shapes
class DTypeError : public Error { using Error::Error; };        // unsupported or mismatched dtypes
class DeviceError : public Error { using Error::Error; };       // device mismatch, CUDA failures
class IndexError : public Error { using Error::Error; };        // out-of-range dims or indices
class IOError : public Error { using Error::Error; };           // files: missing, corrupt, truncated
class ValueError : public Error { using Error::Error; };        // a bad argument value
class AutogradError : public Error { using Error::Error; };     // graph misuse (double backward, ...)
class DispatchError : public Error { using Error::Error; };     // no function registered for a type
class NotImplementedError : public Error { using Error::Error; };

namespace detail {
[[noreturn]] void throw_error_kind(int kind, const std::string& msg, const char* file, int line);
template <class E>
constexpr int error_kind() {
  if constexpr (std::is_same_v<E, ShapeError>) return 1;
  else if constexpr (std::is_same_v<E, DTypeError>) return 2;
  else if constexpr (std::is_same_v<E, DeviceError>) return 3;
  else if constexpr (std::is_same_v<E, IndexError>) return 4;
  else if constexpr (std::is_same_v<E, IOError>) return 5;
  else if constexpr (std::is_same_v<E, ValueError>) return 6;
  else if constexpr (std::is_same_v<E, AutogradError>) return 7;
  else if constexpr (std::is_same_v<E, DispatchError>) return 8;
  else if constexpr (std::is_same_v<E, NotImplementedError>) return 9;
  else return 0;
}
}  // namespace detail

}  // namespace strata

// Throws `Kind` (a strata error class) with a fmt-formatted message and " (file:line)".
#define STRATA_THROW(Kind, ...)                                                          \
  ::strata::detail::throw_error_kind(::strata::detail::error_kind<::strata::Kind>(),    \
                                     ::fmt::format(__VA_ARGS__), __FILE__, __LINE__)

#define STRATA_CHECK(cond, Kind, ...)      \
  do {                                     \
    if (!(cond)) [[unlikely]] {            \
      STRATA_THROW(Kind, __VA_ARGS__);     \
    }                                      \
  } while (0)
