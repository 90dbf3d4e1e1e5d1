#pragma once
// Device: where a tensor's storage lives. Device::cpu() or Device::cuda(n).
#include <cstdint>
#include <string>

#include "tensor/error.h"

namespace strata {

struct Device {
  enum Kind : uint8_t { CPU, CUDA };
  Kind kind = CPU;
  int8_t index = 0;

  static constexpr Device cpu() { return Device{CPU, 0}; }
  static constexpr Device cuda(int index = 0) { return Device{CUDA, static_cast<int8_t>(index)}; }
  constexpr bool is_cpu() const { return kind == CPU; }
  constexpr bool is_cuda() const { return kind == CUDA; }
  constexpr bool operator==(const Device&) const = default;
  std::string str() const { return is_cpu() ? "cpu" : "cuda:" + std::to_string(index); }
};

// True when a CUDA device can be used in this process (the backend is compiled in and the
// driver answers). Any failure of the runtime counts as "no GPU".
bool cuda_is_available();
int cuda_device_count();

}  // namespace strata

template <>
struct fmt::formatter<strata::Device> : fmt::formatter<std::string> {
  auto format(const strata::Device& d, format_context& ctx) const {
    return fmt::formatter<std::string>::format(d.str(), ctx);
  }
};
