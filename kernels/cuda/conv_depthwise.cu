// Depthwise convolutions (one input and one output channel per group: groups == Cin == Cout) for
// ConvAlgorithm::implicit_gemm. The implicit GEMM would compute them with one useful column in its
// 64-wide tiles, so they run direct kernels instead (still Strata's own code, still exact sums in
// a fixed order):
//   forward          one thread per output element: the kh x kw window times the channel's filter
//   backward_data    one thread per input element: the gather form of the transposed conv (the
//                    window positions whose output position divides by the stride)
//   backward_weight  one 256-thread block per filter tap (c, r, s): each thread strides over
//                    N * Ho * Wo, then a shared-memory tree adds the 256 partial sums (fixed
//                    order: deterministic)
// f32 accumulates in f32, f64 in f64; offsets are 64-bit, the sizes 32-bit (checked).
#include <climits>

#include "kernels/cuda/conv_cuda.h"
#include "kernels/cuda/cuda_api.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/stream_internal.h"
#include "tensor/error.h"

namespace strata::cuda {
namespace {

constexpr int kThreads = 256;

struct DwDims {
  int n, c, h, w, ho, wo, kh, kw, sh, sw, ph, pw, dh, dw;
};

DwDims dw_dims(const Tensor& x, const Tensor& w, const Tensor& y, const kernels::ConvGeometry& g, const char* op) {
  const int64_t v[14] = {x.size(0), x.size(1), x.size(2), x.size(3), y.size(2), y.size(3), w.size(2),
                         w.size(3), g.stride_h, g.stride_w, g.pad_h, g.pad_w, g.dil_h, g.dil_w};
  for (int64_t e : v)
    STRATA_CHECK(e <= INT32_MAX, DeviceError, "{}: a size of {} exceeds the depthwise kernels' 32-bit sizes", op, e);
  STRATA_CHECK(x.size(2) * x.size(3) <= INT32_MAX && y.size(2) * y.size(3) <= INT32_MAX, DeviceError,
               "{}: an image plane exceeds the depthwise kernels' 32-bit sizes (input {}, output {})", op, x.shape(),
               y.shape());
  return {static_cast<int>(v[0]),  static_cast<int>(v[1]),  static_cast<int>(v[2]),  static_cast<int>(v[3]),
          static_cast<int>(v[4]),  static_cast<int>(v[5]),  static_cast<int>(v[6]),  static_cast<int>(v[7]),
          static_cast<int>(v[8]),  static_cast<int>(v[9]),  static_cast<int>(v[10]), static_cast<int>(v[11]),
          static_cast<int>(v[12]), static_cast<int>(v[13])};
}

template <class T>
__global__ void depthwise_forward_kernel(const T* x, const T* w, const T* bias, T* y, DwDims d, int64_t total) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t plane = i / (d.ho * d.wo);  // n * C + c
    const int p = static_cast<int>(i - plane * (d.ho * d.wo)), oh = p / d.wo, ow = p - oh * d.wo;
    const int c = static_cast<int>(plane % d.c);
    const T* xp = x + plane * d.h * d.w;
    const T* wp = w + static_cast<int64_t>(c) * d.kh * d.kw;
    T s = T(0);
    for (int r = 0; r < d.kh; ++r) {
      const int ih = oh * d.sh - d.ph + r * d.dh;
      if (ih < 0 || ih >= d.h) continue;
      for (int q = 0; q < d.kw; ++q) {
        const int iw = ow * d.sw - d.pw + q * d.dw;
        if (iw >= 0 && iw < d.w) s += xp[ih * d.w + iw] * wp[r * d.kw + q];
      }
    }
    y[i] = bias ? s + bias[c] : s;
  }
}

template <class T>
__global__ void depthwise_backward_data_kernel(const T* gy, const T* w, const T* bias, T* gx, DwDims d,
                                               int64_t total) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t plane = i / (d.h * d.w);
    const int p = static_cast<int>(i - plane * (d.h * d.w)), ih = p / d.w, iw = p - ih * d.w;
    const int c = static_cast<int>(plane % d.c);
    const T* gp = gy + plane * d.ho * d.wo;
    const T* wp = w + static_cast<int64_t>(c) * d.kh * d.kw;
    T s = T(0);
    for (int r = 0; r < d.kh; ++r) {
      const int th = ih + d.ph - r * d.dh;  // = oh * sh when tap r of output row oh reads row ih
      if (th < 0) continue;
      const int oh = th / d.sh;
      if (oh * d.sh != th || oh >= d.ho) continue;
      for (int q = 0; q < d.kw; ++q) {
        const int tw = iw + d.pw - q * d.dw;
        if (tw < 0) continue;
        const int ow = tw / d.sw;
        if (ow * d.sw == tw && ow < d.wo) s += gp[oh * d.wo + ow] * wp[r * d.kw + q];
      }
    }
    gx[i] = bias ? s + bias[c] : s;
  }
}

