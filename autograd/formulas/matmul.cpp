// Backward formulas of the matmul family, written with tensor ops so they run on any device and
// can themselves be differentiated. For C = A @ B:  dA = dC @ B^T,  dB = A^T @ dC.  The
// transposes are views whose (1, ld) strides reach the GEMM as trans flags, never as copies;
// broadcast batch dims are summed back with sum_to.
#include "autograd/formulas/matmul.h"

#include "autograd/record.h"
#include "tensor/ops.h"

namespace strata::autograd {
namespace {

Tensor mT(const Tensor& t) { return t.transpose(-1, -2); }

struct MatmulBackward final : Node {
  SavedTensor a, b;
  Shape a_shape, b_shape;
  bool batched = false;
  std::string name() const override { return batched ? "BmmBackward" : "MmBackward"; }
  void release_saved() override {
    a.reset();
    b.reset();
  }
  TensorList apply(TensorList&& grads) override {
    const Tensor& g = grads[0];
    Tensor da, db;
    if (needs_input_grad(0)) da = sum_to(matmul(g, mT(b.get(this))), a_shape);
    if (needs_input_grad(1)) db = sum_to(matmul(mT(a.get(this)), g), b_shape);
    return {da, db};
  }
};

struct AddmmBackward final : Node {
  SavedTensor a, b;
  Shape c_shape;
  double beta = 1.0, alpha = 1.0;
  std::string name() const override { return "AddmmBackward"; }
  void release_saved() override {
    a.reset();
    b.reset();
  }
  TensorList apply(TensorList&& grads) override {
    const Tensor& g = grads[0];
    auto scaled = [](const Tensor& t, double s) { return s == 1.0 ? t : t * s; };
    Tensor dc, da, db;
    if (needs_input_grad(0)) dc = scaled(sum_to(g, c_shape), beta);
    if (needs_input_grad(1)) da = scaled(matmul(g, b.get(this).t()), alpha);
    if (needs_input_grad(2)) db = scaled(matmul(a.get(this).t(), g), alpha);
    return {dc, da, db};
  }
};

// y = x @ W^T + bias with x's leading dims flattened into rows: three GEMM-shaped formulas on
// [rows, in] and [rows, out] views (copies only when x's leading dims do not flatten as a view).
struct LinearBackward final : Node {
  SavedTensor x, weight;
  Shape x_shape;
  int64_t rows = 0;
  std::string name() const override { return "LinearBackward"; }
  void release_saved() override {
    x.reset();
    weight.reset();
  }
  TensorList apply(TensorList&& grads) override {
    const int64_t out_features = grads[0].size(-1);
    Tensor g2 = grads[0].reshape({rows, out_features});
    Tensor dx, dw, db;
    if (needs_input_grad(0)) dx = matmul(g2, weight.get(this)).reshape(x_shape);
    if (needs_input_grad(1)) {
      Tensor xv = x.get(this);
      dw = matmul(g2.t(), xv.reshape({rows, xv.size(-1)}));
    }
    if (needs_input_grad(2)) db = sum(g2, {0});
    return {dx, dw, db};
  }
};

}  // namespace

void record_matmul(const Tensor& a, const Tensor& b, const Tensor& out) {
  if (!needs_grad({&a, &b})) return;
  auto node = make_node<MatmulBackward>({&a, &b});
  node->batched = a.dim() > 2 || b.dim() > 2;
  node->a_shape = a.shape();
  node->b_shape = b.shape();
  if (node->needs_input_grad(1)) node->a.save(a);
  if (node->needs_input_grad(0)) node->b.save(b);
  set_history(out, node);
}

void record_addmm(const Tensor& c, const Tensor& a, const Tensor& b, double beta, double alpha, const Tensor& out) {
  if (!needs_grad({&c, &a, &b})) return;
  auto node = make_node<AddmmBackward>({&c, &a, &b});
  node->c_shape = c.shape();
  node->beta = beta;
  node->alpha = alpha;
  if (node->needs_input_grad(2)) node->a.save(a);
  if (node->needs_input_grad(1)) node->b.save(b);
  set_history(out, node);
}

void record_linear(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& out) {
  if (!needs_grad({&x, &weight, &bias})) return;
  auto node = make_node<LinearBackward>({&x, &weight, &bias});
  node->x_shape = x.shape();
  node->rows = 1;
  for (int64_t d = 0; d + 1 < x.dim(); ++d) node->rows *= x.size(d);
  if (node->needs_input_grad(1)) node->x.save(x);
  if (node->needs_input_grad(0)) node->weight.save(weight);
  set_history(out, node);
}

}  // namespace strata::autograd
