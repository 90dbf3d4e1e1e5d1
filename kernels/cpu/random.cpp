// CPU random kernels: each thread computes the Philox blocks of its own index range. The bits ->
// value math is kernels/random_functors.h, shared with the CUDA kernel.
#include "kernels/cpu/parallel.h"
#include "kernels/philox.h"
#include "kernels/random.h"
#include "kernels/random_functors.h"

namespace strata::kernels::cpu {

void random_fill(const Tensor& out, Distribution dist, double a, double b, uint64_t seed, uint64_t offset,
                 const Tensor& p) {
  const int64_t n = out.numel();
  const int64_t blocks = static_cast<int64_t>(philox_blocks(n));
  visit_dtype(out.dtype(), [&]<class T>() {
    T* o = static_cast<T*>(out.raw_data());
    const T* pp = p.defined() ? static_cast<const T*>(p.raw_data()) : nullptr;
    const DrawStore<T> store = make_draw_store<T>(dist, a, b);
    parallel_for(0, blocks, 4096, [&](int64_t lo, int64_t hi) {
      for (int64_t blk = lo; blk < hi; ++blk) {
        double v[4];
        philox_values(dist, philox4x32(offset + static_cast<uint64_t>(blk), 0, seed), uniform_bits<T>(), a, b, v);
        for (int k = 0; k < 4; ++k) {
          const int64_t i = blk * 4 + k;
          if (i >= n) break;
          const double prob = pp ? static_cast<double>(static_cast<compute_t<T>>(pp[i])) : 0.0;
          o[i] = store_draw(store, v[k], prob);
        }
      }
    });
  });
}

}  // namespace strata::kernels::cpu
