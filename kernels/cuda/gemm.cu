// CudaTable::gemm through cuBLAS: out[i] = alpha * a[i] @ b[i] + beta * out[i] (kernels/matmul.h)
// for f64 (cublasDgemm*), f32 (cublasSgemm*, no TF32: results comparable with the CPU; or, when
// set_allow_tf32(true), cublasGemmEx with CUBLAS_COMPUTE_32F_FAST_TF32) and f16/bf16 natively
// (cublasGemmEx with CUBLAS_COMPUTE_32F: half operands and output, f32 accumulation and f32
// alpha/beta, like PyTorch's default).
//
// cuBLAS is column-major; Strata's matrices are row-major (or transposed views of row-major ones,
// MatrixLayout::trans). A row-major m x n matrix read column-major is its n x m transpose, so
// out^T = b^T a^T is computed: cuBLAS sees B (n x k) times A (k x m), each transposed when the
// Strata operand is itself a transposed view. The batch: when every operand's batch dims
// collapse to one stride (contiguous batches, or stride 0 for a broadcast operand),
// one strided-batched call; otherwise one call per batch index.
//
// Handles: one per (thread, device), created on first use; bound to the current stream per call.
// alpha and beta are host scalars (CUBLAS_POINTER_MODE_HOST); no device tensor is read on the host.
#include <atomic>
#include <vector>

#include "kernels/cuda/loops.cuh"
#include "kernels/elementwise.h"
#include "kernels/matmul.h"
#include "tensor/half.h"

