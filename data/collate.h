#pragma once
// Collation (fastai's fa_collate): a list of samples -> one batch. Samples are tuples (or single
// values); element k of the batch stacks element k of every sample. Tensors are stacked
// (the batch keeps the semantic type and metadata of the first sample's element: stack follows
// fastai's rule), ints become an i64 tensor and floats an f64 tensor (torch's default_collate).
// Anything else (strings, paths, nested tuples) cannot be collated: ValueError naming the
// element and the sample.
#include <vector>

#include "data/item.h"

namespace strata::data {

// A collated batch as the DataLoader hands it out: one tensor per tuple element.
using Batch = std::vector<Tensor>;

// Stacks samples into a tuple Item of tensors (a single-value sample gives a 1-tuple).
Item collate(const std::vector<Item>& samples);
// fastai's retain_types for a batch: each tensor of `batch` takes the semantic type of the same
// element of `sample` when it lost it (see retain_type).
Item retain_batch_types(const Item& batch, const Item& sample);
// A tuple Item of tensors -> Batch (ValueError when an element is not a tensor).
Batch to_batch(const Item& batch);
Item from_batch(const Batch& batch);

}  // namespace strata::data
