#pragma once
// LSTM kernels behind the device switch (CPU: kernels/cpu/rnn.cpp; CUDA: the table's lstm_*
// entries). Only the pointwise part of a step is a kernel: the GEMMs around it go through
// kernels/matmul.h, so a backend needs these two kernels (plus its GEMM) to run lstm_cell and the
// whole sequence op. Front ends (tensor/ops/rnn.cpp, tensor/ops/lstm_sequence.cpp) check shapes
// and allocate; these run.
//
// Every tensor is 2-d, [B, 4H] for gates and [B, H] otherwise, of one dtype (f32 or f64), with
// unit column stride; rows may be strided (a time step's slice of a [T, B, D*H] buffer). Gate
// columns are PyTorch's blocks i | f | g | o, H columns each. Math: kernels/rnn_functors.h.
#include "tensor/tensor.h"

namespace strata::kernels {

// gates: the summed pre-activations (x W_ih^T + h W_hh^T) in, the activated gates out (kept for
// backward); bias [4H] (b_ih + b_hh) is added first when defined. Writes c and h.
void lstm_cell_forward(const Tensor& gates, const Tensor& bias, const Tensor& c_prev, const Tensor& c, const Tensor& h);

// From the activated gates, c_prev and c of a step and the gradients dh (+ dh2 when defined:
// the output's gradient and the recurrent one, added here) and dc reaching h and c, writes the
// pre-activation gradients dgates [B, 4H] and dc_prev. Outputs overlap no input (the CPU loops are
// compiled on that promise).
void lstm_cell_backward(const Tensor& gates, const Tensor& c_prev, const Tensor& c, const Tensor& dh, const Tensor& dh2,
                        const Tensor& dc, const Tensor& dgates, const Tensor& dc_prev);

namespace cpu {
void lstm_cell_forward(const Tensor& gates, const Tensor& bias, const Tensor& c_prev, const Tensor& c, const Tensor& h);
void lstm_cell_backward(const Tensor& gates, const Tensor& c_prev, const Tensor& c, const Tensor& dh, const Tensor& dh2,
                        const Tensor& dc, const Tensor& dgates, const Tensor& dc_prev);
}  // namespace cpu

}  // namespace strata::kernels
