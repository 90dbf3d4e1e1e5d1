// CUDA batch norm (CudaTable::batch_norm_forward / batch_norm_backward, kernels/norm.h), x = [N, C, S]
// contiguous. Two implementations, chosen per call:
//
//   cuDNN (builds with STRATA_WITH_CUDNN, CUDNN_BATCHNORM_SPATIAL) when all of these hold:
//     - training statistics: the forward with compute_stats, the backward with training = true
//       (the evaluation forward gets invstd from the front end while cuDNN's inference call wants
//       the variance back, which 1/invstd^2 - eps would only approximate; it is one elementwise
//       pass either way);
//     - f32, f16 or bf16 data (f64 stays on our kernels: the reference-precision path);
//     - S > 1 (a 4-d-like input; [N, C] inputs go to our kernels);
//     - affine: weight and bias defined for the forward, weight for the backward (cuDNN
//       requires scale/bias tensors), and for the backward a full gradient and a dx wanted;
//     - sizes within cuDNN's 32-bit descriptors.
//     If cuDNN answers CUDNN_STATUS_NOT_SUPPORTED for a configuration, the call falls back to our
//     kernels (any other cuDNN error is thrown).
//     Semantics kept equal to the CPU kernel: the kernel must return the biased batch variance
//     (the front end turns it into the unbiased running update, tensor/ops/norm.cpp). cuDNN
//     returns mean and 1/sqrt(var + eps) as saveMean/saveInvVariance, and the unbiased variance
//     only through its running-variance update: it runs with zeroed scratch running tensors and
//     exponentialAverageFactor 1, so the running variance is exactly the unbiased batch variance,
//     and a small kernel rescales it by (M - 1) / M (M = N * S >= 2 in training: the front end
//     refuses M = 1; M = 0 never reaches cuDNN).
//
//   Our kernels otherwise: statistics (or gradient sums) with one 512-thread block per channel,
//   two-pass in double over the channel's N * S values (norm_common.cuh), each block writing its
//   channel's mean/var/invstd or dweight/dbias and the dx coefficients in a fixed order (no
//   atomics: deterministic); then one elementwise pass y = (x - mean) * invstd * w + b or
//   dx = g * kg + (x - mean) * kx + c0 (the CPU kernel's coefficients, norm_batch.cpp).
//   Known cost: for S = 1 ([N, C]) a channel's values are strided by C, so the statistics pass
//   reads uncoalesced; a column-tiled kernel for that layout is the next optimization.
#include <algorithm>
#include <climits>

#include "kernels/cuda/device_ptr.h"
#include "kernels/cuda/loops.cuh"
#include "kernels/cuda/norm_common.cuh"
#include "kernels/norm.h"

#if STRATA_WITH_CUDNN
#include "kernels/cuda/cudnn_common.h"
#endif

