// CUDA softmax / log_softmax and their backward (CudaTable::softmax, softmax_backward; semantics in
// kernels/loss.h, CPU twin in kernels/cpu/loss.cpp). f16/bf16 load and store their own type and
// compute in f32, f32 in f32, f64 in f64.
//
// Shape of the work (softmax_common.cuh): contiguous rows get a warp or a block per row; the
// forward is one read pass that keeps a running (max, sum of exp) per thread (online softmax),
// one group combine, then one pass that re-reads the row (from L1/L2: a row is at most a few
// hundred KB) and writes the result. The backward reduces sum(g * y) (softmax) or sum(g)
// (log_softmax) the same way, then writes. A strided softmax (class dim not innermost) runs one
// thread per lane over the class dim. No atomics: results are deterministic.
#include <cmath>

#include "kernels/cuda/softmax_common.cuh"

namespace strata::cuda {
namespace {

using namespace softmax_detail;

template <int G, class T>
__global__ void __launch_bounds__(kBlock) softmax_rows_kernel(const T* x, T* y, int64_t rows, int64_t C, bool log,
                                                              bool vec) {
  using CT = compute_t<T>;
  __shared__ CT smem_m[kBlock / 32], smem_s[kBlock / 32];
  constexpr int kGroups = kBlock / G;
  const int lane = threadIdx.x % G;
  for (int64_t r = static_cast<int64_t>(blockIdx.x) * kGroups + threadIdx.x / G; r < rows;
       r += static_cast<int64_t>(gridDim.x) * kGroups) {
    const T* xr = x + r * C;
    CT m = -INFINITY, s = 0;
    row_visit<G>(xr, C, vec, lane, [&](int64_t, T v) { kernels::online_softmax_add(m, s, static_cast<CT>(v)); });
    group_online<G>(m, s, smem_m, smem_s);
    if (log) {
      const CT lse = m + std::log(s);
      row_map<G>(xr, static_cast<const T*>(nullptr), y + r * C, C, vec, lane,
                 [&](int64_t, T v, T) { return T(static_cast<CT>(v) - lse); });
    } else {
      const CT inv = CT(1) / s;
      row_map<G>(xr, static_cast<const T*>(nullptr), y + r * C, C, vec, lane,
                 [&](int64_t, T v, T) { return T(std::exp(static_cast<CT>(v) - m) * inv); });
    }
  }
}

template <class T>
__global__ void __launch_bounds__(kBlock) softmax_strided_kernel(const T* x, T* y, int64_t items, int64_t C,
                                                                 int64_t inner, bool log) {
  using CT = compute_t<T>;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t it = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; it < items; it += step) {
    const int64_t base = (it / inner) * C * inner + it % inner;
    CT m = -INFINITY, s = 0;
    for (int64_t c = 0; c < C; ++c) kernels::online_softmax_add(m, s, static_cast<CT>(x[base + c * inner]));
    if (log) {
      const CT lse = m + std::log(s);
      for (int64_t c = 0; c < C; ++c) y[base + c * inner] = T(static_cast<CT>(x[base + c * inner]) - lse);
    } else {
      const CT inv = CT(1) / s;
      for (int64_t c = 0; c < C; ++c) y[base + c * inner] = T(std::exp(static_cast<CT>(x[base + c * inner]) - m) * inv);
    }
  }
}

// grad_in = y * (g - sum(g * y)) or g - exp(y) * sum(g).
template <int G, class T>
__global__ void __launch_bounds__(kBlock) softmax_backward_rows_kernel(const T* g, const T* y, T* gi, int64_t rows,
                                                                       int64_t C, bool log, bool vec) {
  using CT = compute_t<T>;
  __shared__ CT smem[kBlock / 32];
  constexpr int kGroups = kBlock / G;
  const int lane = threadIdx.x % G;
  for (int64_t r = static_cast<int64_t>(blockIdx.x) * kGroups + threadIdx.x / G; r < rows;
       r += static_cast<int64_t>(gridDim.x) * kGroups) {
    const T* gr = g + r * C;
    const T* yr = y + r * C;
    CT acc = 0;
    if (log) {
      row_visit<G>(gr, C, vec, lane, [&](int64_t, T v) { acc += static_cast<CT>(v); });
    } else {
      row_visit2<G>(gr, yr, C, vec, lane, [&](int64_t, T gv, T yv) { acc += static_cast<CT>(gv) * static_cast<CT>(yv); });
    }
    const CT s = group_sum<G>(acc, smem);
    row_map<G>(gr, yr, gi + r * C, C, vec, lane, [&](int64_t, T gv, T yv) {
      const CT a = static_cast<CT>(gv), b = static_cast<CT>(yv);
      return T(log ? a - std::exp(b) * s : b * (a - s));
    });
  }
}

template <class T>
__global__ void __launch_bounds__(kBlock) softmax_backward_strided_kernel(const T* g, const T* y, T* gi, int64_t items,
                                                                          int64_t C, int64_t inner, bool log) {
  using CT = compute_t<T>;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t it = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; it < items; it += step) {
    const int64_t base = (it / inner) * C * inner + it % inner;
    CT s = 0;
    for (int64_t c = 0; c < C; ++c) {
      const int64_t i = base + c * inner;
      s += log ? static_cast<CT>(g[i]) : static_cast<CT>(g[i]) * static_cast<CT>(y[i]);
    }
    for (int64_t c = 0; c < C; ++c) {
      const int64_t i = base + c * inner;
      const CT a = static_cast<CT>(g[i]), b = static_cast<CT>(y[i]);
      gi[i] = T(log ? a - std::exp(b) * s : b * (a - s));
    }
  }
}

