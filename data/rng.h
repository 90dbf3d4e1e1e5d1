#pragma once
// Random state for data transforms. fastai's transforms call Python's `random` module; a loader
// with worker threads cannot share one generator and stay reproducible, so every batch gets its
// own Rng derived from (seed, epoch, batch index) and installed as the calling thread's current
// Rng while the batch's items are made. A RandTransform draws from data::rng(); results then
// depend on the seed only, never on which thread ran which batch.
//
//   RngScope scope(Rng(mix_seed(seed, epoch, batch)));
//   if (rng().uniform() < p) ...;        Tensor noise = randn({3}, {}, &rng().generator());
#include <cstdint>
#include <initializer_list>
#include <random>
#include <vector>

#include "tensor/ops/random.h"

namespace strata::data {

// Combines numbers into one well-mixed 64-bit seed (splitmix64 over the sequence).
uint64_t mix_seed(std::initializer_list<uint64_t> parts);

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) : seed_(seed), eng_(seed), gen_(seed) {}
  uint64_t seed() const { return seed_; }
  double uniform() { return std::uniform_real_distribution<double>(0.0, 1.0)(eng_); }  // [0, 1)
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  int64_t randint(int64_t lo, int64_t hi);  // [lo, hi)
  bool bernoulli(double p) { return p >= 1.0 || uniform() < p; }
  uint64_t next_u64() { return eng_(); }
  // A random permutation of 0..n-1 (Fisher-Yates).
  std::vector<int64_t> permutation(int64_t n);
  template <class T>
  void shuffle(std::vector<T>& v) {
    for (int64_t i = static_cast<int64_t>(v.size()) - 1; i > 0; --i) std::swap(v[i], v[randint(0, i + 1)]);
  }
  // For tensor random ops: rand(shape, {}, &rng.generator()).
  Generator& generator() { return gen_; }

 private:
  uint64_t seed_;
  std::mt19937_64 eng_;
  Generator gen_;
};

// The calling thread's current Rng (a thread-local default seeded from std::random_device when
// no RngScope is active).
Rng& rng();

// Installs `r` as this thread's current Rng for the scope's lifetime (restores the previous one).
class RngScope {
 public:
  explicit RngScope(Rng r);
  ~RngScope();
  RngScope(const RngScope&) = delete;
  RngScope& operator=(const RngScope&) = delete;
  Rng& get() { return rng_; }

 private:
  Rng rng_;
  Rng* prev_;
};

}  // namespace strata::data
