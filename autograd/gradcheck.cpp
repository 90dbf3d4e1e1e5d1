// Finite-difference gradient check. The output y = f(x) is reduced to a scalar with fixed random
// weights w (s = sum(w * y)), so each perturbed evaluation is one number:
//   numeric ds/dx_i = (s(x + eps e_i) - s(x - eps e_i)) / (2 eps)
// and autograd's ds/dx comes from one backward. Inputs must be f64 for the check to mean much.
#include "autograd/gradcheck.h"

#include <cmath>

#include "autograd/grad_mode.h"
#include "tensor/ops.h"

namespace strata {

using autograd::TensorList;

GradcheckResult gradcheck(const std::function<Tensor(const TensorList&)>& fn, const TensorList& inputs,
                          GradcheckOptions opts) {
  GradcheckResult result;
  // Fresh leaves so the caller's tensors are not touched.
  TensorList leaves;
  for (const Tensor& t : inputs) {
    if (!t.defined()) {
      leaves.push_back(t);
      continue;
    }
    Tensor c = t.detach().clone();
    if (t.requires_grad()) c.requires_grad_(true);
    leaves.push_back(c);
  }

  Tensor y = fn(leaves);
  STRATA_CHECK(y.defined() && y.is_floating_point(), ValueError, "gradcheck: the function must return a floating tensor");
  Generator gen(1234);
  Tensor w = rand(y.shape(), {.dtype = y.dtype(), .device = y.device()}, &gen) + 0.5;

  TensorList diff_inputs;
  std::vector<size_t> diff_index;
  for (size_t i = 0; i < leaves.size(); ++i) {
    if (leaves[i].defined() && leaves[i].requires_grad()) {
      diff_inputs.push_back(leaves[i]);
      diff_index.push_back(i);
    }
  }
  STRATA_CHECK(!diff_inputs.empty(), ValueError, "gradcheck: no input requires grad");
  TensorList analytic;
  if (y.requires_grad()) {
    Tensor s = sum(y * w);
    analytic = autograd::grad({s}, diff_inputs, {}, false, false, /*allow_unused=*/true);
  } else {
    analytic.resize(diff_inputs.size());
  }

  auto scalar_at = [&](const TensorList& in) {
    NoGradGuard no_grad;
    return sum(fn(in) * w).to(DType::F64).item<double>();
  };

  for (size_t k = 0; k < diff_inputs.size(); ++k) {
    const size_t i = diff_index[k];
    Tensor x = leaves[i].detach().contiguous().to(DType::F64).clone();
    const int64_t n = x.numel();
    std::vector<double> numeric(n);
    double* px = x.data<double>();
    for (int64_t e = 0; e < n; ++e) {
      const double orig = px[e];
      TensorList in = leaves;
      px[e] = orig + opts.eps;
      in[i] = x.to(leaves[i].dtype()).reshape(leaves[i].shape());
      const double plus = scalar_at(in);
      px[e] = orig - opts.eps;
      in[i] = x.to(leaves[i].dtype()).reshape(leaves[i].shape());
      const double minus = scalar_at(in);
      px[e] = orig;
      numeric[e] = (plus - minus) / (2 * opts.eps);
    }
    std::vector<double> an(n, 0.0);
    if (analytic[k].defined()) an = analytic[k].to_vector<double>();
    for (int64_t e = 0; e < n; ++e) {
      const double err = std::abs(an[e] - numeric[e]);
      result.max_abs_error = std::max(result.max_abs_error, err);
      if (err > opts.atol + opts.rtol * std::abs(numeric[e]) && result.ok) {
        result.ok = false;
        result.message = fmt::format(
            "gradcheck: input {} (shape {}) element {}: autograd gives {:.8g}, finite differences give {:.8g}", i,
            leaves[i].shape(), e, an[e], numeric[e]);
      }
    }
  }
  return result;
}

}  // namespace strata
