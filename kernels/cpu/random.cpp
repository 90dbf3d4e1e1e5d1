// CPU random kernels: each thread computes the Philox blocks of its own index range.
#include <cmath>
#include <limits>
#include <type_traits>

#include "kernels/cpu/parallel.h"
#include "kernels/philox.h"
#include "kernels/random.h"

namespace strata::kernels::cpu {
namespace {

// Random bits per uniform draw: no more than the stored type can hold below 1.
template <class T>
constexpr int uniform_bits() {
  if constexpr (std::is_same_v<T, Half>) return 11;
  if constexpr (std::is_same_v<T, BFloat16>) return 8;
  return 24;
}

// The largest value of T strictly below `bound`: where low + (high - low) * u rounds up to high
// in T, the draw is moved down one step so that uniform_ stays within [low, high).
template <class T>
T largest_below(double bound) {
  T t = T(static_cast<float>(bound));
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
    t = static_cast<T>(bound);
    while (static_cast<double>(t) >= bound) t = std::nextafter(t, -std::numeric_limits<T>::infinity());
  } else {
    while (static_cast<double>(static_cast<float>(t)) >= bound) {
      const bool negative = (t.bits & 0x8000u) != 0;
      const bool zero = (t.bits & 0x7fffu) == 0;
      t = T::from_bits(zero ? 0x8001 : static_cast<uint16_t>(negative ? t.bits + 1 : t.bits - 1));
    }
  }
  return t;
}

}  // namespace

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
        } else if (dist == Distribution::Uniform) {
          for (int k = 0; k < 4; ++k) v[k] = static_cast<double>(uint_to_unit_grid(r.v[k], uniform_bits<T>()));
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
            if (dist == Distribution::Uniform && b > a && static_cast<float>(o[i]) >= b) o[i] = largest_below<T>(b);
          } else if constexpr (std::is_integral_v<T>) {
            o[i] = static_cast<T>(std::floor(x));
          } else {
            o[i] = static_cast<T>(x);
            if (dist == Distribution::Uniform && b > a && static_cast<double>(o[i]) >= b) o[i] = largest_below<T>(b);
          }
        }
      }
    });
  });
}

}  // namespace strata::kernels::cpu
