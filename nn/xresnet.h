#pragma once
// fastai's XResNet: ResNet with the "bag of tricks" tweaks (https://arxiv.org/abs/1812.01187) —
// a stem of three 3x3 ConvLayers instead of one 7x7, avg-pool shortcuts, zero-gamma last norm of
// every residual branch — and its squeeze-excitation / ResNeXt variants.
//
//   auto model = nn::xresnet50({.n_out = 10});
//   auto se = nn::xse_resnext34({.n_out = 37, .act_cls = nn::act::mish()});
//
// The layout is fastai's exactly (a Sequential, so state dict keys match fastai's: "0.0.weight"
// is the first stem conv, "4.0.convpath.0.0.weight" the first block's first conv):
//   0-2   stem: ConvLayer(c_in, 32, stride 2), ConvLayer(32, 32), ConvLayer(32, 64)
//   3     MaxPool2d(ks, stride, padding ks / 2)
//   4-7   stages of ResBlocks: widths 64, 128, 256, 512 (times widen; extra stages 256), first
//         block of stages 1+ has the stride; with `sa` the last block of the first stage has
//         self-attention
//   8-11  AdaptiveAvgPool2d(1), Flatten, Dropout(p), Linear(512 * expansion, n_out)
// then fastai's init_cnn: kaiming-normal conv and linear weights, every bias (norms' too) zero.
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "nn/res_block.h"
#include "nn/sequential.h"

namespace strata::nn {

// Which residual block the stages are made of (fastai's ResBlock, SEBlock, SEResNeXtBlock).
enum class XBlock { Res, SE, SEResNeXt };

struct XResNetOptions {
  int64_t n_out = 1000;
  int64_t c_in = 3;
  double p = 0.0;  // dropout before the final Linear
  std::vector<int64_t> stem_szs = {32, 32, 64};
  double widen = 1.0;  // stage widths times this
  bool sa = false;     // self-attention in the first stage's last block
  ActFactory act_cls = act::relu();
  int64_t ndim = 2;  // 1: Conv1d / pools over [N, C, L] sequences
  int64_t ks = 3;    // odd
  int64_t stride = 2;
  // Passed to every block (fastai's **kwargs):
  XBlock block = XBlock::Res;
  int64_t groups = 1;
  int64_t reduction = 0;   // squeeze-excitation when > 0
  int64_t base_width = 4;  // SEResNeXt only
  bool dw = false;
  int64_t g2 = 1;
  bool sym = false;
  std::optional<NormType> norm_type = NormType::Batch;
  PoolFactory pool = avg_pool();
  bool pool_first = true;
};

class XResNet : public Sequential {
 public:
  // expansion 1 (basic blocks) or 4 (bottlenecks); layers: blocks per stage (at least 4 stages
  // are not required, but fastai's widths assume them).
  XResNet(int64_t expansion, std::vector<int64_t> layers, const XResNetOptions& options = {});
  int64_t expansion;
  std::vector<int64_t> layers;
};

std::shared_ptr<XResNet> xresnet18(const XResNetOptions& options = {});
std::shared_ptr<XResNet> xresnet34(const XResNetOptions& options = {});
std::shared_ptr<XResNet> xresnet50(const XResNetOptions& options = {});
std::shared_ptr<XResNet> xresnet101(const XResNetOptions& options = {});
std::shared_ptr<XResNet> xresnet152(const XResNetOptions& options = {});

// fastai's variants: set block, groups and reduction over `options` (se_kwargs1/2/3) and build.
// xse_resnet: SEBlock, groups 1, reduction 16; xse_resnext: SEResNeXtBlock, groups 32, reduction 16;
// xresnext: SEResNeXtBlock, groups 32, no squeeze-excitation.
std::shared_ptr<XResNet> xse_resnet18(XResNetOptions options = {});
std::shared_ptr<XResNet> xse_resnet34(XResNetOptions options = {});
std::shared_ptr<XResNet> xse_resnet50(XResNetOptions options = {});
std::shared_ptr<XResNet> xse_resnext18(XResNetOptions options = {});
std::shared_ptr<XResNet> xse_resnext34(XResNetOptions options = {});
std::shared_ptr<XResNet> xse_resnext50(XResNetOptions options = {});
std::shared_ptr<XResNet> xresnext18(XResNetOptions options = {});
std::shared_ptr<XResNet> xresnext34(XResNetOptions options = {});
std::shared_ptr<XResNet> xresnext50(XResNetOptions options = {});

}  // namespace strata::nn
