// Naive double-precision softmax and cross-entropy: loops over [outer, C, inner], no tricks beyond
// subtracting the max, so they are easy to check by eye against PyTorch's formulas.
#include "support/loss_reference.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace strata::testing {
namespace {

struct Layout {
  int64_t outer = 1, classes = 1, inner = 1;
};

Layout layout(const Shape& s, int64_t dim) {
  if (dim < 0) dim += std::max<int64_t>(s.ndim(), 1);
  Layout l;
  for (int64_t d = 0; d < s.ndim(); ++d) {
    if (d < dim) l.outer *= s[d];
    else if (d == dim) l.classes = s[d];
    else l.inner *= s[d];
  }
  return l;
}

}  // namespace

Tensor reference_softmax(const Tensor& x, int64_t dim, bool log) {
  const auto v = x.to(DType::F64).contiguous().to_vector<double>();
  const Layout l = layout(x.shape(), dim);
  std::vector<double> out(v.size());
  for (int64_t o = 0; o < l.outer; ++o)
    for (int64_t j = 0; j < l.inner; ++j) {
      auto at = [&](int64_t c) { return (o * l.classes + c) * l.inner + j; };
      double m = -std::numeric_limits<double>::infinity(), s = 0;
      for (int64_t c = 0; c < l.classes; ++c) m = std::max(m, v[at(c)]);
      for (int64_t c = 0; c < l.classes; ++c) s += std::exp(v[at(c)] - m);
      for (int64_t c = 0; c < l.classes; ++c)
        out[at(c)] = log ? v[at(c)] - m - std::log(s) : std::exp(v[at(c)] - m) / s;
    }
  return tensor<double>(out).reshape(x.shape());
}

ReferenceCrossEntropy reference_cross_entropy(const Tensor& x, const Tensor& target, int64_t dim,
                                              const std::vector<double>& weight, int64_t ignore_index,
                                              double e, const Tensor& g) {
  const auto v = x.to(DType::F64).contiguous().to_vector<double>();
  const auto t = target.to(DType::I64).contiguous().to_vector<int64_t>();
  const auto gv = g.to(DType::F64).contiguous().to_vector<double>();
  const Layout l = layout(x.shape(), dim);
  const double C = static_cast<double>(l.classes);
  auto w = [&](int64_t c) { return weight.empty() ? 1.0 : weight[c]; };
  double W = 0;
  for (int64_t c = 0; c < l.classes; ++c) W += w(c);
  std::vector<double> loss(t.size(), 0.0), grad(v.size(), 0.0);
  for (int64_t o = 0; o < l.outer; ++o)
    for (int64_t j = 0; j < l.inner; ++j) {
      const int64_t item = o * l.inner + j;
      if (t[item] == ignore_index) continue;
      auto at = [&](int64_t c) { return (o * l.classes + c) * l.inner + j; };
      double m = -std::numeric_limits<double>::infinity(), s = 0;
      for (int64_t c = 0; c < l.classes; ++c) m = std::max(m, v[at(c)]);
      for (int64_t c = 0; c < l.classes; ++c) s += std::exp(v[at(c)] - m);
      const double lse = m + std::log(s);
      const int64_t tc = t[item];
      // loss = (1 - e) * w[t] * -logp[t] + (e / C) * sum_c w[c] * -logp[c]
      double smooth = 0;
      for (int64_t c = 0; c < l.classes; ++c) smooth += w(c) * (lse - v[at(c)]);
      loss[item] = (1 - e) * w(tc) * (lse - v[at(tc)]) + e / C * smooth;
      for (int64_t c = 0; c < l.classes; ++c) {
        const double p = std::exp(v[at(c)] - lse);
        grad[at(c)] = gv[item] * ((1 - e) * w(tc) * (p - (c == tc ? 1.0 : 0.0)) + e / C * (W * p - w(c)));
      }
    }
  return {tensor<double>(loss).reshape(target.shape()), tensor<double>(grad).reshape(x.shape())};
}

}  // namespace strata::testing