namespace strata::cuda {
namespace {

using norm::Acc;
using norm::kBlockTeam;

constexpr unsigned kMaxBlocks = 132 * 16;

template <class A>
const A* ptr_or_null(const Tensor& t) {
  return t.defined() ? dptr<A>(t) : nullptr;
}
template <class A>
A* mut_ptr_or_null(const Tensor& t) {
  return t.defined() ? dptr<A>(t) : nullptr;
}

struct Ncs {
  int64_t n, c, s;
  __host__ __device__ int64_t count() const { return n * s; }  // values per channel
};

// Element i of channel c (i < N * S) is at (n * C + c) * S + s.
__device__ __forceinline__ int64_t channel_offset(const Ncs& sh, int64_t c, int64_t i) {
  const int64_t n = i / sh.s, s = i - n * sh.s;
  return (n * sh.c + c) * sh.s + s;
}

// ---- our kernels ----

// One block per channel (grid-stride): the channel's two-pass moments.
template <class T>
__global__ void __launch_bounds__(kBlockTeam) bn_stats_kernel(const T* x, Ncs sh, double eps, Acc<T>* mean,
                                                               Acc<T>* invstd, Acc<T>* var) {
  using A = Acc<T>;
  __shared__ double smem[norm::kMaxWarpsPerBlock];
  const int64_t m = sh.count();
  for (int64_t c = blockIdx.x; c < sh.c; c += gridDim.x) {
    double s = 0;
    for (int64_t i = threadIdx.x; i < m; i += kBlockTeam)
      s += static_cast<double>(static_cast<A>(x[channel_offset(sh, c, i)]));
    s = norm::team_sum<kBlockTeam>(s, smem);
    double mu = 0, v = 0;
    if (m > 0) {
      const double count = static_cast<double>(m);
      const double m0 = static_cast<double>(static_cast<A>(s / count));
      double d = 0, q = 0;
      for (int64_t i = threadIdx.x; i < m; i += kBlockTeam) {
        const double dv = static_cast<double>(static_cast<A>(x[channel_offset(sh, c, i)])) - m0;
        d += dv;
        q += dv * dv;
      }
      d = norm::team_sum<kBlockTeam>(d, smem);
      q = norm::team_sum<kBlockTeam>(q, smem);
      const kernels::NormMoments mo = kernels::norm_two_pass_moments(m0, d, q, count);
      mu = mo.mean;
      v = mo.var;
    }
    if (threadIdx.x == 0) {
      mean[c] = static_cast<A>(mu);
      var[c] = static_cast<A>(v);
      invstd[c] = static_cast<A>(kernels::norm_inv_std(v, eps));
    }
  }
}

// y = (x - mean[c]) * (invstd[c] * w[c]) + b[c], grid-stride over N * C * S.
template <class T>
__global__ void bn_normalize_kernel(const T* x, T* y, Ncs sh, const Acc<T>* mean, const Acc<T>* invstd,
                                    const Acc<T>* w, const Acc<T>* b) {
  using A = Acc<T>;
  const int64_t total = sh.n * sh.c * sh.s;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += step) {
    const int64_t c = (i / sh.s) % sh.c;
    const A a = w ? invstd[c] * w[c] : invstd[c];
    y[i] = static_cast<T>((static_cast<A>(x[i]) - mean[c]) * a + (b ? b[c] : A(0)));
  }
}

// One block per channel: Σ g and Σ g (x - mean) (g_per_run: g holds one value per (n, c) run),
// then dweight, dbias and the channel's dx coefficients kg, kx, c0 (coef[c], coef[C + c],
// coef[2C + c]) by the CPU's formula (kernels/norm_functors.h).
template <class T>
__global__ void __launch_bounds__(kBlockTeam) bn_grad_sums_kernel(const T* g, bool g_per_run, const T* x, Ncs sh,
                                                                  bool need_sums, bool training,
                                                                  const Acc<T>* mean, const Acc<T>* invstd,
                                                                  const Acc<T>* w, Acc<T>* dw, Acc<T>* db,
                                                                  Acc<T>* coef) {
  using A = Acc<T>;
  __shared__ double smem[norm::kMaxWarpsPerBlock];
  const int64_t m = sh.count();
  for (int64_t c = blockIdx.x; c < sh.c; c += gridDim.x) {
    double sg = 0, sgx = 0;
    if (need_sums) {
      const double mu = static_cast<double>(mean[c]);
      for (int64_t i = threadIdx.x; i < m; i += kBlockTeam) {
        const int64_t off = channel_offset(sh, c, i);
        const double gv = static_cast<double>(static_cast<A>(g_per_run ? g[off / sh.s] : g[off]));
        sg += gv;
        sgx += gv * (static_cast<double>(static_cast<A>(x[off])) - mu);
      }
      sg = norm::team_sum<kBlockTeam>(sg, smem);
      sgx = norm::team_sum<kBlockTeam>(sgx, smem);
    }
    if (threadIdx.x == 0) {
      const double is = static_cast<double>(invstd[c]);
      if (dw) dw[c] = static_cast<A>(sgx * is);
      if (db) db[c] = static_cast<A>(sg);
      const kernels::BatchNormGradCoeffs k = kernels::batch_norm_grad_coeffs(
          w ? static_cast<double>(w[c]) : 1.0, is, sg, sgx, static_cast<double>(m), training);
      coef[c] = static_cast<A>(k.kg);
      coef[sh.c + c] = static_cast<A>(k.kx);
      coef[2 * sh.c + c] = static_cast<A>(k.c0);
    }
  }
}

template <class T>
__global__ void bn_grad_input_kernel(const T* g, bool g_per_run, const T* x, T* dx, Ncs sh, const Acc<T>* mean,
                                     const Acc<T>* coef) {
  using A = Acc<T>;
  const int64_t total = sh.n * sh.c * sh.s;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += step) {
    const int64_t run = i / sh.s, c = run % sh.c;
    const A gv = static_cast<A>(g_per_run ? g[run] : g[i]);
    dx[i] = static_cast<T>(gv * coef[c] + (static_cast<A>(x[i]) - mean[c]) * coef[sh.c + c] + coef[2 * sh.c + c]);
  }
}

