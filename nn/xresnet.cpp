// XResNet: fastai's XResNet.__init__ / _make_blocks / _make_layer, in the same order, so the
// children and their numbering match fastai's.
#include "nn/xresnet.h"

#include "nn/basic.h"
#include "nn/linear.h"
#include "nn/pool1d.h"
#include "tensor/error.h"

namespace strata::nn {

namespace {

ModulePtr make_block(const XResNetOptions& o, int64_t expansion, int64_t ni, int64_t nf, int64_t stride, bool sa) {
  ResBlockOptions b{.stride = stride,
                    .groups = o.groups,
                    .reduction = o.reduction,
                    .dw = o.dw,
                    .g2 = o.g2,
                    .sa = sa,
                    .sym = o.sym,
                    .norm_type = o.norm_type,
                    .act_cls = o.act_cls,
                    .ndim = o.ndim,
                    .ks = o.ks,
                    .pool = o.pool,
                    .pool_first = o.pool_first};
  switch (o.block) {
    case XBlock::Res:
      return std::make_shared<ResBlock>(expansion, ni, nf, b);
    case XBlock::SE:
      return se_block(expansion, ni, nf, b);
    case XBlock::SEResNeXt:
      return se_resnext_block(expansion, ni, nf, b, o.base_width);
  }
  return nullptr;
}

}  // namespace

XResNet::XResNet(int64_t expansion_, std::vector<int64_t> layers_, const XResNetOptions& o)
    : Sequential("XResNet"), expansion(expansion_), layers(std::move(layers_)) {
  STRATA_CHECK(o.ks % 2 == 1, ValueError, "XResNet: kernel size has to be odd, got {}", o.ks);
  STRATA_CHECK(o.stem_szs.size() == 3, ValueError, "XResNet: stem_szs needs 3 sizes, got {}", o.stem_szs.size());
  STRATA_CHECK(expansion == 1 || expansion == 4, ValueError, "XResNet: expansion must be 1 or 4, got {}", expansion);
  STRATA_CHECK(!layers.empty(), ValueError, "XResNet: needs at least one stage");
  STRATA_CHECK(o.ndim == 1 || o.ndim == 2, NotImplementedError,
               "XResNet: ndim {}: the op list has no 3-d convolution or pooling yet", o.ndim);

  // Stem.
  std::vector<int64_t> stem{o.c_in, o.stem_szs[0], o.stem_szs[1], o.stem_szs[2]};
  for (size_t i = 0; i < 3; ++i)
    push_back(std::make_shared<ConvLayer>(
        stem[i], stem[i + 1],
        ConvLayerOptions{.ks = o.ks, .stride = i == 0 ? o.stride : 1, .ndim = o.ndim, .act_cls = o.act_cls}));
  if (o.ndim == 1)
    push_back(std::make_shared<MaxPool1d>(o.ks, o.stride, o.ks / 2));
  else
    push_back(
        std::make_shared<MaxPool2d>(MaxPool2dOptions{.kernel_size = o.ks, .stride = o.stride, .padding = o.ks / 2}));

  // Stages.
  std::vector<int64_t> szs{64 / expansion};
  const int64_t base[4] = {64, 128, 256, 512};
  for (size_t i = 0; i < layers.size(); ++i)
    szs.push_back(static_cast<int64_t>(static_cast<double>(i < 4 ? base[i] : 256) * o.widen));
  const size_t n = layers.size();
  for (size_t i = 0; i < n; ++i) {
    const bool stage_sa = o.sa && n >= 4 && i == n - 4;
    auto stage = std::make_shared<Sequential>();
    for (int64_t j = 0; j < layers[i]; ++j)
      stage->push_back(make_block(o, expansion, j == 0 ? szs[i] : szs[i + 1], szs[i + 1],
                                  j == 0 ? (i == 0 ? 1 : o.stride) : 1, stage_sa && j == layers[i] - 1));
    push_back(stage);
  }

  // Head.
  if (o.ndim == 1)
    push_back(std::make_shared<AdaptiveAvgPool1d>(1));
  else
    push_back(std::make_shared<AdaptiveAvgPool2d>(1));
  push_back(std::make_shared<Flatten>());
  push_back(std::make_shared<Dropout>(o.p));
  push_back(std::make_shared<Linear>(szs.back() * expansion, o.n_out));
  init_cnn(*this);
}

namespace {
std::shared_ptr<XResNet> make(int64_t expansion, std::vector<int64_t> layers, const XResNetOptions& o) {
  return std::make_shared<XResNet>(expansion, std::move(layers), o);
}
XResNetOptions with_block(XResNetOptions o, XBlock block, int64_t groups, int64_t reduction) {
  o.block = block;
  o.groups = groups;
  o.reduction = reduction;
  return o;
}
const std::vector<int64_t> g0{2, 2, 2, 2}, g1{3, 4, 6, 3};
}  // namespace

std::shared_ptr<XResNet> xresnet18(const XResNetOptions& o) { return make(1, g0, o); }
std::shared_ptr<XResNet> xresnet34(const XResNetOptions& o) { return make(1, g1, o); }
std::shared_ptr<XResNet> xresnet50(const XResNetOptions& o) { return make(4, g1, o); }
std::shared_ptr<XResNet> xresnet101(const XResNetOptions& o) { return make(4, {3, 4, 23, 3}, o); }
std::shared_ptr<XResNet> xresnet152(const XResNetOptions& o) { return make(4, {3, 8, 36, 3}, o); }

std::shared_ptr<XResNet> xse_resnet18(XResNetOptions o) { return make(1, g0, with_block(o, XBlock::SE, 1, 16)); }
std::shared_ptr<XResNet> xse_resnet34(XResNetOptions o) { return make(1, g1, with_block(o, XBlock::SE, 1, 16)); }
std::shared_ptr<XResNet> xse_resnet50(XResNetOptions o) { return make(4, g1, with_block(o, XBlock::SE, 1, 16)); }
std::shared_ptr<XResNet> xse_resnext18(XResNetOptions o) {
  return make(1, g0, with_block(o, XBlock::SEResNeXt, 32, 16));
}
std::shared_ptr<XResNet> xse_resnext34(XResNetOptions o) {
  return make(1, g1, with_block(o, XBlock::SEResNeXt, 32, 16));
}
std::shared_ptr<XResNet> xse_resnext50(XResNetOptions o) {
  return make(4, g1, with_block(o, XBlock::SEResNeXt, 32, 16));
}
std::shared_ptr<XResNet> xresnext18(XResNetOptions o) { return make(1, g0, with_block(o, XBlock::SEResNeXt, 32, 0)); }
std::shared_ptr<XResNet> xresnext34(XResNetOptions o) { return make(1, g1, with_block(o, XBlock::SEResNeXt, 32, 0)); }
std::shared_ptr<XResNet> xresnext50(XResNetOptions o) { return make(4, g1, with_block(o, XBlock::SEResNeXt, 32, 0)); }

}  // namespace strata::nn
