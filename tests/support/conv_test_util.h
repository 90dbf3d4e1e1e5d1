#pragma once
// Helpers shared by the CPU convolution path tests (test_conv_direct.cpp, test_conv_thin.cpp,
// test_conv_strided_data.cpp): values as doubles, seeded random tensors, and a loop over every
// GEMM micro-kernel ISA this CPU runs.
#include <cstdint>
#include <vector>

#include "kernels/cpu/gemm.h"
#include "strata.h"

namespace strata::testing {

inline std::vector<double> vec(const Tensor& t) { return t.to(DType::F64).contiguous().to_vector<double>(); }

// randn in f64 from `seed`, converted to dt (the same values for every dtype).
inline Tensor random(const Shape& shape, DType dt, uint64_t seed) {
  Generator gen(seed);
  return randn(shape, {.dtype = DType::F64}, &gen).to(dt);
}

// f() once per micro-kernel ISA (avx512, avx2, generic) this CPU supports; the automatic choice after.
template <class F>
void for_each_isa(F&& f) {
  for (const char* isa : {"avx512", "avx2", "generic"}) {
    if (!kernels::cpu::gemm_isa_supported(isa)) continue;
    kernels::cpu::gemm_force_isa(isa);
    f();
  }
  kernels::cpu::gemm_force_isa("auto");
}

}  // namespace strata::testing
