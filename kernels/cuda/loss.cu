// CUDA kernels of the fused class-index losses (CudaTable::find_invalid_class_target,
// cross_entropy_forward/backward, nll_loss_forward/backward; semantics in kernels/loss.h, CPU twin
// in kernels/cpu/loss.cpp, per-item formulas shared through kernels/loss_functors.h).
//
// cross_entropy forward: one pass over each row of logits keeps a running (max, sum of exp) and,
// with label smoothing, sum_c w[c] x[c]; one group combine; then one thread reads the target
// logit and writes the item's loss, weight and lse (the backward reuses lse). The reduction over
// items (sum / weighted mean) is the front end's sum() on the CUDA reduction kernel: a block
// reduction in a fixed order, no float atomics, so losses are deterministic.
// cross_entropy backward: one write pass, grad[c] = a * exp(x[c] - lse) - b * w[c] (- d at the
// target), with the item's a, b, d from cross_entropy_grad_coef.
// nll_loss: one thread per item (forward) or per gradient element (backward).
// Rows vs lanes and the row groups are those of softmax_common.cuh. The sum of the class weights
// W (label smoothing with weights) is reduced once per call by a one-block kernel on the device,
// so no weight ever travels to the host.
// find_invalid_class_target: every thread checks its targets and folds the smallest bad index
// with an integer atomicMin (order-independent, so exact); the host reads one integer back.
#include <cmath>
#include <limits>

#include "kernels/cuda/softmax_common.cuh"

namespace strata::cuda {
namespace {

using namespace softmax_detail;
using kernels::ClassTargets;
using kernels::CrossEntropyCoeffs;

// ---- target validation ----
template <class TI>
__global__ void __launch_bounds__(kBlock) find_invalid_kernel(const TI* t, int64_t n, int64_t classes,
                                                              int64_t ignore_index, unsigned long long* first_bad) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) {
    const int64_t v = static_cast<int64_t>(t[i]);
    if ((v < 0 || v >= classes) && v != ignore_index) {
      atomicMin(first_bad, static_cast<unsigned long long>(i));
      return;  // later i of this thread are larger
    }
  }
}

int64_t find_invalid_class_target(const Tensor& target, int64_t num_classes, int64_t ignore_index) {
  const int64_t n = target.numel();
  if (n == 0) return -1;
  DeviceGuard guard(target.device().index);
  const cudaStream_t stream = stream_for(target.device());
  Tensor result = empty({1}, {.dtype = DType::I64, .device = target.device()});
  auto* rp = static_cast<unsigned long long*>(result.raw_data());
  STRATA_CUDA_CHECK(cudaMemsetAsync(rp, 0xff, sizeof(unsigned long long), stream));  // "none found"
  if (target.dtype() == DType::I32) {
    find_invalid_kernel<<<grid_for(n, kBlock), kBlock, 0, stream>>>(static_cast<const int32_t*>(target.raw_data()), n,
                                                                     num_classes, ignore_index, rp);
  } else {
    find_invalid_kernel<<<grid_for(n, kBlock), kBlock, 0, stream>>>(static_cast<const int64_t*>(target.raw_data()), n,
                                                                     num_classes, ignore_index, rp);
  }
  STRATA_CUDA_LAUNCH_CHECK(stream);
  unsigned long long host = 0;
  STRATA_CUDA_CHECK(cudaMemcpyAsync(&host, rp, sizeof(host), cudaMemcpyDeviceToHost, stream));
  STRATA_CUDA_CHECK(cudaStreamSynchronize(stream));
  return host == std::numeric_limits<unsigned long long>::max() ? -1 : static_cast<int64_t>(host);
}

// ---- W = sum of the class weights: one block, fixed order ----
template <class CT>
__global__ void __launch_bounds__(kBlock) total_weight_kernel(const CT* w, int64_t C, CT* out) {
  __shared__ CT smem[kBlock / 32];
  CT acc = 0;
  for (int64_t c = threadIdx.x; c < C; c += kBlock) acc += w[c];
  acc = group_sum<kBlock>(acc, smem);
  if (threadIdx.x == 0) *out = acc;
}

