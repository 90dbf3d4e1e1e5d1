// CUDA batch norm (CudaTable::batch_norm_forward / batch_norm_backward, kernels/norm.h), x = [N, C, S]
// contiguous. Two implementations, chosen per call:
//
//   cuDNN (builds with STRATA_WITH_CUDNN, CUDNN_BATCHNORM_SPATIAL) when all of these hold:
//     - training statistics: the forward with compute_stats, the backward with training = true
//       (the evaluation forward gets invstd from the front end while cuDNN's inference call wants
//       the variance back, which 1/invstd^2 - eps would only approximate; it is one elementwise
//       pass either way);
//     - f32 or f16 data (f64 stays on our kernels: the reference-precision path; bf16 too, as
//       the legacy batch-norm API documents no bf16 support we could rely on without a GPU to
//       check it);
//     - S > 1 (a 4-d-like input; [N, C] inputs go to our kernels);
//     - affine: weight and bias defined for the forward, weight for the backward (cuDNN
//       requires scale/bias tensors), and for the backward a full gradient and a dx wanted;
//     - sizes within cuDNN's 32-bit descriptors.
//     If cuDNN answers CUDNN_STATUS_NOT_SUPPORTED (or one of its 30xx refinements) for a
//     configuration, the call falls back to our kernels (any other cuDNN error is thrown).
//     Semantics kept equal to the CPU kernel: the kernel must return the biased batch variance
//     (the front end turns it into the unbiased running update, tensor/ops/norm.cpp). cuDNN
//     returns mean and 1/sqrt(var + eps) as saveMean/saveInvVariance, and the unbiased variance
//     only through its running-variance update: it runs with zeroed scratch running tensors and
//     exponentialAverageFactor 1, so the running variance is exactly the unbiased batch variance,
//     and a small kernel rescales it by (M - 1) / M (M = N * S >= 2 in training: the front end
//     refuses M = 1; M = 0 never reaches cuDNN).
//
//   Our kernels otherwise. A channel's M = N * S values split into K chunks (K from the shape
//   only: enough blocks to fill the GPU with few channels, chunks of at least 8192 values); one
//   512-thread block per (channel, chunk) sums its chunk in double (norm_common.cuh) into a
//   partial, and one thread per channel adds its K partials in order, so every result is
//   deterministic (no atomics). Statistics are two-pass like the CPU's: Σ x gives a first mean
//   m0 (rounded to the compute type), then Σ (x - m0) and Σ (x - m0)^2 give mean and biased var
//   (kernels/norm_functors.h). The backward sums Σ g and Σ g (x - mean) the same way, turns them
//   into dweight, dbias and the dx coefficients, and one elementwise pass writes
//   dx = g * kg + (x - mean) * kx + c0; the forward's is y = (x - mean) * invstd * w + b.
//   Fused ReLU (CudaTable::batch_norm_relu_forward / _backward, batch_norm_relu): always our
//   kernels (cuDNN's legacy API has no activation). The forward's elementwise pass writes
//   relu((x - mean) * a + b); the backward's sums and dx pass read g through the ReLU mask,
//   recomputed from x, mean, a = invstd * w and b by the same functor as the forward
//   (kernels/norm_functors.h, shared with the CPU kernels), so the masked gradient is never stored.
//   Index math divides in 32 bits when every index fits. Known cost: for S = 1 ([N, C]) a
//   channel's values are strided by C, so the sums read uncoalesced; a column-tiled kernel for
//   that layout is the next optimization.
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
  bool narrow;  // every index fits 32 bits: the index math divides in 32 bits (much cheaper)
  __host__ __device__ int64_t count() const { return n * s; }  // values per channel
};

Ncs ncs_of(const Tensor& x) {
  Ncs sh{x.size(0), x.size(1), x.size(2), false};
  sh.narrow = sh.n * sh.c * sh.s < (int64_t{1} << 32);
  return sh;
}

// Element i of channel c (i < N * S) is element s = i - n * S of run n * C + c (n = i / S), at
// offset (n * C + c) * S + s.
struct ChannelElement {
  int64_t run, offset;
};
__device__ __forceinline__ ChannelElement channel_element(const Ncs& sh, int64_t c, int64_t i) {
  int64_t n;
  if (sh.narrow) n = static_cast<uint32_t>(i) / static_cast<uint32_t>(sh.s);
  else n = i / sh.s;
  const int64_t run = n * sh.c + c;
  return {run, run * sh.s + (i - n * sh.s)};
}

