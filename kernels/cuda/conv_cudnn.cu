// The conv family through cuDNN (ConvAlgorithm::cudnn, and automatic in builds with cuDNN):
// descriptors for x / w / y, one convolution descriptor (padding, stride, dilation, groups,
// CUDNN_CROSS_CORRELATION: PyTorch's conv is a correlation), then cudnnConvolutionForward /
// BackwardData / BackwardFilter; a bias is added by cudnnAddTensor.
//
// Algorithms: cuDNN's heuristics (cudnnGet*Algorithm_v7, no trial runs, so the choice is the same
// on every run) ranked list, first entry that succeeds, fits kMaxWorkspace and uses no TF32;
// cached per (product, device, dtype, shapes, geometry) in a mutex-protected map, so the query
// runs once per layer shape. Math: f32 runs with CUDNN_FMA_MATH (no TF32 tensor cores: results
// comparable with the CPU; a global TF32 switch would relax this), f64 with the default. The
// workspace is a Strata tensor from the caching allocator, stream-ordered like any other.
// Compiled only in builds with cuDNN (STRATA_WITH_CUDNN).
#if STRATA_WITH_CUDNN
#include <array>
#include <map>
#include <mutex>
#include <vector>

#include "kernels/cuda/conv_cuda.h"
#include "kernels/cuda/cuda_api.h"
#include "kernels/cuda/cudnn_common.h"
#include "tensor/error.h"

namespace strata::cuda {
namespace {

using kernels::ConvGeometry;

constexpr size_t kMaxWorkspace = size_t{1} << 30;  // algorithms wanting more are passed over

enum class Product : int64_t { forward, backward_data, backward_filter };

class FilterDesc {
 public:
  FilterDesc(const Tensor& w, const char* op) {
    int dims[4];
    for (int i = 0; i < 4; ++i) {
      STRATA_CHECK(w.size(i) <= INT32_MAX, ShapeError, "{}: cuDNN filters take 32-bit sizes (weight {})", op,
                   w.shape());
      dims[i] = static_cast<int>(w.size(i));
    }
    STRATA_CUDNN_CHECK(cudnnCreateFilterDescriptor(&desc_));
    const cudnnStatus_t s = cudnnSetFilter4dDescriptor(desc_, cudnn_data_type(w.dtype(), op), CUDNN_TENSOR_NCHW,
                                                       dims[0], dims[1], dims[2], dims[3]);
    if (s != CUDNN_STATUS_SUCCESS) {
      cudnnDestroyFilterDescriptor(desc_);
      throw_cudnn_error(s, "cudnnSetFilter4dDescriptor", __FILE__, __LINE__);
    }
  }
  ~FilterDesc() { cudnnDestroyFilterDescriptor(desc_); }
  FilterDesc(const FilterDesc&) = delete;
  FilterDesc& operator=(const FilterDesc&) = delete;
  cudnnFilterDescriptor_t get() const { return desc_; }

 private:
  cudnnFilterDescriptor_t desc_ = nullptr;
};

class ConvDesc {
 public:
  ConvDesc(const ConvGeometry& g, DType dtype, const char* op) {
    const int64_t v[7] = {g.pad_h, g.pad_w, g.stride_h, g.stride_w, g.dil_h, g.dil_w, g.groups};
    for (int64_t x : v)
      STRATA_CHECK(x <= INT32_MAX, ValueError, "{}: cuDNN takes 32-bit padding, stride, dilation and groups", op);
    STRATA_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&desc_));
    try {
      STRATA_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(
          desc_, static_cast<int>(g.pad_h), static_cast<int>(g.pad_w), static_cast<int>(g.stride_h),
          static_cast<int>(g.stride_w), static_cast<int>(g.dil_h), static_cast<int>(g.dil_w),
          CUDNN_CROSS_CORRELATION, cudnn_data_type(dtype, op)));
      STRATA_CUDNN_CHECK(cudnnSetConvolutionGroupCount(desc_, static_cast<int>(g.groups)));
      set_math(dtype == DType::F32 ? CUDNN_FMA_MATH : CUDNN_DEFAULT_MATH);
    } catch (...) {
      cudnnDestroyConvolutionDescriptor(desc_);
      throw;
    }
  }
  ~ConvDesc() { cudnnDestroyConvolutionDescriptor(desc_); }
  ConvDesc(const ConvDesc&) = delete;
  ConvDesc& operator=(const ConvDesc&) = delete;
  cudnnConvolutionDescriptor_t get() const { return desc_; }
  void set_math(cudnnMathType_t m) { STRATA_CUDNN_CHECK(cudnnSetConvolutionMathType(desc_, m)); }

 private:
  cudnnConvolutionDescriptor_t desc_ = nullptr;
};

CudnnTensorDesc tensor_desc(const Tensor& t, const char* op) {
  int64_t sizes[4], strides[4];
  for (int i = 0; i < 4; ++i) {
    sizes[i] = t.size(i);
    strides[i] = t.strides()[i];
  }
  return CudnnTensorDesc(t.dtype(), sizes, strides, op);
}

