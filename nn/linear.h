#pragma once
// Linear: y = x @ weight^T + bias over the last dim (torch.nn.Linear). weight is [out, in], bias
// [out] (undefined without bias). PyTorch's init: weight kaiming_uniform(a = sqrt(5)), i.e.
// U(-1/sqrt(in), 1/sqrt(in)), and bias U(-1/sqrt(in), 1/sqrt(in)).
//
//   auto fc = std::make_shared<nn::Linear>(512, 10);
//   Tensor logits = (*fc)(features);  // [B, 512] -> [B, 10]
#include <cstdint>

#include "nn/module.h"

namespace strata::nn {

class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, bool bias = true);
  Tensor forward(const Tensor& x) override;
  using Module::forward;
  std::string extra_repr() const override;
  void reset_parameters();

  int64_t in_features, out_features;
  Tensor weight, bias;
};

}  // namespace strata::nn
