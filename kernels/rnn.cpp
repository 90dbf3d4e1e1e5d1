// Device switch for the rnn family: CPU kernels in kernels/cpu/rnn.cpp, CUDA through the table.
#include "kernels/rnn.h"

#include "kernels/cuda_table.h"

namespace strata::kernels {

void lstm_cell_forward(const Tensor& gates, const Tensor& bias, const Tensor& c_prev, const Tensor& c,
                       const Tensor& h) {
  if (h.device().is_cuda())
    return cuda_kernel(&CudaTable::lstm_cell_forward, "lstm", h.device())(gates, bias, c_prev, c, h);
  cpu::lstm_cell_forward(gates, bias, c_prev, c, h);
}

void lstm_cell_backward(const Tensor& gates, const Tensor& c_prev, const Tensor& c, const Tensor& dh, const Tensor& dh2,
                        const Tensor& dc, const Tensor& dgates, const Tensor& dc_prev) {
  if (dgates.device().is_cuda())
    return cuda_kernel(&CudaTable::lstm_cell_backward, "lstm_backward", dgates.device())(gates, c_prev, c, dh, dh2, dc,
                                                                                         dgates, dc_prev);
  cpu::lstm_cell_backward(gates, c_prev, c, dh, dh2, dc, dgates, dc_prev);
}

}  // namespace strata::kernels
