// Weight and spectral normalisation: the wrapper owns the reparametrised weight and writes the
// computed weight into the wrapped layer's `weight` handle before calling its forward.
#include "nn/reparam.h"

#include "autograd/grad_mode.h"
#include "nn/conv.h"
#include "nn/linear.h"
#include "tensor/error.h"
#include "tensor/ops.h"

namespace strata::nn {

namespace {

struct Slots {
  Tensor* weight = nullptr;
  Tensor* bias = nullptr;
  bool transposed = false;
};

Slots slots_of(Module& m, const char* who) {
  if (auto* c = dynamic_cast<Conv2d*>(&m)) return {&c->weight, &c->bias, false};
  if (auto* c = dynamic_cast<Conv1d*>(&m)) return {&c->weight, &c->bias, false};
  if (auto* c = dynamic_cast<ConvTranspose2d*>(&m)) return {&c->weight, &c->bias, true};
  if (auto* l = dynamic_cast<Linear*>(&m)) return {&l->weight, &l->bias, false};
  STRATA_THROW(ValueError, "{}: cannot normalise the weight of a {} (Conv1d, Conv2d, ConvTranspose2d or Linear)", who,
               m.type_name());
}

// The weight as a matrix with `dim` as rows.
Tensor as_matrix(const Tensor& w, int64_t dim) {
  Tensor t = dim == 0 ? w : w.transpose(0, dim);
  return t.reshape({t.size(0), -1});
}

Tensor normalized(const Tensor& x, double eps) { return x / clamp_min(norm(x), eps); }

}  // namespace

// ---- WeightNorm ----
WeightNorm::WeightNorm(ModulePtr layer_)
    : Module(layer_ ? layer_->type_name() : "WeightNorm"), layer(std::move(layer_)) {
  STRATA_CHECK(layer != nullptr, ValueError, "weight_norm: null layer");
  Slots s = slots_of(*layer, "weight_norm");
  if (s.bias->defined()) register_parameter("bias", *s.bias);
  const Tensor w = s.weight->detach();
  Tensor g = norm(w.reshape({w.size(0), -1}), 2.0, {1}, /*keepdim=*/true);
  Shape g_shape(std::vector<int64_t>(static_cast<size_t>(w.dim()), 1));
  g_shape[0] = w.size(0);
  weight_g = register_parameter("weight_g", g.reshape(g_shape).contiguous());
  weight_v = register_parameter("weight_v", w.clone());
}

Tensor WeightNorm::compute_weight() const {
  Tensor n = norm(weight_v.reshape({weight_v.size(0), -1}), 2.0, {1}, /*keepdim=*/true).reshape(weight_g.shape());
  return weight_v * (weight_g / n);
}

Tensor WeightNorm::forward(const Tensor& x) {
  *slots_of(*layer, "weight_norm").weight = compute_weight();
  return layer->forward(x);
}

std::shared_ptr<WeightNorm> weight_norm(ModulePtr layer) { return std::make_shared<WeightNorm>(std::move(layer)); }

// ---- SpectralNorm ----
SpectralNorm::SpectralNorm(ModulePtr layer_, int64_t n_iter, double eps_)
    : Module(layer_ ? layer_->type_name() : "SpectralNorm"),
      layer(std::move(layer_)),
      n_power_iterations(n_iter),
      eps(eps_) {
  STRATA_CHECK(layer != nullptr, ValueError, "spectral_norm: null layer");
  STRATA_CHECK(n_iter > 0, ValueError, "spectral_norm: n_power_iterations must be positive, got {}", n_iter);
  Slots s = slots_of(*layer, "spectral_norm");
  dim = s.transposed ? 1 : 0;
  if (s.bias->defined()) register_parameter("bias", *s.bias);
  const Tensor w = s.weight->detach();
  weight_orig = register_parameter("weight_orig", w.clone());
  const Tensor m = as_matrix(w, dim);
  NoGradGuard no_grad;
  Tensor u = empty({m.size(0)}, {.dtype = w.dtype(), .device = w.device()});
  Tensor v = empty({m.size(1)}, {.dtype = w.dtype(), .device = w.device()});
  strata::normal_(u);
  strata::normal_(v);
  weight_u = register_buffer("weight_u", normalized(u, eps));
  weight_v = register_buffer("weight_v", normalized(v, eps));
}

Tensor SpectralNorm::compute_weight() {
  Tensor u = weight_u, v = weight_v;
  if (is_training()) {
    {
      NoGradGuard no_grad;
      const Tensor m = as_matrix(weight_orig.detach(), dim);
      for (int64_t i = 0; i < n_power_iterations; ++i) {
        weight_v.copy_(normalized(matmul(m.t(), weight_u), eps));
        weight_u.copy_(normalized(matmul(m, weight_v), eps));
      }
    }
    // Copies, so the in-place updates of the next forward leave this graph's saved values alone.
    u = weight_u.clone();
    v = weight_v.clone();
  }
  Tensor sigma = dot(u, matmul(as_matrix(weight_orig, dim), v));
  return weight_orig / sigma;
}

Tensor SpectralNorm::forward(const Tensor& x) {
  *slots_of(*layer, "spectral_norm").weight = compute_weight();
  return layer->forward(x);
}

std::shared_ptr<SpectralNorm> spectral_norm(ModulePtr layer, int64_t n_power_iterations, double eps) {
  return std::make_shared<SpectralNorm>(std::move(layer), n_power_iterations, eps);
}

}  // namespace strata::nn