// ---- the algorithm cache ----
struct Choice {
  int algo = 0;
  size_t workspace = 0;
  cudnnMathType_t math = CUDNN_DEFAULT_MATH;
};

using Key = std::array<int64_t, 22>;

// x / w / y in the forward direction's roles (backward_data: gx / w / gy).
Key key_of(Product p, const Tensor& x, const Tensor& w, const Tensor& y, const ConvGeometry& g) {
  Key k{};
  int i = 0;
  k[i++] = static_cast<int64_t>(p);
  k[i++] = y.device().index;
  k[i++] = static_cast<int64_t>(y.dtype());
  for (const Tensor* t : {&x, &w, &y})
    for (int d = 0; d < 4; ++d) k[i++] = t->size(d);
  for (int64_t v : {g.stride_h, g.stride_w, g.pad_h, g.pad_w, g.dil_h, g.dil_w, g.groups}) k[i++] = v;
  return k;
}

std::mutex g_cache_mutex;
std::map<Key, Choice> g_cache;

// f32 must not run on TF32 tensor cores; f64 may take any math.
bool math_allowed(cudnnMathType_t m, DType dtype) { return dtype != DType::F32 || m == CUDNN_FMA_MATH; }

// The first of cuDNN's ranked perf results that is usable, else `fallback` (with its workspace).
template <class Perf>
Choice pick(const std::vector<Perf>& perf, int returned, DType dtype, int fallback, size_t fallback_workspace) {
  for (int i = 0; i < returned; ++i) {
    const Perf& p = perf[i];
    if (p.status == CUDNN_STATUS_SUCCESS && p.memory <= kMaxWorkspace && math_allowed(p.mathType, dtype))
      return {static_cast<int>(p.algo), p.memory, p.mathType};
  }
  return {fallback, fallback_workspace, dtype == DType::F32 ? CUDNN_FMA_MATH : CUDNN_DEFAULT_MATH};
}

// Looks `key` up; on a miss runs `query` (under the lock: the first call per shape pays once).
template <class Query>
Choice cached(const Key& key, Query&& query) {
  std::lock_guard<std::mutex> lock(g_cache_mutex);
  auto it = g_cache.find(key);
  if (it != g_cache.end()) return it->second;
  const Choice c = query();
  g_cache.emplace(key, c);
  return c;
}

Tensor workspace_for(size_t bytes, Device device) {
  if (bytes == 0) return Tensor();
  return empty({static_cast<int64_t>(bytes)}, {.dtype = DType::U8, .device = device});
}

void* raw(const Tensor& t) { return t.defined() ? t.raw_data() : nullptr; }

// alpha / beta scalars: cuDNN reads them as double for f64 data, float otherwise.
struct Scalars {
  float f[2] = {0.0f, 1.0f};
  double d[2] = {0.0, 1.0};
  const void* zero(DType dt) const { return dt == DType::F64 ? static_cast<const void*>(&d[0]) : &f[0]; }
  const void* one(DType dt) const { return dt == DType::F64 ? static_cast<const void*>(&d[1]) : &f[1]; }
};

// out += bias over channel dim 1 (undefined bias: nothing).
void add_bias(cudnnHandle_t h, const Tensor& bias, const Tensor& out, const cudnnTensorDescriptor_t out_desc,
              const char* op) {
  if (!bias.defined()) return;
  const int64_t c = out.size(1);
  const int64_t sizes[4] = {1, c, 1, 1}, strides[4] = {c, 1, 1, 1};
  const CudnnTensorDesc bd(bias.dtype(), sizes, strides, op);
  const Scalars s;
  STRATA_CUDNN_CHECK(cudnnAddTensor(h, s.one(out.dtype()), bd.get(), bias.raw_data(), s.one(out.dtype()), out_desc,
                                    out.raw_data()));
}

}  // namespace

void conv2d_forward_cudnn(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& y,
                          const ConvGeometry& g) {
  const char* op = "conv2d";
  DeviceGuard guard(y.device().index);
  const cudnnHandle_t h = cudnn_handle_for(y.device());
  const CudnnTensorDesc xd = tensor_desc(x, op), yd = tensor_desc(y, op);
  const FilterDesc wd(w, op);
  ConvDesc cd(g, y.dtype(), op);
  const Choice c = cached(key_of(Product::forward, x, w, y, g), [&] {
    int max_count = 0, returned = 0;
    STRATA_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithmMaxCount(h, &max_count));
    std::vector<cudnnConvolutionFwdAlgoPerf_t> perf(static_cast<size_t>(std::max(max_count, 1)));
    STRATA_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(h, xd.get(), wd.get(), cd.get(), yd.get(),
                                                              static_cast<int>(perf.size()), &returned, perf.data()));
    size_t fallback_ws = 0;
    STRATA_CUDNN_CHECK(cudnnGetConvolutionForwardWorkspaceSize(h, xd.get(), wd.get(), cd.get(), yd.get(),
                                                               CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, &fallback_ws));
    return pick(perf, returned, y.dtype(), CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, fallback_ws);
  });
  cd.set_math(c.math);
  const Tensor ws = workspace_for(c.workspace, y.device());
  const Scalars s;
  STRATA_CUDNN_CHECK(cudnnConvolutionForward(h, s.one(y.dtype()), xd.get(), x.raw_data(), wd.get(), w.raw_data(),
                                             cd.get(), static_cast<cudnnConvolutionFwdAlgo_t>(c.algo), raw(ws),
                                             c.workspace, s.zero(y.dtype()), yd.get(), y.raw_data()));
  add_bias(h, bias, y, yd.get(), op);
}