// The (n, c) run of flat element i (i / S) and its channel.
struct RunChannel {
  int64_t run, c;
};
__device__ __forceinline__ RunChannel run_channel(const Ncs& sh, int64_t i) {
  if (sh.narrow) {
    const uint32_t run = static_cast<uint32_t>(i) / static_cast<uint32_t>(sh.s);
    return {run, run % static_cast<uint32_t>(sh.c)};
  }
  const int64_t run = i / sh.s;
  return {run, run % sh.c};
}

// Each channel's M = N * S values split into K chunks (K from the shape only): enough (channel,
// chunk) blocks to fill the GPU when there are few channels, chunks of at least kMinChunk values.
constexpr int64_t kMinChunk = 8192;
constexpr int64_t kTargetBlocks = 2 * 132;
int64_t chunks_per_channel(const Ncs& sh) {
  const int64_t by_blocks = (kTargetBlocks + sh.c - 1) / sh.c;
  const int64_t by_size = std::max<int64_t>(1, sh.count() / kMinChunk);
  return std::max<int64_t>(1, std::min(by_blocks, by_size));
}

// ---- our kernels ----

// What a partial pass sums over a chunk of a channel's values.
enum class Pass : int {
  kSum,       // a = Σ x
  kCentered,  // a = Σ (x - m0), b = Σ (x - m0)^2, m0 = center[c]
  kGrad,      // a = Σ g, b = Σ g (x - mean[c]); g_per_run: g holds one value per (n, c) run
  kGradRelu,  // kGrad over the ReLU-masked g (batch_norm_relu; never per run)
};

// The forward's affine coefficients of channel c: a = invstd * w, shift = b (the ReLU mask's inputs).
template <class A>
struct Affine {
  const A* invstd;
  const A* w;
  const A* b;
  __device__ __forceinline__ A scale(int64_t c) const { return w ? invstd[c] * w[c] : invstd[c]; }
  __device__ __forceinline__ A shift(int64_t c) const { return b ? b[c] : A(0); }
};

// Block t = c * K + k (grid-stride) sums chunk k of channel c into partial[t] and
// partial[C * K + t], in a fixed order (thread strides, then the team sum).
template <class T, Pass P>
__global__ void __launch_bounds__(kBlockTeam) bn_partials_kernel(const T* x, const T* g, bool g_per_run, Ncs sh,
                                                                 int64_t chunks, const double* center,
                                                                 const Acc<T>* mean, Affine<Acc<T>> affine,
                                                                 double* partial) {
  using A = Acc<T>;
  __shared__ double smem[norm::kMaxWarpsPerBlock];
  const int64_t m = sh.count(), tasks = sh.c * chunks;
  for (int64_t t = blockIdx.x; t < tasks; t += gridDim.x) {
    const int64_t c = t / chunks, k = t - c * chunks;
    const int64_t lo = m * k / chunks, hi = m * (k + 1) / chunks;
    double ref = 0;
    if constexpr (P == Pass::kCentered) ref = center[c];
    if constexpr (P == Pass::kGrad || P == Pass::kGradRelu) ref = static_cast<double>(mean[c]);
    A mask_scale = A(0), mask_shift = A(0);
    if constexpr (P == Pass::kGradRelu) {
      mask_scale = affine.scale(c);
      mask_shift = affine.shift(c);
    }
    double a = 0, b = 0;
    for (int64_t i = lo + threadIdx.x; i < hi; i += kBlockTeam) {
      const ChannelElement e = channel_element(sh, c, i);
      const double xv = static_cast<double>(static_cast<A>(x[e.offset]));
      if constexpr (P == Pass::kSum) {
        a += xv;
      } else if constexpr (P == Pass::kCentered) {
        const double v = xv - ref;
        a += v;
        b += v * v;
      } else if constexpr (P == Pass::kGrad) {
        const double gv = static_cast<double>(static_cast<A>(g[g_per_run ? e.run : e.offset]));
        a += gv;
        b += gv * (xv - ref);
      } else {
        const double gv = static_cast<double>(kernels::batch_norm_relu_masked_grad(
            static_cast<A>(g[e.offset]), static_cast<A>(x[e.offset]), mean[c], mask_scale, mask_shift));
        a += gv;
        b += gv * (xv - ref);
      }
    }
    a = norm::team_sum<kBlockTeam>(a, smem);
    if constexpr (P != Pass::kSum) b = norm::team_sum<kBlockTeam>(b, smem);
    if (threadIdx.x == 0) {
      partial[t] = a;
      partial[tasks + t] = b;
    }
  }
}