namespace strata::cuda {
namespace {

constexpr int kMaxDevicesForHandles = 64;

cublasHandle_t handle_for(Device device) {
  thread_local cublasHandle_t handles[kMaxDevicesForHandles] = {};
  cublasHandle_t& h = handles[device.index];
  if (!h) {
    DeviceGuard g(device.index);
    STRATA_CUBLAS_CHECK(cublasCreate(&h));
  }
  STRATA_CUBLAS_CHECK(cublasSetStream(h, stream_for(device)));
  return h;
}

// The batch dims of t (all but the last two) as one stride, when they collapse to one (size-1
// dims are skipped); -1 when they do not.
int64_t single_batch_stride(const Tensor& t) {
  int64_t stride = -1, inner_extent = 0;
  for (int64_t d = t.dim() - 3; d >= 0; --d) {
    const int64_t size = t.shape()[d], st = t.strides()[d];
    if (size == 1) continue;
    if (stride < 0) {
      stride = st;
      inner_extent = size;
    } else if (st == stride * inner_extent) {
      inner_extent *= size;
    } else {
      return -1;
    }
  }
  return stride < 0 ? 0 : stride;
}

// Scalars (alpha, beta) of a T product: double for f64, float otherwise (f32 accumulation).
template <class T>
using scalar_t = std::conditional_t<std::is_same_v<T, double>, double, float>;

// How one product is issued: the classic cublas<t>gemm (f32 without TF32, f64), or GemmEx with a
// data type and a compute type.
struct Route {
  bool ex = false;
  cudaDataType_t type = CUDA_R_32F;
  cublasComputeType_t compute = CUBLAS_COMPUTE_32F;
};

// The flag is read once per product, so every call of a batch takes the same route.
template <class T>
Route route_for() {
  if constexpr (std::is_same_v<T, float>) {
    if (allow_tf32()) return {true, CUDA_R_32F, CUBLAS_COMPUTE_32F_FAST_TF32};
    return {};
  } else if constexpr (std::is_same_v<T, Half>) {
    return {true, CUDA_R_16F, CUBLAS_COMPUTE_32F};
  } else if constexpr (std::is_same_v<T, BFloat16>) {
    return {true, CUDA_R_16BF, CUBLAS_COMPUTE_32F};
  } else {
    return {};
  }
}

template <class T>
void gemm_call(cublasHandle_t h, const Route& r, cublasOperation_t opb, cublasOperation_t opa, int n, int m, int k,
               scalar_t<T> alpha, const T* b, int ldb, const T* a, int lda, scalar_t<T> beta, T* c, int ldc) {
  if constexpr (std::is_same_v<T, double>) {
    STRATA_CUBLAS_CHECK(cublasDgemm(h, opb, opa, n, m, k, &alpha, b, ldb, a, lda, &beta, c, ldc));
  } else {
    if constexpr (std::is_same_v<T, float>) {
      if (!r.ex) {
        STRATA_CUBLAS_CHECK(cublasSgemm(h, opb, opa, n, m, k, &alpha, b, ldb, a, lda, &beta, c, ldc));
        return;
      }
    }
    STRATA_CUBLAS_CHECK(cublasGemmEx(h, opb, opa, n, m, k, &alpha, b, r.type, ldb, a, r.type, lda, &beta, c, r.type,
                                     ldc, r.compute, CUBLAS_GEMM_DEFAULT));
  }
}

template <class T>
void gemm_batched_call(cublasHandle_t h, const Route& r, cublasOperation_t opb, cublasOperation_t opa, int n, int m,
                       int k, scalar_t<T> alpha, const T* b, int ldb, long long sb, const T* a, int lda, long long sa,
                       scalar_t<T> beta, T* c, int ldc, long long sc, int batch) {
  if constexpr (std::is_same_v<T, double>) {
    STRATA_CUBLAS_CHECK(cublasDgemmStridedBatched(h, opb, opa, n, m, k, &alpha, b, ldb, sb, a, lda, sa, &beta, c, ldc,
                                                  sc, batch));
  } else {
    if constexpr (std::is_same_v<T, float>) {
      if (!r.ex) {
        STRATA_CUBLAS_CHECK(cublasSgemmStridedBatched(h, opb, opa, n, m, k, &alpha, b, ldb, sb, a, lda, sa, &beta, c,
                                                      ldc, sc, batch));
        return;
      }
    }
    STRATA_CUBLAS_CHECK(cublasGemmStridedBatchedEx(h, opb, opa, n, m, k, &alpha, b, r.type, ldb, sb, a, r.type, lda,
                                                   sa, &beta, c, r.type, ldc, sc, batch, r.compute,
                                                   CUBLAS_GEMM_DEFAULT));
  }
}

template <class T>
void gemm_typed(const Tensor& a, const Tensor& b, const Tensor& out, double alpha_d, double beta_d) {
  const int64_t m = out.size(-2), n = out.size(-1), k = a.size(-1);
  const int64_t batch = out.numel() / std::max<int64_t>(m * n, 1);
  if (m == 0 || n == 0 || batch == 0) return;
  const kernels::MatrixLayout la = kernels::matrix_layout(a), lb = kernels::matrix_layout(b);
  STRATA_CHECK(la.gemm_ready && lb.gemm_ready, DeviceError, "matmul on {}: operands are not in a GEMM layout",
               out.device());
  STRATA_CHECK(m <= INT32_MAX && n <= INT32_MAX && k <= INT32_MAX && la.ld <= INT32_MAX && lb.ld <= INT32_MAX,
               DeviceError, "matmul on {}: a dimension exceeds cuBLAS's 32-bit sizes ({}x{}x{})", out.device(), m, n, k);
  const cublasHandle_t h = handle_for(out.device());
  DeviceGuard g(out.device().index);
  const cublasOperation_t opa = la.trans ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t opb = lb.trans ? CUBLAS_OP_T : CUBLAS_OP_N;
  if (k == 0) {  // out = beta * out (beta == 0 ignores out's contents, NaN included)
    if (beta_d == 0) return kernels::fill(out, 0.0);
    return kernels::unary(kernels::UnaryOp::mul_scalar, out, out, beta_d, 0);
  }
  const Route route = route_for<T>();
  const scalar_t<T> alpha = static_cast<scalar_t<T>>(alpha_d), beta = static_cast<scalar_t<T>>(beta_d);
  const T* pa = static_cast<const T*>(a.raw_data());
  const T* pb = static_cast<const T*>(b.raw_data());
  T* pc = static_cast<T*>(out.raw_data());
  const int ik = static_cast<int>(k);
  const int lda = static_cast<int>(la.ld), ldb = static_cast<int>(lb.ld), ldc = static_cast<int>(n);
  if (batch == 1) {
    gemm_call<T>(h, route, opb, opa, static_cast<int>(n), static_cast<int>(m), ik, alpha, pb, ldb, pa, lda, beta, pc,
                 ldc);
    return;
  }
  const int64_t sa = single_batch_stride(a), sb = single_batch_stride(b);
  if (sa >= 0 && sb >= 0 && batch <= INT32_MAX) {
    gemm_batched_call<T>(h, route, opb, opa, static_cast<int>(n), static_cast<int>(m), ik, alpha, pb, ldb, sb, pa, lda,
                         sa, beta, pc, ldc, m * n, static_cast<int>(batch));
    return;
  }
  // General batch strides: one call per batch index (row-major order of the batch dims).
  const int64_t nb = out.dim() - 2;
  std::vector<int64_t> idx(static_cast<size_t>(nb), 0);
  for (int64_t i = 0; i < batch; ++i) {
    int64_t oa = 0, ob = 0;
    for (int64_t d = 0; d < nb; ++d) {
      oa += idx[d] * a.strides()[d];
      ob += idx[d] * b.strides()[d];
    }
    gemm_call<T>(h, route, opb, opa, static_cast<int>(n), static_cast<int>(m), ik, alpha, pb + ob, ldb, pa + oa, lda,
                 beta, pc + i * m * n, ldc);
    for (int64_t d = nb - 1; d >= 0; --d) {
      if (++idx[d] < out.shape()[d]) break;
      idx[d] = 0;
    }
  }
}

void gemm(const Tensor& a, const Tensor& b, const Tensor& out, double alpha, double beta) {
  switch (out.dtype()) {
    case DType::F32: return gemm_typed<float>(a, b, out, alpha, beta);
    case DType::F64: return gemm_typed<double>(a, b, out, alpha, beta);
    case DType::F16: return gemm_typed<Half>(a, b, out, alpha, beta);
    case DType::BF16: return gemm_typed<BFloat16>(a, b, out, alpha, beta);
    default:
      STRATA_THROW(DTypeError, "matmul on {}: cuBLAS GEMM supports f32, f64, f16 and bf16, got {}", out.device(),
                   out.dtype());
  }
}

}  // namespace

namespace {
std::atomic<bool> g_allow_tf32{false};
}  // namespace

void set_allow_tf32(bool allow) { g_allow_tf32.store(allow, std::memory_order_relaxed); }
bool allow_tf32() { return g_allow_tf32.load(std::memory_order_relaxed); }

namespace {

const bool g_registered = register_kernels([](kernels::CudaTable& t) { t.gemm = &gemm; });

}  // namespace
}  // namespace strata::cuda
