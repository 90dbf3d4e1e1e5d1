#pragma once
// Double-precision textbook implementations of softmax and cross-entropy (PyTorch's definitions,
// written as plain loops) for the loss tests and benchmarks to compare against.
#include <vector>

#include "strata.h"

namespace strata::testing {

// softmax / log_softmax of x along dim, in f64.
Tensor reference_softmax(const Tensor& x, int64_t dim, bool log);

struct ReferenceCrossEntropy {
  Tensor loss;  // per item (target's shape), f64
  Tensor grad;  // d(sum_i g_i * loss_i)/dx for the given per-item g, f64, x's shape
};

// Cross-entropy with class indices along `dim`, class weights (empty: all 1), ignore_index and
// label smoothing, per item; grad for the per-item upstream gradient `g` (x's item shape).
ReferenceCrossEntropy reference_cross_entropy(const Tensor& x, const Tensor& target, int64_t dim,
                                              const std::vector<double>& weight, int64_t ignore_index,
                                              double smoothing, const Tensor& g);

}  // namespace strata::testing
