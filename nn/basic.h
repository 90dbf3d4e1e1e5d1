#pragma once
// Small structural layers (torch.nn.Flatten, Identity, Dropout, Dropout2d, Embedding, pooling).
// Each holds its options and calls one op; Dropout layers are the identity in eval mode.
//
//   auto head = std::make_shared<nn::Sequential>(std::vector<nn::ModulePtr>{
//       std::make_shared<nn::AdaptiveAvgPool2d>(1), std::make_shared<nn::Flatten>(),
//       std::make_shared<nn::Dropout>(0.25), std::make_shared<nn::Linear>(512, 10)});
#include <cstdint>
#include <optional>

#include "nn/module.h"
#include "tensor/ops/pool.h"

namespace strata::nn {

// Flattens dims start_dim..end_dim into one: [N, C, H, W] -> [N, C*H*W] by default.
class Flatten : public Module {
 public:
  explicit Flatten(int64_t start_dim = 1, int64_t end_dim = -1)
      : Module("Flatten"), start_dim(start_dim), end_dim(end_dim) {}
  Tensor forward(const Tensor& x) override;
  using Module::forward;
  std::string extra_repr() const override;
  int64_t start_dim, end_dim;
};

class Identity : public Module {
 public:
  Identity() : Module("Identity") {}
  Tensor forward(const Tensor& x) override { return x; }
  using Module::forward;
};

// Zeroes each element with probability p in training mode (survivors scaled by 1 / (1 - p)).
class Dropout : public Module {
 public:
  explicit Dropout(double p = 0.5);
  Tensor forward(const Tensor& x) override;
  using Module::forward;
  std::string extra_repr() const override;
  double p;
};

// Zeroes whole channels of [N, C, ...] with probability p in training mode.
class Dropout2d : public Module {
 public:
  explicit Dropout2d(double p = 0.5);
  Tensor forward(const Tensor& x) override;
  using Module::forward;
  std::string extra_repr() const override;
  double p;
};

// A [num_embeddings, embedding_dim] table looked up by integer indices: [*] -> [*, embedding_dim].
// Init N(0, 1) like PyTorch; the padding_idx row (negative counts from the end) is zeroed and gets
// no gradient.
class Embedding : public Module {
 public:
  Embedding(int64_t num_embeddings, int64_t embedding_dim, std::optional<int64_t> padding_idx = {});
  Tensor forward(const Tensor& indices) override;
  using Module::forward;
  std::string extra_repr() const override;
  void reset_parameters();

  int64_t num_embeddings, embedding_dim;
  std::optional<int64_t> padding_idx;  // normalized to [0, num_embeddings)
  Tensor weight;
};

class MaxPool2d : public Module {
 public:
  explicit MaxPool2d(Int2 kernel_size, Int2 stride = {}, Int2 padding = 0, Int2 dilation = 1, bool ceil_mode = false);
  explicit MaxPool2d(MaxPool2dOptions options);
  Tensor forward(const Tensor& x) override;
  using Module::forward;
  std::string extra_repr() const override;
  MaxPool2dOptions options;
};

class AvgPool2d : public Module {
 public:
  explicit AvgPool2d(Int2 kernel_size, Int2 stride = {}, Int2 padding = 0, bool ceil_mode = false,
                     bool count_include_pad = true);
  explicit AvgPool2d(AvgPool2dOptions options);
  Tensor forward(const Tensor& x) override;
  using Module::forward;
  std::string extra_repr() const override;
  AvgPool2dOptions options;
};

class AdaptiveAvgPool2d : public Module {
 public:
  explicit AdaptiveAvgPool2d(Int2 output_size) : Module("AdaptiveAvgPool2d"), output_size(output_size) {}
  Tensor forward(const Tensor& x) override;
  using Module::forward;
  std::string extra_repr() const override;
  Int2 output_size;
};

class AdaptiveMaxPool2d : public Module {
 public:
  explicit AdaptiveMaxPool2d(Int2 output_size) : Module("AdaptiveMaxPool2d"), output_size(output_size) {}
  Tensor forward(const Tensor& x) override;
  using Module::forward;
  std::string extra_repr() const override;
  Int2 output_size;
};

// [N, C * r * r, H, W] -> [N, C, H * r, W * r] (torch.nn.PixelShuffle).
class PixelShuffle : public Module {
 public:
  explicit PixelShuffle(int64_t upscale_factor);
  Tensor forward(const Tensor& x) override;
  using Module::forward;
  std::string extra_repr() const override;
  int64_t upscale_factor;
};

enum class UpsampleMode { Nearest, Bilinear };

// Exactly one of size and scale_factor (0 = not given), as for strata::upsample_*2d.
struct UpsampleOptions {
  Int2 size = {};
  Scale2 scale_factor = {};
  UpsampleMode mode = UpsampleMode::Nearest;
  bool align_corners = false;  // bilinear only
};

// torch.nn.Upsample over NCHW images.
class Upsample : public Module {
 public:
  explicit Upsample(UpsampleOptions options);
  Tensor forward(const Tensor& x) override;
  using Module::forward;
  std::string extra_repr() const override;
  UpsampleOptions options;
};

}  // namespace strata::nn