// One block per tap j = (c, r, q) of gw [C, 1, kh, kw].
template <class T>
__global__ void __launch_bounds__(kThreads)
    depthwise_backward_weight_kernel(const T* x, const T* gy, T* gw, DwDims d) {
  __shared__ T partial[kThreads];
  const int kk = d.kh * d.kw, j = blockIdx.x, c = j / kk, rs = j - c * kk, r = rs / d.kw, q = rs - r * d.kw;
  const int hw = d.ho * d.wo;
  const int64_t pixels = static_cast<int64_t>(d.n) * hw;
  T s = T(0);
  for (int64_t k = threadIdx.x; k < pixels; k += kThreads) {
    const int n = static_cast<int>(k / hw), p = static_cast<int>(k - static_cast<int64_t>(n) * hw);
    const int oh = p / d.wo, ow = p - oh * d.wo;
    const int ih = oh * d.sh - d.ph + r * d.dh, iw = ow * d.sw - d.pw + q * d.dw;
    if (ih < 0 || ih >= d.h || iw < 0 || iw >= d.w) continue;
    const int64_t plane = static_cast<int64_t>(n) * d.c + c;
    s += gy[plane * hw + p] * x[plane * d.h * d.w + ih * d.w + iw];
  }
  partial[threadIdx.x] = s;
  __syncthreads();
  for (int stride = kThreads / 2; stride > 0; stride >>= 1) {
    if (static_cast<int>(threadIdx.x) < stride) partial[threadIdx.x] += partial[threadIdx.x + stride];
    __syncthreads();
  }
  if (threadIdx.x == 0) gw[j] = partial[0];
}

template <class T>
const T* ptr(const Tensor& t) {
  return t.defined() ? static_cast<const T*>(t.raw_data()) : nullptr;
}

template <class T>
void forward_typed(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& y,
                   const kernels::ConvGeometry& g) {
  const DwDims d = dw_dims(x, w, y, g, "conv2d");
  const int64_t total = y.numel();
  const cudaStream_t stream = stream_for(y.device());
  depthwise_forward_kernel<T><<<grid_for(total, kThreads), kThreads, 0, stream>>>(
      ptr<T>(x), ptr<T>(w), ptr<T>(bias), static_cast<T*>(y.raw_data()), d, total);
  STRATA_CUDA_LAUNCH_CHECK(stream);
}

template <class T>
void backward_data_typed(const Tensor& gy, const Tensor& w, const Tensor& bias, const Tensor& gx,
                         const kernels::ConvGeometry& g) {
  const DwDims d = dw_dims(gx, w, gy, g, "conv_transpose2d");
  const int64_t total = gx.numel();
  const cudaStream_t stream = stream_for(gx.device());
  depthwise_backward_data_kernel<T><<<grid_for(total, kThreads), kThreads, 0, stream>>>(
      ptr<T>(gy), ptr<T>(w), ptr<T>(bias), static_cast<T*>(gx.raw_data()), d, total);
  STRATA_CUDA_LAUNCH_CHECK(stream);
}

template <class T>
void backward_weight_typed(const Tensor& x, const Tensor& gy, const Tensor& gw, const kernels::ConvGeometry& g) {
  const DwDims d = dw_dims(x, gw, gy, g, "conv2d_backward");
  const int64_t taps = gw.numel();
  STRATA_CHECK(taps <= INT32_MAX, DeviceError, "conv2d_backward: {} filter taps exceed the depthwise grid", taps);
  const cudaStream_t stream = stream_for(gw.device());
  depthwise_backward_weight_kernel<T><<<static_cast<unsigned>(taps), kThreads, 0, stream>>>(
      ptr<T>(x), ptr<T>(gy), static_cast<T*>(gw.raw_data()), d);
  STRATA_CUDA_LAUNCH_CHECK(stream);
}

}  // namespace

bool conv2d_is_depthwise(const Tensor& x, const Tensor& w, const kernels::ConvGeometry& g) {
  return x.size(1) == g.groups && w.size(0) == g.groups && w.size(1) == 1;
}

void conv2d_forward_depthwise(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& y,
                              const kernels::ConvGeometry& g) {
  if (y.numel() == 0) return;
  DeviceGuard guard(y.device().index);
  if (y.dtype() == DType::F64) return forward_typed<double>(x, w, bias, y, g);
  forward_typed<float>(x, w, bias, y, g);
}

void conv2d_backward_data_depthwise(const Tensor& gy, const Tensor& w, const Tensor& bias, const Tensor& gx,
                                    const kernels::ConvGeometry& g) {
  if (gx.numel() == 0) return;
  DeviceGuard guard(gx.device().index);
  if (gx.dtype() == DType::F64) return backward_data_typed<double>(gy, w, bias, gx, g);
  backward_data_typed<float>(gy, w, bias, gx, g);
}

void conv2d_backward_weight_depthwise(const Tensor& x, const Tensor& gy, const Tensor& gw,
                                      const kernels::ConvGeometry& g) {
  if (gw.numel() == 0) return;
  DeviceGuard guard(gw.device().index);
  if (gw.dtype() == DType::F64) return backward_weight_typed<double>(x, gy, gw, g);
  backward_weight_typed<float>(x, gy, gw, g);
}

}  // namespace strata::cuda
