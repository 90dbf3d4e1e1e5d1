// CPU dropout kernel: each thread computes the Philox blocks of its own index range, so the mask
// of element i depends only on (seed, offset, i), never on the thread count.
#include <type_traits>

#include "kernels/cpu/parallel.h"
#include "kernels/dropout.h"
#include "kernels/philox.h"

namespace strata::kernels::cpu {

void dropout_fill(const Tensor& out, const Tensor& x, double p, uint64_t seed, uint64_t offset) {
  const int64_t n = out.numel();
  const int64_t blocks = (n + 3) / 4;
  const double keep_prob = 1.0 - p;
  visit_floating(out.dtype(), "dropout", [&]<class T>() {
    using C = compute_t<T>;
    const C scale = static_cast<C>(1.0 / keep_prob);
    T* o = static_cast<T*>(out.raw_data());
    const T* xs = x.defined() ? static_cast<const T*>(x.raw_data()) : nullptr;
    parallel_for(0, blocks, 2048, [&](int64_t lo, int64_t hi) {
      for (int64_t blk = lo; blk < hi; ++blk) {
        const Philox4 r = philox4x32(offset + static_cast<uint64_t>(blk), 0, seed);
        const int64_t base = blk * 4;
        const int64_t lanes = std::min<int64_t>(4, n - base);
        for (int64_t k = 0; k < lanes; ++k) {
          const bool keep = static_cast<double>(uint_to_unit_float(r.v[k])) < keep_prob;
          const C v = xs ? static_cast<C>(xs[base + k]) * scale : scale;
          o[base + k] = keep ? T(v) : T(C(0));
        }
      }
    });
  });
}

}  // namespace strata::kernels::cpu
