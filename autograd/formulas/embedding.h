#pragma once
// Recording of the embedding ops on the autograd graph (no-ops unless grad mode is on and the
// table requires grad). Index tensors are saved, never differentiated.
#include <cstdint>

#include "tensor/tensor.h"

namespace strata::autograd {

// indices: contiguous, out: [...indices.shape, D].
void record_embedding(const Tensor& weight, const Tensor& indices, int64_t padding_idx, const Tensor& out);
// flat_indices [N]; bag_of [N] i64 (the bag of each index). Sum: bag_scale and argmax undefined;
// Mean: bag_scale [B, 1] (1 / rows per bag); Max: argmax [B, D] (i64, -1 for an empty bag).
void record_embedding_bag(const Tensor& weight, const Tensor& flat_indices, const Tensor& bag_of,
                          const Tensor& bag_scale, const Tensor& argmax, int64_t padding_idx, const Tensor& out);

}  // namespace strata::autograd
