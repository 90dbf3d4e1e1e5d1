// Backward formulas of the embedding ops, written with tensor ops. embedding's gradient is the
// dense scatter-add embedding_backward (its own deterministic kernel, or recorded index_add when a
// double backward is being built); a bag's gradient is spread over its rows first (index_select
// by bag, scaled for Mean), and Max sends each element's gradient to the row that won it.
#include "autograd/formulas/embedding.h"

#include "autograd/record.h"
#include "tensor/ops.h"

namespace strata::autograd {
namespace {

struct EmbeddingBackward final : Node {
  int64_t num_rows = 0;
  int64_t padding_idx = -1;
  SavedTensor indices;
  std::string name() const override { return "EmbeddingBackward"; }
  void release_saved() override { indices.reset(); }
  TensorList apply(TensorList&& grads) override {
    return {embedding_backward(grads[0], indices.get(this), num_rows, padding_idx)};
  }
};

struct EmbeddingBagBackward final : Node {
  int64_t num_rows = 0;
  int64_t padding_idx = -1;
  SavedTensor indices, bag_of, bag_scale, argmax;
  std::string name() const override { return "EmbeddingBagBackward"; }
  void release_saved() override {
    indices.reset();
    bag_of.reset();
    bag_scale.reset();
    argmax.reset();
  }
  TensorList apply(TensorList&& grads) override {
    const Tensor& g = grads[0];
    if (argmax.defined()) {
      // Empty bags (argmax -1) send nothing: their gradient is zeroed and parked on row 0.
      const Tensor arg = argmax.get(this);
      const Tensor empty_bag = arg < 0.0;
      const Tensor src = where(empty_bag, 0.0, g);
      const Tensor target = clamp_min(arg, 0.0);
      Tensor z = zeros({num_rows, g.size(1)}, {.dtype = g.dtype(), .device = g.device()});
      return {scatter_add(z, 0, target, src)};
    }
    const Tensor scaled = bag_scale.defined() ? g * bag_scale.get(this) : g;
    const Tensor rows = index_select(scaled, 0, bag_of.get(this));
    return {embedding_backward(rows, indices.get(this), num_rows, padding_idx)};
  }
};

}  // namespace

void record_embedding(const Tensor& weight, const Tensor& indices, int64_t padding_idx, const Tensor& out) {
  if (!needs_grad({&weight})) return;
  auto node = make_node<EmbeddingBackward>({&weight});
  node->num_rows = weight.size(0);
  node->padding_idx = padding_idx;
  node->indices.save(indices);
  set_history(out, node);
}

void record_embedding_bag(const Tensor& weight, const Tensor& flat_indices, const Tensor& bag_of,
                          const Tensor& bag_scale, const Tensor& argmax, int64_t padding_idx, const Tensor& out) {
  if (!needs_grad({&weight})) return;
  auto node = make_node<EmbeddingBagBackward>({&weight});
  node->num_rows = weight.size(0);
  node->padding_idx = padding_idx;
  node->indices.save(flat_indices);
  node->bag_of.save(bag_of);
  if (bag_scale.defined()) node->bag_scale.save(bag_scale);
  if (argmax.defined()) node->argmax.save(argmax);
  set_history(out, node);
}

}  // namespace strata::autograd
