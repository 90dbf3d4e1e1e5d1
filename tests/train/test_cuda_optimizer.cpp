// The optimizers on CUDA parameters against the same optimizers on CPU copies: N steps with the
// same gradients, then parameters and state compared. SGD (plain, momentum, decoupled and L2
// weight decay) and Adam/AdamW take the fused multi-tensor kernel (kernels/cuda/optim.cu);
// RAdam has no fused form and runs the generic steppers on tensor ops, which must work on CUDA
// too. Skips itself without a CUDA device.
//
// Tolerance: f32 rtol 1e-5 / atol 1e-6 relative to max(1, |p|) (the same functors on both devices;
// FMA contraction and sqrt differ by an ulp per step).
#include <gtest/gtest.h>

#include <cmath>

#include "support/cuda_parity.h"
#include "tensor/ops.h"
#include "train/optimizers.h"

namespace strata::train {
namespace {

std::vector<Tensor> make_params(Device device) {
  std::vector<Tensor> ps;
  uint64_t seed = 1;
  for (const Shape& s : {Shape{3}, Shape{0}, Shape{17, 5}, Shape{70000}, Shape{64, 3, 3, 3}})
    ps.push_back(testing::parity_values(s, DType::F32, seed++).to(device).requires_grad_());
  return ps;
}

void set_grads(const std::vector<Tensor>& ps, uint64_t seed) {
  for (const Tensor& p : ps) {
    Tensor w = p;
    w.set_grad(testing::parity_values(p.shape(), DType::F32, seed++).to(p.device()));
  }
}

struct Case {
  const char* name;
  OptFunc opt_func;
  bool fused;
};

TEST(CudaOptimizer, StepsOnCudaMatchTheCpu) {
  SKIP_WITHOUT_CUDA();
  const std::vector<Case> cases = {
      {"sgd", SGD{}, true},
      {"sgd_momentum_wd", SGD{.mom = 0.9, .wd = 0.01}, true},
      {"sgd_momentum_l2", SGD{.mom = 0.9, .wd = 0.01, .decouple_wd = false}, true},
      {"adamw", Adam{}, true},
      {"adam_l2", Adam{.wd = 0.1, .decouple_wd = false}, true},
      {"radam", RAdam{.wd = 0.01}, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::vector<Tensor> cpu_ps = make_params(Device::cpu());
    const std::vector<Tensor> gpu_ps = make_params(Device::cuda());
    auto cpu_opt = c.opt_func({cpu_ps}, 1e-2);
    auto gpu_opt = c.opt_func({gpu_ps}, 1e-2);
    EXPECT_EQ(gpu_opt->has_fused_path(), c.fused);
    cpu_opt->set_no_weight_decay({cpu_ps[2]});
    gpu_opt->set_no_weight_decay({gpu_ps[2]});
    for (int s = 0; s < 6; ++s) {
      set_grads(cpu_ps, 100 * (s + 1));
      set_grads(gpu_ps, 100 * (s + 1));
      cpu_opt->step();
      gpu_opt->step();
    }
    for (size_t i = 0; i < cpu_ps.size(); ++i) {
      const Tensor a = cpu_ps[i].detach(), b = gpu_ps[i].detach();
      EXPECT_TRUE(testing::all_close(a, b, {1e-5, 1e-6}, fmt::format("{} param {}", c.name, i)));
      EXPECT_TRUE(testing::all_close(cpu_ps[i].grad(), gpu_ps[i].grad(), {1e-5, 1e-6},
                                     fmt::format("{} grad {}", c.name, i)));
    }
    for (const char* key : {"grad_avg", "sqr_avg"}) {
      const auto& cs = cpu_opt->state(cpu_ps[4]).tensors;
      if (!cs.count(key)) continue;
      EXPECT_TRUE(testing::all_close(cs.at(key), gpu_opt->state(gpu_ps[4]).tensors.at(key), {1e-5, 1e-6},
                                     fmt::format("{} {}", c.name, key)));
    }
  }
}

}  // namespace
}  // namespace strata::train
