// Backward formulas of the indexing and joining ops, written with tensor ops so they run on any
// device. Each op's gradient is its adjoint within the family: index_select <-> index_add,
// gather <-> scatter_add, cat <-> narrow, stack <-> select.
#include "autograd/formulas/index.h"

#include "autograd/record.h"
#include "tensor/ops.h"

namespace strata::autograd {
namespace {

Tensor zeros_of(const Shape& shape, const Tensor& like) {
  return zeros(shape, {.dtype = like.dtype(), .device = like.device()});
}

// g (shape of the index) laid into zeros of `shape` at the low corner: scatter's src may be larger
// than its index, and only the positions the index covers get a gradient.
Tensor pad_to(const Tensor& g, const Shape& shape) {
  if (g.shape() == shape) return g;
  if (g.numel() == shape.numel()) return g.reshape(shape);  // 0-d vs one-element 1-d
  Tensor out = zeros_of(shape, g);
  Tensor region = out;
  for (int64_t d = 0; d < g.dim(); ++d) region = region.narrow(d, 0, g.size(d));
  region.copy_(g);
  return out;
}

// index_add / scatter_add of g into zeros of `shape`: in place into the fresh buffer in the usual
// backward, through the recorded out-of-place op when the backward itself is being recorded.
bool recording(const Tensor& g) { return GradMode::is_enabled() && g.requires_grad(); }

Tensor index_add_to_zeros(const Shape& shape, int64_t dim, const Tensor& index, const Tensor& g) {
  Tensor z = zeros_of(shape, g);
  return recording(g) ? index_add(z, dim, index, g) : index_add_(z, dim, index, g);
}

Tensor scatter_add_to_zeros(const Shape& shape, int64_t dim, const Tensor& index, const Tensor& g) {
  Tensor z = zeros_of(shape, g);
  return recording(g) ? scatter_add(z, dim, index, g) : scatter_add_(z, dim, index, g);
}

struct IndexSelectBackward final : Node {
  Shape x_shape;
  int64_t dim = 0;
  SavedTensor index;
  std::string name() const override { return "IndexSelectBackward"; }
  void release_saved() override { index.reset(); }
  TensorList apply(TensorList&& grads) override {
    return {index_add_to_zeros(x_shape, dim, index.get(this), grads[0])};
  }
};

struct GatherBackward final : Node {
  Shape x_shape;
  int64_t dim = 0;
  SavedTensor index;
  std::string name() const override { return "GatherBackward"; }
  void release_saved() override { index.reset(); }
  TensorList apply(TensorList&& grads) override {
    return {scatter_add_to_zeros(x_shape, dim, index.get(this), grads[0])};
  }
};

// scatter: x's gradient is cut where src overwrote it; src's is the gradient at its targets.
// scatter_add: x's gradient passes through unchanged.
struct ScatterBackward final : Node {
  bool add = false;
  Shape src_shape;
  int64_t dim = 0;
  SavedTensor index;
  std::string name() const override { return add ? "ScatterAddBackward" : "ScatterBackward"; }
  void release_saved() override { index.reset(); }
  TensorList apply(TensorList&& grads) override {
    const Tensor& g = grads[0];
    Tensor idx = index.get(this);
    TensorList out(2);
    if (needs_input_grad(0)) out[0] = add ? g : scatter(g, dim, idx, zeros_of(idx.shape(), g));
    if (needs_input_grad(1)) out[1] = pad_to(gather(g, dim, idx), src_shape);
    return out;
  }
};

struct IndexAddBackward final : Node {
  Shape src_shape;
  int64_t dim = 0;
  SavedTensor index;
  std::string name() const override { return "IndexAddBackward"; }
  void release_saved() override { index.reset(); }
  TensorList apply(TensorList&& grads) override {
    const Tensor& g = grads[0];
    TensorList out(2);
    if (needs_input_grad(0)) out[0] = g;
    if (needs_input_grad(1)) out[1] = pad_to(index_select(g, dim, index.get(this)), src_shape);
    return out;
  }
};

struct MaskedFillBackward final : Node {
  SavedTensor mask;
  std::string name() const override { return "MaskedFillBackward"; }
  void release_saved() override { mask.reset(); }
  TensorList apply(TensorList&& grads) override { return {where(mask.get(this), 0.0, grads[0])}; }
};

struct MaskedSelectBackward final : Node {
  Shape x_shape, shape;
  SavedTensor positions;
  std::string name() const override { return "MaskedSelectBackward"; }
  void release_saved() override { positions.reset(); }
  TensorList apply(TensorList&& grads) override {
    Tensor flat = index_add_to_zeros({shape.numel()}, 0, positions.get(this), grads[0]);
    return {sum_to(flat.reshape(shape), x_shape)};
  }
};

// One input's share of the output, in that input's dtype (cat and stack promote).
struct JoinBackward final : Node {
  bool stacked = false;
  int64_t dim = 0;
  std::vector<int64_t> sizes;  // cat: each input's size along dim
  std::vector<DType> dtypes;
  std::string name() const override { return stacked ? "StackBackward" : "CatBackward"; }
  TensorList apply(TensorList&& grads) override {
    const Tensor& g = grads[0];
    TensorList out(dtypes.size());
    int64_t at = 0;
    for (size_t i = 0; i < dtypes.size(); ++i) {
      if (needs_input_grad(i)) {
        Tensor part = stacked ? g.select(dim, static_cast<int64_t>(i)) : g.narrow(dim, at, sizes[i]);
        out[i] = part.dtype() == dtypes[i] ? part : part.to(dtypes[i]);
      }
      if (!stacked) at += sizes[i];
    }
    return out;
  }
};

}  // namespace

void record_index_select(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& out) {
  if (!is_floating(out.dtype()) || !needs_grad({&x})) return;
  auto node = make_node<IndexSelectBackward>({&x});
  node->x_shape = x.shape();
  node->dim = dim;
  node->index.save(index);
  set_history(out, node);
}

void record_gather(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& out) {
  if (!is_floating(out.dtype()) || !needs_grad({&x})) return;
  auto node = make_node<GatherBackward>({&x});
  node->x_shape = x.shape();
  node->dim = dim;
  node->index.save(index);
  set_history(out, node);
}

void record_scatter(bool add, const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src,
                    const Tensor& out) {
  if (!is_floating(out.dtype()) || !needs_grad({&x, &src})) return;
  auto node = make_node<ScatterBackward>({&x, &src});
  node->add = add;
  node->src_shape = src.shape();
  node->dim = dim;
  node->index.save(index);
  set_history(out, node);
}

void record_index_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src, const Tensor& out) {
  if (!is_floating(out.dtype()) || !needs_grad({&x, &src})) return;
  auto node = make_node<IndexAddBackward>({&x, &src});
  node->src_shape = src.shape();
  node->dim = dim;
  node->index.save(index);
  set_history(out, node);
}