void conv2d_backward_data_cudnn(const Tensor& gy, const Tensor& w, const Tensor& bias, const Tensor& gx,
                                const ConvGeometry& g) {
  const char* op = "conv_transpose2d";
  DeviceGuard guard(gx.device().index);
  const cudnnHandle_t h = cudnn_handle_for(gx.device());
  const CudnnTensorDesc gyd = tensor_desc(gy, op), gxd = tensor_desc(gx, op);
  const FilterDesc wd(w, op);
  ConvDesc cd(g, gx.dtype(), op);
  const Choice c = cached(key_of(Product::backward_data, gx, w, gy, g), [&] {
    int max_count = 0, returned = 0;
    STRATA_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithmMaxCount(h, &max_count));
    std::vector<cudnnConvolutionBwdDataAlgoPerf_t> perf(static_cast<size_t>(std::max(max_count, 1)));
    STRATA_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(
        h, wd.get(), gyd.get(), cd.get(), gxd.get(), static_cast<int>(perf.size()), &returned, perf.data()));
    size_t fallback_ws = 0;
    STRATA_CUDNN_CHECK(cudnnGetConvolutionBackwardDataWorkspaceSize(h, wd.get(), gyd.get(), cd.get(), gxd.get(),
                                                                    CUDNN_CONVOLUTION_BWD_DATA_ALGO_1, &fallback_ws));
    return pick(perf, returned, gx.dtype(), CUDNN_CONVOLUTION_BWD_DATA_ALGO_1, fallback_ws);
  });
  cd.set_math(c.math);
  const Tensor ws = workspace_for(c.workspace, gx.device());
  const Scalars s;
  STRATA_CUDNN_CHECK(cudnnConvolutionBackwardData(h, s.one(gx.dtype()), wd.get(), w.raw_data(), gyd.get(),
                                                  gy.raw_data(), cd.get(),
                                                  static_cast<cudnnConvolutionBwdDataAlgo_t>(c.algo), raw(ws),
                                                  c.workspace, s.zero(gx.dtype()), gxd.get(), gx.raw_data()));
  add_bias(h, bias, gx, gxd.get(), op);
}

void conv2d_backward_weight_cudnn(const Tensor& x, const Tensor& gy, const Tensor& gw, const ConvGeometry& g) {
  const char* op = "conv2d_backward";
  DeviceGuard guard(gw.device().index);
  const cudnnHandle_t h = cudnn_handle_for(gw.device());
  const CudnnTensorDesc xd = tensor_desc(x, op), gyd = tensor_desc(gy, op);
  const FilterDesc wd(gw, op);
  ConvDesc cd(g, gw.dtype(), op);
  const Choice c = cached(key_of(Product::backward_filter, x, gw, gy, g), [&] {
    int max_count = 0, returned = 0;
    STRATA_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(h, &max_count));
    std::vector<cudnnConvolutionBwdFilterAlgoPerf_t> perf(static_cast<size_t>(std::max(max_count, 1)));
    STRATA_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(
        h, xd.get(), gyd.get(), cd.get(), wd.get(), static_cast<int>(perf.size()), &returned, perf.data()));
    size_t fallback_ws = 0;
    STRATA_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterWorkspaceSize(
        h, xd.get(), gyd.get(), cd.get(), wd.get(), CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1, &fallback_ws));
    return pick(perf, returned, gw.dtype(), CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1, fallback_ws);
  });
  cd.set_math(c.math);
  const Tensor ws = workspace_for(c.workspace, gw.device());
  const Scalars s;
  STRATA_CUDNN_CHECK(cudnnConvolutionBackwardFilter(h, s.one(gw.dtype()), xd.get(), x.raw_data(), gyd.get(),
                                                    gy.raw_data(), cd.get(),
                                                    static_cast<cudnnConvolutionBwdFilterAlgo_t>(c.algo), raw(ws),
                                                    c.workspace, s.zero(gw.dtype()), wd.get(), gw.raw_data()));
}

}  // namespace strata::cuda
#endif  // STRATA_WITH_CUDNN
