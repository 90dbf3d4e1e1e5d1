// Backward formulas of the conv family, written with tensor ops so they run on any device.
// For y = conv2d(x, w) + b:   dx = conv_transpose2d(dy, w) (output_padding chosen to give x's
// size back), dw = conv2d_weight_grad(x, dy), db = dy summed over N, H, W.
// For y = conv_transpose2d(x, w) + b the roles swap: dx = conv2d(dy, w), dw =
// conv2d_weight_grad(dy, x). conv2d_weight_grad is not recorded: no double backward through the
// weight gradient yet. The nodes keep the options whole, so backward runs the forward's
// ConvAlgorithm.
#include "autograd/formulas/conv.h"

#include "autograd/record.h"
#include "tensor/ops.h"

namespace strata::autograd {
namespace {

Conv2dOptions as_conv(const ConvTranspose2dOptions& o) {
  return {.stride = o.stride, .padding = o.padding, .dilation = o.dilation, .groups = o.groups,
          .algorithm = o.algorithm};
}

struct Conv2dBackward final : Node {
  SavedTensor x, weight;
  Shape x_shape, w_shape;
  Conv2dOptions opts;
  std::string name() const override { return "Conv2dBackward"; }
  void release_saved() override {
    x.reset();
    weight.reset();
  }
  TensorList apply(TensorList&& grads) override {
    const Tensor& g = grads[0];
    Tensor dx, dw, db;
    if (needs_input_grad(0)) {
      ConvTranspose2dOptions t{.stride = opts.stride, .padding = opts.padding, .dilation = opts.dilation,
                               .groups = opts.groups, .algorithm = opts.algorithm};
      for (int i = 0; i < 2; ++i) {
        const int64_t natural = (g.size(2 + i) - 1) * opts.stride[i] - 2 * opts.padding[i] +
                                opts.dilation[i] * (w_shape[2 + i] - 1) + 1;
        t.output_padding[i] = x_shape[2 + i] - natural;
      }
      dx = conv_transpose2d(g, weight.get(this), {}, t);
    }
    if (needs_input_grad(1)) dw = conv2d_weight_grad(x.get(this), g, w_shape, opts);
    if (needs_input_grad(2)) db = sum(g, {0, 2, 3});
    return {dx, dw, db};
  }
};

struct ConvTranspose2dBackward final : Node {
  SavedTensor x, weight;
  Shape x_shape, w_shape;
  ConvTranspose2dOptions opts;
  std::string name() const override { return "ConvTranspose2dBackward"; }
  void release_saved() override {
    x.reset();
    weight.reset();
  }
  TensorList apply(TensorList&& grads) override {
    const Tensor& g = grads[0];
    Tensor dx, dw, db;
    if (needs_input_grad(0)) {
      dx = conv2d(g, weight.get(this), {}, as_conv(opts));
      // With output_padding >= stride (allowed when dilation is larger) conv2d overshoots.
      if (dx.size(2) != x_shape[2] || dx.size(3) != x_shape[3]) dx = dx.narrow(2, 0, x_shape[2]).narrow(3, 0, x_shape[3]);
    }
    if (needs_input_grad(1)) dw = conv2d_weight_grad(g, x.get(this), w_shape, as_conv(opts));
    if (needs_input_grad(2)) db = sum(g, {0, 2, 3});
    return {dx, dw, db};
  }
};

}  // namespace

void record_conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dOptions& opts,
                   const Tensor& out) {
  if (!needs_grad({&x, &weight, &bias})) return;
  auto node = make_node<Conv2dBackward>({&x, &weight, &bias});
  node->x_shape = x.shape();
  node->w_shape = weight.shape();
  node->opts = opts;
  if (node->needs_input_grad(1)) node->x.save(x);
  if (node->needs_input_grad(0)) node->weight.save(weight);
  set_history(out, node);
}

void record_conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
                             const ConvTranspose2dOptions& opts, const Tensor& out) {
  if (!needs_grad({&x, &weight, &bias})) return;
  auto node = make_node<ConvTranspose2dBackward>({&x, &weight, &bias});
  node->x_shape = x.shape();
  node->w_shape = weight.shape();
  node->opts = opts;
  if (node->needs_input_grad(1)) node->x.save(x);
  if (node->needs_input_grad(0)) node->weight.save(weight);
  set_history(out, node);
}

}  // namespace strata::autograd
