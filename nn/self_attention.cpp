// Self-attention layers: a few batched matmuls on the flattened map; the result is reshaped back
// to the input's shape.
#include "nn/self_attention.h"

#include <fmt/format.h>

#include "nn/conv.h"
#include "nn/conv_layer.h"
#include "nn/init.h"
#include "nn/reparam.h"
#include "tensor/error.h"
#include "tensor/ops.h"

namespace strata::nn {

namespace {

ModulePtr attention_conv(int64_t n_in, int64_t n_out) {
  return std::make_shared<ConvLayer>(
      n_in, n_out,
      ConvLayerOptions{.ks = 1, .bias = false, .ndim = 1, .norm_type = NormType::Spectral, .act_cls = nullptr});
}

// [N, C, *spatial] -> [N, C, L].
Tensor flatten_spatial(const Tensor& x, int64_t channels, const char* who) {
  STRATA_CHECK(x.dim() >= 3 && x.size(1) == channels, ShapeError,
               "{}: expected input [N, {}, *spatial] with at least 3 dims, got {}", who, channels, x.shape());
  return x.reshape({x.size(0), channels, -1});
}

}  // namespace

SelfAttention::SelfAttention(int64_t n) : Module("SelfAttention"), n_channels(n) {
  STRATA_CHECK(n >= 8, ValueError, "SelfAttention: n_channels must be at least 8 (query and key have n / 8), got {}",
               n);
  query = register_module("query", attention_conv(n, n / 8));
  key = register_module("key", attention_conv(n, n / 8));
  value = register_module("value", attention_conv(n, n));
  gamma = register_parameter("gamma", zeros({1}));
}

Tensor SelfAttention::forward(const Tensor& input) {
  Tensor x = flatten_spatial(input, n_channels, "SelfAttention");
  Tensor f = (*query)(x), g = (*key)(x), h = (*value)(x);
  Tensor beta = softmax(bmm(f.transpose(1, 2), g), 1);  // [N, L, L]
  Tensor o = gamma * bmm(h, beta) + x;
  return o.reshape(input.shape());
}

SimpleSelfAttention::SimpleSelfAttention(int64_t n, int64_t ks_, bool sym_)
    : Module("SimpleSelfAttention"), n_in(n), ks(ks_), sym(sym_) {
  STRATA_CHECK(!sym || ks == 1, ValueError, "SimpleSelfAttention: sym needs ks 1, got ks {}", ks);
  auto c = std::make_shared<Conv1d>(n, n, ks, ConvOptions{.padding = ks / 2, .bias = false});
  kaiming_normal_(c->weight);
  conv = register_module("conv", spectral_norm(c));
  gamma = register_parameter("gamma", zeros({1}));
}

Tensor SimpleSelfAttention::forward(const Tensor& input) {
  Tensor x = flatten_spatial(input, n_in, "SimpleSelfAttention");
  Tensor w = conv->compute_weight();
  if (sym) {
    Tensor c = w.reshape({n_in, n_in});
    w = ((c + c.t()) / 2.0).reshape({n_in, n_in, 1});
  }
  Tensor convx = conv1d(x, w, Tensor(), Conv1dOptions{.padding = ks / 2});
  Tensor xxT = bmm(x, x.transpose(1, 2));
  Tensor o = gamma * bmm(xxT, convx) + x;
  return o.reshape(input.shape());
}

std::string SimpleSelfAttention::extra_repr() const { return fmt::format("n_in={}, ks={}, sym={}", n_in, ks, sym); }

}  // namespace strata::nn
