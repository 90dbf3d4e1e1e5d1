// CPU/CUDA parity of the fused optimizer steps (kernels/cuda/optim.cu) and the LSTM pointwise
// kernels (kernels/cuda/rnn.cu, through the lstm_cell and whole-sequence lstm ops).
//   - optim_step: SGD, momentum and Adam, with and without L2, over a group of 300 tensors (more
//     than one launch's 128 slots), empty tensors among them, one tensor of many tiles, per-tensor
//     decay / l2 / step sizes; three steps, then p, the gradient (L2 writes it back) and the
//     state compared;
//   - LSTM: 2 layers, bidirectional, with and without biases, batch_first, with an initial state;
//     outputs, final states and every input's gradient (x, h0, c0, all weights).
// Skips itself without a CUDA device.
//
// Tolerances: optimizer f32 rtol 1e-5 / atol 1e-6 (the same functors on both devices; FMA
// contraction and sqrt differ by an ulp); LSTM f32 1e-4 (exp and tanh differ by a few ulp and
// cuBLAS sums in another order), f64 1e-10.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kernels/optim.h"
#include "strata.h"
#include "support/cuda_parity.h"

namespace strata {
namespace {

using kernels::OptimKind;
using kernels::OptimSlot;
using testing::parity_values;

// ---- optimizer steps ----

struct Group {
  std::vector<Tensor> p, g, m, v;
};

std::vector<Shape> group_shapes() {
  std::vector<Shape> shapes;
  for (int i = 0; i < 300; ++i) shapes.push_back(Shape{(i * 37) % 101});  // includes 0-element tensors
  shapes.push_back(Shape{300, 1001});                                      // many tiles in one tensor
  shapes.push_back(Shape{0});
  shapes.push_back(Shape{3, 5, 7});
  return shapes;
}

Group make_group(Device device) {
  Group gr;
  const std::vector<Shape> shapes = group_shapes();
  for (size_t i = 0; i < shapes.size(); ++i) {
    gr.p.push_back(parity_values(shapes[i], DType::F32, 100 + i).to(device));
    gr.g.push_back(parity_values(shapes[i], DType::F32, 5000 + i).to(device));
    gr.m.push_back(parity_values(shapes[i], DType::F32, 9000 + i, -0.1, 0.1).to(device));
    gr.v.push_back(parity_values(shapes[i], DType::F32, 13000 + i, 0.0, 0.1).to(device));
  }
  return gr;
}

void run_steps(OptimKind kind, bool l2, Group& gr, int steps) {
  for (int s = 1; s <= steps; ++s) {
    std::vector<OptimSlot> slots;
    for (size_t i = 0; i < gr.p.size(); ++i) {
      OptimSlot slot{gr.p[i], gr.g[i], kind == OptimKind::kSgd ? Tensor() : gr.m[i],
                     kind == OptimKind::kAdam ? gr.v[i] : Tensor()};
      slot.decay = i % 3 == 0 ? 1.0 : 1.0 - 1e-3 * static_cast<double>(i % 7);
      slot.l2 = l2 && i % 2 == 0 ? 0.01 * static_cast<double>(1 + i % 5) : 0.0;
      const double lr = 1e-2 * (1.0 + 0.1 * static_cast<double>(i % 4));
      slot.step_size = kind == OptimKind::kAdam ? lr / (1.0 - std::pow(0.9, s)) : lr;
      slot.debias2 = kind == OptimKind::kAdam ? 1.0 - std::pow(0.99, s) : 1.0;
      slots.push_back(slot);
    }
    kernels::optim_step(kind, slots, {.mom = 0.9, .sqr_mom = 0.99, .eps = 1e-5, .use_l2 = l2});
  }
}

TEST(CudaOptim, FusedStepsMatchTheCpuOverManyTensors) {
  SKIP_WITHOUT_CUDA();
  for (OptimKind kind : {OptimKind::kSgd, OptimKind::kMomentum, OptimKind::kAdam}) {
    for (bool l2 : {false, true}) {
      const std::string what = fmt::format("kind {} l2 {}", static_cast<int>(kind), l2);
      SCOPED_TRACE(what);
      Group cpu = make_group(Device::cpu()), gpu = make_group(Device::cuda());
      run_steps(kind, l2, cpu, 3);
      run_steps(kind, l2, gpu, 3);
      const testing::Tol tol{1e-5, 1e-6};
      for (size_t i = 0; i < cpu.p.size(); ++i) {
        ASSERT_TRUE(testing::all_close(cpu.p[i], gpu.p[i], tol, fmt::format("{} p[{}]", what, i)));
        ASSERT_TRUE(testing::all_close(cpu.g[i], gpu.g[i], tol, fmt::format("{} g[{}]", what, i)));
        if (kind != OptimKind::kSgd) {
          ASSERT_TRUE(testing::all_close(cpu.m[i], gpu.m[i], tol, fmt::format("{} m[{}]", what, i)));
        }
        if (kind == OptimKind::kAdam) {
          ASSERT_TRUE(testing::all_close(cpu.v[i], gpu.v[i], tol, fmt::format("{} v[{}]", what, i)));
        }
      }
      // The step changed something (a test that cannot fail is a defect).
      EXPECT_FALSE(testing::all_close(make_group(Device::cpu()).p.back(), gpu.p.back(), tol, "moved"));
    }
  }
}

// ---- LSTM ----

struct LstmCase {
  int64_t layers;
  bool bidirectional, bias, batch_first, initial_state;
};

std::vector<Tensor> lstm_weights(const LstmCase& c, int64_t input, int64_t hidden, DType dt) {
  std::vector<Tensor> ws;
  const int64_t dirs = c.bidirectional ? 2 : 1;
  uint64_t seed = 200;
  for (int64_t l = 0; l < c.layers; ++l) {
    const int64_t in = l == 0 ? input : dirs * hidden;
    for (int64_t d = 0; d < dirs; ++d) {
      ws.push_back(parity_values({4 * hidden, in}, dt, seed++, -0.5, 0.5));
      ws.push_back(parity_values({4 * hidden, hidden}, dt, seed++, -0.5, 0.5));
      if (c.bias) {
        ws.push_back(parity_values({4 * hidden}, dt, seed++, -0.5, 0.5));
        ws.push_back(parity_values({4 * hidden}, dt, seed++, -0.5, 0.5));
      }
    }
  }
  return ws;
}

struct LstmRun {
  Tensor out, h_n, c_n, dx, dh0, dc0;
  std::vector<Tensor> dw;
};

LstmRun run_lstm(Device device, const LstmCase& c, const Tensor& x, const Tensor& h0, const Tensor& c0,
                 const std::vector<Tensor>& weights, const Tensor& up, const Tensor& up_h, const Tensor& up_c) {
  auto leaf = [&](const Tensor& t) { return t.defined() ? t.to(device).detach().requires_grad_() : Tensor(); };
  Tensor xl = leaf(x), hl = leaf(h0), cl = leaf(c0);
  std::vector<Tensor> wl;
  for (const Tensor& w : weights) wl.push_back(leaf(w));
  const LSTMSequenceOutput r = lstm(xl, LSTMState{hl, cl}, wl,
                                    {.num_layers = c.layers, .bidirectional = c.bidirectional,
                                     .batch_first = c.batch_first});
  Tensor loss = sum(r.output * up.to(device)) + sum(r.h_n * up_h.to(device)) + sum(r.c_n * up_c.to(device));
  loss.backward();
  LstmRun out{r.output.detach(), r.h_n.detach(), r.c_n.detach(), xl.grad(),
              hl.defined() ? hl.grad() : Tensor(), cl.defined() ? cl.grad() : Tensor(), {}};
  for (const Tensor& w : wl) out.dw.push_back(w.grad());
  return out;
}

TEST(CudaLstm, SequenceForwardAndBackwardMatchTheCpu) {
  SKIP_WITHOUT_CUDA();
  const int64_t steps = 5, batch = 3, input = 4, hidden = 6;
  const std::vector<LstmCase> cases = {{2, true, true, false, true},
                                       {2, true, false, true, false},
                                       {1, false, true, false, false},
                                       {3, false, true, true, true}};
  for (DType dt : {DType::F32, DType::F64}) {
    const testing::Tol tol = dt == DType::F64 ? testing::Tol{1e-10, 1e-10} : testing::Tol{1e-4, 1e-4};
    for (const LstmCase& c : cases) {
      const std::string what = fmt::format("lstm layers {} bidir {} bias {} batch_first {} h0 {} {}", c.layers,
                                           c.bidirectional, c.bias, c.batch_first, c.initial_state, dt);
      SCOPED_TRACE(what);
      const int64_t dirs = c.bidirectional ? 2 : 1;
      const Shape xs = c.batch_first ? Shape{batch, steps, input} : Shape{steps, batch, input};
      const Shape ys = c.batch_first ? Shape{batch, steps, dirs * hidden} : Shape{steps, batch, dirs * hidden};
      const Shape ss{c.layers * dirs, batch, hidden};
      const Tensor x = parity_values(xs, dt, 1);
      Tensor h0, c0;
      if (c.initial_state) {
        h0 = parity_values(ss, dt, 2, -0.5, 0.5);
        c0 = parity_values(ss, dt, 3, -0.5, 0.5);
      }
      const std::vector<Tensor> ws = lstm_weights(c, input, hidden, dt);
      const Tensor up = parity_values(ys, dt, 4), up_h = parity_values(ss, dt, 5), up_c = parity_values(ss, dt, 6);
      const LstmRun a = run_lstm(Device::cpu(), c, x, h0, c0, ws, up, up_h, up_c);
      const LstmRun b = run_lstm(Device::cuda(), c, x, h0, c0, ws, up, up_h, up_c);
      EXPECT_TRUE(testing::all_close(a.out, b.out, tol, what + " output"));
      EXPECT_TRUE(testing::all_close(a.h_n, b.h_n, tol, what + " h_n"));
      EXPECT_TRUE(testing::all_close(a.c_n, b.c_n, tol, what + " c_n"));
      EXPECT_TRUE(testing::all_close(a.dx, b.dx, tol, what + " dx"));
      if (c.initial_state) {
        EXPECT_TRUE(testing::all_close(a.dh0, b.dh0, tol, what + " dh0"));
        EXPECT_TRUE(testing::all_close(a.dc0, b.dc0, tol, what + " dc0"));
      }
      ASSERT_EQ(a.dw.size(), b.dw.size());
      for (size_t i = 0; i < a.dw.size(); ++i)
        EXPECT_TRUE(testing::all_close(a.dw[i], b.dw[i], tol, fmt::format("{} dweight[{}]", what, i)));
    }
  }
}

TEST(CudaLstm, CellMatchesTheCpuOnStridedRows) {
  SKIP_WITHOUT_CUDA();
  const int64_t batch = 7, input = 5, hidden = 33;
  const Tensor x = parity_values({batch, input}, DType::F32, 11);
  // h and c as column slices of wider buffers: rows strided, columns unit-stride.
  const Tensor hbuf = parity_values({batch, 2 * hidden}, DType::F32, 12), cbuf = parity_values({batch, 2 * hidden}, DType::F32, 13);
  const Tensor w_ih = parity_values({4 * hidden, input}, DType::F32, 14, -0.5, 0.5);
  const Tensor w_hh = parity_values({4 * hidden, hidden}, DType::F32, 15, -0.5, 0.5);
  const Tensor b_ih = parity_values({4 * hidden}, DType::F32, 16), b_hh = parity_values({4 * hidden}, DType::F32, 17);
  const Tensor up_h = parity_values({batch, hidden}, DType::F32, 18), up_c = parity_values({batch, hidden}, DType::F32, 19);
  auto run = [&](Device d) {
    Tensor xl = x.to(d).detach().requires_grad_(), hl = hbuf.to(d).detach().requires_grad_();
    Tensor cl = cbuf.to(d).detach().requires_grad_(), wl = w_hh.to(d).detach().requires_grad_();
    const LSTMState s = lstm_cell(xl, hl.slice(1, hidden, 2 * hidden), cl.slice(1, 0, hidden), w_ih.to(d), wl,
                                  b_ih.to(d), b_hh.to(d));
    (sum(s.h * up_h.to(d)) + sum(s.c * up_c.to(d))).backward();
    return std::vector<Tensor>{s.h.detach(), s.c.detach(), xl.grad(), hl.grad(), cl.grad(), wl.grad()};
  };
  const auto a = run(Device::cpu()), b = run(Device::cuda());
  const char* names[] = {"h", "c", "dx", "dh", "dc", "dw_hh"};
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(testing::all_close(a[i], b[i], {1e-4, 1e-4}, names[i]));
}

}  // namespace
}  // namespace strata
