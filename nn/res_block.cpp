// ResBlock: both paths are assembled in the constructor following fastai's layers.py line by line;
// the forward is one add and the activation.
#include "nn/res_block.h"

#include <cmath>

#include "nn/basic.h"
#include "nn/pool1d.h"
#include "nn/self_attention.h"
#include "tensor/error.h"
#include "tensor/ops.h"

namespace strata::nn {

PoolFactory avg_pool() {
  return [](int64_t ks, int64_t ndim, bool ceil_mode) -> ModulePtr {
    STRATA_CHECK(ndim == 1 || ndim == 2, NotImplementedError,
                 "AvgPool: ndim {}: the op list has 1-d and 2-d pooling but no 3-d pooling", ndim);
    if (ndim == 1) return std::make_shared<AvgPool1d>(ks, 0, 0, ceil_mode);
    return std::make_shared<AvgPool2d>(AvgPool2dOptions{.kernel_size = ks, .ceil_mode = ceil_mode});
  };
}

PoolFactory max_pool() {
  return [](int64_t ks, int64_t ndim, bool ceil_mode) -> ModulePtr {
    STRATA_CHECK(ndim == 1 || ndim == 2, NotImplementedError,
                 "MaxPool: ndim {}: the op list has 1-d and 2-d pooling but no 3-d pooling", ndim);
    if (ndim == 1) return std::make_shared<MaxPool1d>(ks, 0, 0, ceil_mode);
    return std::make_shared<MaxPool2d>(MaxPool2dOptions{.kernel_size = ks, .ceil_mode = ceil_mode});
  };
}

std::shared_ptr<SequentialEx> se_module(int64_t ch, int64_t reduction, const ActFactory& act_cls, int64_t ndim) {
  STRATA_CHECK(ch > 0 && reduction > 0, ValueError, "SEModule: channels and reduction must be positive, got {} and {}",
               ch, reduction);
  const int64_t nf = static_cast<int64_t>(std::ceil(static_cast<double>(ch / reduction) / 8.0)) * 8;
  ModulePtr pool;
  if (ndim == 1)
    pool = std::make_shared<AdaptiveAvgPool1d>(1);
  else
    pool = std::make_shared<AdaptiveAvgPool2d>(1);
  return std::make_shared<SequentialEx>(std::vector<ModulePtr>{
      pool,
      std::make_shared<ConvLayer>(
          ch, nf, ConvLayerOptions{.ks = 1, .ndim = ndim, .norm_type = std::nullopt, .act_cls = act_cls}),
      std::make_shared<ConvLayer>(
          nf, ch, ConvLayerOptions{.ks = 1, .ndim = ndim, .norm_type = std::nullopt, .act_cls = act::sigmoid()}),
      std::make_shared<ProdLayer>()});
}

ResBlock::ResBlock(int64_t expansion, int64_t ni, int64_t nf, const ResBlockOptions& o) : Module("ResBlock") {
  STRATA_CHECK(expansion >= 1 && ni > 0 && nf > 0, ValueError,
               "ResBlock: expansion, ni and nf must be positive, got {}, {}, {}", expansion, ni, nf);
  std::optional<NormType> norm2 = o.norm_type;
  if (o.norm_type == NormType::Batch) norm2 = NormType::BatchZero;
  if (o.norm_type == NormType::Instance) norm2 = NormType::InstanceZero;
  const int64_t nh2 = o.nh2 ? o.nh2 : nf;
  const int64_t nh1 = o.nh1 ? o.nh1 : nh2;
  nf *= expansion;
  ni *= expansion;
  auto k0 = [&](int64_t ks, int64_t stride, int64_t groups) {
    return ConvLayerOptions{
        .ks = ks, .stride = stride, .ndim = o.ndim, .norm_type = o.norm_type, .act_cls = o.act_cls, .groups = groups};
  };
  auto k1 = [&](int64_t ks, int64_t groups) {
    return ConvLayerOptions{.ks = ks, .ndim = o.ndim, .norm_type = norm2, .act_cls = nullptr, .groups = groups};
  };
  std::vector<ModulePtr> conv;
  if (expansion == 1) {
    conv.push_back(std::make_shared<ConvLayer>(ni, nh2, k0(o.ks, o.stride, o.dw ? ni : o.groups)));
    conv.push_back(std::make_shared<ConvLayer>(nh2, nf, k1(o.ks, o.g2)));
  } else {
    conv.push_back(std::make_shared<ConvLayer>(ni, nh1, k0(1, 1, 1)));
    conv.push_back(std::make_shared<ConvLayer>(nh1, nh2, k0(o.ks, o.stride, o.dw ? nh1 : o.groups)));
    conv.push_back(std::make_shared<ConvLayer>(nh2, nf, k1(1, o.g2)));
  }
  if (o.reduction > 0) conv.push_back(se_module(nf, o.reduction, o.act_cls, o.ndim));
  if (o.sa) conv.push_back(std::make_shared<SimpleSelfAttention>(nf, 1, o.sym));
  convpath = register_module("convpath", std::make_shared<Sequential>(conv));

  std::vector<ModulePtr> id;
  if (ni != nf)
    id.push_back(std::make_shared<ConvLayer>(ni, nf, ConvLayerOptions{.ks = 1, .ndim = o.ndim, .act_cls = nullptr}));
  if (o.stride != 1) {
    ModulePtr pool = o.pool(o.stride, o.ndim, /*ceil_mode=*/true);
    if (o.pool_first)
      id.insert(id.begin(), pool);
    else
      id.push_back(pool);
  }
  idpath = register_module("idpath", std::make_shared<Sequential>(id));
  if (o.act_cls) act = register_module("act", o.act_cls());
}

Tensor ResBlock::forward(const Tensor& x) {
  Tensor y = (*convpath)(x) + (*idpath)(x);
  return act ? (*act)(y) : y;
}

std::shared_ptr<ResBlock> se_block(int64_t expansion, int64_t ni, int64_t nf, ResBlockOptions options) {
  options.nh1 = nf * 2;
  options.nh2 = nf * expansion;
  return std::make_shared<ResBlock>(expansion, ni, nf, options);
}

std::shared_ptr<ResBlock> se_resnext_block(int64_t expansion, int64_t ni, int64_t nf, ResBlockOptions options,
                                           int64_t base_width) {
  options.nh2 = static_cast<int64_t>(std::floor(static_cast<double>(nf) * (static_cast<double>(base_width) / 64.0))) *
                options.groups;
  return std::make_shared<ResBlock>(expansion, ni, nf, options);
}

}  // namespace strata::nn
