// dropout's backward: the same mask and scale applied to the gradient (dropout is linear in x),
// regenerated from (seed, offset) by dropout_with_state, which records itself again when a double
// backward is being built.
#include "autograd/formulas/dropout.h"

#include "autograd/record.h"
#include "tensor/ops.h"

namespace strata::autograd {
namespace {

struct DropoutBackward final : Node {
  double p = 0.0;
  uint64_t seed = 0, offset = 0;
  std::string name() const override { return "DropoutBackward"; }
  TensorList apply(TensorList&& grads) override { return {dropout_with_state(grads[0], p, seed, offset)}; }
};

}  // namespace

void record_dropout(const Tensor& x, double p, uint64_t seed, uint64_t offset, const Tensor& out) {
  if (!needs_grad({&x})) return;
  auto node = make_node<DropoutBackward>({&x});
  node->p = p;
  node->seed = seed;
  node->offset = offset;
  set_history(out, node);
}

}  // namespace strata::autograd
