#pragma once
// gradcheck: compares autograd's gradients with central finite differences, in double precision.
//
//   auto r = strata::gradcheck([](const TensorList& in) { return (in[0] * in[1]).sum(); }, {a, b});
//   EXPECT_TRUE(r.ok) << r.message;
//
// Inputs that require grad are perturbed one element at a time; the function may return any
// shape (a random projection reduces it to a scalar, so one backward checks the whole Jacobian
// against the same projection of the finite differences).
#include <functional>
#include <string>

#include "autograd/node.h"

namespace strata {

struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-5;
  double rtol = 1e-3;
};

struct GradcheckResult {
  bool ok = true;
  std::string message;  // names the input and element that disagree, with both values
  double max_abs_error = 0;
};

GradcheckResult gradcheck(const std::function<Tensor(const autograd::TensorList&)>& fn,
                          const autograd::TensorList& inputs, GradcheckOptions opts = {});

}  // namespace strata
