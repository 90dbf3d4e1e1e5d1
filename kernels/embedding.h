#pragma once
// Embedding kernel entry points. The front end (tensor/ops/embedding.cpp) checks shapes, dtypes
// and index ranges, makes the table, indices and gradients contiguous, and allocates; these pick
// the device and run. Indices are i64 or i32, flattened, every value already known to be in
// [0, V).
//
// The dense backward is deterministic without atomics: each thread owns a disjoint range of
// table rows, zero-fills it, then walks the indices in order and accumulates only the rows it
// owns, so every row is summed in index order whatever the thread count.
#include <cstdint>

#include "tensor/tensor.h"

namespace strata::kernels {

enum class BagMode : uint8_t { Sum, Mean, Max };

// out[i, :] = weight[indices[i], :]; weight [V, D], indices [N], out [N, D].
void embedding_forward(const Tensor& weight, const Tensor& indices, const Tensor& out);
// grad_weight = zeros, then grad_weight[indices[i], :] += grad[i, :] for every i whose index is not
// padding_idx (-1: none). grad [N, D], grad_weight [V, D] (overwritten, no need to zero it).
void embedding_dense_backward(const Tensor& grad, const Tensor& indices, int64_t padding_idx,
                              const Tensor& grad_weight);
// Bags of rows: bag b holds indices[offsets[b] .. offsets[b + 1]) (the last bag ends at N);
// offsets is i64 [B]. out [B, D] is the sum / mean / max over each bag's rows, skipping
// padding_idx; an empty bag gives zeros. Max also writes argmax [B, D] (i64, -1 for an empty
// bag); count [B] (i64) receives the number of rows that took part.
void embedding_bag_forward(const Tensor& weight, const Tensor& indices, const Tensor& offsets, BagMode mode,
                           int64_t padding_idx, const Tensor& out, const Tensor& argmax, const Tensor& count);

namespace cpu {
void embedding_forward(const Tensor& weight, const Tensor& indices, const Tensor& out);
void embedding_dense_backward(const Tensor& grad, const Tensor& indices, int64_t padding_idx,
                              const Tensor& grad_weight);
void embedding_bag_forward(const Tensor& weight, const Tensor& indices, const Tensor& offsets, BagMode mode,
                           int64_t padding_idx, const Tensor& out, const Tensor& argmax, const Tensor& count);
}  // namespace cpu

}  // namespace strata::kernels
