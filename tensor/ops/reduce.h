#pragma once
// Reductions over any set of dims (empty dims = all), with keepdim. Negative dims count from the
// end. Integer and bool inputs sum/prod in i64; mean/var/std/logsumexp/norm need floating input.
//
//   Tensor m = strata::mean(x, {0, 2}, /*keepdim=*/true);
//   auto [values, indices] = strata::max(x, 1);
#include <span>
#include <utility>
#include <vector>

#include "tensor/tensor.h"

namespace strata {

using Dims = std::vector<int64_t>;

Tensor sum(const Tensor& x, const Dims& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const Dims& dims = {}, bool keepdim = false);
Tensor prod(const Tensor& x, const Dims& dims = {}, bool keepdim = false);
Tensor amax(const Tensor& x, const Dims& dims = {}, bool keepdim = false);  // differentiable max values
Tensor amin(const Tensor& x, const Dims& dims = {}, bool keepdim = false);
// Values and i64 indices along one dim (first occurrence on ties).
std::pair<Tensor, Tensor> max(const Tensor& x, int64_t dim, bool keepdim = false);
std::pair<Tensor, Tensor> min(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor max(const Tensor& x);  // over everything, 0-d
Tensor min(const Tensor& x);
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor argmin(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor argmax(const Tensor& x);  // index into the flattened tensor
// correction = 1: unbiased (Bessel), 0: population.
Tensor var(const Tensor& x, const Dims& dims = {}, int64_t correction = 1, bool keepdim = false);
Tensor std(const Tensor& x, const Dims& dims = {}, int64_t correction = 1, bool keepdim = false);
Tensor logsumexp(const Tensor& x, const Dims& dims, bool keepdim = false);
Tensor norm(const Tensor& x, double p = 2.0, const Dims& dims = {}, bool keepdim = false);
Tensor any(const Tensor& x, const Dims& dims = {}, bool keepdim = false);  // bool result
Tensor all(const Tensor& x, const Dims& dims = {}, bool keepdim = false);
Tensor cumsum(const Tensor& x, int64_t dim);

}  // namespace strata
