#pragma once
// What every CPU/CUDA parity test needs: a skip with the reason when no CUDA device is usable
// (always so on machines without a GPU, e.g. CI), deterministic inputs, the usual layouts (so the
// strided paths of a kernel run, not only the contiguous one) and an element-wise comparison that
// names the first element that differs. Header-only: each test program includes it where needed.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "strata.h"
#include "tensor/device_detail.h"

#define SKIP_WITHOUT_CUDA()                                                                        \
  if (!::strata::cuda_is_available())                                                              \
  GTEST_SKIP() << "no CUDA device: "                                                               \
               << ::strata::detail::cuda_unavailable_reason(::strata::Device::cuda(0))

namespace strata::testing {

struct Tol {
  double rtol, atol;
};

// The default tolerances: f32 rtol 2e-5 / atol 1e-6 (the GPU's libm and the CPU's differ by a
// few ulp); bf16/f16 1e-2 (both compute in f32 and round: a few-ulp difference can flip one
// rounding); f64 1e-12; integers and bool exactly.
inline Tol parity_tol(DType dt) {
  if (dt == DType::BF16 || dt == DType::F16) return {1e-2, 1e-2};
  if (dt == DType::F32) return {2e-5, 1e-6};
  if (dt == DType::F64) return {1e-12, 1e-14};
  return {0, 0};
}

// Every element of `gpu` (brought to the CPU) matches `cpu` within tol (NaN matches NaN, an
// infinity matches the same infinity); shapes and dtypes must agree.
inline ::testing::AssertionResult all_close(const Tensor& cpu, const Tensor& gpu, Tol tol, const std::string& what) {
  if (cpu.shape() != gpu.shape())
    return ::testing::AssertionFailure() << what << ": shapes " << cpu.shape().str() << " vs " << gpu.shape().str();
  if (cpu.dtype() != gpu.dtype()) return ::testing::AssertionFailure() << what << ": dtypes differ";
  const Tensor a = cpu.to(DType::F64).contiguous();
  const Tensor b = gpu.to(Device::cpu()).to(DType::F64).contiguous();
  const double* pa = a.data<double>();
  const double* pb = b.data<double>();
  for (int64_t i = 0; i < a.numel(); ++i) {
    const double x = pa[i], y = pb[i];
    if (std::isnan(x) && std::isnan(y)) continue;
    if (std::isinf(x) && x == y) continue;
    if (!(std::abs(x - y) <= tol.atol + tol.rtol * std::abs(x)))
      return ::testing::AssertionFailure() << what << ": element " << i << " cpu " << x << " cuda " << y;
  }
  return ::testing::AssertionSuccess();
}

// Uniform values in [lo, hi) of dtype `dt`, the same for the same seed.
inline Tensor parity_values(const Shape& shape, DType dt, uint64_t seed, double lo = -2.0, double hi = 2.0) {
  Generator gen(seed);
  return (rand(shape, {}, &gen) * (hi - lo) + lo).to(dt);
}

// The same values on the CPU and as a CUDA tensor of the same layout.
struct ParityLayout {
  std::string name;
  Tensor cpu, cuda;
};

// A 37 x 65 matrix (2405 elements: no multiple of a vector width) as contiguous, transposed,
// stepped-slice and misaligned (offset by one element) views on both devices.
inline std::vector<ParityLayout> parity_layouts(DType dt, uint64_t seed) {
  std::vector<ParityLayout> out;
  const Tensor c = parity_values({37, 65}, dt, seed);
  out.push_back({"contiguous", c, c.to(Device::cuda())});
  const Tensor base = parity_values({65, 37}, dt, seed + 1);
  out.push_back({"transposed", base.t(), base.to(Device::cuda()).t()});
  const Tensor wide = parity_values({37, 130}, dt, seed + 2);
  out.push_back({"stepped_slice", wide.slice(1, 0, 130, 2), wide.to(Device::cuda()).slice(1, 0, 130, 2)});
  const Tensor offset = parity_values({2406}, dt, seed + 3);
  out.push_back({"misaligned", offset.slice(0, 1, 2406).reshape({37, 65}),
                 offset.to(Device::cuda()).slice(0, 1, 2406).reshape({37, 65})});
  return out;
}

}  // namespace strata::testing
