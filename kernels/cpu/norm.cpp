// CPU layer norm and group norm: both normalize contiguous rows (layer norm: the last D values;
// group norm: the C / groups channels x S positions of one sample's group), so both parallelize
// over rows, with each row's statistics two-pass in cache (norm_common.h). They differ in the
// affine parameters: per element of the row (layer norm) or per channel segment of S values
// (group norm), which shapes the backward's parameter sums:
//   - layer norm: dweight/dbias are column sums over rows, accumulated in K row blocks (K from the
//     shape only) and added block by block in order;
//   - group norm: per (sample, channel) sums land in an [N, C] buffer, summed over N in order.
#include <cmath>
#include <vector>

#include "kernels/cpu/norm_common.h"
#include "kernels/cpu/parallel.h"
#include "kernels/norm.h"
#include "kernels/norm_functors.h"

namespace strata::kernels::cpu {
namespace {

using norm::Acc;
using norm::ceil_div;
using norm::Moments;

constexpr int64_t kTaskElements = 32768;  // a parallel task should touch at least this many values
constexpr int64_t kMaxRowBlocks = 64;
constexpr int64_t kMaxPartialValues = int64_t{1} << 22;  // layer norm backward: K * D bound

template <class A>
const A* ptr_or_null(const Tensor& t) {
  return t.defined() ? t.data<A>() : nullptr;
}
template <class A>
A* mut_ptr_or_null(const Tensor& t) {
  return t.defined() ? t.data<A>() : nullptr;
}

int64_t row_grain(int64_t row_length) { return std::max<int64_t>(1, kTaskElements / std::max<int64_t>(row_length, 1)); }

// Mean and 1/sqrt(var + eps) of one row, stored as the kernels' compute type.
template <class A, class T>
void row_stats(const T* row, int64_t n, double eps, A* mean, A* rstd) {
  const Moments mo = norm::row_moments(row, n);
  *mean = static_cast<A>(mo.mean);
  *rstd = static_cast<A>(norm_inv_std(mo.biased_var(), eps));
}

// ---- layer norm ----

template <class T>
void layer_forward(const T* x, T* y, int64_t rows, int64_t d, const Acc<T>* w, const Acc<T>* b, double eps,
                   Acc<T>* mean, Acc<T>* rstd) {
  parallel_for(0, rows, row_grain(d), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      row_stats(x + r * d, d, eps, &mean[r], &rstd[r]);
      norm::normalize_elementwise_affine(x + r * d, y + r * d, d, mean[r], rstd[r], w, b);
    }
  });
}

// dx of one row; adds g * xhat and g to the row block's partial dweight / dbias (when given).
template <class T>
void layer_backward_row(const T* g, const T* x, T* dx, int64_t d, const Acc<T>* w, Acc<T> mean, Acc<T> rstd,
                        double* pdw, double* pdb) {
  using A = Acc<T>;
  if (dx) {
    double a = 0, bsum = 0;
    if (w) norm::weighted_grad_sums(g, x, w, d, mean, &a, &bsum);
    else norm::grad_sums(g, x, d, mean, &a, &bsum);
    const RowNormGradCoeffs k = row_norm_grad_coeffs(rstd, a, bsum, static_cast<double>(d));
    norm::grad_input_elementwise(g, x, w, dx, d, mean, rstd, static_cast<A>(k.kx), static_cast<A>(k.c));
  }
  if (pdw) {
    const double m = mean, r = rstd;
    for (int64_t j = 0; j < d; ++j) pdw[j] += static_cast<double>(g[j]) * (static_cast<double>(x[j]) - m) * r;
  }
  if (pdb)
    for (int64_t j = 0; j < d; ++j) pdb[j] += static_cast<double>(g[j]);
}

