#pragma once
// The demo's model and its input side, shared by apps/examples/fashion_mnist.cpp (the demo) and
// tests/train/test_fashion_mnist_cnn.cpp (which trains it briefly on the real data).
//
// How to build a CNN with Strata: a model is a tree of nn::Module; nn::Sequential runs its
// children one after the other, and a Sequential is itself a Module, so a "layer" made of
// several modules (fastai's ConvLayer: conv -> BatchNorm -> ReLU) is just a small Sequential.
//
//   auto model = examples::fashion_cnn();   // [N, 1, 28, 28] f32 -> [N, 10] logits
//
// The image side is plain tensors for now (a later data-layer issue rebuilds it on DataBlock):
// u8 [N, 28, 28] pixels become f32 [N, 1, 28, 28] normalized with the training set's statistics.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <utility>

#include "nn/nn.h"
#include "tensor/ops.h"

namespace strata::examples {

// fastai's ConvLayer: a 3x3 convolution (no bias: the BatchNorm right after has one), BatchNorm
// and ReLU. Stride 2 halves the height and width; padding 1 keeps them otherwise.
inline std::shared_ptr<nn::Sequential> conv_layer(int64_t in_channels, int64_t out_channels, int64_t stride) {
  return std::make_shared<nn::Sequential>(std::vector<nn::ModulePtr>{
      std::make_shared<nn::Conv2d>(in_channels, out_channels, 3,
                                   nn::ConvOptions{.stride = stride, .padding = 1, .bias = false}),
      std::make_shared<nn::BatchNorm2d>(out_channels),
      std::make_shared<nn::ReLU>(),
  });
}

// The demo's CNN, shaped like the body of fastai's xresnet without the residual connections: a
// stem at full resolution, then three stride-2 layers that halve the image and double the
// channels, global average pooling and a linear classifier. About 100k parameters.
inline std::shared_ptr<nn::Sequential> fashion_cnn(int64_t n_classes = 10) {
  return std::make_shared<nn::Sequential>(std::vector<nn::ModulePtr>{
      conv_layer(1, 16, 1),    // [N, 16, 28, 28]
      conv_layer(16, 32, 2),   // [N, 32, 14, 14]
      conv_layer(32, 64, 2),   // [N, 64, 7, 7]
      conv_layer(64, 128, 2),  // [N, 128, 4, 4]
      std::make_shared<nn::AdaptiveAvgPool2d>(1),  // [N, 128, 1, 1]
      std::make_shared<nn::Flatten>(),             // [N, 128]
      std::make_shared<nn::Linear>(128, n_classes),
  });
}

// Mean and standard deviation of all pixels of u8 images scaled to [0, 1], from a 256-bin
// histogram (exact, and no float copy of the whole set).
inline std::pair<double, double> pixel_mean_std(const Tensor& images_u8) {
  const Tensor flat = images_u8.contiguous().reshape({-1});
  const uint8_t* px = flat.data<uint8_t>();
  double counts[256] = {};
  for (int64_t i = 0; i < flat.numel(); ++i) counts[px[i]] += 1;
  double n = 0, sum = 0, sum_sq = 0;
  for (int v = 0; v < 256; ++v) {
    const double x = v / 255.0;
    n += counts[v];
    sum += counts[v] * x;
    sum_sq += counts[v] * x * x;
  }
  const double mean = sum / n;
  return {mean, std::sqrt(std::max(0.0, sum_sq / n - mean * mean))};
}

// u8 [N, H, W] -> f32 [N, 1, H, W], (pixel / 255 - mean) / std. Converted 10000 images at a time
// into the output, so no second full-size float copy is ever alive.
inline Tensor to_model_input(const Tensor& images_u8, std::pair<double, double> mean_std) {
  const int64_t n = images_u8.size(0), chunk = 10000;
  Tensor out = empty({n, 1, images_u8.size(1), images_u8.size(2)}, {.dtype = DType::F32});
  for (int64_t start = 0; start < n; start += chunk) {
    const int64_t stop = std::min(n, start + chunk);
    const Tensor x = images_u8.slice(0, start, stop).to(DType::F32);
    out.slice(0, start, stop).copy_(((x / 255.0 - mean_std.first) / mean_std.second).unsqueeze(1));
  }
  return out;
}

}  // namespace strata::examples
