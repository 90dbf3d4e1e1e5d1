// Samples for the reductions (kernels/defs/reduce.def). Every op is exercised over one dim, several
// dims, all dims, with keepdim, negative dims and a non-contiguous (transposed or sliced) input;
// the reduce kernels pick their layout from the strides, so these also cover the row engine
// (reduced dim innermost) and the column engine (kept dims innermost, at least 8 wide: the
// "columns" cases). Fixed-value inputs pin the
// cases where the gradient is subtle: ties in max (shared equally; two-way ties only, where central
// differences agree with the equal share), zeros in prod.
#include "support/op_samples.h"

namespace strata::testing {
namespace {

using TL = std::vector<Tensor>;
using Fn = std::function<Tensor(const Tensor&)>;

OpSample random_sample(const std::string& op, const std::string& case_name, Shape shape, Fn f, double low = -1.0,
                       double high = 1.0) {
  return OpSample{op, case_name, [=](DType dt) { return TL{sample_tensor(shape, dt, 31, low, high)}; },
                  [f](const TL& in) { return f(in[0]); }};
}

OpSample fixed_sample(const std::string& op, const std::string& case_name, std::vector<double> values, Shape shape,
                      Fn f) {
  return OpSample{op, case_name,
                  [=](DType dt) {
                    Tensor t = tensor<double>(values, shape, {.dtype = DType::F64}).to(dt);
                    if (is_floating(dt)) t.requires_grad_(true);
                    return TL{t};
                  },
                  [f](const TL& in) { return f(in[0]); }};
}

// Integer/bool results compared as doubles by the op-list test.
Tensor as_f64(const Tensor& t) { return t.to(DType::F64); }

}  // namespace

std::vector<OpSample> samples_reduce() {
  const Shape s3 = {3, 4, 5};
  std::vector<OpSample> s = {
      // sum
      random_sample("sum", "all", s3, [](const Tensor& x) { return sum(x); }),
      random_sample("sum", "dim1", s3, [](const Tensor& x) { return sum(x, {1}); }),
      random_sample("sum", "last_dim_negative_keepdim", s3, [](const Tensor& x) { return sum(x, {-1}, true); }),
      random_sample("sum", "dims_0_2", s3, [](const Tensor& x) { return sum(x, {0, 2}); }),
      random_sample("sum", "dim0_columns", {6, 9}, [](const Tensor& x) { return sum(x, {0}); }),
      random_sample("sum", "transposed", {4, 6}, [](const Tensor& x) { return sum(x.t(), {1}); }),
      random_sample("sum", "sliced_step2", {8, 5}, [](const Tensor& x) { return sum(x.slice(0, 0, 8, 2), {0}); }),
      random_sample("sum", "scalar_0d", {}, [](const Tensor& x) { return sum(x * 3.0); }),
      random_sample("sum", "empty_dim", {0, 3}, [](const Tensor& x) { return sum(x, {0}); }),
      // mean
      random_sample("mean", "all", s3, [](const Tensor& x) { return mean(x); }),
      random_sample("mean", "last_dim_keepdim", s3, [](const Tensor& x) { return mean(x, {-1}, true); }),
      random_sample("mean", "dims_0_2", s3, [](const Tensor& x) { return mean(x, {2, 0}); }),
      random_sample("mean", "transposed", {5, 3}, [](const Tensor& x) { return mean(x.t(), {0}); }),
      // prod
      random_sample("prod", "dim1", s3, [](const Tensor& x) { return prod(x, {1}); }, 0.5, 1.5),
      random_sample("prod", "all", {3, 4}, [](const Tensor& x) { return prod(x); }, 0.5, 1.5),
      random_sample("prod", "dim0_columns_keepdim", {5, 9},
                    [](const Tensor& x) { return prod(x, {0}, true); }, 0.5, 1.5),
      fixed_sample("prod", "one_and_two_zeros", {2, 0, 3, 0.5, 0, 0, 4, 1.5, 1, 2, 3, 0.25}, {3, 4},
                   [](const Tensor& x) { return prod(x, {1}); }),
      fixed_sample("prod", "one_zero_all", {2, 0, 3, 0.5, 1.5, -2}, {2, 3}, [](const Tensor& x) { return prod(x); }),
      // amax / amin
      random_sample("amax", "dim1", s3, [](const Tensor& x) { return amax(x, {1}); }),
      random_sample("amax", "dims_0_2_keepdim", s3, [](const Tensor& x) { return amax(x, {0, -1}, true); }),
      random_sample("amax", "all", s3, [](const Tensor& x) { return amax(x); }),
      random_sample("amax", "transposed", {4, 6}, [](const Tensor& x) { return amax(x.t(), {0}); }),
      fixed_sample("amax", "two_way_ties_share", {1, 3, 3, 2, 5, 0, 5, -1}, {2, 4},
                   [](const Tensor& x) { return amax(x, {1}); }),
      random_sample("amin", "dim0_columns", {6, 10}, [](const Tensor& x) { return amin(x, {0}); }),
      random_sample("amin", "all", s3, [](const Tensor& x) { return amin(x); }),
      fixed_sample("amin", "two_way_ties_share", {1, -3, -3, 2}, {4}, [](const Tensor& x) { return amin(x); }),
      // max / min along a dim, and over everything
      random_sample("max_dim", "dim1", s3, [](const Tensor& x) { return max(x, 1).first; }),
      random_sample("max_dim", "dim0_columns", {6, 10}, [](const Tensor& x) { return max(x, 0).first; }),
      random_sample("max_dim", "negative_keepdim", s3, [](const Tensor& x) { return max(x, -1, true).first; }),
      random_sample("max_dim", "transposed", {4, 6}, [](const Tensor& x) { return max(x.t(), 1).first; }),
      random_sample("min_dim", "dim2", s3, [](const Tensor& x) { return min(x, 2).first; }),
      random_sample("min_dim", "dim0_keepdim", {5, 3}, [](const Tensor& x) { return min(x, 0, true).first; }),
      random_sample("max_all", "3d", s3, [](const Tensor& x) { return max(x); }),
      fixed_sample("max_all", "two_way_ties_share", {4, 1, 4, 2}, {2, 2}, [](const Tensor& x) { return max(x); }),
      random_sample("min_all", "transposed", {4, 6}, [](const Tensor& x) { return min(x.t()); }),
      // argmax / argmin
      random_sample("argmax", "dim1", s3, [](const Tensor& x) { return as_f64(argmax(x, 1)); }),
      random_sample("argmax", "dim0_columns_keepdim", {6, 10},
                    [](const Tensor& x) { return as_f64(argmax(x, 0, true)); }),
      random_sample("argmax", "flattened_transposed", {4, 6}, [](const Tensor& x) { return as_f64(argmax(x.t())); }),
      random_sample("argmin", "negative_dim", s3, [](const Tensor& x) { return as_f64(argmin(x, -1)); }),
      random_sample("argmin", "dim0_columns", {6, 10}, [](const Tensor& x) { return as_f64(argmin(x, 0)); }),
      // var / std
      random_sample("var", "all", s3, [](const Tensor& x) { return var(x); }),
      random_sample("var", "dim1", s3, [](const Tensor& x) { return var(x, {1}); }),
      random_sample("var", "dims_0_2_population_keepdim", s3, [](const Tensor& x) { return var(x, {0, 2}, 0, true); }),
      random_sample("var", "dim0_columns", {7, 9}, [](const Tensor& x) { return var(x, {0}); }),
      random_sample("var", "transposed", {4, 6}, [](const Tensor& x) { return var(x.t(), {1}); }),
      random_sample("std", "dim1", s3, [](const Tensor& x) { return std(x, {1}); }),
      random_sample("std", "all_population", s3, [](const Tensor& x) { return std(x, {}, 0); }),
      random_sample("std", "dim0_columns_keepdim", {7, 9}, [](const Tensor& x) { return std(x, {0}, 1, true); }),
      // logsumexp
      random_sample("logsumexp", "dim1", s3, [](const Tensor& x) { return logsumexp(x * 4.0, {1}); }),
      random_sample("logsumexp", "dim0_columns", {6, 10}, [](const Tensor& x) { return logsumexp(x, {0}); }),
      random_sample("logsumexp", "all", s3, [](const Tensor& x) { return logsumexp(x, {}); }),
      random_sample("logsumexp", "dims_negative_keepdim", s3,
                    [](const Tensor& x) { return logsumexp(x, {-1, 0}, true); }),
      random_sample("logsumexp", "transposed", {4, 6}, [](const Tensor& x) { return logsumexp(x.t(), {1}); }),
      // norm
      random_sample("norm", "p2_all", s3, [](const Tensor& x) { return norm(x); }),
      random_sample("norm", "p2_dim1_keepdim", s3, [](const Tensor& x) { return norm(x, 2.0, {1}, true); }),
      random_sample("norm", "p1_dim0_columns", {6, 10}, [](const Tensor& x) { return norm(x, 1.0, {0}); }),
      random_sample("norm", "inf_dim_negative", s3, [](const Tensor& x) { return norm(x, INFINITY, {-1}); }),
      random_sample("norm", "neg_inf_all", s3, [](const Tensor& x) { return norm(x, -INFINITY); }),
      random_sample("norm", "p3_dims_0_2", s3, [](const Tensor& x) { return norm(x, 3.0, {0, 2}); }),
      random_sample("norm", "p0.5_transposed", {4, 6}, [](const Tensor& x) { return norm(x.t(), 0.5, {1}); }, 0.2, 1.0),
      random_sample("norm", "p0_counts", s3, [](const Tensor& x) { return norm(x, 0.0, {1}); }),
      fixed_sample("norm", "p2_zero_row", {0, 0, 0, 3, 4, 0}, {2, 3},
                   [](const Tensor& x) { return norm(x, 2.0, {1}); }),
      // any / all
      random_sample("any", "dim1", s3, [](const Tensor& x) { return as_f64(any(x > 0.6, {1})); }),
      random_sample("any", "all_dims_float_input", s3, [](const Tensor& x) { return as_f64(any(x)); }),
      random_sample("all", "dim0_columns_keepdim", {6, 10},
                    [](const Tensor& x) { return as_f64(all(x > -0.7, {0}, true)); }),
      random_sample("all", "transposed", {4, 6}, [](const Tensor& x) { return as_f64(all(x.t() < 0.5, {1})); }),
      // cumsum
      random_sample("cumsum", "dim0", {5, 4}, [](const Tensor& x) { return cumsum(x, 0); }),
      random_sample("cumsum", "last_dim_negative", s3, [](const Tensor& x) { return cumsum(x, -1); }),
      random_sample("cumsum", "middle_dim", s3, [](const Tensor& x) { return cumsum(x, 1); }),
      random_sample("cumsum", "transposed", {4, 6}, [](const Tensor& x) { return cumsum(x.t(), 1); }),
  };
  return s;
}

}  // namespace strata::testing
