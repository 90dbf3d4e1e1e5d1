// Structural layers: option checks with the layer's name, then one op each.
#include "nn/basic.h"

#include <fmt/format.h>

#include "autograd/grad_mode.h"
#include "nn/init.h"
#include "tensor/error.h"
#include "tensor/ops.h"

namespace strata::nn {

namespace {
std::string int2(Int2 v) { return v.h == v.w ? fmt::format("{}", v.h) : fmt::format("({}, {})", v.h, v.w); }
}  // namespace

Tensor Flatten::forward(const Tensor& x) {
  if (x.dim() == 0) return x.reshape({1});
  return x.flatten(start_dim, end_dim);
}
std::string Flatten::extra_repr() const { return fmt::format("start_dim={}, end_dim={}", start_dim, end_dim); }

Dropout::Dropout(double p_) : Module("Dropout"), p(p_) {
  STRATA_CHECK(p >= 0 && p <= 1, ValueError, "Dropout: p must be in [0, 1], got {}", p);
}
Tensor Dropout::forward(const Tensor& x) { return is_training() && p > 0 ? dropout(x, p, true) : x; }
std::string Dropout::extra_repr() const { return fmt::format("p={}", p); }

Dropout2d::Dropout2d(double p_) : Module("Dropout2d"), p(p_) {
  STRATA_CHECK(p >= 0 && p <= 1, ValueError, "Dropout2d: p must be in [0, 1], got {}", p);
}
Tensor Dropout2d::forward(const Tensor& x) {
  STRATA_CHECK(x.dim() >= 2, ShapeError, "Dropout2d: input must have at least 2 dims [N, C, ...], got shape {}",
               x.shape());
  return is_training() && p > 0 ? dropout2d(x, p, true) : x;
}
std::string Dropout2d::extra_repr() const { return fmt::format("p={}", p); }

// ---- Embedding ----

Embedding::Embedding(int64_t n, int64_t dim, std::optional<int64_t> pad)
    : Module("Embedding"), num_embeddings(n), embedding_dim(dim) {
  STRATA_CHECK(n > 0 && dim > 0, ValueError, "Embedding: num_embeddings ({}) and embedding_dim ({}) must be > 0", n,
               dim);
  if (pad) {
    STRATA_CHECK(*pad >= -n && *pad < n, IndexError, "Embedding: padding_idx {} is out of range for {} embeddings",
                 *pad, n);
    padding_idx = *pad < 0 ? *pad + n : *pad;
  }
  weight = register_parameter("weight", empty({n, dim}));
  reset_parameters();
}

void Embedding::reset_parameters() {
  nn::normal_(weight, 0.0, 1.0);
  if (padding_idx) {
    NoGradGuard no_grad;
    weight.select(0, *padding_idx).fill_(0.0);
  }
}

Tensor Embedding::forward(const Tensor& indices) {
  STRATA_CHECK(indices.dtype() == DType::I64 || indices.dtype() == DType::I32, DTypeError,
               "Embedding: indices must be i64 or i32, got {}", indices.dtype());
  return embedding(weight, indices, {.padding_idx = padding_idx.value_or(-1)});
}

std::string Embedding::extra_repr() const {
  std::string s = fmt::format("{}, {}", num_embeddings, embedding_dim);
  if (padding_idx) s += fmt::format(", padding_idx={}", *padding_idx);
  return s;
}

// ---- pooling ----

MaxPool2d::MaxPool2d(Int2 k, Int2 stride, Int2 padding, Int2 dilation, bool ceil_mode)
    : MaxPool2d(MaxPool2dOptions{.kernel_size = k, .stride = stride, .padding = padding, .dilation = dilation,
                                 .ceil_mode = ceil_mode}) {}
MaxPool2d::MaxPool2d(MaxPool2dOptions o) : Module("MaxPool2d"), options(o) {
  STRATA_CHECK(o.kernel_size.h > 0 && o.kernel_size.w > 0, ValueError, "MaxPool2d: kernel_size must be > 0, got {}",
               int2(o.kernel_size));
}
Tensor MaxPool2d::forward(const Tensor& x) { return max_pool2d(x, options); }
std::string MaxPool2d::extra_repr() const {
  Int2 stride = options.stride.h == 0 ? options.kernel_size : options.stride;
  return fmt::format("kernel_size={}, stride={}, padding={}, dilation={}, ceil_mode={}", int2(options.kernel_size),
                     int2(stride), int2(options.padding), int2(options.dilation), options.ceil_mode);
}

AvgPool2d::AvgPool2d(Int2 k, Int2 stride, Int2 padding, bool ceil_mode, bool count_include_pad)
    : AvgPool2d(AvgPool2dOptions{.kernel_size = k, .stride = stride, .padding = padding, .ceil_mode = ceil_mode,
                                 .count_include_pad = count_include_pad}) {}
AvgPool2d::AvgPool2d(AvgPool2dOptions o) : Module("AvgPool2d"), options(o) {
  STRATA_CHECK(o.kernel_size.h > 0 && o.kernel_size.w > 0, ValueError, "AvgPool2d: kernel_size must be > 0, got {}",
               int2(o.kernel_size));
}
Tensor AvgPool2d::forward(const Tensor& x) { return avg_pool2d(x, options); }
std::string AvgPool2d::extra_repr() const {
  Int2 stride = options.stride.h == 0 ? options.kernel_size : options.stride;
  return fmt::format("kernel_size={}, stride={}, padding={}", int2(options.kernel_size), int2(stride),
                     int2(options.padding));
}

Tensor AdaptiveAvgPool2d::forward(const Tensor& x) { return adaptive_avg_pool2d(x, output_size); }
std::string AdaptiveAvgPool2d::extra_repr() const { return fmt::format("output_size={}", int2(output_size)); }
Tensor AdaptiveMaxPool2d::forward(const Tensor& x) { return adaptive_max_pool2d(x, output_size); }
std::string AdaptiveMaxPool2d::extra_repr() const { return fmt::format("output_size={}", int2(output_size)); }

// ---- resampling ----

PixelShuffle::PixelShuffle(int64_t r) : Module("PixelShuffle"), upscale_factor(r) {
  STRATA_CHECK(r > 0, ValueError, "PixelShuffle: upscale_factor must be > 0, got {}", r);
}
Tensor PixelShuffle::forward(const Tensor& x) { return pixel_shuffle(x, upscale_factor); }
std::string PixelShuffle::extra_repr() const { return fmt::format("upscale_factor={}", upscale_factor); }

Upsample::Upsample(UpsampleOptions o) : Module("Upsample"), options(o) {
  const bool has_size = o.size.h > 0 || o.size.w > 0;
  const bool has_scale = o.scale_factor.h > 0 || o.scale_factor.w > 0;
  STRATA_CHECK(has_size != has_scale, ValueError, "Upsample: give exactly one of size and scale_factor");
}
Tensor Upsample::forward(const Tensor& x) {
  const auto& o = options;
  if (o.mode == UpsampleMode::Nearest) return upsample_nearest2d(x, {.size = o.size, .scale_factor = o.scale_factor});
  return upsample_bilinear2d(x, {.size = o.size, .scale_factor = o.scale_factor, .align_corners = o.align_corners});
}
std::string Upsample::extra_repr() const {
  const auto& o = options;
  std::string s = o.size.h > 0 ? fmt::format("size={}", int2(o.size))
                               : (o.scale_factor.h == o.scale_factor.w
                                      ? fmt::format("scale_factor={}", o.scale_factor.h)
                                      : fmt::format("scale_factor=({}, {})", o.scale_factor.h, o.scale_factor.w));
  return s + (o.mode == UpsampleMode::Nearest ? ", mode='nearest'" : ", mode='bilinear'");
}

}  // namespace strata::nn