// The device view of the targets; `keep` holds the W scalar's storage for the call.
template <class CT>
DeviceTargets<CT> device_targets(const ClassTargets& t, int64_t C, cudaStream_t stream, Tensor& keep) {
  DeviceTargets<CT> d{t.target.raw_data(), t.target.dtype() == DType::I32, t.ignore_index, nullptr, nullptr};
  if (t.weight.defined()) {
    d.weight = static_cast<const CT*>(t.weight.raw_data());
    if (t.label_smoothing != 0.0) {  // only the smoothing term reads W
      keep = empty({1}, {.dtype = dtype_of<CT>(), .device = t.weight.device()});
      CT* wp = static_cast<CT*>(keep.raw_data());
      total_weight_kernel<CT><<<1, kBlock, 0, stream>>>(d.weight, C, wp);
      STRATA_CUDA_LAUNCH_CHECK(stream);
      d.total_weight = wp;
    }
  }
  return d;
}

template <class CT>
__device__ __forceinline__ CrossEntropyCoeffs<CT> coeffs(double e, int64_t C, const DeviceTargets<CT>& t) {
  return CrossEntropyCoeffs<CT>::make(e, C, t.total_weight ? *t.total_weight : static_cast<CT>(C));
}

// ---- cross_entropy forward ----
template <class CT>
__device__ __forceinline__ void ce_finish(const DeviceTargets<CT>& t, const CrossEntropyCoeffs<CT>& k, int64_t item,
                                          CT lse, CT x_target, CT dot, CT* loss, CT* item_weight, CT* lse_out) {
  lse_out[item] = lse;
  const int64_t c = t.at(item);
  if (c == t.ignore_index) {
    loss[item] = 0, item_weight[item] = 0;
    return;
  }
  const CT wt = t.class_weight(c);
  loss[item] = kernels::cross_entropy_item_loss(k, wt, lse, x_target, dot);
  item_weight[item] = wt;
}

template <int G, class T, class CT>
__global__ void __launch_bounds__(kBlock) ce_forward_rows_kernel(const T* x, int64_t rows, int64_t C, bool vec,
                                                                 DeviceTargets<CT> t, double smoothing, CT* loss,
                                                                 CT* item_weight, CT* lse_out) {
  __shared__ CT smem_m[kBlock / 32], smem_s[kBlock / 32];
  constexpr int kGroups = kBlock / G;
  const int lane = threadIdx.x % G;
  const CrossEntropyCoeffs<CT> k = coeffs(smoothing, C, t);
  for (int64_t r = static_cast<int64_t>(blockIdx.x) * kGroups + threadIdx.x / G; r < rows;
       r += static_cast<int64_t>(gridDim.x) * kGroups) {
    const T* xr = x + r * C;
    CT m = -INFINITY, s = 0, dot = 0;
    if (k.smoothing) {
      row_visit<G>(xr, C, vec, lane, [&](int64_t c, T v) {
        const CT xv = static_cast<CT>(v);
        kernels::online_softmax_add(m, s, xv);
        dot += t.class_weight(c) * xv;
      });
      dot = group_sum<G>(dot, smem_m);  // smem_m is free again before group_online uses it
    } else {
      row_visit<G>(xr, C, vec, lane, [&](int64_t, T v) { kernels::online_softmax_add(m, s, static_cast<CT>(v)); });
    }
    group_online<G>(m, s, smem_m, smem_s);
    if (lane == 0) {
      const int64_t c = t.at(r);
      const CT xt = c == t.ignore_index ? CT(0) : static_cast<CT>(xr[c]);
      ce_finish(t, k, r, m + std::log(s), xt, dot, loss, item_weight, lse_out);
    }
  }
}

