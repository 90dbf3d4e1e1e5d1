// Backward formulas of grid_sample and warp_batch: the adjoint kernels (kernels/resample.h), run
// on the gradient's device. They are kernels without a formula of their own, so they refuse to be
// differentiated again rather than silently cut the graph.
#include "autograd/formulas/resample.h"

#include "autograd/record.h"
#include "tensor/ops.h"

namespace strata::autograd {
namespace {

bool recording(const Tensor& g) { return GradMode::is_enabled() && g.requires_grad(); }

void refuse_double_backward(const char* node, const Tensor& g) {
  STRATA_CHECK(!recording(g), AutogradError, "{}: double backward is not supported (gradient {})", node, g.shape());
}

struct GridSampleBackward final : Node {
  SavedTensor input, grid;
  kernels::SampleParams params;
  std::string name() const override { return "GridSampler2DBackward"; }
  void release_saved() override {
    input.reset();
    grid.reset();
  }
  TensorList apply(TensorList&& grads) override {
    refuse_double_backward("GridSampler2DBackward", grads[0]);
    Tensor x = input.get(this), gr = grid.get(this);
    const Tensor g = grads[0].contiguous();
    Tensor grad_input = needs_input_grad(0) ? zeros(x.shape(), {.dtype = x.dtype(), .device = x.device()}) : Tensor();
    Tensor grad_grid = needs_input_grad(1) ? zeros(gr.shape(), {.dtype = gr.dtype(), .device = gr.device()}) : Tensor();
    if (g.numel() > 0) kernels::grid_sample_backward(g, x, gr, params, grad_input, grad_grid);
    return {grad_input, grad_grid};
  }
};

struct WarpBatchBackward final : Node {
  SavedTensor transforms;
  bool perspective = false;
  kernels::SampleParams params;
  Shape x_shape;
  std::string name() const override { return "WarpBatchBackward"; }
  void release_saved() override { transforms.reset(); }
  TensorList apply(TensorList&& grads) override {
    refuse_double_backward("WarpBatchBackward", grads[0]);
    const Tensor g = grads[0].contiguous();
    Tensor grad_input = zeros(x_shape, {.dtype = g.dtype(), .device = g.device()});
    if (g.numel() > 0 && grad_input.numel() > 0)
      kernels::warp_batch_backward(g, transforms.get(this), perspective, params, grad_input);
    return {grad_input};
  }
};

}  // namespace

void record_grid_sample(const Tensor& input, const Tensor& grid, const Tensor& input_c, const Tensor& grid_c,
                        const kernels::SampleParams& params, const Tensor& out) {
  if (!needs_grad({&input, &grid})) return;
  auto node = make_node<GridSampleBackward>({&input, &grid});
  node->input.save(input_c);
  node->grid.save(grid_c);
  node->params = params;
  set_history(out, node);
}

void record_warp_batch(const Tensor& input, const Tensor& transforms, bool perspective,
                       const kernels::SampleParams& params, const Tensor& out) {
  if (!input.is_floating_point() || !needs_grad({&input})) return;
  auto node = make_node<WarpBatchBackward>({&input});
  node->transforms.save(transforms);
  node->perspective = perspective;
  node->params = params;
  node->x_shape = input.shape();
  set_history(out, node);
}

}  // namespace strata::autograd
