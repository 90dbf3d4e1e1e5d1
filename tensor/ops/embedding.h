#pragma once
// Embedding lookups: rows of a [V, D] table picked by integer indices (i64 or i32), alone or
// reduced over bags. Out-of-range indices throw IndexError naming the value and V. The gradient
// of the table is dense ([V, D], like PyTorch's default) and deterministic for any thread count;
// rows at padding_idx get none.
//
//   Tensor e = strata::embedding(w, tokens);                         // [B, T] -> [B, T, D]
//   Tensor b = strata::embedding_bag(w, idx, offsets, {.mode = strata::EmbeddingBagMode::Mean});
#include <cstdint>

#include "tensor/tensor.h"

namespace strata {

struct EmbeddingOptions {
  int64_t padding_idx = -1;  // a row in [0, V) whose lookups get no gradient; -1: none
};

// weight [V, D], indices of any shape -> [...indices.shape, D].
Tensor embedding(const Tensor& weight, const Tensor& indices, EmbeddingOptions opts = {});

// The dense table gradient of embedding: zeros [num_rows, D] with grad_output[..., :] added at
// each index (except padding_idx). grad_output has shape [...indices.shape, D].
Tensor embedding_backward(const Tensor& grad_output, const Tensor& indices, int64_t num_rows,
                          int64_t padding_idx = -1);

enum class EmbeddingBagMode : uint8_t { Sum, Mean, Max };

struct EmbeddingBagOptions {
  EmbeddingBagMode mode = EmbeddingBagMode::Mean;  // PyTorch's default
  int64_t padding_idx = -1;  // skipped in every bag (and not counted by Mean); -1: none
};

// Reduces the rows of each bag to one: out [B, D]. Either 1-d indices [N] with 1-d offsets [B]
// (bag b holds indices[offsets[b] .. offsets[b + 1]), the last bag runs to N; offsets start at 0
// and never decrease), or 2-d indices [B, L] (fixed bags of L) with `offsets` undefined. An empty
// bag gives zeros. Max's gradient goes to the row that held each maximum.
Tensor embedding_bag(const Tensor& weight, const Tensor& indices, const Tensor& offsets,
                     EmbeddingBagOptions opts = {});

}  // namespace strata