void own_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, bool compute_stats, double eps,
                 const Tensor& mean, const Tensor& invstd, const Tensor& var, const Tensor& out, cudaStream_t stream) {
  const Ncs sh{x.size(0), x.size(1), x.size(2)};
  if (sh.c == 0) return;
  visit_floating(x.dtype(), "batch_norm", [&]<class T>() {
    using A = Acc<T>;
    if (compute_stats) {
      const unsigned grid = static_cast<unsigned>(std::min<int64_t>(sh.c, kMaxBlocks));
      bn_stats_kernel<T><<<grid, kBlockTeam, 0, stream>>>(dptr<T>(x), sh, eps, dptr<A>(mean), dptr<A>(invstd),
                                                          dptr<A>(var));
      STRATA_CUDA_LAUNCH_CHECK(stream);
    }
    const int64_t total = sh.n * sh.c * sh.s;
    if (total == 0) return;
    bn_normalize_kernel<T><<<grid_for(total, kThreads), kThreads, 0, stream>>>(
        dptr<T>(x), dptr<T>(out), sh, dptr<A>(mean), dptr<A>(invstd), ptr_or_null<A>(weight),
        ptr_or_null<A>(bias));
    STRATA_CUDA_LAUNCH_CHECK(stream);
  });
}

void own_backward(const Tensor& grad, const Tensor& x, const Tensor& weight, const Tensor& mean, const Tensor& invstd,
                  bool training, const Tensor& dx, const Tensor& dweight, const Tensor& dbias, cudaStream_t stream) {
  const Ncs sh{x.size(0), x.size(1), x.size(2)};
  if (sh.c == 0) return;
  const bool g_per_run = grad.size(2) == 1 && sh.s > 1;
  const bool need_sums = (training && dx.defined()) || dweight.defined() || dbias.defined();
  visit_floating(x.dtype(), "batch_norm_backward", [&]<class T>() {
    using A = Acc<T>;
    const Tensor coef = empty({3 * sh.c}, {.dtype = dtype_of<A>(), .device = x.device()});
    const unsigned grid = static_cast<unsigned>(std::min<int64_t>(sh.c, kMaxBlocks));
    bn_grad_sums_kernel<T><<<grid, kBlockTeam, 0, stream>>>(
        dptr<T>(grad), g_per_run, dptr<T>(x), sh, need_sums, training, dptr<A>(mean), dptr<A>(invstd),
        ptr_or_null<A>(weight), mut_ptr_or_null<A>(dweight), mut_ptr_or_null<A>(dbias), dptr<A>(coef));
    STRATA_CUDA_LAUNCH_CHECK(stream);
    const int64_t total = sh.n * sh.c * sh.s;
    if (!dx.defined() || total == 0) return;
    bn_grad_input_kernel<T><<<grid_for(total, kThreads), kThreads, 0, stream>>>(
        dptr<T>(grad), g_per_run, dptr<T>(x), dptr<T>(dx), sh, dptr<A>(mean), dptr<A>(coef));
    STRATA_CUDA_LAUNCH_CHECK(stream);
  });
}

