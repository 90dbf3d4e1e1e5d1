// Samples for the view ops (kernels/defs/movement.def). Each result is multiplied by a tensor so
// that the gradient reaching the view is not uniform.
#include "support/op_samples.h"

namespace strata::testing {
namespace {
using TL = std::vector<Tensor>;

OpSample view_sample(const std::string& op, const std::string& case_name, Shape shape,
                     std::function<Tensor(const Tensor&)> f) {
  return OpSample{op, case_name, [=](DType dt) { return TL{sample_tensor(shape, dt, 21)}; },
                  [f](const TL& in) {
                    Tensor y = f(in[0]);
                    Tensor w = arange(0.0, static_cast<double>(y.numel()), 1.0, {.dtype = y.dtype(), .device = y.device()}).reshape(y.shape());
                    return y * (w + 1.0);
                  }};
}
}  // namespace

std::vector<OpSample> samples_movement() {
  return {
      view_sample("view", "merge", {2, 3, 4}, [](const Tensor& x) { return x.view({6, 4}); }),
      view_sample("view", "infer", {2, 3, 4}, [](const Tensor& x) { return x.view({-1, 2}); }),
      view_sample("reshape", "of_transposed", {3, 4}, [](const Tensor& x) { return x.t().reshape({12}); }),
      view_sample("flatten", "middle", {2, 3, 4, 2}, [](const Tensor& x) { return x.flatten(1, 2); }),
      view_sample("permute", "3d", {2, 3, 4}, [](const Tensor& x) { return x.permute({2, 0, 1}); }),
      view_sample("transpose", "2d", {3, 5}, [](const Tensor& x) { return x.transpose(0, 1); }),
      view_sample("slice", "step2", {6, 3}, [](const Tensor& x) { return x.slice(0, 1, 6, 2); }),
      view_sample("slice", "negative", {4, 5}, [](const Tensor& x) { return x.slice(1, -3, 5); }),
      view_sample("narrow", "dim1", {3, 5}, [](const Tensor& x) { return x.narrow(1, 1, 3); }),
      view_sample("select", "dim1", {3, 4, 2}, [](const Tensor& x) { return x.select(1, 2); }),
      view_sample("expand", "broadcast", {3, 1}, [](const Tensor& x) { return x.expand({2, 3, 4}); }),
      view_sample("squeeze", "all", {3, 1, 2}, [](const Tensor& x) { return x.squeeze(); }),
      view_sample("unsqueeze", "dim1", {3, 2}, [](const Tensor& x) { return x.unsqueeze(1); }),
      view_sample("contiguous", "of_permuted", {2, 3, 4}, [](const Tensor& x) { return x.permute({1, 2, 0}).contiguous(); }),
  };
}

}  // namespace strata::testing
