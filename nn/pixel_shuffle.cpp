// PixelShuffle_ICNR and the replication pad its blur needs (slicing and concatenation); the
// pixel shuffle itself is nn::PixelShuffle (nn/basic.h).
#include "nn/pixel_shuffle.h"

#include <fmt/format.h>

#include "autograd/grad_mode.h"
#include "nn/basic.h"
#include "nn/init.h"
#include "nn/reparam.h"
#include "tensor/error.h"
#include "tensor/ops.h"

namespace strata::nn {

Tensor icnr_init(const Tensor& x, int64_t scale, const WeightInit& init) {
  STRATA_CHECK(x.dim() == 4, ShapeError, "icnr_init: expected a 4-d conv weight, got {}", x.shape());
  STRATA_CHECK(scale > 0 && x.size(0) % (scale * scale) == 0, ValueError,
               "icnr_init: {} output channels are not divisible by scale^2 = {}", x.size(0), scale * scale);
  const int64_t ni = x.size(0), nf = x.size(1), h = x.size(2), w = x.size(3);
  const int64_t ni2 = ni / (scale * scale);
  NoGradGuard no_grad;
  Tensor k = zeros({ni2, nf, h, w}, {.dtype = x.dtype()});
  if (init)
    init(k);
  else
    kaiming_normal_(k);
  // fastai: k.transpose(0, 1).view(nf, ni2, h*w).repeat(1, 1, s^2).view(nf, ni, h, w).transpose(0, 1):
  // output channel c takes sub-filter c / s^2.
  Tensor rep = k.reshape({ni2, 1, nf, h, w}).expand({ni2, scale * scale, nf, h, w});
  return rep.reshape({ni, nf, h, w}).to(x.device());
}

ReplicationPad2d::ReplicationPad2d(int64_t l, int64_t r, int64_t t, int64_t b)
    : Module("ReplicationPad2d"), left(l), right(r), top(t), bottom(b) {
  STRATA_CHECK(l >= 0 && r >= 0 && t >= 0 && b >= 0, ValueError,
               "ReplicationPad2d: padding must be non-negative, got ({}, {}, {}, {})", l, r, t, b);
}

Tensor ReplicationPad2d::forward(const Tensor& x) {
  STRATA_CHECK(x.dim() >= 3 && x.size(-1) > 0 && x.size(-2) > 0, ShapeError,
               "ReplicationPad2d: expected [*, H, W] with H, W > 0, got {}", x.shape());
  auto pad_dim = [](const Tensor& t, int64_t dim, int64_t before, int64_t after) {
    if (before == 0 && after == 0) return t;
    const int64_t n = t.size(dim);
    std::vector<Tensor> out;
    for (int64_t i = 0; i < before; ++i) out.push_back(t.narrow(dim, 0, 1));
    out.push_back(t);
    for (int64_t i = 0; i < after; ++i) out.push_back(t.narrow(dim, n - 1, 1));
    return cat(out, dim);
  };
  const int64_t d = x.dim();
  return pad_dim(pad_dim(x, d - 1, left, right), d - 2, top, bottom);
}

std::string ReplicationPad2d::extra_repr() const { return fmt::format("({}, {}, {}, {})", left, right, top, bottom); }

PixelShuffle_ICNR::PixelShuffle_ICNR(int64_t ni, int64_t nf, int64_t scale, const PixelShuffleICNROptions& o)
    : Sequential("PixelShuffle_ICNR") {
  STRATA_CHECK(scale > 0, ValueError, "PixelShuffle_ICNR: scale must be positive, got {}", scale);
  if (nf == 0) nf = ni;
  auto conv = std::make_shared<ConvLayer>(
      ni, nf * scale * scale,
      ConvLayerOptions{.ks = 1, .norm_type = o.norm_type, .act_cls = o.act_cls, .bias_std = 0.0});
  {
    NoGradGuard no_grad;
    Tensor w = conv->conv_weight();
    w.copy_(icnr_init(w, scale));
    if (auto wn = std::dynamic_pointer_cast<WeightNorm>(conv->conv()))  // g = ||v|| per output channel
      wn->weight_g.copy_(norm(w.reshape({w.size(0), -1}), 2.0, {1}, true).reshape(wn->weight_g.shape()));
  }
  push_back(conv);
  push_back(std::make_shared<PixelShuffle>(scale));
  if (o.blur) {
    push_back(std::make_shared<ReplicationPad2d>(1, 0, 1, 0));
    push_back(std::make_shared<AvgPool2d>(AvgPool2dOptions{.kernel_size = 2, .stride = 1}));
  }
}

}  // namespace strata::nn