template <class T>
void layer_backward(const T* g, const T* x, T* dx, int64_t rows, int64_t d, const Acc<T>* w, const Acc<T>* mean,
                    const Acc<T>* rstd, Acc<T>* dw, Acc<T>* db) {
  using A = Acc<T>;
  if (!dw && !db) {
    parallel_for(0, rows, row_grain(d), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r)
        layer_backward_row(g + r * d, x + r * d, dx + r * d, d, w, mean[r], rstd[r], nullptr, nullptr);
    });
    return;
  }
  const int64_t cap = std::min({std::max<int64_t>(rows, 1), kMaxRowBlocks,
                                std::max<int64_t>(1, kMaxPartialValues / std::max<int64_t>(d, 1))});
  const int64_t blocks = std::clamp<int64_t>(ceil_div(rows * d, norm::kChunk), 1, cap);
  std::vector<double> pdw(dw ? blocks * d : 0, 0.0), pdb(db ? blocks * d : 0, 0.0);
  parallel_for(0, blocks, 1, [&](int64_t k0, int64_t k1) {
    for (int64_t k = k0; k < k1; ++k) {
      for (int64_t r = rows * k / blocks; r < rows * (k + 1) / blocks; ++r) {
        layer_backward_row(g + r * d, x + r * d, dx ? dx + r * d : nullptr, d, w, mean[r], rstd[r],
                           dw ? &pdw[k * d] : nullptr, db ? &pdb[k * d] : nullptr);
      }
    }
  });
  parallel_for(0, d, kTaskElements, [&](int64_t j0, int64_t j1) {
    for (int64_t j = j0; j < j1; ++j) {
      double sw = 0, sb = 0;
      for (int64_t k = 0; k < blocks; ++k) {
        if (dw) sw += pdw[k * d + j];
        if (db) sb += pdb[k * d + j];
      }
      if (dw) dw[j] = static_cast<A>(sw);
      if (db) db[j] = static_cast<A>(sb);
    }
  });
}

// ---- group norm ----

// x = [N, C, S] with C = groups * cg: row r = n * groups + g holds cg * S contiguous values.
struct GroupShape {
  int64_t n, c, s, groups, cg, row;
  GroupShape(const Tensor& x, int64_t g)
      : n(x.size(0)), c(x.size(1)), s(x.size(2)), groups(g), cg(g > 0 ? c / g : 0), row(cg * s) {}
  int64_t rows() const { return n * groups; }
  template <class T>
  bool stream() const {  // outputs large enough to bypass the cache
    return n * c * s * static_cast<int64_t>(sizeof(T)) >= norm::kStreamBytes;
  }
};

template <class T>
void group_forward(const T* x, T* y, const GroupShape& gs, const Acc<T>* w, const Acc<T>* b, double eps,
                   Acc<T>* mean, Acc<T>* rstd) {
  using A = Acc<T>;
  const bool stream = gs.stream<T>();
  parallel_for(0, gs.rows(), row_grain(gs.row), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      row_stats(x + r * gs.row, gs.row, eps, &mean[r], &rstd[r]);
      for (int64_t ci = 0; ci < gs.cg; ++ci) {
        const int64_t c = (r % gs.groups) * gs.cg + ci;
        const int64_t off = r * gs.row + ci * gs.s;
        const A a = w ? rstd[r] * w[c] : rstd[r];
        norm::normalize(x + off, y + off, gs.s, mean[r], a, b ? b[c] : A(0), stream);
      }
    }
    if (stream) norm::stream_fence();
  });
}

