#pragma once
// torchvision's ResNet (torchvision/models/resnet.py, v1.5: the bottleneck strides its 3x3 conv),
// with torchvision's module names, so a torchvision state dict saved as safetensors loads with
// strict matching:
//
//   auto model = nn::resnet34();                                  // 1000 classes
//   model->load("resnet34.safetensors");                          // keys from torchvision
//
// Children: conv1 (7x7, stride 2), bn1, relu, maxpool, layer1..layer4 (Sequentials of blocks
// "0", "1", ...), avgpool, fc. A BasicBlock has conv1, bn1, relu, conv2, bn2 and, when the shape
// changes, downsample (Sequential: "0" a strided 1x1 conv, "1" a BatchNorm2d); a Bottleneck has
// conv1 (1x1), bn1, conv2 (3x3, the stride), bn2, conv3 (1x1), bn3, relu, downsample. Keys:
// "conv1.weight", "bn1.running_mean", "layer1.0.conv1.weight", "layer2.0.downsample.0.weight",
// "fc.weight", ... (resnet18: 122 entries with the BN buffers; 11,689,512 parameters).
// Init as torchvision: convs kaiming-normal (fan_out, ReLU gain), norms weight 1 / bias 0, fc
// PyTorch's Linear default.
#include <cstdint>
#include <memory>
#include <vector>

#include "nn/module.h"
#include "nn/sequential.h"

namespace strata::nn {

class Conv2d;
class BatchNormBase;
class Linear;

class BasicBlock : public Module {
 public:
  static constexpr int64_t expansion = 1;
  BasicBlock(int64_t inplanes, int64_t planes, int64_t stride = 1, ModulePtr downsample = nullptr);
  Tensor forward(const Tensor& x) override;
  using Module::forward;
  ModulePtr conv1, bn1, relu, conv2, bn2, downsample;
};

class Bottleneck : public Module {
 public:
  static constexpr int64_t expansion = 4;
  Bottleneck(int64_t inplanes, int64_t planes, int64_t stride = 1, ModulePtr downsample = nullptr);
  Tensor forward(const Tensor& x) override;
  using Module::forward;
  ModulePtr conv1, bn1, conv2, bn2, conv3, bn3, relu, downsample;
};

enum class ResNetBlock { Basic, Bottleneck };

class ResNet : public Module {
 public:
  // layers: blocks per stage (4 stages). in_channels 3 is torchvision's (others change conv1 only).
  ResNet(ResNetBlock block, std::vector<int64_t> layers, int64_t num_classes = 1000, int64_t in_channels = 3);
  Tensor forward(const Tensor& x) override;
  using Module::forward;
  ModulePtr conv1, bn1, relu, maxpool, layer1, layer2, layer3, layer4, avgpool, fc;

 private:
  std::shared_ptr<Sequential> make_layer(ResNetBlock block, int64_t planes, int64_t blocks, int64_t stride);
  int64_t inplanes_ = 64;
};

std::shared_ptr<ResNet> resnet18(int64_t num_classes = 1000);
std::shared_ptr<ResNet> resnet34(int64_t num_classes = 1000);
std::shared_ptr<ResNet> resnet50(int64_t num_classes = 1000);
std::shared_ptr<ResNet> resnet101(int64_t num_classes = 1000);
std::shared_ptr<ResNet> resnet152(int64_t num_classes = 1000);

}  // namespace strata::nn
