// CUDA LSTM step kernels (CudaTable::lstm_cell_forward / lstm_cell_backward, kernels/rnn.h): the
// pointwise halves of a step, on the functors the CPU runs (kernels/rnn_functors.h), so the CPU
// tests cover the math. The GEMMs around a step go through `gemm` (cuBLAS).
//
// One thread per (row, hidden unit): it reads the four gate values of that unit (columns j, H + j,
// 2H + j, 3H + j of the row), so a warp reads four coalesced runs. Grid-stride over B * H, 64-bit
// indices. Rows may be strided (a time step's slice of a [T, B, D*H] buffer); columns are
// unit-stride by the header's contract. f32 and f64 only, as on the CPU.
#include "kernels/cuda/device_ptr.h"
#include "kernels/cuda/loops.cuh"
#include "kernels/rnn.h"
#include "kernels/rnn_functors.h"

namespace strata::cuda {
namespace {

// Row stride of a 2-d kernel operand (its columns are unit-stride by contract).
int64_t row_stride(const Tensor& t) { return t.size(0) > 1 ? t.stride(0) : t.size(1); }

template <class T>
struct ForwardArgs {
  T* gates;
  const T* bias;  // [4H] or null
  const T* c_prev;
  T* c;
  T* h;
  int64_t s_gates, s_cprev, s_c, s_h;
  int64_t rows, hidden;
};

template <class T>
__global__ void lstm_forward_kernel(ForwardArgs<T> a) {
  const kernels::LstmCellForwardF f;
  const int64_t n = a.rows * a.hidden;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < n; idx += step) {
    const int64_t r = idx / a.hidden, j = idx - r * a.hidden, hd = a.hidden;
    T* g = a.gates + r * a.s_gates;
    kernels::LstmGates<T> v{g[j], g[hd + j], g[2 * hd + j], g[3 * hd + j]};
    if (a.bias) {
      v.i += a.bias[j];
      v.f += a.bias[hd + j];
      v.g += a.bias[2 * hd + j];
      v.o += a.bias[3 * hd + j];
    }
    T cj, hj;
    f(v, a.c_prev[r * a.s_cprev + j], cj, hj);
    g[j] = v.i;
    g[hd + j] = v.f;
    g[2 * hd + j] = v.g;
    g[3 * hd + j] = v.o;
    a.c[r * a.s_c + j] = cj;
    a.h[r * a.s_h + j] = hj;
  }
}

template <class T>
struct BackwardArgs {
  const T* gates;
  const T* c_prev;
  const T* c;
  const T* dh;
  const T* dh2;  // or null
  const T* dc;
  T* dgates;
  T* dc_prev;
  int64_t s_gates, s_cprev, s_c, s_dh, s_dh2, s_dc, s_dgates, s_dcprev;
  int64_t rows, hidden;
};

template <class T>
__global__ void lstm_backward_kernel(BackwardArgs<T> a) {
  const kernels::LstmCellBackwardF f;
  const int64_t n = a.rows * a.hidden;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < n; idx += step) {
    const int64_t r = idx / a.hidden, j = idx - r * a.hidden, hd = a.hidden;
    const T* g = a.gates + r * a.s_gates;
    const kernels::LstmGates<T> v{g[j], g[hd + j], g[2 * hd + j], g[3 * hd + j]};
    T dhj = a.dh[r * a.s_dh + j];
    if (a.dh2) dhj += a.dh2[r * a.s_dh2 + j];
    kernels::LstmGates<T> d;
    T dcp;
    f(v, a.c_prev[r * a.s_cprev + j], a.c[r * a.s_c + j], dhj, a.dc[r * a.s_dc + j], d, dcp);
    T* dg = a.dgates + r * a.s_dgates;
    dg[j] = d.i;
    dg[hd + j] = d.f;
    dg[2 * hd + j] = d.g;
    dg[3 * hd + j] = d.o;
    a.dc_prev[r * a.s_dcprev + j] = dcp;
  }
}

template <class T>
void forward_impl(const Tensor& gates, const Tensor& bias, const Tensor& c_prev, const Tensor& c, const Tensor& h) {
  ForwardArgs<T> a{dptr<T>(gates), bias.defined() ? dptr<T>(bias) : nullptr, dptr<T>(c_prev), dptr<T>(c),
                   dptr<T>(h), row_stride(gates), row_stride(c_prev), row_stride(c), row_stride(h),
                   gates.size(0), h.size(1)};
  const int64_t n = a.rows * a.hidden;
  if (n == 0) return;
  DeviceGuard guard(h.device().index);
  const cudaStream_t stream = stream_for(h.device());
  lstm_forward_kernel<T><<<grid_for(n, kThreads), kThreads, 0, stream>>>(a);
  STRATA_CUDA_LAUNCH_CHECK(stream);
}

template <class T>
void backward_impl(const Tensor& gates, const Tensor& c_prev, const Tensor& c, const Tensor& dh, const Tensor& dh2,
                   const Tensor& dc, const Tensor& dgates, const Tensor& dc_prev) {
  BackwardArgs<T> a{dptr<T>(gates), dptr<T>(c_prev), dptr<T>(c), dptr<T>(dh),
                    dh2.defined() ? dh2.data<T>() : nullptr, dptr<T>(dc), dptr<T>(dgates), dptr<T>(dc_prev),
                    row_stride(gates), row_stride(c_prev), row_stride(c), row_stride(dh),
                    dh2.defined() ? row_stride(dh2) : 0, row_stride(dc), row_stride(dgates), row_stride(dc_prev),
                    gates.size(0), c.size(1)};
  const int64_t n = a.rows * a.hidden;
  if (n == 0) return;
  DeviceGuard guard(dgates.device().index);
  const cudaStream_t stream = stream_for(dgates.device());
  lstm_backward_kernel<T><<<grid_for(n, kThreads), kThreads, 0, stream>>>(a);
  STRATA_CUDA_LAUNCH_CHECK(stream);
}

void lstm_cell_forward(const Tensor& gates, const Tensor& bias, const Tensor& c_prev, const Tensor& c,
                       const Tensor& h) {
  if (h.dtype() == DType::F64) forward_impl<double>(gates, bias, c_prev, c, h);
  else forward_impl<float>(gates, bias, c_prev, c, h);
}

void lstm_cell_backward(const Tensor& gates, const Tensor& c_prev, const Tensor& c, const Tensor& dh, const Tensor& dh2,
                        const Tensor& dc, const Tensor& dgates, const Tensor& dc_prev) {
  if (dgates.dtype() == DType::F64) backward_impl<double>(gates, c_prev, c, dh, dh2, dc, dgates, dc_prev);
  else backward_impl<float>(gates, c_prev, c, dh, dh2, dc, dgates, dc_prev);
}

const bool g_registered = register_kernels([](kernels::CudaTable& t) {
  t.lstm_cell_forward = &lstm_cell_forward;
  t.lstm_cell_backward = &lstm_cell_backward;
});

}  // namespace
}  // namespace strata::cuda