// ---- cuDNN ----

#if STRATA_WITH_CUDNN

bool cudnn_dtype(DType dt) { return dt == DType::F32 || dt == DType::F16 || dt == DType::BF16; }

bool cudnn_sizes(const Tensor& x) {
  return x.numel() <= INT32_MAX && x.size(0) >= 1 && x.size(1) >= 1 && x.size(2) > 1;
}

// The derived 1 x C x 1 x 1 descriptor of the per-channel tensors (f32 for every cuDNN dtype we use).
class BnParamDesc {
 public:
  explicit BnParamDesc(cudnnTensorDescriptor_t x) {
    STRATA_CUDNN_CHECK(cudnnCreateTensorDescriptor(&desc_));
    const cudnnStatus_t s = cudnnDeriveBNTensorDescriptor(desc_, x, CUDNN_BATCHNORM_SPATIAL);
    if (s != CUDNN_STATUS_SUCCESS) {
      cudnnDestroyTensorDescriptor(desc_);
      throw_cudnn_error(s, "cudnnDeriveBNTensorDescriptor", __FILE__, __LINE__);
    }
  }
  ~BnParamDesc() { cudnnDestroyTensorDescriptor(desc_); }
  BnParamDesc(const BnParamDesc&) = delete;
  BnParamDesc& operator=(const BnParamDesc&) = delete;
  cudnnTensorDescriptor_t get() const { return desc_; }

 private:
  cudnnTensorDescriptor_t desc_ = nullptr;
};

// x = [N, C, S] contiguous as an N x C x S x 1 descriptor.
CudnnTensorDesc ncs_desc(const Tensor& t, const char* op) {
  const int64_t sizes[4] = {t.size(0), t.size(1), t.size(2), 1};
  const int64_t strides[4] = {t.size(1) * t.size(2), t.size(2), 1, 1};
  return CudnnTensorDesc(t.dtype(), sizes, strides, op);
}

// var[c] *= scale (unbiased -> biased).
__global__ void scale_kernel(float* v, int64_t n, float scale) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) v[i] *= scale;
}

// Returns false when cuDNN does not support the configuration (nothing was written then).
bool cudnn_forward_training(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps, const Tensor& mean,
                            const Tensor& invstd, const Tensor& var, const Tensor& out, cudaStream_t stream) {
  const char* op = "batch_norm";
  const int64_t c = x.size(1), count = x.size(0) * x.size(2);
  const CudnnTensorDesc xd = ncs_desc(x, op);
  const BnParamDesc pd(xd.get());
  // Scratch running statistics, zeroed: with factor 1 they become the batch mean and the
  // unbiased batch variance (into `var`, rescaled below).
  const Tensor running_mean = empty({c}, {.dtype = DType::F32, .device = x.device()});
  STRATA_CUDA_CHECK(cudaMemsetAsync(dptr<float>(running_mean), 0, c * sizeof(float), stream));
  STRATA_CUDA_CHECK(cudaMemsetAsync(dptr<float>(var), 0, c * sizeof(float), stream));
  const float alpha = 1.0f, beta = 0.0f;
  const cudnnStatus_t s = cudnnBatchNormalizationForwardTraining(
      cudnn_handle_for(x.device()), CUDNN_BATCHNORM_SPATIAL, &alpha, &beta, xd.get(), x.raw_data(), xd.get(),
      out.raw_data(), pd.get(), dptr<float>(weight), dptr<float>(bias), 1.0, dptr<float>(running_mean),
      dptr<float>(var), eps, dptr<float>(mean), dptr<float>(invstd));
  if (s == CUDNN_STATUS_NOT_SUPPORTED) return false;
  if (s != CUDNN_STATUS_SUCCESS) throw_cudnn_error(s, "cudnnBatchNormalizationForwardTraining", __FILE__, __LINE__);
  const float scale = static_cast<float>(static_cast<double>(count - 1) / static_cast<double>(count));
  scale_kernel<<<static_cast<unsigned>((c + kThreads - 1) / kThreads), kThreads, 0, stream>>>(dptr<float>(var), c,
                                                                                             scale);
  STRATA_CUDA_LAUNCH_CHECK(stream);
  return true;
}

