// Eigen-based GEMM with the gemm_f32 / gemm_f64 contract: the yardstick for tests and benchmarks.
// It maps the raw buffers as row-major Eigen matrices with an outer stride (so lda > row width
// and transposed storage need no copies) and lets Eigen evaluate alpha * op(A) * op(B).
// Single-threaded and deliberately simple; it is not on any hot path.
#include <Eigen/Core>

#include "kernels/cpu/gemm.h"

namespace strata::kernels::cpu {
namespace {

template <class T>
using RowMajor = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using ConstView = Eigen::Map<const RowMajor<T>, Eigen::Unaligned, Eigen::OuterStride<>>;
template <class T>
using View = Eigen::Map<RowMajor<T>, Eigen::Unaligned, Eigen::OuterStride<>>;

template <class T>
void reference_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha,
                    const T* a, int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  View<T> cv(c, m, n, Eigen::OuterStride<>(ldc));
  if (beta == T(0)) {
    cv.setZero();
  } else if (beta != T(1)) {
    cv *= beta;
  }
  if (k == 0 || alpha == T(0)) return;
  ConstView<T> av(a, trans_a ? k : m, trans_a ? m : k, Eigen::OuterStride<>(lda));
  ConstView<T> bv(b, trans_b ? n : k, trans_b ? k : n, Eigen::OuterStride<>(ldb));
  if (trans_a && trans_b) {
    cv.noalias() += alpha * (av.transpose() * bv.transpose());
  } else if (trans_a) {
    cv.noalias() += alpha * (av.transpose() * bv);
  } else if (trans_b) {
    cv.noalias() += alpha * (av * bv.transpose());
  } else {
    cv.noalias() += alpha * (av * bv);
  }
}

}  // namespace

void gemm_reference_f32(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                        const float* a, int64_t lda, const float* b, int64_t ldb, float beta,
                        float* c, int64_t ldc) {
  reference_gemm<float>(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void gemm_reference_f64(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
                        const double* a, int64_t lda, const double* b, int64_t ldb, double beta,
                        double* c, int64_t ldc) {
  reference_gemm<double>(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace strata::kernels::cpu
