// CPU batched matrix product over tensor views: walks the batch dims and hands every matrix to
// kernels/cpu/gemm.h. Batch dims are coalesced first, so an N-d batch that is laid out like one
// dim becomes a single gemm_batched call; a broadcast right operand (b shared by every batch
// entry) over a row-major left operand folds the whole batch into one tall GEMM.
#include <vector>

#include "kernels/cpu/gemm.h"
#include "kernels/matmul.h"

namespace strata::kernels::cpu {
namespace {

struct BatchDim {
  int64_t size, sa, sb, sc;  // size and element strides of a, b and out along this dim
};

// The batch dims of the three tensors, size-1 dims dropped and mergeable neighbours merged.
std::vector<BatchDim> coalesced_batch(const Tensor& a, const Tensor& b, const Tensor& out) {
  std::vector<BatchDim> dims;
  for (int64_t d = 0; d + 2 < out.dim(); ++d) {
    BatchDim cur{out.size(d), a.stride(d), b.stride(d), out.stride(d)};
    if (cur.size == 1) continue;
    if (!dims.empty()) {
      BatchDim& outer = dims.back();
      if (outer.sa == cur.sa * cur.size && outer.sb == cur.sb * cur.size && outer.sc == cur.sc * cur.size) {
        outer = {outer.size * cur.size, cur.sa, cur.sb, cur.sc};
        continue;
      }
    }
    dims.push_back(cur);
  }
  return dims;
}

template <class T>
void gemm_typed(const Tensor& a, const Tensor& b, const Tensor& out, double alpha_d, double beta_d) {
  const int64_t m = out.size(-2), n = out.size(-1), k = a.size(-1);
  const T alpha = static_cast<T>(alpha_d), beta = static_cast<T>(beta_d);
  const MatrixLayout la = matrix_layout(a), lb = matrix_layout(b);
  const T* pa = a.data<T>();
  const T* pb = b.data<T>();
  T* pc = out.data<T>();
  const std::vector<BatchDim> dims = coalesced_batch(a, b, out);

  auto single = [&](int64_t rows, const T* x, int64_t ldx, bool trans_x) {
    if constexpr (std::is_same_v<T, float>)
      gemm_f32(trans_x, lb.trans, rows, n, k, alpha, x, ldx, pb, lb.ld, beta, pc, n);
    else
      gemm_f64(trans_x, lb.trans, rows, n, k, alpha, x, ldx, pb, lb.ld, beta, pc, n);
  };
  if (dims.empty()) return single(m, pa, la.ld, la.trans);
  // One operand b for every batch entry and a's matrices stacked row after row: one tall GEMM.
  if (dims.size() == 1 && dims[0].sb == 0 && !la.trans && k > 0 &&
      (m == 1 ? dims[0].sa >= k : dims[0].sa == m * la.ld)) {
    return single(dims[0].size * m, pa, m == 1 ? dims[0].sa : la.ld, false);
  }

  // The innermost coalesced dim goes to gemm_batched; the outer ones are walked here.
  const BatchDim inner = dims.back();
  int64_t outer_count = 1;
  for (size_t i = 0; i + 1 < dims.size(); ++i) outer_count *= dims[i].size;
  std::vector<int64_t> idx(dims.size(), 0);
  for (int64_t o = 0; o < outer_count; ++o) {
    int64_t oa = 0, ob = 0, oc = 0;
    for (size_t i = 0; i + 1 < dims.size(); ++i) {
      oa += idx[i] * dims[i].sa;
      ob += idx[i] * dims[i].sb;
      oc += idx[i] * dims[i].sc;
    }
    if constexpr (std::is_same_v<T, float>)
      gemm_batched_f32(la.trans, lb.trans, inner.size, m, n, k, alpha, pa + oa, la.ld, inner.sa, pb + ob, lb.ld,
                       inner.sb, beta, pc + oc, n, inner.sc);
    else
      gemm_batched_f64(la.trans, lb.trans, inner.size, m, n, k, alpha, pa + oa, la.ld, inner.sa, pb + ob, lb.ld,
                       inner.sb, beta, pc + oc, n, inner.sc);
    for (size_t i = dims.size() - 1; i-- > 0;) {
      if (++idx[i] < dims[i].size) break;
      idx[i] = 0;
    }
  }
}

}  // namespace

void gemm(const Tensor& a, const Tensor& b, const Tensor& out, double alpha, double beta) {
  if (out.numel() == 0) return;
  switch (out.dtype()) {
    case DType::F32: return gemm_typed<float>(a, b, out, alpha, beta);
    case DType::F64: return gemm_typed<double>(a, b, out, alpha, beta);
    default: STRATA_THROW(DTypeError, "gemm: the CPU kernel takes f32 or f64, got {}", out.dtype());
  }
}

}  // namespace strata::kernels::cpu
