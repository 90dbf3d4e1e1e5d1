// Backward formulas of the reductions, written with tensor ops so they run on any device (and
// can themselves be differentiated). The incoming gradient has the result's shape; reshaping it to
// the keepdim shape lets it broadcast against the input.
#include "autograd/formulas/reduce.h"

#include <cmath>

#include "autograd/record.h"
#include "kernels/reduce.h"
#include "tensor/ops.h"

namespace strata::autograd {
namespace {

// A reduction node: knows the input shape and the reduced dims.
struct ReduceNode : Node {
  Shape in_shape;
  ReduceInfo info;
  Tensor keep(const Tensor& g) const { return g.reshape(info.keep_shape); }
  Tensor spread(const Tensor& g) const { return keep(g).expand(in_shape); }
  Tensor keep_sum(const Tensor& t) const { return sum(t, info.dims, /*keepdim=*/true); }
};

template <class N>
std::shared_ptr<N> make_reduce_node(const Tensor& x, const ReduceInfo& r) {
  auto node = make_node<N>({&x});
  node->in_shape = x.shape();
  node->info = r;
  return node;
}

bool wants_grad(const Tensor& x) { return x.is_floating_point() && needs_grad({&x}); }

struct SumBackward final : ReduceNode {
  std::string name() const override { return "SumBackward"; }
  TensorList apply(TensorList&& g) override { return {spread(g[0])}; }
};

struct MeanBackward final : ReduceNode {
  std::string name() const override { return "MeanBackward"; }
  TensorList apply(TensorList&& g) override { return {spread(g[0] / static_cast<double>(info.count))}; }
};

// d prod / d x_i = product of the others. Without zeros that is prod / x_i; with exactly one zero
// only the zero gets a gradient (the product of the rest); with two or more everything is 0.
struct ProdBackward final : ReduceNode {
  SavedTensor x;
  std::string name() const override { return "ProdBackward"; }
  void release_saved() override { x.reset(); }
  TensorList apply(TensorList&& g) override {
    Tensor xv = x.get(this);
    Tensor is_zero = xv == 0.0;
    Tensor zeros_in_slice = keep_sum(is_zero);
    Tensor x_nz = where(is_zero, 1.0, xv);
    Tensor others = keep(g[0]) * prod(x_nz, info.dims, /*keepdim=*/true);  // g * product of non-zeros
    Tensor one_zero = logical_and(zeros_in_slice == 1.0, is_zero);
    return {where(zeros_in_slice == 0.0, others / x_nz, where(one_zero, others, 0.0))};
  }
};

// Ties share the gradient equally (like PyTorch's amax/amin).
struct AmaxBackward final : ReduceNode {
  std::string label;
  SavedTensor x, y;
  std::string name() const override { return label; }
  void release_saved() override {
    x.reset();
    y.reset();
  }
  TensorList apply(TensorList&& g) override {
    Tensor mask = (x.get(this) == keep(y.get(this))).to(g[0].dtype());
    return {keep(g[0]) * mask / keep_sum(mask)};
  }
};

// max/min along a dim: the gradient goes to the position of the returned index.
struct MaxDimBackward final : Node {
  std::string label;
  Shape keep_shape;
  int64_t dim = 0, size = 1;
  SavedTensor indices;
  std::string name() const override { return label; }
  void release_saved() override { indices.reset(); }
  TensorList apply(TensorList&& g) override {
    Tensor idx = indices.get(this).reshape(keep_shape);
    Shape pos_shape(keep_shape.size(), 1);
    if (!keep_shape.empty()) pos_shape[dim] = size;
    Tensor pos = arange(size, {.dtype = DType::I64, .device = idx.device()}).reshape(pos_shape);
    return {where(pos == idx, g[0].reshape(keep_shape), 0.0)};
  }
};

// var: 2 (x - mean) / (n - correction); std: var's gradient scaled by 1 / (2 std), 0 where std = 0.
struct VarBackward final : ReduceNode {
  bool is_std = false;
  double correction = 1;
  SavedTensor x, y;
  std::string name() const override { return is_std ? "StdBackward" : "VarBackward"; }
  void release_saved() override {
    x.reset();
    y.reset();
  }
  TensorList apply(TensorList&& g) override {
    Tensor xv = x.get(this);
    Tensor gk = keep(g[0]);
    if (is_std) {
      Tensor s = keep(y.get(this));
      gk = where(s == 0.0, 0.0, gk / (s * 2.0));
    }
    const double divisor = std::max(0.0, static_cast<double>(info.count) - correction);
    return {gk * (xv - mean(xv, info.dims, /*keepdim=*/true)) * (2.0 / divisor)};
  }
};

struct LogsumexpBackward final : ReduceNode {
  SavedTensor x, y;
  std::string name() const override { return "LogsumexpBackward"; }
  void release_saved() override {
    x.reset();
    y.reset();
  }
  TensorList apply(TensorList&& g) override { return {keep(g[0]) * exp(x.get(this) - keep(y.get(this)))}; }
};

struct NormBackward final : ReduceNode {
  double p = 2;
  SavedTensor x, y;
  std::string name() const override { return "NormBackward"; }
  void release_saved() override {
    x.reset();
    y.reset();
  }
  TensorList apply(TensorList&& g) override {
    Tensor xv = x.get(this);
    Tensor gk = keep(g[0]);
    if (p == 0) return {zeros_like(xv)};
    if (p == 1) return {gk * sign(xv)};
    Tensor n = keep(y.get(this));
    if (std::isinf(p)) {  // like amax of |x|: ties share
      Tensor mask = (abs(xv) == n).to(xv.dtype());
      return {gk * sign(xv) * mask / keep_sum(mask)};
    }
    if (p == 2) return {where(n == 0.0, 0.0, gk / n) * xv};  // subgradient 0 at 0
    // sign(x) |x|^(p-1) * g / n^(p-1), with 0 at x = 0 and where the norm is 0.
    Tensor scaled = where(xv == 0.0, 0.0, sign(xv) * pow(abs(xv), p - 1.0));
    return {scaled * where(n == 0.0, 0.0, gk / pow(n, p - 1.0))};
  }
};

struct CumsumBackward final : Node {
  int64_t dim = 0;
  std::string name() const override { return "CumsumBackward"; }
  TensorList apply(TensorList&& g) override { return {reverse_cumsum(g[0], dim)}; }
};

struct ReverseCumsumBackward final : Node {
  int64_t dim = 0;
  std::string name() const override { return "ReverseCumsumBackward"; }
  TensorList apply(TensorList&& g) override { return {cumsum(g[0], dim)}; }
};

}  // namespace

void record_sum(const Tensor& x, const Tensor& out, const ReduceInfo& r) {
  if (!wants_grad(x)) return;
  set_history(out, make_reduce_node<SumBackward>(x, r));
}

void record_mean(const Tensor& x, const Tensor& out, const ReduceInfo& r) {
  if (!wants_grad(x)) return;
  set_history(out, make_reduce_node<MeanBackward>(x, r));
}

void record_prod(const Tensor& x, const Tensor& out, const ReduceInfo& r) {
  if (!wants_grad(x)) return;
  auto node = make_reduce_node<ProdBackward>(x, r);
  node->x.save(x);
  set_history(out, node);
}

void record_amax(const char* name, const Tensor& x, const Tensor& out, const ReduceInfo& r) {
  if (!wants_grad(x)) return;
  auto node = make_reduce_node<AmaxBackward>(x, r);
  node->label = name;
  node->x.save(x);
  node->y.save(out, /*is_output=*/true);
  set_history(out, node);
}

void record_max_dim(const char* name, const Tensor& x, const Tensor& values, const Tensor& indices, int64_t dim) {
  if (!wants_grad(x)) return;
  auto node = make_node<MaxDimBackward>({&x});
  node->label = name;
  node->keep_shape = x.shape();
  if (x.dim() > 0) {
    node->keep_shape[dim] = 1;
    node->size = x.size(dim);
  }
  node->dim = dim;
  node->indices.save(indices);
  set_history(values, node);
}

void record_var(const Tensor& x, const Tensor& out, const ReduceInfo& r, double correction, bool is_std) {
  if (!wants_grad(x)) return;
  auto node = make_reduce_node<VarBackward>(x, r);
  node->is_std = is_std;
  node->correction = correction;
  node->x.save(x);
  if (is_std) node->y.save(out, /*is_output=*/true);
  set_history(out, node);
}

void record_logsumexp(const Tensor& x, const Tensor& out, const ReduceInfo& r) {
  if (!wants_grad(x)) return;
  auto node = make_reduce_node<LogsumexpBackward>(x, r);
  node->x.save(x);
  node->y.save(out, /*is_output=*/true);
  set_history(out, node);
}

void record_norm(const Tensor& x, const Tensor& out, double p, const ReduceInfo& r) {
  if (!wants_grad(x)) return;
  auto node = make_reduce_node<NormBackward>(x, r);
  node->p = p;
  node->x.save(x);
  node->y.save(out, /*is_output=*/true);
  set_history(out, node);
}

void record_cumsum(const Tensor& x, const Tensor& out, int64_t dim) {
  if (!wants_grad(x)) return;
  auto node = make_node<CumsumBackward>({&x});
  node->dim = dim;
  set_history(out, node);
}

Tensor reverse_cumsum(const Tensor& g, int64_t dim) {
  Tensor out = empty(g.shape(), {.dtype = g.dtype(), .device = g.device()});
  {
    NoGradGuard no_grad;
    kernels::cumsum(g.contiguous(), dim, out, /*reverse=*/true);
  }
  if (wants_grad(g)) {
    auto node = make_node<ReverseCumsumBackward>({&g});
    node->dim = dim;
    set_history(out, node);
  }
  return out;
}

}  // namespace strata::autograd
