// Backward formulas of the view ops. A view's gradient is the incoming gradient laid back into
// the source's shape: reshaped, inverse-permuted, zero-padded (slice/select) or summed over the
// broadcast dims (expand).
#include "autograd/formulas/movement.h"

#include "autograd/record.h"
#include "tensor/ops.h"

namespace strata::autograd {
namespace {

struct ReshapeBackward final : Node {
  Shape src_shape;
  std::string name() const override { return "ReshapeBackward"; }
  TensorList apply(TensorList&& grads) override { return {grads[0].reshape(src_shape)}; }
};

struct PermuteBackward final : Node {
  std::vector<int64_t> inverse;
  std::string name() const override { return "PermuteBackward"; }
  TensorList apply(TensorList&& grads) override { return {grads[0].permute(inverse)}; }
};

// Slice and select: scatter the gradient into zeros of the source shape.
struct SliceBackward final : Node {
  Shape src_shape;
  DType dtype;
  int64_t dim, start, step;
  bool select;  // the dim was removed
  std::string name() const override { return select ? "SelectBackward" : "SliceBackward"; }
  TensorList apply(TensorList&& grads) override {
    Tensor g = grads[0];
    Tensor out = zeros(src_shape, {.dtype = g.dtype(), .device = g.device()});
    Tensor region = select ? out.select(dim, start) : out.slice(dim, start, start + (g.size(dim) - 1) * step + 1, step);
    region.copy_(g);
    return {out};
  }
};

struct ExpandBackward final : Node {
  Shape src_shape;
  std::string name() const override { return "ExpandBackward"; }
  TensorList apply(TensorList&& grads) override { return {sum_to(grads[0], src_shape)}; }
};

}  // namespace

void record_view_reshape(const Tensor& src, const Tensor& out) {
  if (!needs_grad({&src})) return;
  auto node = make_node<ReshapeBackward>({&src});
  node->src_shape = src.shape();
  set_history(out, node);
}

void record_view_permute(const Tensor& src, const Tensor& out, const std::vector<int64_t>& perm) {
  if (!needs_grad({&src})) return;
  auto node = make_node<PermuteBackward>({&src});
  node->inverse.resize(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) node->inverse[perm[i]] = static_cast<int64_t>(i);
  set_history(out, node);
}

void record_view_slice(const Tensor& src, const Tensor& out, int64_t dim, int64_t start, int64_t step) {
  if (!needs_grad({&src})) return;
  auto node = make_node<SliceBackward>({&src});
  node->src_shape = src.shape();
  node->dim = dim;
  node->start = start;
  node->step = step;
  node->select = false;
  set_history(out, node);
}

void record_view_select(const Tensor& src, const Tensor& out, int64_t dim, int64_t index) {
  if (!needs_grad({&src})) return;
  auto node = make_node<SliceBackward>({&src});
  node->src_shape = src.shape();
  node->dim = dim;
  node->start = index;
  node->step = 1;
  node->select = true;
  set_history(out, node);
}

void record_view_expand(const Tensor& src, const Tensor& out) {
  if (!needs_grad({&src})) return;
  auto node = make_node<ExpandBackward>({&src});
  node->src_shape = src.shape();
  set_history(out, node);
}

}  // namespace strata::autograd
