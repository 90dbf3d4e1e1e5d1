// Samples for the elementwise family: every op of kernels/defs/{unary,unary_param,binary,compare,
// other_elementwise}.def. Inputs are kept away from points where an op is not differentiable
// (relu at 0, abs at 0, log at <= 0, ...).
#include "support/op_samples.h"

namespace strata::testing {
namespace {

using TL = std::vector<Tensor>;

// Domain of a unary op's sample input.
struct Domain {
  double low, high;
};

Domain unary_domain(const std::string& op) {
  if (op == "log" || op == "sqrt" || op == "rsqrt" || op == "reciprocal" || op == "pow_scalar") return {0.5, 2.0};
  if (op == "log1p") return {-0.5, 1.0};
  return {-2.0, 2.0};
}

OpSample unary_sample(const std::string& op, std::function<Tensor(const Tensor&)> f, Shape shape = {3, 4}) {
  const Domain d = unary_domain(op);
  return OpSample{op, "3x4",
                  [=](DType dt) {
                    // Avoid values within 0.05 of kinks at 0 (relu, abs, leaky_relu, clamp ends).
                    Tensor t = sample_tensor(shape, DType::F64, 7, d.low, d.high, false);
                    Tensor away = where(abs(t) < 0.05, t + 0.1, t);
                    Tensor r = away.to(dt);
                    if (is_floating(dt)) r.requires_grad_(true);
                    return TL{r};
                  },
                  [f](const TL& in) { return f(in[0]); }};
}

OpSample binary_sample(const std::string& op, const std::string& case_name, Shape sa, Shape sb,
                       std::function<Tensor(const Tensor&, const Tensor&)> f, double low = -2.0, double high = 2.0) {
  return OpSample{op, case_name,
                  [=](DType dt) {
                    return TL{sample_tensor(sa, dt, 11, low, high), sample_tensor(sb, dt, 12, low, high)};
                  },
                  [f](const TL& in) { return f(in[0], in[1]); }};
}

}  // namespace

std::vector<OpSample> samples_elementwise() {
  std::vector<OpSample> s;
#define UNARY(name, F, diff) s.push_back(unary_sample(#name, [](const Tensor& x) { return name(x); }));
#include "kernels/defs/unary.def"
#undef UNARY
  s.push_back(unary_sample("leaky_relu", [](const Tensor& x) { return leaky_relu(x, 0.1); }));
  s.push_back(unary_sample("clamp", [](const Tensor& x) { return clamp(x, -0.7, 1.1); }));
  s.push_back(unary_sample("pow_scalar", [](const Tensor& x) { return pow(x, 2.5); }));
  s.push_back(unary_sample("rpow_scalar", [](const Tensor& x) { return pow(1.7, x); }));
  s.push_back(unary_sample("add_scalar", [](const Tensor& x) { return x + 3.0; }));
  s.push_back(unary_sample("mul_scalar", [](const Tensor& x) { return x * -1.5; }));

  for (auto [op, f] : std::vector<std::pair<std::string, std::function<Tensor(const Tensor&, const Tensor&)>>>{
           {"add", [](const Tensor& a, const Tensor& b) { return add(a, b); }},
           {"sub", [](const Tensor& a, const Tensor& b) { return sub(a, b); }},
           {"mul", [](const Tensor& a, const Tensor& b) { return mul(a, b); }},
           {"div", [](const Tensor& a, const Tensor& b) { return div(a, b); }},
           {"maximum", [](const Tensor& a, const Tensor& b) { return maximum(a, b); }},
           {"minimum", [](const Tensor& a, const Tensor& b) { return minimum(a, b); }},
       }) {
    const double low = op == "div" ? 0.5 : -2.0;
    s.push_back(binary_sample(op, "same_shape", {2, 3}, {2, 3}, f, low));
    s.push_back(binary_sample(op, "broadcast_row", {4, 3}, {3}, f, low));
    s.push_back(binary_sample(op, "broadcast_both", {4, 1, 3}, {2, 1}, f, low));
  }
  s.push_back(binary_sample("pow", "positive_base", {2, 3}, {2, 3},
                            [](const Tensor& a, const Tensor& b) { return pow(a, b); }, 0.5, 2.0));
  s.push_back(binary_sample("pow", "broadcast", {2, 3}, {3},
                            [](const Tensor& a, const Tensor& b) { return pow(a, b); }, 0.5, 2.0));
#define COMPARE(name, F)                                                                        \
  s.push_back(binary_sample(#name, "broadcast", {2, 3}, {3},                                    \
                            [](const Tensor& a, const Tensor& b) { return name(a, b).to(a.dtype()); }));
#include "kernels/defs/compare.def"
#undef COMPARE
  s.push_back(unary_sample("logical_not", [](const Tensor& x) { return logical_not(x > 0.0).to(x.dtype()); }));
  s.push_back(OpSample{"where", "broadcast",
                       [](DType dt) {
                         return TL{sample_tensor({3, 4}, DType::F64, 3, -1, 1, false) > 0.0,
                                   sample_tensor({3, 4}, dt, 4), sample_tensor({4}, dt, 5)};
                       },
                       [](const TL& in) { return where(in[0], in[1], in[2]); }});
  s.push_back(OpSample{"lerp", "tensor_weight",
                       [](DType dt) {
                         return TL{sample_tensor({3, 4}, dt, 3), sample_tensor({3, 4}, dt, 4),
                                   sample_tensor({4}, dt, 5, 0, 1)};
                       },
                       [](const TL& in) { return lerp(in[0], in[1], in[2]); }});
  s.push_back(unary_sample("to_dtype", [](const Tensor& x) { return x.to(DType::F32).to(DType::F64) * 1.0; }));
  s.back().tolerance.eps = 1e-2;  // linear, so a large step is exact; a small one drowns in f32 rounding
  s.push_back(unary_sample("clone", [](const Tensor& x) { return x.clone() * 2.0; }));
  return s;
}

}  // namespace strata::testing
