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

// The region of a tensor of the source's shape that a slice/select view covers.
Tensor view_region(const Tensor& t, bool select, int64_t dim, int64_t start, int64_t step, int64_t length) {
  return select ? t.select(dim, start) : t.slice(dim, start, start + (length - 1) * step + 1, step);
}

// The gradient of SliceBackward itself (double backward with create_graph): the same slice.
struct SliceGradBackward final : Node {
  int64_t dim, start, step, length;
  bool select;
  SliceGradBackward(int64_t d, int64_t s, int64_t k, int64_t n, bool sel)
      : dim(d), start(s), step(k), length(n), select(sel) {}
  std::string name() const override { return select ? "SelectGradBackward" : "SliceGradBackward"; }
  TensorList apply(TensorList&& grads) override {
    return {view_region(grads[0], select, dim, start, step, length).contiguous()};
  }
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
    const int64_t length = select ? 1 : g.size(dim);
    Tensor out = zeros(src_shape, {.dtype = g.dtype(), .device = g.device()});
    {
      NoGradGuard no_grad;  // the copy is recorded below as one node, not as an in-place op
      view_region(out, select, dim, start, step, length).copy_(g);
    }
    if (needs_grad({&g})) set_history(out, make_node<SliceGradBackward>({&g}, dim, start, step, length, select));
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
