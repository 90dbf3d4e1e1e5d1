#pragma once
// Normalization layers (torch.nn.BatchNorm1d/2d, LayerNorm, GroupNorm, InstanceNorm2d) over the
// ops in tensor/ops/norm.h. Every one derives from NormBase, so code that treats norm layers
// specially (fastai's rule that batch-norm parameters stay trainable when a model is frozen, and
// its splitting of BN and bias parameters out of weight decay) recognises them with
// is_norm_layer(module) / is_batch_norm(module).
//
//   auto bn = std::make_shared<nn::BatchNorm2d>(64);          // weight 1, bias 0, running 0 / 1
//   auto ln = std::make_shared<nn::LayerNorm>(std::vector<int64_t>{512});
//
// BatchNorm: in training mode it normalizes with the batch mean and biased variance and updates
// running_mean / running_var with `momentum` (running = (1 - m) * running + m * batch, the
// variance unbiased) and counts num_batches_tracked (an i64 scalar, as in torchvision state
// dicts); in eval mode it uses the running statistics. Without track_running_stats there are no
// running buffers and batch statistics are used in both modes.
#include <cstdint>
#include <vector>

#include "nn/module.h"

namespace strata::nn {

// The common base of every normalization layer.
class NormBase : public Module {
 public:
  using Module::Module;
};

// True for every normalization layer (BatchNorm*, LayerNorm, GroupNorm, InstanceNorm2d) and
// for batch-norm layers only, respectively.
bool is_norm_layer(const Module& m);
bool is_batch_norm(const Module& m);

struct BatchNormOptions {
  double eps = 1e-5;
  double momentum = 0.1;
  bool affine = true;
  bool track_running_stats = true;
};

class BatchNormBase : public NormBase {
 public:
  Tensor forward(const Tensor& x) override;
  using Module::forward;
  std::string extra_repr() const override;
  void reset_running_stats();
  void reset_parameters();  // running stats reset, weight 1, bias 0
  // relu(forward(x)) in one fused op (batch_norm_relu), with the same checks, mode and running
  // statistics update as forward: what nn::Sequential calls for a BatchNorm followed by a ReLU.
  Tensor forward_fused_relu(const Tensor& x);

  int64_t num_features;
  BatchNormOptions options;
  Tensor weight, bias;                                     // [C], undefined without affine
  Tensor running_mean, running_var, num_batches_tracked;  // undefined without track_running_stats

 protected:
  BatchNormBase(const char* name, int64_t num_features, BatchNormOptions opts);
  virtual void check_input_dims(const Tensor& x) const = 0;

 private:
  Tensor forward_impl(const Tensor& x, bool relu);
};

// [N, C] or [N, C, L].
class BatchNorm1d : public BatchNormBase {
 public:
  explicit BatchNorm1d(int64_t num_features, BatchNormOptions opts = {});

 protected:
  void check_input_dims(const Tensor& x) const override;
};

// [N, C, H, W].
class BatchNorm2d : public BatchNormBase {
 public:
  explicit BatchNorm2d(int64_t num_features, BatchNormOptions opts = {});

 protected:
  void check_input_dims(const Tensor& x) const override;
};

// [N, C, D, H, W] (volumes; fastai's ConvLayer ndim 3).
class BatchNorm3d : public BatchNormBase {
 public:
  explicit BatchNorm3d(int64_t num_features, BatchNormOptions opts = {});

 protected:
  void check_input_dims(const Tensor& x) const override;
};

// Normalizes over the last normalized_shape.size() dims; weight (ones) and bias (zeros) have
// normalized_shape. One trailing dim: LayerNorm({512}).
class LayerNorm : public NormBase {
 public:
  explicit LayerNorm(std::vector<int64_t> normalized_shape, double eps = 1e-5, bool elementwise_affine = true);
  Tensor forward(const Tensor& x) override;
  using Module::forward;
  std::string extra_repr() const override;

  std::vector<int64_t> normalized_shape;
  double eps;
  Tensor weight, bias;
};

// [N, C, *]: C split into num_groups groups; per-channel weight and bias.
class GroupNorm : public NormBase {
 public:
  GroupNorm(int64_t num_groups, int64_t num_channels, double eps = 1e-5, bool affine = true);
  Tensor forward(const Tensor& x) override;
  using Module::forward;
  std::string extra_repr() const override;

  int64_t num_groups, num_channels;
  double eps;
  Tensor weight, bias;
};

// Statistics per sample and channel over `spatial_dims` trailing dims, never running statistics;
// batched [N, C, *spatial] or unbatched [C, *spatial]. PyTorch's default: no affine parameters.
// InstanceNorm1d / 2d / 3d below fix the spatial rank (1, 2, 3).
class InstanceNormBase : public NormBase {
 public:
  InstanceNormBase(const char* name, int64_t spatial_dims, int64_t num_features, double eps, bool affine);
  Tensor forward(const Tensor& x) override;
  using Module::forward;
  std::string extra_repr() const override;

  int64_t spatial_dims;
  int64_t num_features;
  double eps;
  Tensor weight, bias;
};

class InstanceNorm1d : public InstanceNormBase {
 public:
  explicit InstanceNorm1d(int64_t num_features, double eps = 1e-5, bool affine = false)
      : InstanceNormBase("InstanceNorm1d", 1, num_features, eps, affine) {}
};
class InstanceNorm2d : public InstanceNormBase {
 public:
  explicit InstanceNorm2d(int64_t num_features, double eps = 1e-5, bool affine = false)
      : InstanceNormBase("InstanceNorm2d", 2, num_features, eps, affine) {}
};
class InstanceNorm3d : public InstanceNormBase {
 public:
  explicit InstanceNorm3d(int64_t num_features, double eps = 1e-5, bool affine = false)
      : InstanceNormBase("InstanceNorm3d", 3, num_features, eps, affine) {}
};

}  // namespace strata::nn
