// Linear: a parameter holder over strata::linear (one fused GEMM with bias).
#include "nn/linear.h"

#include <cmath>

#include <fmt/format.h>

#include "nn/init.h"
#include "tensor/error.h"
#include "tensor/ops.h"

namespace strata::nn {

Linear::Linear(int64_t in, int64_t out, bool with_bias) : Module("Linear"), in_features(in), out_features(out) {
  STRATA_CHECK(in >= 0 && out >= 0, ValueError, "Linear: in_features ({}) and out_features ({}) must be >= 0", in,
               out);
  weight = register_parameter("weight", empty({out, in}));
  bias = register_parameter("bias", with_bias ? empty({out}) : Tensor());
  reset_parameters();
}

void Linear::reset_parameters() {
  if (in_features > 0) kaiming_uniform_(weight, std::sqrt(5.0));
  else zeros_(weight);
  if (bias.defined()) {
    double bound = in_features > 0 ? 1.0 / std::sqrt(static_cast<double>(in_features)) : 0.0;
    nn::uniform_(bias, -bound, bound);
  }
}

Tensor Linear::forward(const Tensor& x) {
  STRATA_CHECK(x.dim() >= 1, ShapeError, "Linear: input must have at least 1 dim, got shape {}", x.shape());
  STRATA_CHECK(x.size(-1) == in_features, ShapeError,
               "Linear: input has {} features but in_features is {} (input shape {})", x.size(-1), in_features,
               x.shape());
  return linear(x, weight, bias);
}

std::string Linear::extra_repr() const {
  return fmt::format("in_features={}, out_features={}, bias={}", in_features, out_features, bias.defined());
}

}  // namespace strata::nn
