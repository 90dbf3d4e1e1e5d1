#pragma once
// Sub-pixel upsampling with ICNR init (fastai's PixelShuffle_ICNR, from "Checkerboard artifact
// free sub-pixel convolution", https://arxiv.org/abs/1707.02937).
//
//   auto up = std::make_shared<nn::PixelShuffle_ICNR>(64, 32);   // [N, 64, H, W] -> [N, 32, 2H, 2W]
//
// A 1x1 ConvLayer to nf * scale^2 channels, then a pixel shuffle; with blur, a replication pad of
// one row/column at the top/left and a 2x2 average pool of stride 1 (same size, smoothed).
// icnr_init makes the scale^2 sub-pixel filters of each output channel identical at the start, so
// the upsampled map starts as a nearest-neighbour upsampling of one conv: no checkerboard.
// With the default norm_type Weight (fastai's), the ICNR weight goes into weight_v and weight_g is
// set to its norm.
#include <cstdint>
#include <optional>

#include "nn/basic.h"
#include "nn/conv_layer.h"
#include "nn/sequential.h"

namespace strata::nn {

// The ICNR version of a conv weight `x` [ni, nf, h, w] (ni divisible by scale^2): draws
// [ni / scale^2, nf, h, w] with `init` (default kaiming_normal_) and repeats each filter scale^2
// times so rows k * scale^2 .. k * scale^2 + scale^2 - 1 are equal. Returns a new tensor.
Tensor icnr_init(const Tensor& x, int64_t scale = 2, const WeightInit& init = {});

// Pads [N, C, H, W] by repeating edge pixels (PyTorch's ReplicationPad2d).
class ReplicationPad2d : public Module {
 public:
  // left, right, top, bottom, as in PyTorch.
  ReplicationPad2d(int64_t left, int64_t right, int64_t top, int64_t bottom);
  Tensor forward(const Tensor& x) override;
  using Module::forward;
  std::string extra_repr() const override;
  int64_t left, right, top, bottom;
};

struct PixelShuffleICNROptions {
  bool blur = false;
  std::optional<NormType> norm_type = NormType::Weight;
  ActFactory act_cls = act::relu();
};

class PixelShuffle_ICNR : public Sequential {
 public:
  // nf 0 means ni.
  PixelShuffle_ICNR(int64_t ni, int64_t nf = 0, int64_t scale = 2, const PixelShuffleICNROptions& options = {});
};

}  // namespace strata::nn