bool cudnn_backward_training(const Tensor& grad, const Tensor& x, const Tensor& weight, const Tensor& mean,
                             const Tensor& invstd, const Tensor& dx, const Tensor& dweight, const Tensor& dbias) {
  const char* op = "batch_norm_backward";
  const int64_t c = x.size(1);
  const CudnnTensorDesc xd = ncs_desc(x, op);
  const BnParamDesc pd(xd.get());
  // cuDNN always writes both parameter gradients.
  const TensorOptions f32{.dtype = DType::F32, .device = x.device()};
  const Tensor dw = dweight.defined() ? dweight : empty({c}, f32);
  const Tensor db = dbias.defined() ? dbias : empty({c}, f32);
  const float one = 1.0f, zero = 0.0f;
  // epsilon only matters when no saved statistics are passed; ours always are.
  const cudnnStatus_t s = cudnnBatchNormalizationBackward(
      cudnn_handle_for(x.device()), CUDNN_BATCHNORM_SPATIAL, &one, &zero, &one, &zero, xd.get(), x.raw_data(),
      xd.get(), grad.raw_data(), xd.get(), dx.raw_data(), pd.get(), dptr<float>(weight), dptr<float>(dw),
      dptr<float>(db), 1e-5, dptr<float>(mean), dptr<float>(invstd));
  if (s == CUDNN_STATUS_NOT_SUPPORTED) return false;
  if (s != CUDNN_STATUS_SUCCESS) throw_cudnn_error(s, "cudnnBatchNormalizationBackward", __FILE__, __LINE__);
  return true;
}

#endif  // STRATA_WITH_CUDNN

void batch_norm_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, bool compute_stats, double eps,
                        const Tensor& mean, const Tensor& invstd, const Tensor& var, const Tensor& out) {
  DeviceGuard guard(x.device().index);
  const cudaStream_t stream = stream_for(x.device());
#if STRATA_WITH_CUDNN
  if (compute_stats && cudnn_dtype(x.dtype()) && cudnn_sizes(x) && weight.defined() && bias.defined() &&
      eps >= CUDNN_BN_MIN_EPSILON) {
    if (cudnn_forward_training(x, weight, bias, eps, mean, invstd, var, out, stream)) return;
  }
#endif
  own_forward(x, weight, bias, compute_stats, eps, mean, invstd, var, out, stream);
}

void batch_norm_backward(const Tensor& grad, const Tensor& x, const Tensor& weight, const Tensor& mean,
                         const Tensor& invstd, bool training, const Tensor& dx, const Tensor& dweight,
                         const Tensor& dbias) {
  DeviceGuard guard(x.device().index);
  const cudaStream_t stream = stream_for(x.device());
#if STRATA_WITH_CUDNN
  const bool full_grad = grad.size(2) == x.size(2);
  if (training && dx.defined() && full_grad && cudnn_dtype(x.dtype()) && cudnn_sizes(x) && weight.defined()) {
    if (cudnn_backward_training(grad, x, weight, mean, invstd, dx, dweight, dbias)) return;
  }
#endif
  own_backward(grad, x, weight, mean, invstd, training, dx, dweight, dbias, stream);
}

const bool g_registered = register_kernels([](kernels::CudaTable& t) {
  t.batch_norm_forward = &batch_norm_forward;
  t.batch_norm_backward = &batch_norm_backward;
});

}  // namespace
}  // namespace strata::cuda