template <class T, class CT>
__global__ void __launch_bounds__(kBlock) ce_forward_strided_kernel(const T* x, int64_t items, int64_t C, int64_t inner,
                                                                    DeviceTargets<CT> t, double smoothing, CT* loss,
                                                                    CT* item_weight, CT* lse_out) {
  const CrossEntropyCoeffs<CT> k = coeffs(smoothing, C, t);
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t it = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; it < items; it += step) {
    const T* xl = x + (it / inner) * C * inner + it % inner;
    CT m = -INFINITY, s = 0, dot = 0;
    for (int64_t c = 0; c < C; ++c) {
      const CT xv = static_cast<CT>(xl[c * inner]);
      kernels::online_softmax_add(m, s, xv);
      if (k.smoothing) dot += t.class_weight(c) * xv;
    }
    const int64_t c = t.at(it);
    const CT xt = c == t.ignore_index ? CT(0) : static_cast<CT>(xl[c * inner]);
    ce_finish(t, k, it, m + std::log(s), xt, dot, loss, item_weight, lse_out);
  }
}

void cross_entropy_forward(const Tensor& x, int64_t dim, const ClassTargets& t, const Tensor& loss,
                           const Tensor& item_weight, const Tensor& lse) {
  const Geometry geo = geometry(x.shape(), dim);
  if (geo.items() == 0) return;
  DeviceGuard guard(x.device().index);
  const cudaStream_t stream = stream_for(x.device());
  visit_floating(x.dtype(), "cross_entropy", [&]<class T>() {
    using CT = compute_t<T>;
    Tensor keep;
    const DeviceTargets<CT> dt = device_targets<CT>(t, geo.classes, stream, keep);
    const T* xp = static_cast<const T*>(x.raw_data());
    CT* lp = static_cast<CT*>(loss.raw_data());
    CT* wp = static_cast<CT*>(item_weight.raw_data());
    CT* sp = static_cast<CT*>(lse.raw_data());
    const double e = t.label_smoothing;
    if (geo.inner == 1) {
      const bool vec = rows_vectorizable<T>(geo.classes, {xp});
      if (geo.classes <= kWarpRowMax) {
        ce_forward_rows_kernel<32, T, CT>
            <<<row_grid<32>(geo.outer), kBlock, 0, stream>>>(xp, geo.outer, geo.classes, vec, dt, e, lp, wp, sp);
      } else {
        ce_forward_rows_kernel<kBlock, T, CT>
            <<<row_grid<kBlock>(geo.outer), kBlock, 0, stream>>>(xp, geo.outer, geo.classes, vec, dt, e, lp, wp, sp);
      }
    } else {
      ce_forward_strided_kernel<T, CT><<<grid_for(geo.items(), kBlock), kBlock, 0, stream>>>(
          xp, geo.items(), geo.classes, geo.inner, dt, e, lp, wp, sp);
    }
    STRATA_CUDA_LAUNCH_CHECK(stream);
  });
}

// ---- cross_entropy backward ----
// The gradient coefficients of one item (all 0 when it is ignored).
template <class CT>
__device__ __forceinline__ kernels::CrossEntropyGradCoef<CT> ce_coef(const DeviceTargets<CT>& t,
                                                                     const CrossEntropyCoeffs<CT>& k, const CT* g,
                                                                     bool per_item, int64_t item, int64_t c) {
  if (c == t.ignore_index) return {CT(0), CT(0), CT(0)};
  return kernels::cross_entropy_grad_coef(k, g[per_item ? item : 0], t.class_weight(c));
}