// Σ over the K chunks of channel c, in order.
__device__ __forceinline__ double chunk_total(const double* part, int64_t c, int64_t chunks) {
  double s = 0;
  for (int64_t k = 0; k < chunks; ++k) s += part[c * chunks + k];
  return s;
}

// center[c] = the channel's first mean, rounded to the compute type as on the CPU.
template <class A>
__global__ void bn_center_kernel(const double* partial, Ncs sh, int64_t chunks, double* center) {
  const int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (c >= sh.c) return;
  const double m = static_cast<double>(sh.count());
  center[c] = m > 0 ? static_cast<double>(static_cast<A>(chunk_total(partial, c, chunks) / m)) : 0.0;
}

template <class A>
__global__ void bn_stats_kernel(const double* partial, Ncs sh, int64_t chunks, const double* center, double eps,
                                A* mean, A* invstd, A* var) {
  const int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (c >= sh.c) return;
  const int64_t tasks = sh.c * chunks;
  const kernels::NormMoments mo = kernels::norm_two_pass_moments(
      center[c], chunk_total(partial, c, chunks), chunk_total(partial + tasks, c, chunks),
      static_cast<double>(sh.count()));
  mean[c] = static_cast<A>(mo.mean);
  var[c] = static_cast<A>(mo.var);
  invstd[c] = static_cast<A>(kernels::norm_inv_std(mo.var, eps));
}

// dweight, dbias and the dx coefficients kg, kx, c0 (coef[c], coef[C + c], coef[2C + c]) of
// each channel, by the CPU's formula (kernels/norm_functors.h); partial null: no sums needed.
template <class A>
__global__ void bn_grad_coeffs_kernel(const double* partial, Ncs sh, int64_t chunks, bool training, const A* invstd,
                                      const A* w, A* dw, A* db, A* coef) {
  const int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (c >= sh.c) return;
  const double sg = partial ? chunk_total(partial, c, chunks) : 0.0;
  const double sgx = partial ? chunk_total(partial + sh.c * chunks, c, chunks) : 0.0;
  const double is = static_cast<double>(invstd[c]);
  if (dw) dw[c] = static_cast<A>(sgx * is);
  if (db) db[c] = static_cast<A>(sg);
  const kernels::BatchNormGradCoeffs k = kernels::batch_norm_grad_coeffs(
      w ? static_cast<double>(w[c]) : 1.0, is, sg, sgx, static_cast<double>(sh.count()), training);
  coef[c] = static_cast<A>(k.kg);
  coef[sh.c + c] = static_cast<A>(k.kx);
  coef[2 * sh.c + c] = static_cast<A>(k.c0);
}

// y = (x - mean[c]) * (invstd[c] * w[c]) + b[c] (Relu: relu of it), grid-stride over N * C * S.
template <class T, bool Relu>
__global__ void bn_normalize_kernel(const T* x, T* y, Ncs sh, const Acc<T>* mean, Affine<Acc<T>> affine) {
  using A = Acc<T>;
  const int64_t total = sh.n * sh.c * sh.s;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += step) {
    const int64_t c = run_channel(sh, i).c;
    const A xv = static_cast<A>(x[i]), a = affine.scale(c), shift = affine.shift(c);
    if constexpr (Relu) y[i] = static_cast<T>(kernels::batch_norm_relu_value(xv, mean[c], a, shift));
    else y[i] = static_cast<T>(kernels::batch_norm_pre_activation(xv, mean[c], a, shift));
  }
}