template <class T>
void group_backward(const T* g, const T* x, T* dx, const GroupShape& gs, const Acc<T>* w, const Acc<T>* mean,
                    const Acc<T>* rstd, Acc<T>* dw, Acc<T>* db) {
  using A = Acc<T>;
  const bool stream = gs.stream<T>();
  // Per (sample, channel): sum of g and of g * (x - mean).
  std::vector<double> sg(gs.n * gs.c, 0.0), sgx(gs.n * gs.c, 0.0);
  parallel_for(0, gs.rows(), row_grain(gs.row), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t first = (r / gs.groups) * gs.c + (r % gs.groups) * gs.cg;  // index of (n, c0) in [N, C]
      double a = 0, bsum = 0;
      for (int64_t ci = 0; ci < gs.cg; ++ci) {
        const int64_t off = r * gs.row + ci * gs.s;
        norm::grad_sums(g + off, x + off, gs.s, mean[r], &sg[first + ci], &sgx[first + ci]);
        const double wc = w ? static_cast<double>(w[(r % gs.groups) * gs.cg + ci]) : 1.0;
        a += wc * sg[first + ci];
        bsum += wc * sgx[first + ci];
      }
      if (!dx) continue;
      const RowNormGradCoeffs k = row_norm_grad_coeffs(rstd[r], a, bsum, static_cast<double>(gs.row));
      const A kx = static_cast<A>(k.kx), cst = static_cast<A>(k.c);
      for (int64_t ci = 0; ci < gs.cg; ++ci) {
        const int64_t off = r * gs.row + ci * gs.s;
        const A kg = w ? rstd[r] * w[(r % gs.groups) * gs.cg + ci] : rstd[r];
        norm::grad_input(g + off, x + off, dx + off, gs.s, mean[r], kg, kx, cst, stream);
      }
    }
    if (stream) norm::stream_fence();
  });
  if (!dw && !db) return;
  for (int64_t c = 0; c < gs.c; ++c) {
    double tw = 0, tb = 0;
    for (int64_t n = 0; n < gs.n; ++n) {
      tw += static_cast<double>(rstd[n * gs.groups + c / gs.cg]) * sgx[n * gs.c + c];
      tb += sg[n * gs.c + c];
    }
    if (dw) dw[c] = static_cast<A>(tw);
    if (db) db[c] = static_cast<A>(tb);
  }
}

}  // namespace

void layer_norm_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps, const Tensor& out,
                        const Tensor& mean, const Tensor& rstd) {
  visit_floating(x.dtype(), "layer_norm", [&]<class T>() {
    using A = Acc<T>;
    layer_forward<T>(x.data<T>(), out.data<T>(), x.size(0), x.size(1), ptr_or_null<A>(weight), ptr_or_null<A>(bias),
                     eps, mean.data<A>(), rstd.data<A>());
  });
}

void layer_norm_backward(const Tensor& grad, const Tensor& x, const Tensor& weight, const Tensor& mean,
                         const Tensor& rstd, const Tensor& dx, const Tensor& dweight, const Tensor& dbias) {
  visit_floating(x.dtype(), "layer_norm_backward", [&]<class T>() {
    using A = Acc<T>;
    layer_backward<T>(grad.data<T>(), x.data<T>(), dx.defined() ? dx.data<T>() : nullptr, x.size(0), x.size(1),
                      ptr_or_null<A>(weight), mean.data<A>(), rstd.data<A>(), mut_ptr_or_null<A>(dweight),
                      mut_ptr_or_null<A>(dbias));
  });
}

void group_norm_forward(const Tensor& x, int64_t groups, const Tensor& weight, const Tensor& bias, double eps,
                        const Tensor& out, const Tensor& mean, const Tensor& rstd) {
  visit_floating(x.dtype(), "group_norm", [&]<class T>() {
    using A = Acc<T>;
    group_forward<T>(x.data<T>(), out.data<T>(), GroupShape(x, groups), ptr_or_null<A>(weight), ptr_or_null<A>(bias),
                     eps, mean.data<A>(), rstd.data<A>());
  });
}

void group_norm_backward(const Tensor& grad, const Tensor& x, int64_t groups, const Tensor& weight,
                         const Tensor& mean, const Tensor& rstd, const Tensor& dx, const Tensor& dweight,
                         const Tensor& dbias) {
  visit_floating(x.dtype(), "group_norm_backward", [&]<class T>() {
    using A = Acc<T>;
    group_backward<T>(grad.data<T>(), x.data<T>(), dx.defined() ? dx.data<T>() : nullptr, GroupShape(x, groups),
                      ptr_or_null<A>(weight), mean.data<A>(), rstd.data<A>(), mut_ptr_or_null<A>(dweight),
                      mut_ptr_or_null<A>(dbias));
  });
}

}  // namespace strata::kernels::cpu
