#pragma once
// CPU matrix multiplication on raw pointers: the kernel under matmul, linear and conv (im2col).
//
//   C = alpha * op(A) * op(B) + beta * C        (row-major; op(X) = X or X^T)
//
// op(A) is m x k and op(B) is k x n. lda / ldb / ldc are the row strides (in elements) of the
// matrices as stored: A is stored m x k (k x m when trans_a), B is stored k x n (n x k when
// trans_b). beta == 0 overwrites C without reading it (NaN in C is ignored); k == 0 or alpha == 0
// gives C = beta * C. Invalid sizes or strides throw strata::ValueError.
//
// The f32 and f64 paths are packed, cache-blocked and multi-threaded (strata::parallel_for) with a
// register-blocked micro-kernel chosen at run time for the CPU: AVX-512, AVX2+FMA or portable C++.
// The environment variable STRATA_GEMM_ISA=avx2|generic forces a lower path.
#include <cstdint>

namespace strata::kernels::cpu {

void gemm_f32(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
              const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
              int64_t ldc);
void gemm_f64(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
              const double* a, int64_t lda, const double* b, int64_t ldb, double beta, double* c,
              int64_t ldc);

// `batch` independent products; matrix i is at a + i*stride_a, b + i*stride_b, c + i*stride_c.
// stride_a or stride_b may be 0 (one operand shared by every product); stride_c may not (unless
// batch == 1). Many small products run in parallel over the batch.
void gemm_batched_f32(bool trans_a, bool trans_b, int64_t batch, int64_t m, int64_t n, int64_t k,
                      float alpha, const float* a, int64_t lda, int64_t stride_a, const float* b,
                      int64_t ldb, int64_t stride_b, float beta, float* c, int64_t ldc,
                      int64_t stride_c);
void gemm_batched_f64(bool trans_a, bool trans_b, int64_t batch, int64_t m, int64_t n, int64_t k,
                      double alpha, const double* a, int64_t lda, int64_t stride_a, const double* b,
                      int64_t ldb, int64_t stride_b, double beta, double* c, int64_t ldc,
                      int64_t stride_c);

// Straightforward Eigen implementations with the same contract, single-threaded: the yardstick
// for tests and benchmarks.
void gemm_reference_f32(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                        const float* a, int64_t lda, const float* b, int64_t ldb, float beta,
                        float* c, int64_t ldc);
void gemm_reference_f64(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
                        const double* a, int64_t lda, const double* b, int64_t ldb, double beta,
                        double* c, int64_t ldc);

// The instruction set in use: "avx512", "avx2" or "generic".
const char* gemm_isa();
// Whether this CPU (and build) can run the named path.
bool gemm_isa_supported(const char* isa);
// Switches the path ("avx512", "avx2", "generic"); nullptr, "" or "auto" restores the default
// (the best path, lowered by STRATA_GEMM_ISA). Throws ValueError for an unknown or unsupported
// name. Meant for tests and benchmarks; not to be called while a GEMM is running.
void gemm_force_isa(const char* isa);

}  // namespace strata::kernels::cpu
