#pragma once
// fastai's residual block with the "bag of tricks" tweaks (https://arxiv.org/abs/1812.01187), its
// squeeze-excitation and ResNeXt variants, and the pools they use.
//
//   auto b = std::make_shared<nn::ResBlock>(1, 64, 128, nn::ResBlockOptions{.stride = 2});
//   // convpath: ConvLayer(64, 128, 3, stride 2) -> ConvLayer(128, 128, 3, BatchZero, no act)
//   // idpath:   AvgPool2d(2, ceil_mode) -> ConvLayer(64, 128, 1, no act)
//   // out = relu(convpath(x) + idpath(x))
//
// expansion 1 is the basic block (two ks x ks convs), 4 the bottleneck (1x1, ks x ks, 1x1); ni and
// nf are multiplied by expansion, as in fastai. The last conv of the residual branch uses
// BatchZero (InstanceZero for Instance), so a fresh block adds a constant (the norm's bias) to its
// shortcut. The shortcut averages pools before its 1x1 conv when stride != 1 (pool_first), rather
// than striding a 1x1 conv that would skip three quarters of the input. Children "convpath",
// "idpath" and "act", as in fastai, so state dict keys match ("convpath.0.0.weight").
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "nn/conv_layer.h"
#include "nn/merge.h"

namespace strata::nn {

// fastai's pool "class": (ks, ndim, ceil_mode) -> a pooling module with stride ks, no padding.
using PoolFactory = std::function<ModulePtr(int64_t ks, int64_t ndim, bool ceil_mode)>;
PoolFactory avg_pool();  // fastai's AvgPool (ndim 1 or 2)
PoolFactory max_pool();  // fastai's MaxPool (ndim 1 or 2)

// Squeeze-excitation: SequentialEx(AdaptiveAvgPool2d(1), ConvLayer(ch, nf, 1, no norm, act),
// ConvLayer(nf, ch, 1, no norm, Sigmoid), ProdLayer()) with nf = ceil(ch / reduction / 8) * 8
// (ch / reduction rounded down first, as fastai does). ndim 1 pools and convolves over [N, C, L]
// (fastai's SEModule is 2-d only).
std::shared_ptr<SequentialEx> se_module(int64_t ch, int64_t reduction, const ActFactory& act_cls = act::relu(),
                                        int64_t ndim = 2);

struct ResBlockOptions {
  int64_t stride = 1;
  int64_t groups = 1;     // of the ks x ks conv (ResNeXt)
  int64_t reduction = 0;  // squeeze-excitation when > 0
  int64_t nh1 = 0;        // bottleneck width of the first 1x1 conv (0: nh2)
  int64_t nh2 = 0;        // width of the ks x ks conv (0: nf)
  bool dw = false;        // depthwise ks x ks conv (groups = its input channels)
  int64_t g2 = 1;         // groups of the last conv
  bool sa = false;        // SimpleSelfAttention at the end of the residual branch
  bool sym = false;       // ... with a symmetric weight
  std::optional<NormType> norm_type = NormType::Batch;
  ActFactory act_cls = act::relu();  // nullptr: no activation
  int64_t ndim = 2;
  int64_t ks = 3;
  PoolFactory pool = avg_pool();
  bool pool_first = true;  // pool before the shortcut's 1x1 conv
};

class ResBlock : public Module {
 public:
  ResBlock(int64_t expansion, int64_t ni, int64_t nf, const ResBlockOptions& options = {});
  Tensor forward(const Tensor& x) override;
  using Module::forward;
  std::shared_ptr<Sequential> convpath, idpath;
  ModulePtr act;  // nullptr when act_cls is empty
};

// fastai's SEBlock: a ResBlock with squeeze-excitation (reduction 16), nh1 = 2 nf, nh2 = nf * expansion.
std::shared_ptr<ResBlock> se_block(int64_t expansion, int64_t ni, int64_t nf,
                                   ResBlockOptions options = {.reduction = 16});
// fastai's SEResNeXtBlock: groups (32) of width floor(nf * base_width / 64) for the ks x ks conv,
// squeeze-excitation with options.reduction (16 by default).
std::shared_ptr<ResBlock> se_resnext_block(int64_t expansion, int64_t ni, int64_t nf,
                                           ResBlockOptions options = {.groups = 32, .reduction = 16},
                                           int64_t base_width = 4);

}  // namespace strata::nn
