// torchvision's ResNet, registering children in torchvision's order so named_parameters() lists
// them as torchvision does.
#include "nn/resnet.h"

#include "nn/activation.h"
#include "nn/basic.h"
#include "nn/conv.h"
#include "nn/init.h"
#include "nn/linear.h"
#include "nn/norm.h"
#include "tensor/error.h"
#include "tensor/ops.h"

namespace strata::nn {

namespace {

ModulePtr conv(int64_t in, int64_t out, int64_t k, int64_t stride = 1, int64_t groups = 1) {
  return std::make_shared<Conv2d>(in, out, k,
                                  ConvOptions{.stride = stride, .padding = k / 2, .groups = groups, .bias = false});
}

ModulePtr bn(int64_t c) { return std::make_shared<BatchNorm2d>(c); }

}  // namespace

BasicBlock::BasicBlock(int64_t inplanes, int64_t planes, int64_t stride, ModulePtr ds) : Module("BasicBlock") {
  conv1 = register_module("conv1", conv(inplanes, planes, 3, stride));
  bn1 = register_module("bn1", bn(planes));
  relu = register_module("relu", std::make_shared<ReLU>());
  conv2 = register_module("conv2", conv(planes, planes, 3));
  bn2 = register_module("bn2", bn(planes));
  if (ds) downsample = register_module("downsample", ds);
}

Tensor BasicBlock::forward(const Tensor& x) {
  Tensor out = (*relu)((*bn1)((*conv1)(x)));
  out = (*bn2)((*conv2)(out));
  Tensor identity = downsample ? (*downsample)(x) : x;
  return (*relu)(out + identity);
}

Bottleneck::Bottleneck(int64_t inplanes, int64_t planes, int64_t stride, ModulePtr ds) : Module("Bottleneck") {
  conv1 = register_module("conv1", conv(inplanes, planes, 1));
  bn1 = register_module("bn1", bn(planes));
  conv2 = register_module("conv2", conv(planes, planes, 3, stride));
  bn2 = register_module("bn2", bn(planes));
  conv3 = register_module("conv3", conv(planes, planes * expansion, 1));
  bn3 = register_module("bn3", bn(planes * expansion));
  relu = register_module("relu", std::make_shared<ReLU>());
  if (ds) downsample = register_module("downsample", ds);
}

Tensor Bottleneck::forward(const Tensor& x) {
  Tensor out = (*relu)((*bn1)((*conv1)(x)));
  out = (*relu)((*bn2)((*conv2)(out)));
  out = (*bn3)((*conv3)(out));
  Tensor identity = downsample ? (*downsample)(x) : x;
  return (*relu)(out + identity);
}

ResNet::ResNet(ResNetBlock block, std::vector<int64_t> layers, int64_t num_classes, int64_t in_channels)
    : Module("ResNet") {
  STRATA_CHECK(layers.size() == 4, ValueError, "ResNet: needs 4 stages, got {}", layers.size());
  STRATA_CHECK(num_classes > 0 && in_channels > 0, ValueError,
               "ResNet: num_classes and in_channels must be positive, got {} and {}", num_classes, in_channels);
  const int64_t expansion = block == ResNetBlock::Basic ? BasicBlock::expansion : Bottleneck::expansion;
  conv1 = register_module(
      "conv1", std::make_shared<Conv2d>(in_channels, 64, 7, ConvOptions{.stride = 2, .padding = 3, .bias = false}));
  bn1 = register_module("bn1", bn(64));
  relu = register_module("relu", std::make_shared<ReLU>());
  maxpool = register_module("maxpool",
                            std::make_shared<MaxPool2d>(MaxPool2dOptions{.kernel_size = 3, .stride = 2, .padding = 1}));
  layer1 = register_module("layer1", make_layer(block, 64, layers[0], 1));
  layer2 = register_module("layer2", make_layer(block, 128, layers[1], 2));
  layer3 = register_module("layer3", make_layer(block, 256, layers[2], 2));
  layer4 = register_module("layer4", make_layer(block, 512, layers[3], 2));
  avgpool = register_module("avgpool", std::make_shared<AdaptiveAvgPool2d>(1));
  fc = register_module("fc", std::make_shared<Linear>(512 * expansion, num_classes));

  // torchvision: kaiming_normal_(mode="fan_out", nonlinearity="relu") for convs; norms 1 / 0.
  apply([](Module& m) {
    if (auto* c = dynamic_cast<Conv2d*>(&m)) {
      kaiming_normal_(c->weight, 0.0, FanMode::FanOut, Nonlinearity::ReLU);
    } else if (auto* b = dynamic_cast<BatchNormBase*>(&m)) {
      ones_(b->weight);
      zeros_(b->bias);
    }
  });
}

std::shared_ptr<Sequential> ResNet::make_layer(ResNetBlock block, int64_t planes, int64_t blocks, int64_t stride) {
  const int64_t expansion = block == ResNetBlock::Basic ? BasicBlock::expansion : Bottleneck::expansion;
  ModulePtr ds;
  if (stride != 1 || inplanes_ != planes * expansion)
    ds = std::make_shared<Sequential>(
        std::vector<ModulePtr>{conv(inplanes_, planes * expansion, 1, stride), bn(planes * expansion)});
  auto make = [&](int64_t in, int64_t s, ModulePtr d) -> ModulePtr {
    if (block == ResNetBlock::Basic) return std::make_shared<BasicBlock>(in, planes, s, d);
    return std::make_shared<Bottleneck>(in, planes, s, d);
  };
  auto layer = std::make_shared<Sequential>();
  layer->push_back(make(inplanes_, stride, ds));
  inplanes_ = planes * expansion;
  for (int64_t i = 1; i < blocks; ++i) layer->push_back(make(inplanes_, 1, nullptr));
  return layer;
}

Tensor ResNet::forward(const Tensor& x) {
  Tensor y = (*maxpool)((*relu)((*bn1)((*conv1)(x))));
  y = (*layer4)((*layer3)((*layer2)((*layer1)(y))));
  y = (*avgpool)(y);
  return (*fc)(y.flatten(1));
}

std::shared_ptr<ResNet> resnet18(int64_t n) {
  return std::make_shared<ResNet>(ResNetBlock::Basic, std::vector<int64_t>{2, 2, 2, 2}, n);
}
std::shared_ptr<ResNet> resnet34(int64_t n) {
  return std::make_shared<ResNet>(ResNetBlock::Basic, std::vector<int64_t>{3, 4, 6, 3}, n);
}
std::shared_ptr<ResNet> resnet50(int64_t n) {
  return std::make_shared<ResNet>(ResNetBlock::Bottleneck, std::vector<int64_t>{3, 4, 6, 3}, n);
}
std::shared_ptr<ResNet> resnet101(int64_t n) {
  return std::make_shared<ResNet>(ResNetBlock::Bottleneck, std::vector<int64_t>{3, 4, 23, 3}, n);
}
std::shared_ptr<ResNet> resnet152(int64_t n) {
  return std::make_shared<ResNet>(ResNetBlock::Bottleneck, std::vector<int64_t>{3, 8, 36, 3}, n);
}

}  // namespace strata::nn
