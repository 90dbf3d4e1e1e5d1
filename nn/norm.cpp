// Normalization layers: shape checks with the layer's name, then the fused norm ops. BatchNorm's
// running-statistics update happens inside strata::batch_norm; this file only counts batches.
#include "nn/norm.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "autograd/grad_mode.h"
#include "tensor/error.h"
#include "tensor/ops.h"

namespace strata::nn {

bool is_norm_layer(const Module& m) { return dynamic_cast<const NormBase*>(&m) != nullptr; }
bool is_batch_norm(const Module& m) { return dynamic_cast<const BatchNormBase*>(&m) != nullptr; }

// ---- BatchNorm ----

BatchNormBase::BatchNormBase(const char* name, int64_t n, BatchNormOptions opts)
    : NormBase(name), num_features(n), options(opts) {
  STRATA_CHECK(n > 0, ValueError, "{}: num_features must be > 0, got {}", name, n);
  STRATA_CHECK(opts.eps >= 0 && opts.momentum >= 0 && opts.momentum <= 1, ValueError,
               "{}: eps ({}) must be >= 0 and momentum ({}) in [0, 1]", name, opts.eps, opts.momentum);
  weight = register_parameter("weight", opts.affine ? ones({n}) : Tensor());
  bias = register_parameter("bias", opts.affine ? zeros({n}) : Tensor());
  if (opts.track_running_stats) {
    running_mean = register_buffer("running_mean", zeros({n}));
    running_var = register_buffer("running_var", ones({n}));
    num_batches_tracked = register_buffer("num_batches_tracked", zeros({}, {.dtype = DType::I64}));
  } else {
    running_mean = register_buffer("running_mean", Tensor());
    running_var = register_buffer("running_var", Tensor());
    num_batches_tracked = register_buffer("num_batches_tracked", Tensor());
  }
}

void BatchNormBase::reset_running_stats() {
  if (!options.track_running_stats) return;
  NoGradGuard no_grad;
  running_mean.fill_(0.0);
  running_var.fill_(1.0);
  num_batches_tracked.fill_(0.0);
}

void BatchNormBase::reset_parameters() {
  reset_running_stats();
  if (!options.affine) return;
  NoGradGuard no_grad;
  weight.fill_(1.0);
  bias.fill_(0.0);
  weight.bump_version();
  bias.bump_version();
}

Tensor BatchNormBase::forward(const Tensor& x) { return forward_impl(x, false); }

Tensor BatchNormBase::forward_fused_relu(const Tensor& x) { return forward_impl(x, true); }

Tensor BatchNormBase::forward_impl(const Tensor& x, bool relu) {
  check_input_dims(x);
  STRATA_CHECK(x.size(1) == num_features, ShapeError,
               "{}: input has {} channels but num_features is {} (input shape {})", type_name(), x.size(1),
               num_features, x.shape());
  // Batch statistics in training mode, and always when there are no running statistics.
  const bool use_batch_stats = is_training() || !options.track_running_stats;
  if (is_training() && options.track_running_stats) {
    NoGradGuard no_grad;
    add_(num_batches_tracked, 1.0);  // in place on the device: no host sync
  }
  const strata::BatchNormOptions opts{.training = use_batch_stats, .momentum = options.momentum, .eps = options.eps};
  if (relu) return batch_norm_relu(x, running_mean, running_var, weight, bias, opts);
  return batch_norm(x, running_mean, running_var, weight, bias, opts);
}

std::string BatchNormBase::extra_repr() const {
  return fmt::format("{}, eps={}, momentum={}, affine={}, track_running_stats={}", num_features, options.eps,
                     options.momentum, options.affine, options.track_running_stats);
}

BatchNorm1d::BatchNorm1d(int64_t n, BatchNormOptions opts) : BatchNormBase("BatchNorm1d", n, opts) {}

void BatchNorm1d::check_input_dims(const Tensor& x) const {
  STRATA_CHECK(x.dim() == 2 || x.dim() == 3, ShapeError, "BatchNorm1d: expected a 2-d or 3-d input, got shape {}",
               x.shape());
}

BatchNorm2d::BatchNorm2d(int64_t n, BatchNormOptions opts) : BatchNormBase("BatchNorm2d", n, opts) {}

void BatchNorm2d::check_input_dims(const Tensor& x) const {
  STRATA_CHECK(x.dim() == 4, ShapeError, "BatchNorm2d: expected a 4-d input [N, C, H, W], got shape {}", x.shape());
}

BatchNorm3d::BatchNorm3d(int64_t n, BatchNormOptions opts) : BatchNormBase("BatchNorm3d", n, opts) {}

void BatchNorm3d::check_input_dims(const Tensor& x) const {
  STRATA_CHECK(x.dim() == 5, ShapeError, "BatchNorm3d: expected a 5-d input [N, C, D, H, W], got shape {}", x.shape());
}

// ---- LayerNorm ----

LayerNorm::LayerNorm(std::vector<int64_t> shape, double eps_, bool affine)
    : NormBase("LayerNorm"), normalized_shape(std::move(shape)), eps(eps_) {
  STRATA_CHECK(!normalized_shape.empty(), ValueError, "LayerNorm: normalized_shape must not be empty");
  Shape s(normalized_shape);
  for (int64_t d : normalized_shape)
    STRATA_CHECK(d > 0, ValueError, "LayerNorm: normalized_shape {} has a dim <= 0", s);
  weight = register_parameter("weight", affine ? ones(s) : Tensor());
  bias = register_parameter("bias", affine ? zeros(s) : Tensor());
}

Tensor LayerNorm::forward(const Tensor& x) {
  const int64_t k = static_cast<int64_t>(normalized_shape.size());
  Shape s(normalized_shape);
  bool ok = x.dim() >= k;
  for (int64_t i = 0; ok && i < k; ++i) ok = x.size(x.dim() - k + i) == normalized_shape[i];
  STRATA_CHECK(ok, ShapeError, "LayerNorm: input shape {} does not end with normalized_shape {}", x.shape(), s);
  return layer_norm(x, s, weight, bias, eps);
}

std::string LayerNorm::extra_repr() const {
  return fmt::format("({}), eps={}, elementwise_affine={}", fmt::join(normalized_shape, ", "), eps, weight.defined());
}

// ---- GroupNorm ----

GroupNorm::GroupNorm(int64_t groups, int64_t channels, double eps_, bool affine)
    : NormBase("GroupNorm"), num_groups(groups), num_channels(channels), eps(eps_) {
  STRATA_CHECK(groups > 0 && channels > 0 && channels % groups == 0, ValueError,
               "GroupNorm: num_groups ({}) must divide num_channels ({})", groups, channels);
  weight = register_parameter("weight", affine ? ones({channels}) : Tensor());
  bias = register_parameter("bias", affine ? zeros({channels}) : Tensor());
}

Tensor GroupNorm::forward(const Tensor& x) {
  STRATA_CHECK(x.dim() >= 2, ShapeError, "GroupNorm: expected an input [N, C, *], got shape {}", x.shape());
  STRATA_CHECK(x.size(1) == num_channels, ShapeError,
               "GroupNorm: input has {} channels but num_channels is {} (input shape {})", x.size(1), num_channels,
               x.shape());
  return group_norm(x, num_groups, weight, bias, eps);
}

std::string GroupNorm::extra_repr() const {
  return fmt::format("{}, {}, eps={}, affine={}", num_groups, num_channels, eps, weight.defined());
}

// ---- InstanceNorm1d / 2d / 3d ----

InstanceNormBase::InstanceNormBase(const char* name, int64_t spatial, int64_t n, double eps_, bool affine)
    : NormBase(name), spatial_dims(spatial), num_features(n), eps(eps_) {
  STRATA_CHECK(n > 0, ValueError, "{}: num_features must be > 0, got {}", name, n);
  weight = register_parameter("weight", affine ? ones({n}) : Tensor());
  bias = register_parameter("bias", affine ? zeros({n}) : Tensor());
}

Tensor InstanceNormBase::forward(const Tensor& x) {
  STRATA_CHECK(x.dim() == spatial_dims + 1 || x.dim() == spatial_dims + 2, ShapeError,
               "{}: expected a {}-d or {}-d input, got shape {}", type_name(), spatial_dims + 1, spatial_dims + 2,
               x.shape());
  const bool batched = x.dim() == spatial_dims + 2;
  const int64_t c = x.size(batched ? 1 : 0);
  STRATA_CHECK(c == num_features, ShapeError, "{}: input has {} channels but num_features is {} (input shape {})",
               type_name(), c, num_features, x.shape());
  if (batched) return instance_norm(x, weight, bias, eps);
  return instance_norm(x.unsqueeze(0), weight, bias, eps).squeeze(0);
}

std::string InstanceNormBase::extra_repr() const {
  return fmt::format("{}, eps={}, affine={}", num_features, eps, weight.defined());
}

}  // namespace strata::nn
