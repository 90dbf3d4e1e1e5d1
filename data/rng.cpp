// Rng: splitmix64 seed mixing, thread-local current generator with scoped replacement.
#include "data/rng.h"

#include "tensor/error.h"

namespace strata::data {

namespace {
uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}
thread_local Rng* current = nullptr;
}  // namespace

uint64_t mix_seed(std::initializer_list<uint64_t> parts) {
  uint64_t h = 0x243F6A8885A308D3ull;
  for (uint64_t p : parts) h = splitmix64(h ^ splitmix64(p));
  return h;
}

int64_t Rng::randint(int64_t lo, int64_t hi) {
  STRATA_CHECK(hi > lo, ValueError, "Rng::randint: empty range [{}, {})", lo, hi);
  return std::uniform_int_distribution<int64_t>(lo, hi - 1)(eng_);
}

std::vector<int64_t> Rng::permutation(int64_t n) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = i;
  shuffle(v);
  return v;
}

Rng& rng() {
  if (current) return *current;
  thread_local Rng fallback(std::random_device{}() ^ (static_cast<uint64_t>(std::random_device{}()) << 32));
  return fallback;
}

RngScope::RngScope(Rng r) : rng_(std::move(r)), prev_(current) { current = &rng_; }
RngScope::~RngScope() { current = prev_; }

}  // namespace strata::data