template <int G, class T, class CT>
__global__ void __launch_bounds__(kBlock) ce_backward_rows_kernel(const CT* g, bool per_item, const T* x,
                                                                  const CT* lse, int64_t rows, int64_t C, bool vec,
                                                                  DeviceTargets<CT> t, double smoothing, T* gx) {
  constexpr int kGroups = kBlock / G;
  const int lane = threadIdx.x % G;
  const CrossEntropyCoeffs<CT> k = coeffs(smoothing, C, t);
  for (int64_t r = static_cast<int64_t>(blockIdx.x) * kGroups + threadIdx.x / G; r < rows;
       r += static_cast<int64_t>(gridDim.x) * kGroups) {
    const int64_t tc = t.at(r);
    const bool ignored = tc == t.ignore_index;
    const auto q = ce_coef(t, k, g, per_item, r, tc);
    const CT l = lse[r];
    row_map<G>(x + r * C, static_cast<const T*>(nullptr), gx + r * C, C, vec, lane, [&](int64_t c, T v, T) {
      if (ignored) return T(0.0f);  // exactly 0, even where the logits are not finite
      CT gr = q.a * std::exp(static_cast<CT>(v) - l) - q.b * t.class_weight(c);
      if (c == tc) gr -= q.d;
      return T(gr);
    });
  }
}

template <class T, class CT>
__global__ void __launch_bounds__(kBlock) ce_backward_strided_kernel(const CT* g, bool per_item, const T* x,
                                                                     const CT* lse, int64_t items, int64_t C,
                                                                     int64_t inner, DeviceTargets<CT> t,
                                                                     double smoothing, T* gx) {
  const CrossEntropyCoeffs<CT> k = coeffs(smoothing, C, t);
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t it = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; it < items; it += step) {
    const int64_t base = (it / inner) * C * inner + it % inner;
    const int64_t tc = t.at(it);
    if (tc == t.ignore_index) {
      for (int64_t c = 0; c < C; ++c) gx[base + c * inner] = T(0.0f);
      continue;
    }
    const auto q = ce_coef(t, k, g, per_item, it, tc);
    const CT l = lse[it];
    for (int64_t c = 0; c < C; ++c) {
      CT gr = q.a * std::exp(static_cast<CT>(x[base + c * inner]) - l) - q.b * t.class_weight(c);
      if (c == tc) gr -= q.d;
      gx[base + c * inner] = T(gr);
    }
  }
}

void cross_entropy_backward(const Tensor& grad_item, const Tensor& x, int64_t dim, const ClassTargets& t,
                            const Tensor& lse, const Tensor& grad_x) {
  const Geometry geo = geometry(x.shape(), dim);
  if (geo.items() == 0 || geo.classes == 0) return;
  DeviceGuard guard(x.device().index);
  const cudaStream_t stream = stream_for(x.device());
  visit_floating(x.dtype(), "cross_entropy_backward", [&]<class T>() {
    using CT = compute_t<T>;
    Tensor keep;
    const DeviceTargets<CT> dt = device_targets<CT>(t, geo.classes, stream, keep);
    const CT* gp = static_cast<const CT*>(grad_item.raw_data());
    const bool per_item = grad_item.numel() != 1;
    const T* xp = static_cast<const T*>(x.raw_data());
    const CT* sp = static_cast<const CT*>(lse.raw_data());
    T* op = static_cast<T*>(grad_x.raw_data());
    const double e = t.label_smoothing;
    if (geo.inner == 1) {
      const bool vec = rows_vectorizable<T>(geo.classes, {xp, op});
      if (geo.classes <= kWarpRowMax) {
        ce_backward_rows_kernel<32, T, CT><<<row_grid<32>(geo.outer), kBlock, 0, stream>>>(
            gp, per_item, xp, sp, geo.outer, geo.classes, vec, dt, e, op);
      } else {
        ce_backward_rows_kernel<kBlock, T, CT><<<row_grid<kBlock>(geo.outer), kBlock, 0, stream>>>(
            gp, per_item, xp, sp, geo.outer, geo.classes, vec, dt, e, op);
      }
    } else {
      ce_backward_strided_kernel<T, CT><<<grid_for(geo.items(), kBlock), kBlock, 0, stream>>>(
          gp, per_item, xp, sp, geo.items(), geo.classes, geo.inner, dt, e, op);
    }
    STRATA_CUDA_LAUNCH_CHECK(stream);
  });
}

