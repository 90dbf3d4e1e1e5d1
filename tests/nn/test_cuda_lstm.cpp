// nn::LSTM moved to CUDA (Module::to) against the same module on the CPU: 2 layers,
// bidirectional, batch_first, forward with an initial state and backward to the input, the
// initial state and every parameter. Runs the sequence op's GEMMs (cuBLAS) and the pointwise
// kernels of kernels/cuda/rnn.cu end to end. Skips itself without a CUDA device.
//
// Tolerance: f32 rtol/atol 1e-4 (exp/tanh differ by a few ulp between the devices and cuBLAS sums
// in another order; errors compound over steps and layers).
#include <gtest/gtest.h>

#include "nn/lstm.h"
#include "support/cuda_parity.h"
#include "tensor/ops.h"

namespace strata::nn {
namespace {

TEST(CudaLSTMModule, TwoLayerBidirectionalForwardAndBackwardMatchTheCpu) {
  SKIP_WITHOUT_CUDA();
  const LSTMOptions opts{.num_layers = 2, .batch_first = true, .bidirectional = true};
  LSTM cpu(5, 8, opts);
  LSTM gpu(5, 8, opts);
  gpu.load_state_dict(cpu.state_dict());
  gpu.to(Device::cuda());
  const Tensor x = testing::parity_values({3, 7, 5}, DType::F32, 1);
  const Tensor h0 = testing::parity_values({4, 3, 8}, DType::F32, 2, -0.5, 0.5);
  const Tensor c0 = testing::parity_values({4, 3, 8}, DType::F32, 3, -0.5, 0.5);
  const Tensor up = testing::parity_values({3, 7, 16}, DType::F32, 4);
  const Tensor up_h = testing::parity_values({4, 3, 8}, DType::F32, 5);
  struct Result {
    LSTMOutput out;
    Tensor dx, dh0, dc0;
  };
  auto run = [&](LSTM& m, Device d) {
    Tensor xl = x.to(d).detach().requires_grad_(), hl = h0.to(d).detach().requires_grad_();
    Tensor cl = c0.to(d).detach().requires_grad_();
    LSTMOutput out = m.forward_with_state(xl, LSTMState{hl, cl});
    (sum(out.output * up.to(d)) + sum(out.h_n * up_h.to(d)) + sum(out.c_n)).backward();
    return Result{out, xl.grad(), hl.grad(), cl.grad()};
  };
  const Result a = run(cpu, Device::cpu()), b = run(gpu, Device::cuda());
  const testing::Tol tol{1e-4, 1e-4};
  EXPECT_TRUE(testing::all_close(a.out.output, b.out.output.detach(), tol, "output"));
  EXPECT_TRUE(testing::all_close(a.out.h_n, b.out.h_n.detach(), tol, "h_n"));
  EXPECT_TRUE(testing::all_close(a.out.c_n, b.out.c_n.detach(), tol, "c_n"));
  EXPECT_TRUE(testing::all_close(a.dx, b.dx, tol, "dx"));
  EXPECT_TRUE(testing::all_close(a.dh0, b.dh0, tol, "dh0"));
  EXPECT_TRUE(testing::all_close(a.dc0, b.dc0, tol, "dc0"));
  const auto pa = cpu.named_parameters(), pb = gpu.named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (size_t i = 0; i < pa.size(); ++i)
    EXPECT_TRUE(testing::all_close(pa[i].second.grad(), pb[i].second.grad(), tol, pa[i].first + " grad"));
}

}  // namespace
}  // namespace strata::nn
