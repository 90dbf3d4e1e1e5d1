// Body/head helpers: child lists and one probing forward pass.
#include "nn/model_cut.h"

#include "autograd/grad_mode.h"
#include "tensor/error.h"
#include "tensor/ops.h"

namespace strata::nn {

std::shared_ptr<Sequential> cut_model(const ModulePtr& model, int64_t cut) {
  STRATA_CHECK(model != nullptr, ValueError, "cut_model: null model");
  auto children = model->named_children();
  const auto n = static_cast<int64_t>(children.size());
  STRATA_CHECK(cut >= -n && cut <= n, IndexError, "cut_model: cut {} out of range for {} ({} children)", cut,
               model->type_name(), n);
  const int64_t end = cut < 0 ? cut + n : cut;
  auto body = std::make_shared<Sequential>();
  for (int64_t i = 0; i < end; ++i) body->push_back(children[i].second);
  return body;
}

std::shared_ptr<Sequential> cut_model(const ModulePtr& model, const std::function<ModulePtr(const ModulePtr&)>& cut) {
  STRATA_CHECK(model != nullptr && cut, ValueError, "cut_model: null model or cut function");
  ModulePtr body = cut(model);
  if (auto seq = std::dynamic_pointer_cast<Sequential>(body)) return seq;
  return std::make_shared<Sequential>(std::vector<ModulePtr>{body});
}

int64_t in_channels(const Module& model) {
  for (const auto& [name, p] : model.named_parameters())
    if (p.dim() == 4) return p.size(1);
  STRATA_THROW(ValueError, "in_channels: {} has no 4-d weight", model.type_name());
}

int64_t num_features_model(Module& body) {
  const int64_t ch = in_channels(body);
  const bool was_training = body.is_training();
  DType dtype = DType::F32;
  Device device = Device::cpu();
  for (const auto& p : body.parameters()) {
    dtype = p.dtype();
    device = p.device();
    break;
  }
  NoGradGuard no_grad;
  body.eval();
  for (int64_t sz = 32;; sz *= 2) {
    try {
      Tensor x = ones({1, ch, sz, sz}, {.dtype = dtype, .device = device});
      Tensor y = body(x);
      body.train(was_training);
      STRATA_CHECK(y.dim() >= 2, ShapeError, "num_features_model: output {} has no channel dim", y.shape());
      return y.size(1);
    } catch (const ShapeError&) {
      if (sz >= 2048) {
        body.train(was_training);
        throw;
      }
    } catch (const ValueError&) {
      if (sz >= 2048) {
        body.train(was_training);
        throw;
      }
    } catch (...) {
      body.train(was_training);
      throw;
    }
  }
}

}  // namespace strata::nn