// ---- nll_loss ----
template <class T, class CT>
__global__ void __launch_bounds__(kBlock) nll_forward_kernel(const T* x, int64_t items, int64_t C, int64_t inner,
                                                             DeviceTargets<CT> t, CT* loss, CT* item_weight) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t it = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; it < items; it += step) {
    const int64_t c = t.at(it);
    if (c == t.ignore_index) {
      loss[it] = 0, item_weight[it] = 0;
      continue;
    }
    const CT wt = t.class_weight(c);
    loss[it] = -wt * static_cast<CT>(x[((it / inner) * C + c) * inner + it % inner]);
    item_weight[it] = wt;
  }
}

// One thread per gradient element: -w[t] * g at the target class, 0 elsewhere.
template <class T, class CT>
__global__ void __launch_bounds__(kBlock) nll_backward_kernel(const CT* g, bool per_item, int64_t n, int64_t C,
                                                              int64_t inner, DeviceTargets<CT> t, T* gx) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) {
    const int64_t j = i % inner, oc = i / inner, c = oc % C, item = (oc / C) * inner + j;
    const int64_t tc = t.at(item);
    gx[i] = (tc == c && tc != t.ignore_index) ? T(-t.class_weight(c) * g[per_item ? item : 0]) : T(0.0f);
  }
}

void nll_loss_forward(const Tensor& x, int64_t dim, const ClassTargets& t, const Tensor& loss,
                      const Tensor& item_weight) {
  const Geometry geo = geometry(x.shape(), dim);
  if (geo.items() == 0) return;
  DeviceGuard guard(x.device().index);
  const cudaStream_t stream = stream_for(x.device());
  visit_floating(x.dtype(), "nll_loss", [&]<class T>() {
    using CT = compute_t<T>;
    Tensor keep;
    ClassTargets no_smoothing = t;
    no_smoothing.label_smoothing = 0.0;
    const DeviceTargets<CT> dt = device_targets<CT>(no_smoothing, geo.classes, stream, keep);
    nll_forward_kernel<T, CT><<<grid_for(geo.items(), kBlock), kBlock, 0, stream>>>(
        static_cast<const T*>(x.raw_data()), geo.items(), geo.classes, geo.inner, dt,
        static_cast<CT*>(loss.raw_data()), static_cast<CT*>(item_weight.raw_data()));
    STRATA_CUDA_LAUNCH_CHECK(stream);
  });
}

void nll_loss_backward(const Tensor& grad_item, int64_t dim, const ClassTargets& t, const Tensor& grad_x) {
  const Geometry geo = geometry(grad_x.shape(), dim);
  const int64_t n = grad_x.numel();
  if (n == 0) return;
  DeviceGuard guard(grad_x.device().index);
  const cudaStream_t stream = stream_for(grad_x.device());
  visit_floating(grad_x.dtype(), "nll_loss_backward", [&]<class T>() {
    using CT = compute_t<T>;
    Tensor keep;
    ClassTargets no_smoothing = t;
    no_smoothing.label_smoothing = 0.0;
    const DeviceTargets<CT> dt = device_targets<CT>(no_smoothing, geo.classes, stream, keep);
    nll_backward_kernel<T, CT><<<grid_for(n, kBlock), kBlock, 0, stream>>>(
        static_cast<const CT*>(grad_item.raw_data()), grad_item.numel() != 1, n, geo.classes, geo.inner, dt,
        static_cast<T*>(grad_x.raw_data()));
    STRATA_CUDA_LAUNCH_CHECK(stream);
  });
}

const bool g_registered = register_kernels([](kernels::CudaTable& t) {
  t.find_invalid_class_target = &find_invalid_class_target;
  t.cross_entropy_forward = &cross_entropy_forward;
  t.cross_entropy_backward = &cross_entropy_backward;
  t.nll_loss_forward = &nll_loss_forward;
  t.nll_loss_backward = &nll_loss_backward;
});

}  // namespace
}  // namespace strata::cuda
