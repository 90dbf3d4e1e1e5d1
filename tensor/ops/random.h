#pragma once
// Random numbers from a counter-based generator (Philox4x32-10): element i of a draw depends
// only on (seed, the draw's offset, i), so results are the same for any thread count and on
// CPU and CUDA.
//
//   strata::manual_seed(42);
//   Tensor w = strata::randn({64, 32});
#include <cstdint>
#include <utility>

#include "tensor/tensor.h"

namespace strata {

void manual_seed(uint64_t seed);
uint64_t initial_seed();

// A generator: a seed and a running offset (in 128-bit Philox blocks). The default generator
// is global and thread-safe.
class Generator {
 public:
  explicit Generator(uint64_t seed = 0) : seed_(seed) {}
  uint64_t seed() const { return seed_; }
  // Reserves `blocks` counters and returns the first one.
  uint64_t reserve(uint64_t blocks);
  void set_state(uint64_t seed, uint64_t offset);
  uint64_t offset() const { return offset_; }

 private:
  uint64_t seed_ = 0;
  uint64_t offset_ = 0;
};
Generator& default_generator();

// (seed, first block) of a draw of `blocks` Philox blocks from gen (nullptr: the default
// generator, under its lock): for kernels outside this file that draw with kernels/philox.h.
std::pair<uint64_t, uint64_t> reserve_philox(Generator* gen, uint64_t blocks);

Tensor rand(const Shape& shape, TensorOptions opts = {}, Generator* gen = nullptr);   // U[0, 1)
Tensor randn(const Shape& shape, TensorOptions opts = {}, Generator* gen = nullptr);  // N(0, 1)
Tensor randint(int64_t low, int64_t high, const Shape& shape, TensorOptions opts = {.dtype = DType::I64},
               Generator* gen = nullptr);  // [low, high)
Tensor randperm(int64_t n, TensorOptions opts = {.dtype = DType::I64}, Generator* gen = nullptr);
Tensor bernoulli(const Tensor& p, Generator* gen = nullptr);  // 0/1 in p's dtype
Tensor& uniform_(Tensor& t, double low = 0.0, double high = 1.0, Generator* gen = nullptr);
Tensor& normal_(Tensor& t, double mean = 0.0, double std = 1.0, Generator* gen = nullptr);

}  // namespace strata
