// CPU dropout kernel: each thread computes the Philox blocks of its own index range, so the mask
// of element i depends only on (seed, offset, i), never on the thread count. The keep test and
// the scaling are DropoutFn (kernels/random_functors.h), shared with the CUDA kernel.
#include <algorithm>
#include <cmath>

#include "kernels/cpu/parallel.h"
#include "kernels/dropout.h"
#include "kernels/philox.h"
#include "kernels/random_functors.h"

namespace strata::kernels::cpu {
namespace {

constexpr int64_t kGroup = 8;

// The Philox blocks counter, counter + 1, ... counter + kGroup - 1, lanes in order: the same
// numbers as kGroup calls of philox4x32 (kernels/philox.h), laid out so the rounds vectorize
// across blocks.
void philox_group(uint64_t counter, uint64_t key, uint32_t* out) {
  uint32_t c0[kGroup], c1[kGroup], c2[kGroup], c3[kGroup];
  for (int64_t b = 0; b < kGroup; ++b) {
    const uint64_t lo = counter + static_cast<uint64_t>(b);
    c0[b] = static_cast<uint32_t>(lo);
    c1[b] = static_cast<uint32_t>(lo >> 32);
    c2[b] = 0;
    c3[b] = 0;
  }
  uint32_t k0 = static_cast<uint32_t>(key), k1 = static_cast<uint32_t>(key >> 32);
  for (int round = 0; round < 10; ++round) {
    for (int64_t b = 0; b < kGroup; ++b) {
      const uint64_t p0 = static_cast<uint64_t>(0xD2511F53u) * c0[b];
      const uint64_t p1 = static_cast<uint64_t>(0xCD9E8D57u) * c2[b];
      const uint32_t n0 = static_cast<uint32_t>(p1 >> 32) ^ c1[b] ^ k0;
      const uint32_t n2 = static_cast<uint32_t>(p0 >> 32) ^ c3[b] ^ k1;
      c1[b] = static_cast<uint32_t>(p1);
      c3[b] = static_cast<uint32_t>(p0);
      c0[b] = n0;
      c2[b] = n2;
    }
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  for (int64_t b = 0; b < kGroup; ++b) {
    out[b * 4 + 0] = c0[b];
    out[b * 4 + 1] = c1[b];
    out[b * 4 + 2] = c2[b];
    out[b * 4 + 3] = c3[b];
  }
}

}  // namespace

void dropout_fill(const Tensor& out, const Tensor& x, double p, uint64_t seed, uint64_t offset) {
  const int64_t n = out.numel();
  const int64_t blocks = (n + 3) / 4;
  visit_floating(out.dtype(), "dropout", [&]<class T>() {
    using C = compute_t<T>;
    const DropoutFn<T> fn = make_dropout_fn<T>(p);
    T* o = static_cast<T*>(out.raw_data());
    const T* xs = x.defined() ? static_cast<const T*>(x.raw_data()) : nullptr;
    parallel_for(0, blocks, 2048, [&](int64_t lo, int64_t hi) {
      uint32_t bits[kGroup * 4];
      for (int64_t g = lo; g < hi; g += kGroup) {
        const int64_t count = std::min<int64_t>(kGroup, hi - g);
        philox_group(offset + static_cast<uint64_t>(g), seed, bits);
        const int64_t base = g * 4;
        const int64_t elems = std::min<int64_t>(count * 4, n - base);
        for (int64_t k = 0; k < elems; ++k) o[base + k] = fn(bits[k], xs ? static_cast<C>(xs[base + k]) : C(1));
      }
    });
  });
}

}  // namespace strata::kernels::cpu
