// Embedding front ends: argument checks (naming the op, shapes, dtypes and the offending index),
// allocation, the kernel call and autograd recording. The table, indices and gradients are made
// contiguous here so the kernels work on flat [N] indices and [N, D] rows.
#include "tensor/ops/embedding.h"

#include <vector>

#include "autograd/formulas/embedding.h"
#include "autograd/record.h"
#include "kernels/embedding.h"
#include "kernels/index.h"
#include "tensor/ops.h"
#include "tensor/semantic.h"

namespace strata {
namespace {

// Index dtype, padding_idx and every index in [0, vocab).
void check_index_range(const char* op, const Tensor& indices, int64_t vocab, int64_t padding_idx) {
  STRATA_CHECK(indices.dtype() == DType::I64 || indices.dtype() == DType::I32, DTypeError,
               "{}: indices must be i64 or i32, got {}", op, indices.dtype());
  STRATA_CHECK(padding_idx >= -1 && padding_idx < vocab, IndexError,
               "{}: padding_idx {} is out of range for a table of {} rows (-1 means none)", op, padding_idx, vocab);
  if (indices.numel() == 0) return;
  const auto [lo, hi] = kernels::index_min_max(indices);
  const int64_t bad = lo < 0 ? lo : hi;
  STRATA_CHECK(lo >= 0 && hi < vocab, IndexError, "{}: index {} is out of range for a table of {} rows", op, bad,
               vocab);
}

void check_indices(const char* op, const Tensor& weight, const Tensor& indices, int64_t padding_idx) {
  STRATA_CHECK(weight.dim() == 2, ShapeError, "{}: weight must be 2-d [V, D], got shape {}", op, weight.shape());
  STRATA_CHECK(indices.device() == weight.device(), DeviceError, "{}: indices are on {} but weight is on {}", op,
               indices.device(), weight.device());
  check_index_range(op, indices, weight.size(0), padding_idx);
}

Shape with_last(const Shape& shape, int64_t last) {
  std::vector<int64_t> dims(shape.begin(), shape.end());
  dims.push_back(last);
  return Shape(dims);
}

}  // namespace

Tensor embedding(const Tensor& weight, const Tensor& indices, EmbeddingOptions opts) {
  check_indices("embedding", weight, indices, opts.padding_idx);
  const Tensor w = weight.contiguous();
  const Tensor idx = indices.contiguous();
  Tensor out = empty(with_last(indices.shape(), weight.size(1)), {.dtype = weight.dtype(), .device = weight.device()});
  kernels::embedding_forward(w, idx.reshape({idx.numel()}), out.reshape({idx.numel(), weight.size(1)}));
  autograd::record_embedding(weight, idx, opts.padding_idx, out);
  propagate_semantics(out, {&weight});
  return out;
}

Tensor embedding_backward(const Tensor& grad_output, const Tensor& indices, int64_t num_rows, int64_t padding_idx) {
  const char* op = "embedding_backward";
  STRATA_CHECK(grad_output.is_floating_point(), DTypeError, "{}: grad_output must be floating, got {}", op,
               grad_output.dtype());
  STRATA_CHECK(grad_output.dim() == indices.dim() + 1, ShapeError,
               "{}: grad_output must have one more dim than indices (shapes {} and {})", op, grad_output.shape(),
               indices.shape());
  for (int64_t d = 0; d < indices.dim(); ++d)
    STRATA_CHECK(grad_output.size(d) == indices.size(d), ShapeError,
                 "{}: grad_output shape {} does not start with the indices shape {}", op, grad_output.shape(),
                 indices.shape());
  STRATA_CHECK(num_rows >= 0, ValueError, "{}: num_rows must be >= 0, got {}", op, num_rows);
  check_index_range(op, indices, num_rows, padding_idx);
  const int64_t n = indices.numel(), dim = grad_output.size(-1);
  const Tensor flat_idx = indices.contiguous().reshape({n});
  const Tensor g = grad_output.reshape({n, dim});
  if (GradMode::is_enabled() && grad_output.requires_grad()) {
    // Recording a double backward: the same sum through recorded ops (index_add is linear in g).
    const Tensor kept = padding_idx >= 0 ? where((flat_idx == static_cast<double>(padding_idx)).unsqueeze(1), 0.0, g) : g;
    return index_add(zeros({num_rows, dim}, {.dtype = g.dtype(), .device = g.device()}), 0, flat_idx, kept);
  }
  Tensor out = empty({num_rows, dim}, {.dtype = g.dtype(), .device = g.device()});
  kernels::embedding_dense_backward(g.contiguous(), flat_idx, padding_idx, out);
  return out;
}

Tensor embedding_bag(const Tensor& weight, const Tensor& indices, const Tensor& offsets, EmbeddingBagOptions opts) {
  const char* op = "embedding_bag";
  check_indices(op, weight, indices, opts.padding_idx);
  STRATA_CHECK(weight.is_floating_point(), DTypeError, "{}: weight must be floating, got {}", op, weight.dtype());
  Tensor flat_idx, offs;
  if (indices.dim() == 2) {
    STRATA_CHECK(!offsets.defined(), ValueError,
                 "{}: offsets must be undefined with 2-d indices (fixed bags), got indices {} and offsets {}", op,
                 indices.shape(), offsets.shape());
    const int64_t bags = indices.size(0), len = indices.size(1);
    flat_idx = indices.contiguous().reshape({bags * len});
    offs = arange(0.0, static_cast<double>(bags * len), static_cast<double>(std::max<int64_t>(len, 1)),
                  {.dtype = DType::I64, .device = weight.device()});
    if (len == 0) offs = zeros({bags}, {.dtype = DType::I64, .device = weight.device()});
  } else {
    STRATA_CHECK(indices.dim() == 1, ShapeError, "{}: indices must be 1-d (with offsets) or 2-d, got shape {}", op,
                 indices.shape());
    STRATA_CHECK(offsets.defined() && offsets.dim() == 1, ShapeError,
                 "{}: 1-d indices need 1-d offsets, got indices {} and offsets {}", op, indices.shape(),
                 offsets.defined() ? offsets.shape().str() : std::string("undefined"));
    STRATA_CHECK(offsets.dtype() == DType::I64 || offsets.dtype() == DType::I32, DTypeError,
                 "{}: offsets must be i64 or i32, got {}", op, offsets.dtype());
    STRATA_CHECK(offsets.device() == weight.device(), DeviceError, "{}: offsets are on {} but weight is on {}", op,
                 offsets.device(), weight.device());
    flat_idx = indices.contiguous();
    offs = offsets.to(DType::I64).contiguous();
    const std::vector<int64_t> o = offs.to_vector<int64_t>();
    for (size_t b = 0; b < o.size(); ++b) {
      STRATA_CHECK(b > 0 || o[b] == 0, ValueError, "{}: offsets[0] must be 0, got {}", op, o[b]);
      STRATA_CHECK(b == 0 || o[b] >= o[b - 1], ValueError, "{}: offsets must not decrease, got {} after {} at bag {}",
                   op, o[b], o[b - 1], b);
      STRATA_CHECK(o[b] <= indices.numel(), IndexError, "{}: offset {} is past the end of {} indices", op, o[b],
                   indices.numel());
    }
  }
  const int64_t bags = offs.numel(), dim = weight.size(1);
  const auto mode = static_cast<kernels::BagMode>(opts.mode);
  Tensor out = empty({bags, dim}, {.dtype = weight.dtype(), .device = weight.device()});
  // Every kernel operand lives on the weight's device (argmax and count included).
  const TensorOptions i64_here{.dtype = DType::I64, .device = weight.device()};
  Tensor argmax = mode == kernels::BagMode::Max ? empty({bags, dim}, i64_here) : Tensor();
  Tensor count = empty({bags}, i64_here);
  kernels::embedding_bag_forward(weight.contiguous(), flat_idx, offs, mode, opts.padding_idx, out, argmax, count);
  if (autograd::needs_grad({&weight})) {
    // Bag of each index, for spreading the bag gradient back over the bag's rows.
    const std::vector<int64_t> o = offs.to_vector<int64_t>();
    std::vector<int64_t> bag_of(static_cast<size_t>(flat_idx.numel()));
    for (size_t b = 0; b < o.size(); ++b) {
      const int64_t end = b + 1 < o.size() ? o[b + 1] : flat_idx.numel();
      for (int64_t i = o[b]; i < end; ++i) bag_of[static_cast<size_t>(i)] = static_cast<int64_t>(b);
    }
    Tensor bag_scale;  // Mean: 1 / count per bag (empty bags: their gradient is unused)
    if (mode == kernels::BagMode::Mean) {
      NoGradGuard no_grad;
      bag_scale = (1.0 / clamp_min(count.to(weight.dtype()), 1.0)).unsqueeze(1);
    }
    autograd::record_embedding_bag(weight, flat_idx, tensor<int64_t>(bag_of, {flat_idx.numel()}).to(weight.device()), bag_scale, argmax,
                                   opts.padding_idx, out);
  }
  propagate_semantics(out, {&weight});
  return out;
}

}  // namespace strata
