// Backward formulas of the pooling and upsampling ops. Each gradient is the adjoint kernel of
// the forward one (kernels/pool.h), run on the device of the gradient into a zero-filled buffer
// of the input's shape, with images seen as [planes, H, W].
//
// max pools: the adjoint is a scatter-add of the gradient to the saved argmax. When the backward
// itself is being recorded (double backward) it is written with scatter_add so it stays
// differentiable; the other ops' backwards are kernels without a formula of their own, and
// refuse to be differentiated again rather than silently cut the graph.
#include "autograd/formulas/pool.h"

#include "autograd/record.h"
#include "tensor/ops.h"

namespace strata::autograd {
namespace {

bool recording(const Tensor& g) { return GradMode::is_enabled() && g.requires_grad(); }

Tensor planes_view(const Tensor& t) {
  const int64_t h = t.size(-2), w = t.size(-1);
  return t.view({t.numel() / (h * w), h, w});
}

// The zero-filled input gradient and g packed, both seen as planes; runs `kernel(g, grad_in)`.
template <class Kernel>
Tensor adjoint(const char* node, const Shape& x_shape, const Tensor& g, Kernel&& kernel) {
  STRATA_CHECK(!recording(g), AutogradError, "{}: double backward is not supported (gradient {})", node, g.shape());
  Tensor grad_in = zeros(x_shape, {.dtype = g.dtype(), .device = g.device()});
  if (g.numel() > 0 && grad_in.numel() > 0) kernel(planes_view(g.contiguous()), planes_view(grad_in));
  return grad_in;
}

struct MaxPool2dBackward final : Node {
  const char* node_name = "";
  Shape x_shape;
  SavedTensor indices;
  std::string name() const override { return node_name; }
  void release_saved() override { indices.reset(); }
  TensorList apply(TensorList&& grads) override {
    const Tensor& g = grads[0];
    Tensor idx = indices.get(this);
    if (recording(g)) {
      const int64_t plane = x_shape[x_shape.ndim() - 2] * x_shape[x_shape.ndim() - 1];
      const int64_t planes = plane == 0 ? 0 : x_shape.numel() / plane;
      Tensor z = zeros({planes, plane}, {.dtype = g.dtype(), .device = g.device()});
      return {scatter_add(z, 1, idx.reshape({planes, -1}), g.reshape({planes, -1})).reshape(x_shape)};
    }
    return {adjoint(node_name, x_shape, g, [&](const Tensor& go, const Tensor& gi) {
      kernels::max_pool2d_backward(go, planes_view(idx), gi);
    })};
  }
};

struct AvgPool2dBackward final : Node {
  Shape x_shape;
  kernels::Pool2dParams params;
  std::string name() const override { return "AvgPool2DBackward"; }
  TensorList apply(TensorList&& grads) override {
    return {adjoint("AvgPool2DBackward", x_shape, grads[0], [&](const Tensor& go, const Tensor& gi) {
      kernels::avg_pool2d_backward(go, params, gi);
    })};
  }
};

struct AdaptiveAvgPool2dBackward final : Node {
  Shape x_shape;
  std::string name() const override { return "AdaptiveAvgPool2DBackward"; }
  TensorList apply(TensorList&& grads) override {
    return {adjoint("AdaptiveAvgPool2DBackward", x_shape, grads[0], [&](const Tensor& go, const Tensor& gi) {
      kernels::adaptive_avg_pool2d_backward(go, gi);
    })};
  }
};

struct UpsampleBackward final : Node {
  bool bilinear = false, align_corners = false;
  double scale_h = 0, scale_w = 0;
  Shape x_shape;
  std::string name() const override { return bilinear ? "UpsampleBilinear2DBackward" : "UpsampleNearest2DBackward"; }
  TensorList apply(TensorList&& grads) override {
    return {adjoint(bilinear ? "UpsampleBilinear2DBackward" : "UpsampleNearest2DBackward", x_shape, grads[0],
                    [&](const Tensor& go, const Tensor& gi) {
                      if (bilinear)
                        kernels::upsample_bilinear2d_backward(go, align_corners, scale_h, scale_w, gi);
                      else
                        kernels::upsample_nearest2d_backward(go, scale_h, scale_w, gi);
                    })};
  }
};

bool wanted(const Tensor& x, const Tensor& out) { return is_floating(out.dtype()) && needs_grad({&x}); }

}  // namespace

void record_max_pool2d(const char* name, const Tensor& x, const Tensor& indices, const Tensor& out) {
  if (!wanted(x, out)) return;
  auto node = make_node<MaxPool2dBackward>({&x});
  node->node_name = name;
  node->x_shape = x.shape();
  node->indices.save(indices);
  set_history(out, node);
}

void record_avg_pool2d(const Tensor& x, const kernels::Pool2dParams& params, const Tensor& out) {
  if (!wanted(x, out)) return;
  auto node = make_node<AvgPool2dBackward>({&x});
  node->x_shape = x.shape();
  node->params = params;
  set_history(out, node);
}

void record_adaptive_avg_pool2d(const Tensor& x, const Tensor& out) {
  if (!wanted(x, out)) return;
  auto node = make_node<AdaptiveAvgPool2dBackward>({&x});
  node->x_shape = x.shape();
  set_history(out, node);
}

void record_upsample_nearest2d(const Tensor& x, double scale_h, double scale_w, const Tensor& out) {
  if (!wanted(x, out)) return;
  auto node = make_node<UpsampleBackward>({&x});
  node->scale_h = scale_h;
  node->scale_w = scale_w;
  node->x_shape = x.shape();
  set_history(out, node);
}

void record_upsample_bilinear2d(const Tensor& x, bool align_corners, double scale_h, double scale_w,
                                const Tensor& out) {
  if (!wanted(x, out)) return;
  auto node = make_node<UpsampleBackward>({&x});
  node->bilinear = true;
  node->align_corners = align_corners;
  node->scale_h = scale_h;
  node->scale_w = scale_w;
  node->x_shape = x.shape();
  set_history(out, node);
}

}  // namespace strata::autograd
