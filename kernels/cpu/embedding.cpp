// CPU embedding kernels. Forward copies whole rows (memcpy, any dtype). The dense backward gives
// each thread one contiguous range of table rows: it zero-fills its range (the bulk of the work
// for a large table) and then accumulates, in index order, the gradient rows whose index falls
// in its range; no two threads touch the same row, so no atomics, and the sum order of every row
// is the index order for any thread count. Bags run one bag per iteration, in parallel over bags.
#include <cstring>
#include <limits>
#include <vector>

#include "kernels/cpu/parallel.h"
#include "kernels/embedding.h"

namespace strata::kernels::cpu {
namespace {

// Calls f with a typed pointer to the i32 / i64 index buffer.
template <class F>
decltype(auto) visit_index(const Tensor& indices, F&& f) {
  if (indices.dtype() == DType::I32) return f(static_cast<const int32_t*>(indices.raw_data()));
  return f(static_cast<const int64_t*>(indices.raw_data()));
}

}  // namespace

void embedding_forward(const Tensor& weight, const Tensor& indices, const Tensor& out) {
  const int64_t n = indices.numel();
  const int64_t row_bytes = weight.size(1) * weight.itemsize();
  if (n == 0 || row_bytes == 0) return;
  const char* w = static_cast<const char*>(weight.raw_data());
  char* o = static_cast<char*>(out.raw_data());
  const int64_t grain = std::max<int64_t>(1, (int64_t{1} << 16) / row_bytes);
  visit_index(indices, [&](auto* idx) {
    parallel_for(0, n, grain, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i)
        std::memcpy(o + i * row_bytes, w + static_cast<int64_t>(idx[i]) * row_bytes, static_cast<size_t>(row_bytes));
    });
  });
}

void embedding_dense_backward(const Tensor& grad, const Tensor& indices, int64_t padding_idx,
                              const Tensor& grad_weight) {
  const int64_t vocab = grad_weight.size(0), dim = grad_weight.size(1), n = indices.numel();
  if (vocab == 0 || dim == 0) return;
  const int threads = std::max(1, get_num_threads());
  // One chunk per thread (each chunk scans all indices once); tiny tables run inline.
  const int64_t min_rows = std::max<int64_t>(1, (int64_t{1} << 15) / (dim * grad_weight.itemsize()));
  const int64_t grain = std::max(min_rows, (vocab + threads - 1) / threads);
  visit_floating(grad_weight.dtype(), "embedding_backward", [&]<class T>() {
    using C = compute_t<T>;
    T* gw = static_cast<T*>(grad_weight.raw_data());
    const T* g = static_cast<const T*>(grad.raw_data());
    visit_index(indices, [&](auto* idx) {
      parallel_for(0, vocab, grain, [&](int64_t lo, int64_t hi) {
        std::memset(static_cast<void*>(gw + lo * dim), 0, static_cast<size_t>((hi - lo) * dim) * sizeof(T));
        for (int64_t i = 0; i < n; ++i) {
          const int64_t row = static_cast<int64_t>(idx[i]);
          if (row < lo || row >= hi || row == padding_idx) continue;
          T* dst = gw + row * dim;
          const T* src = g + i * dim;
          if constexpr (std::is_same_v<T, C>) {
            for (int64_t j = 0; j < dim; ++j) dst[j] += src[j];
          } else {
            for (int64_t j = 0; j < dim; ++j) dst[j] = T(static_cast<C>(dst[j]) + static_cast<C>(src[j]));
          }
        }
      });
    });
  });
}

void embedding_bag_forward(const Tensor& weight, const Tensor& indices, const Tensor& offsets, BagMode mode,
                           int64_t padding_idx, const Tensor& out, const Tensor& argmax, const Tensor& count) {
  const int64_t bags = offsets.numel(), dim = weight.size(1), n = indices.numel();
  const int64_t* off = static_cast<const int64_t*>(offsets.raw_data());
  int64_t* cnt = static_cast<int64_t*>(count.raw_data());
  int64_t* arg = argmax.defined() ? static_cast<int64_t*>(argmax.raw_data()) : nullptr;
  visit_floating(weight.dtype(), "embedding_bag", [&]<class T>() {
    using C = compute_t<T>;
    const T* w = static_cast<const T*>(weight.raw_data());
    T* o = static_cast<T*>(out.raw_data());
    visit_index(indices, [&](auto* idx) {
      parallel_for(0, bags, 16, [&](int64_t lo, int64_t hi) {
        std::vector<C> acc(static_cast<size_t>(dim));
        std::vector<int64_t> best(static_cast<size_t>(dim));
        for (int64_t b = lo; b < hi; ++b) {
          const int64_t begin = off[b], end = b + 1 < bags ? off[b + 1] : n;
          const C init = mode == BagMode::Max ? -std::numeric_limits<C>::infinity() : C(0);
          std::fill(acc.begin(), acc.end(), init);
          std::fill(best.begin(), best.end(), int64_t{-1});
          int64_t taken = 0;
          for (int64_t i = begin; i < end; ++i) {
            const int64_t row = static_cast<int64_t>(idx[i]);
            if (row == padding_idx) continue;
            ++taken;
            const T* src = w + row * dim;
            if (mode == BagMode::Max) {
              for (int64_t j = 0; j < dim; ++j) {
                const C v = static_cast<C>(src[j]);
                const bool acc_nan = acc[j] != acc[j];
                // First row, a larger value, or the first NaN (which then sticks, like torch.max).
                if (best[j] < 0 || (!acc_nan && (v > acc[j] || v != v))) {
                  acc[j] = v;
                  best[j] = row;
                }
              }
            } else {
              for (int64_t j = 0; j < dim; ++j) acc[j] += static_cast<C>(src[j]);
            }
          }
          const C scale = mode == BagMode::Mean && taken > 0 ? C(1) / static_cast<C>(taken) : C(1);
          T* dst = o + b * dim;
          for (int64_t j = 0; j < dim; ++j) {
            const C v = taken == 0 ? C(0) : (mode == BagMode::Mean ? acc[j] * scale : acc[j]);
            dst[j] = T(v);
            if (arg) arg[b * dim + j] = best[j];
          }
          cnt[b] = taken;
        }
      });
    });
  });
}

}  // namespace strata::kernels::cpu
