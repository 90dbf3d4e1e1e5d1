// CPU random kernels: each thread computes the Philox blocks of its own index range.
#include <cmath>

#include "kernels/cpu/parallel.h"
#include "kernels/philox.h"
#include "kernels/random.h"

namespace strata::kernels::cpu {

void random_fill(const Tensor& out, Distribution dist, double a, double b, uint64_t seed, uint64_t offset,
                 const Tensor& p) {
  const int64_t n = out.numel();
  const int64_t blocks = static_cast<int64_t>(philox_blocks(n));
  visit_dtype(out.dtype(), [&]<class T>() {
    T* o = static_cast<T*>(out.raw_data());
    const T* pp = p.defined() ? static_cast<const T*>(p.raw_data()) : nullptr;
    parallel_for(0, blocks, 4096, [&](int64_t lo, int64_t hi) {
      for (int64_t blk = lo; blk < hi; ++blk) {
        const Philox4 r = philox4x32(offset + static_cast<uint64_t>(blk), 0, seed);
        double v[4];
        if (dist == Distribution::Normal) {
          // Box-Muller on two pairs of uniforms; u1 in (0, 1] avoids log(0).
          for (int pair = 0; pair < 2; ++pair) {
            const double u1 = 1.0 - static_cast<double>(uint_to_unit_float(r.v[2 * pair]));
            const double u2 = static_cast<double>(uint_to_unit_float(r.v[2 * pair + 1]));
            const double rad = std::sqrt(-2.0 * std::log(u1));
            v[2 * pair] = a + b * rad * std::cos(2.0 * M_PI * u2);
            v[2 * pair + 1] = a + b * rad * std::sin(2.0 * M_PI * u2);
          }
        } else {
          for (int k = 0; k < 4; ++k) v[k] = static_cast<double>(uint_to_unit_float(r.v[k]));
        }
        for (int k = 0; k < 4; ++k) {
          const int64_t i = blk * 4 + k;
          if (i >= n) break;
          double x = v[k];
          if (dist == Distribution::Uniform) {
            x = a + (b - a) * x;
          } else if (dist == Distribution::Bernoulli) {
            x = x < static_cast<double>(static_cast<compute_t<T>>(pp[i])) ? 1.0 : 0.0;
          }
          if constexpr (std::is_same_v<T, bool>) {
            o[i] = x != 0.0;
          } else if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) {
            o[i] = T(static_cast<float>(x));
          } else if constexpr (std::is_integral_v<T>) {
            o[i] = static_cast<T>(std::floor(x));
          } else {
            o[i] = static_cast<T>(x);
          }
        }
      }
    });
  });
}

}  // namespace strata::kernels::cpu