// dx = g * kg + (x - mean) * kx + c0 (Relu: g masked by the forward's ReLU, from `affine`).
template <class T, bool Relu>
__global__ void bn_grad_input_kernel(const T* g, bool g_per_run, const T* x, T* dx, Ncs sh, const Acc<T>* mean,
                                     Affine<Acc<T>> affine, const Acc<T>* coef) {
  using A = Acc<T>;
  const int64_t total = sh.n * sh.c * sh.s;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += step) {
    const RunChannel rc = run_channel(sh, i);
    const int64_t c = rc.c;
    const A xv = static_cast<A>(x[i]);
    A gv;
    if constexpr (Relu)
      gv = kernels::batch_norm_relu_masked_grad(static_cast<A>(g[i]), xv, mean[c], affine.scale(c), affine.shift(c));
    else
      gv = static_cast<A>(g_per_run ? g[rc.run] : g[i]);
    dx[i] = static_cast<T>(gv * coef[c] + (xv - mean[c]) * coef[sh.c + c] + coef[2 * sh.c + c]);
  }
}

unsigned blocks_for(int64_t tasks) { return static_cast<unsigned>(std::min<int64_t>(tasks, kMaxBlocks)); }
unsigned per_channel_grid(int64_t c) { return static_cast<unsigned>((c + kThreads - 1) / kThreads); }

void own_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, bool compute_stats, double eps,
                 const Tensor& mean, const Tensor& invstd, const Tensor& var, const Tensor& out, bool relu,
                 cudaStream_t stream) {
  const Ncs sh = ncs_of(x);
  if (sh.c == 0) return;
  visit_floating(x.dtype(), relu ? "batch_norm_relu" : "batch_norm", [&]<class T>() {
    using A = Acc<T>;
    if (compute_stats) {
      const int64_t chunks = chunks_per_channel(sh), tasks = sh.c * chunks;
      const Tensor scratch = empty({2 * tasks + sh.c}, {.dtype = DType::F64, .device = x.device()});
      double* partial = dptr<double>(scratch);
      double* center = partial + 2 * tasks;
      bn_partials_kernel<T, Pass::kSum><<<blocks_for(tasks), kBlockTeam, 0, stream>>>(
          dptr<T>(x), nullptr, false, sh, chunks, nullptr, nullptr, Affine<A>{}, partial);
      STRATA_CUDA_LAUNCH_CHECK(stream);
      bn_center_kernel<A><<<per_channel_grid(sh.c), kThreads, 0, stream>>>(partial, sh, chunks, center);
      STRATA_CUDA_LAUNCH_CHECK(stream);
      bn_partials_kernel<T, Pass::kCentered><<<blocks_for(tasks), kBlockTeam, 0, stream>>>(
          dptr<T>(x), nullptr, false, sh, chunks, center, nullptr, Affine<A>{}, partial);
      STRATA_CUDA_LAUNCH_CHECK(stream);
      bn_stats_kernel<A><<<per_channel_grid(sh.c), kThreads, 0, stream>>>(partial, sh, chunks, center, eps,
                                                                          dptr<A>(mean), dptr<A>(invstd),
                                                                          dptr<A>(var));
      STRATA_CUDA_LAUNCH_CHECK(stream);
    }
    const int64_t total = sh.n * sh.c * sh.s;
    if (total == 0) return;
    const Affine<A> affine{dptr<A>(invstd), ptr_or_null<A>(weight), ptr_or_null<A>(bias)};
    if (relu) {
      bn_normalize_kernel<T, true><<<grid_for(total, kThreads), kThreads, 0, stream>>>(dptr<T>(x), dptr<T>(out), sh,
                                                                                       dptr<A>(mean), affine);
    } else {
      bn_normalize_kernel<T, false><<<grid_for(total, kThreads), kThreads, 0, stream>>>(dptr<T>(x), dptr<T>(out), sh,
                                                                                        dptr<A>(mean), affine);
    }
    STRATA_CUDA_LAUNCH_CHECK(stream);
  });
}

