// CPU LSTM step kernels: one pass over a [B, 4H] block of gates per step, row by row. A row's
// four gate blocks are read at j, H + j, 2H + j, 3H + j, so the loop over j streams five to
// eight contiguous arrays and vectorizes (the functors' sigmoid and tanh use the branch-free f32
// exp); each row loop is compiled for AVX-512, AVX2+FMA and baseline x86-64 (target_clones, as in
// contiguous.h). Rows are split between threads in whole rows: every element is computed by the
// same code whatever the thread count, so results do not depend on it.
#include "kernels/rnn.h"

#include <algorithm>

#include "kernels/cpu/contiguous.h"
#include "kernels/cpu/parallel.h"
#include "kernels/rnn_functors.h"

namespace strata::kernels::cpu {
namespace {

// Elements per chunk handed to a thread: a step of a small LSTM runs inline.
constexpr int64_t kGrainElements = 16384;

// The gate blocks of a row and the state rows never overlap (__restrict__): without that promise
// GCC needs more run-time alias checks than it will emit and leaves the loop scalar. (The
// backward's gate blocks are read through plain offsets of one restrict pointer: GCC 12 refuses
// to vectorize loads through const restrict locals.)
template <class T, bool kHasBias>
STRATA_CPU_CLONES void forward_row(T* gates, const T* __restrict__ bias, const T* __restrict__ c_prev,
                                   T* __restrict__ c, T* __restrict__ h, int64_t hidden) {
  const LstmCellForwardF f;
  T* __restrict__ gi = gates;
  T* __restrict__ gf = gates + hidden;
  T* __restrict__ gg = gates + 2 * hidden;
  T* __restrict__ go = gates + 3 * hidden;
  for (int64_t j = 0; j < hidden; ++j) {
    LstmGates<T> a{gi[j], gf[j], gg[j], go[j]};
    if constexpr (kHasBias) {
      a.i += bias[j];
      a.f += bias[hidden + j];
      a.g += bias[2 * hidden + j];
      a.o += bias[3 * hidden + j];
    }
    T cj, hj;
    f(a, c_prev[j], cj, hj);
    gi[j] = a.i;
    gf[j] = a.f;
    gg[j] = a.g;
    go[j] = a.o;
    c[j] = cj;
    h[j] = hj;
  }
}

template <class T, bool kHasDh2>
STRATA_CPU_CLONES void backward_row(const T* __restrict__ gates, const T* __restrict__ c_prev, const T* __restrict__ c,
                                    const T* __restrict__ dh, const T* __restrict__ dh2, const T* __restrict__ dc,
                                    T* dgates, T* __restrict__ dc_prev, int64_t hidden) {
  const LstmCellBackwardF f;
  const T* gi = gates;
  const T* gf = gates + hidden;
  const T* gg = gates + 2 * hidden;
  const T* go = gates + 3 * hidden;
  T* __restrict__ di = dgates;
  T* __restrict__ df = dgates + hidden;
  T* __restrict__ dg = dgates + 2 * hidden;
  T* __restrict__ d_o = dgates + 3 * hidden;
  for (int64_t j = 0; j < hidden; ++j) {
    LstmGates<T> a{gi[j], gf[j], gg[j], go[j]};
    T dhj = dh[j];
    if constexpr (kHasDh2) dhj += dh2[j];
    LstmGates<T> d;
    T dcp;
    f(a, c_prev[j], c[j], dhj, dc[j], d, dcp);
    di[j] = d.i;
    df[j] = d.f;
    dg[j] = d.g;
    d_o[j] = d.o;
    dc_prev[j] = dcp;
  }
}

// Row stride of a 2-d kernel operand (its columns are unit-stride by contract).
int64_t row_stride(const Tensor& t) { return t.size(0) > 1 ? t.stride(0) : t.size(1); }

template <class T>
void forward_impl(const Tensor& gates, const Tensor& bias, const Tensor& c_prev, const Tensor& c, const Tensor& h) {
  const int64_t rows = gates.size(0), hidden = h.size(1);
  T* g = gates.data<T>();
  const T* b = bias.defined() ? bias.data<T>() : nullptr;
  const T* cp = c_prev.data<T>();
  T* cn = c.data<T>();
  T* hn = h.data<T>();
  const int64_t sg = row_stride(gates), scp = row_stride(c_prev), sc = row_stride(c), sh = row_stride(h);
  const int64_t grain = std::max<int64_t>(1, kGrainElements / std::max<int64_t>(1, hidden));
  parallel_for(0, rows, grain, [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      if (b)
        forward_row<T, true>(g + r * sg, b, cp + r * scp, cn + r * sc, hn + r * sh, hidden);
      else
        forward_row<T, false>(g + r * sg, b, cp + r * scp, cn + r * sc, hn + r * sh, hidden);
    }
  });
}

template <class T>
void backward_impl(const Tensor& gates, const Tensor& c_prev, const Tensor& c, const Tensor& dh, const Tensor& dh2,
                   const Tensor& dc, const Tensor& dgates, const Tensor& dc_prev) {
  const int64_t rows = gates.size(0), hidden = c.size(1);
  const T* g = gates.data<T>();
  const T* cp = c_prev.data<T>();
  const T* cn = c.data<T>();
  const T* dhp = dh.data<T>();
  const T* dh2p = dh2.defined() ? dh2.data<T>() : nullptr;
  const T* dcp = dc.data<T>();
  T* dg = dgates.data<T>();
  T* dcprev = dc_prev.data<T>();
  const int64_t sg = row_stride(gates), scp = row_stride(c_prev), sc = row_stride(c), sdh = row_stride(dh),
                sdh2 = dh2.defined() ? row_stride(dh2) : 0, sdc = row_stride(dc), sdg = row_stride(dgates),
                sdcp = row_stride(dc_prev);
  const int64_t grain = std::max<int64_t>(1, kGrainElements / std::max<int64_t>(1, hidden));
  parallel_for(0, rows, grain, [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      if (dh2p)
        backward_row<T, true>(g + r * sg, cp + r * scp, cn + r * sc, dhp + r * sdh, dh2p + r * sdh2, dcp + r * sdc,
                              dg + r * sdg, dcprev + r * sdcp, hidden);
      else
        backward_row<T, false>(g + r * sg, cp + r * scp, cn + r * sc, dhp + r * sdh, nullptr, dcp + r * sdc,
                               dg + r * sdg, dcprev + r * sdcp, hidden);
    }
  });
}

}  // namespace

void lstm_cell_forward(const Tensor& gates, const Tensor& bias, const Tensor& c_prev, const Tensor& c,
                       const Tensor& h) {
  if (h.dtype() == DType::F64)
    forward_impl<double>(gates, bias, c_prev, c, h);
  else
    forward_impl<float>(gates, bias, c_prev, c, h);
}

void lstm_cell_backward(const Tensor& gates, const Tensor& c_prev, const Tensor& c, const Tensor& dh, const Tensor& dh2,
                        const Tensor& dc, const Tensor& dgates, const Tensor& dc_prev) {
  if (dgates.dtype() == DType::F64)
    backward_impl<double>(gates, c_prev, c, dh, dh2, dc, dgates, dc_prev);
  else
    backward_impl<float>(gates, c_prev, c, dh, dh2, dc, dgates, dc_prev);
}

}  // namespace strata::kernels::cpu