void softmax(const Tensor& x, int64_t dim, bool log, const Tensor& out) {
  const Geometry geo = geometry(x.shape(), dim);
  if (geo.items() == 0 || geo.classes == 0) return;
  DeviceGuard guard(out.device().index);
  const cudaStream_t stream = stream_for(out.device());
  visit_floating(x.dtype(), "softmax", [&]<class T>() {
    const T* xp = static_cast<const T*>(x.raw_data());
    T* op = static_cast<T*>(out.raw_data());
    if (geo.inner == 1) {
      const bool vec = rows_vectorizable<T>(geo.classes, {xp, op});
      if (geo.classes <= kWarpRowMax) {
        softmax_rows_kernel<32, T><<<row_grid<32>(geo.outer), kBlock, 0, stream>>>(xp, op, geo.outer, geo.classes,
                                                                                   log, vec);
      } else {
        softmax_rows_kernel<kBlock, T><<<row_grid<kBlock>(geo.outer), kBlock, 0, stream>>>(xp, op, geo.outer,
                                                                                          geo.classes, log, vec);
      }
    } else {
      softmax_strided_kernel<T><<<grid_for(geo.items(), kBlock), kBlock, 0, stream>>>(xp, op, geo.items(), geo.classes,
                                                                                      geo.inner, log);
    }
    STRATA_CUDA_LAUNCH_CHECK(stream);
  });
}

void softmax_backward(const Tensor& grad, const Tensor& y, int64_t dim, bool log, const Tensor& grad_in) {
  const Geometry geo = geometry(y.shape(), dim);
  if (geo.items() == 0 || geo.classes == 0) return;
  DeviceGuard guard(grad_in.device().index);
  const cudaStream_t stream = stream_for(grad_in.device());
  visit_floating(y.dtype(), "softmax_backward", [&]<class T>() {
    const T* gp = static_cast<const T*>(grad.raw_data());
    const T* yp = static_cast<const T*>(y.raw_data());
    T* op = static_cast<T*>(grad_in.raw_data());
    if (geo.inner == 1) {
      const bool vec = rows_vectorizable<T>(geo.classes, {gp, yp, op});
      if (geo.classes <= kWarpRowMax) {
        softmax_backward_rows_kernel<32, T>
            <<<row_grid<32>(geo.outer), kBlock, 0, stream>>>(gp, yp, op, geo.outer, geo.classes, log, vec);
      } else {
        softmax_backward_rows_kernel<kBlock, T>
            <<<row_grid<kBlock>(geo.outer), kBlock, 0, stream>>>(gp, yp, op, geo.outer, geo.classes, log, vec);
      }
    } else {
      softmax_backward_strided_kernel<T><<<grid_for(geo.items(), kBlock), kBlock, 0, stream>>>(
          gp, yp, op, geo.items(), geo.classes, geo.inner, log);
    }
    STRATA_CUDA_LAUNCH_CHECK(stream);
  });
}

const bool g_registered = register_kernels([](kernels::CudaTable& t) {
  t.softmax = &softmax;
  t.softmax_backward = &softmax_backward;
});

}  // namespace
}  // namespace strata::cuda