// relu: batch_norm_relu's backward (bias defined or not: the mask's shift); g is then never per run.
void own_backward(const Tensor& grad, const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& mean,
                  const Tensor& invstd, bool training, const Tensor& dx, const Tensor& dweight, const Tensor& dbias,
                  bool relu, cudaStream_t stream) {
  const Ncs sh = ncs_of(x);
  if (sh.c == 0) return;
  const bool g_per_run = !relu && grad.size(2) == 1 && sh.s > 1;
  const bool need_sums = (training && dx.defined()) || dweight.defined() || dbias.defined();
  visit_floating(x.dtype(), relu ? "batch_norm_relu_backward" : "batch_norm_backward", [&]<class T>() {
    using A = Acc<T>;
    const int64_t chunks = chunks_per_channel(sh), tasks = sh.c * chunks;
    const Tensor coef = empty({3 * sh.c}, {.dtype = dtype_of<A>(), .device = x.device()});
    const Affine<A> affine{dptr<A>(invstd), ptr_or_null<A>(weight), ptr_or_null<A>(bias)};
    Tensor scratch;
    double* partial = nullptr;
    if (need_sums) {
      scratch = empty({2 * tasks}, {.dtype = DType::F64, .device = x.device()});
      partial = dptr<double>(scratch);
      if (relu) {
        bn_partials_kernel<T, Pass::kGradRelu><<<blocks_for(tasks), kBlockTeam, 0, stream>>>(
            dptr<T>(x), dptr<T>(grad), false, sh, chunks, nullptr, dptr<A>(mean), affine, partial);
      } else {
        bn_partials_kernel<T, Pass::kGrad><<<blocks_for(tasks), kBlockTeam, 0, stream>>>(
            dptr<T>(x), dptr<T>(grad), g_per_run, sh, chunks, nullptr, dptr<A>(mean), Affine<A>{}, partial);
      }
      STRATA_CUDA_LAUNCH_CHECK(stream);
    }
    bn_grad_coeffs_kernel<A><<<per_channel_grid(sh.c), kThreads, 0, stream>>>(
        partial, sh, chunks, training, dptr<A>(invstd), ptr_or_null<A>(weight), mut_ptr_or_null<A>(dweight),
        mut_ptr_or_null<A>(dbias), dptr<A>(coef));
    STRATA_CUDA_LAUNCH_CHECK(stream);
    const int64_t total = sh.n * sh.c * sh.s;
    if (!dx.defined() || total == 0) return;
    if (relu) {
      bn_grad_input_kernel<T, true><<<grid_for(total, kThreads), kThreads, 0, stream>>>(
          dptr<T>(grad), false, dptr<T>(x), dptr<T>(dx), sh, dptr<A>(mean), affine, dptr<A>(coef));
    } else {
      bn_grad_input_kernel<T, false><<<grid_for(total, kThreads), kThreads, 0, stream>>>(
          dptr<T>(grad), g_per_run, dptr<T>(x), dptr<T>(dx), sh, dptr<A>(mean), affine, dptr<A>(coef));
    }
    STRATA_CUDA_LAUNCH_CHECK(stream);
  });
}

// ---- cuDNN ----

#if STRATA_WITH_CUDNN

bool cudnn_dtype(DType dt) { return dt == DType::F32 || dt == DType::F16; }

// CUDNN_STATUS_NOT_SUPPORTED and its refinements (3000-3999 in cuDNN 9).
bool not_supported(cudnnStatus_t s) {
  const int code = static_cast<int>(s);
  return code >= static_cast<int>(CUDNN_STATUS_NOT_SUPPORTED) && code < static_cast<int>(CUDNN_STATUS_NOT_SUPPORTED) + 1000;
}

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
  if (not_supported(s)) return false;
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
  if (not_supported(s)) return false;
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
  own_forward(x, weight, bias, compute_stats, eps, mean, invstd, var, out, false, stream);
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
  own_backward(grad, x, weight, Tensor(), mean, invstd, training, dx, dweight, dbias, false, stream);
}

void batch_norm_relu_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, bool compute_stats,
                             double eps, const Tensor& mean, const Tensor& invstd, const Tensor& var,
                             const Tensor& out) {
  DeviceGuard guard(x.device().index);
  own_forward(x, weight, bias, compute_stats, eps, mean, invstd, var, out, true, stream_for(x.device()));
}

void batch_norm_relu_backward(const Tensor& grad, const Tensor& x, const Tensor& weight, const Tensor& bias,
                              const Tensor& mean, const Tensor& invstd, bool training, const Tensor& dx,
                              const Tensor& dweight, const Tensor& dbias) {
  DeviceGuard guard(x.device().index);
  own_backward(grad, x, weight, bias, mean, invstd, training, dx, dweight, dbias, true, stream_for(x.device()));
}

const bool g_registered = register_kernels([](kernels::CudaTable& t) {
  t.batch_norm_forward = &batch_norm_forward;
  t.batch_norm_backward = &batch_norm_backward;
  t.batch_norm_relu_forward = &batch_norm_relu_forward;
  t.batch_norm_relu_backward = &batch_norm_relu_backward;
});

}  // namespace
}  // namespace strata::cuda