void record_masked_fill(const Tensor& x, const Tensor& mask, const Tensor& out) {
  if (!is_floating(out.dtype()) || !needs_grad({&x})) return;
  auto node = make_node<MaskedFillBackward>({&x});
  node->mask.save(mask);
  set_history(out, node);
}

void record_masked_select(const Tensor& x, const Shape& shape, const Tensor& positions, const Tensor& out) {
  if (!is_floating(out.dtype()) || !needs_grad({&x})) return;
  auto node = make_node<MaskedSelectBackward>({&x});
  node->x_shape = x.shape();
  node->shape = shape;
  node->positions.save(positions);
  set_history(out, node);
}

namespace {
void record_join(bool stacked, const std::vector<Tensor>& inputs, int64_t dim, const Tensor& out) {
  if (!is_floating(out.dtype()) || !needs_grad(inputs)) return;
  auto node = make_node_list<JoinBackward>(inputs);
  node->stacked = stacked;
  node->dim = dim;
  for (const Tensor& t : inputs) {
    node->sizes.push_back(stacked ? 1 : t.size(dim));
    node->dtypes.push_back(t.dtype());
  }
  set_history(out, node);
}
}  // namespace

void record_cat(const std::vector<Tensor>& inputs, int64_t dim, const Tensor& out) {
  record_join(false, inputs, dim, out);
}

void record_stack(const std::vector<Tensor>& inputs, int64_t dim, const Tensor& out) {
  record_join(true, inputs, dim, out);
}

}  // namespace strata::autograd
