// Normalization front ends: check at the door, bring inputs to the kernels' layout (contiguous
// [N, C, S] or [R, D] views, parameters in the compute dtype), allocate, run the fused kernel,
// update running statistics, record for autograd, propagate the semantic type.
#include "tensor/ops/norm.h"

#include "autograd/formulas/norm.h"
#include "autograd/grad_mode.h"
#include "kernels/norm.h"
#include "tensor/ops/check.h"
#include "tensor/ops/elementwise.h"
#include "tensor/semantic.h"

namespace strata {
namespace {

// f16 and bf16 compute (and keep statistics) in f32.
DType compute_dtype(DType dt) { return dt == DType::F64 ? DType::F64 : DType::F32; }

bool is_half(DType dt) { return dt == DType::F16 || dt == DType::BF16; }

void check_input(const char* op, const Tensor& x, int64_t min_dim, const char* layout) {
  check_defined(op, x);
  check_floating(op, x);
  STRATA_CHECK(x.dim() >= min_dim, ShapeError, "{}: expected an input of at least {} dims {}, got shape {}", op,
               min_dim, layout, x.shape());
}

// A parameter or statistics tensor: on x's device, with x's dtype (or f32 for an f16/bf16 x).
void check_param_dtype(const char* op, const char* what, const Tensor& p, const Tensor& x) {
  check_same_device(op, x, p);
  STRATA_CHECK(p.dtype() == x.dtype() || (is_half(x.dtype()) && p.dtype() == DType::F32), DTypeError,
               "{}: {} has dtype {} but input has dtype {} (parameters take the input's dtype, or f32 for "
               "f16/bf16 input)",
               op, what, p.dtype(), x.dtype());
}

// Per-channel parameters: numel == C (any shape, like PyTorch).
void check_channel_param(const char* op, const char* what, const Tensor& p, const Tensor& x) {
  if (!p.defined()) return;
  check_param_dtype(op, what, p, x);
  STRATA_CHECK(p.numel() == x.size(1), ShapeError, "{}: {} has {} elements but input has {} channels (input {})", op,
               what, p.numel(), x.size(1), x.shape());
}

// p as the kernels take it: contiguous, 1-d, compute dtype. Undefined stays undefined.
Tensor param_input(const Tensor& p, DType ct) {
  if (!p.defined()) return p;
  NoGradGuard no_grad;
  return p.to(ct).contiguous().view({p.numel()});
}

// x (or a gradient of x's shape) as a contiguous tensor of `dtype` and `shape` (a view of it).
Tensor data_input(const Tensor& t, DType dtype, const Shape& shape) {
  NoGradGuard no_grad;
  return t.to(dtype).contiguous().view(shape);
}

int64_t spatial_numel(const Tensor& x) {
  int64_t s = 1;
  for (int64_t d = 2; d < x.dim(); ++d) s *= x.size(d);
  return s;
}

Shape ncs(const Tensor& x) { return {x.size(0), x.size(1), spatial_numel(x)}; }

// running = (1 - momentum) * running + momentum * batch, computed in f64, written in place.
void update_running(Tensor& running, const Tensor& batch, double momentum) {
  NoGradGuard no_grad;
  running.copy_(running.to(DType::F64) * (1.0 - momentum) + batch.to(DType::F64) * momentum);
}

Tensor group_norm_impl(const char* op, const Tensor& x, int64_t groups, const Tensor& weight, const Tensor& bias,
                       double eps) {
  check_channel_param(op, "weight", weight, x);
  check_channel_param(op, "bias", bias, x);
  const Shape shape = ncs(x);
  const DType ct = compute_dtype(x.dtype());
  Tensor out = empty(x.shape(), {.dtype = x.dtype(), .device = x.device()});
  Tensor mean = empty({shape[0] * groups}, {.dtype = ct, .device = x.device()});
  Tensor rstd = empty({shape[0] * groups}, {.dtype = ct, .device = x.device()});
  kernels::group_norm_forward(data_input(x, x.dtype(), shape), groups, param_input(weight, ct), param_input(bias, ct),
                              eps, out.view(shape), mean, rstd);
  autograd::record_group_norm(op, x, groups, weight, bias, eps, out, mean, rstd);
  return propagate_semantics(out, {&x});
}

}  // namespace

namespace {

// batch_norm_with_stats and batch_norm_relu: the same checks, statistics and running update; relu
// picks the fused kernel and the backward node.
BatchNormResult batch_norm_impl(const char* op, bool relu, const Tensor& x, const Tensor& running_mean,
                                const Tensor& running_var, const Tensor& weight, const Tensor& bias,
                                BatchNormOptions opts) {
  check_input(op, x, 2, "[N, C, *]");
  check_channel_param(op, "running_mean", running_mean, x);
  check_channel_param(op, "running_var", running_var, x);
  check_channel_param(op, "weight", weight, x);
  check_channel_param(op, "bias", bias, x);
  const Shape shape = ncs(x);
  const int64_t channels = shape[1], count = shape[0] * shape[2];  // values per channel
  if (opts.training) {
    STRATA_CHECK(count != 1, ValueError,
                 "{}: expected more than 1 value per channel when training, got input of shape {}", op, x.shape());
  } else {
    STRATA_CHECK(running_mean.defined() && running_var.defined(), ValueError,
                 "{}: running_mean and running_var must be defined in evaluation mode (training = false; input {})",
                 op, x.shape());
  }
  const DType ct = compute_dtype(x.dtype());
  const TensorOptions stat_opts{.dtype = ct, .device = x.device()};
  Tensor out = empty(x.shape(), {.dtype = x.dtype(), .device = x.device()});
  Tensor xk = data_input(x, x.dtype(), shape);
  Tensor wk = param_input(weight, ct), bk = param_input(bias, ct);
  Tensor mean, invstd;
  if (opts.training) {
    mean = empty({channels}, stat_opts);
    invstd = empty({channels}, stat_opts);
    Tensor var = empty({channels}, stat_opts);
    if (relu) kernels::batch_norm_relu_forward(xk, wk, bk, true, opts.eps, mean, invstd, var, out.view(shape));
    else kernels::batch_norm_forward(xk, wk, bk, true, opts.eps, mean, invstd, var, out.view(shape));
    if (count > 0) {
      Tensor rm = running_mean, rv = running_var;
      if (rm.defined()) update_running(rm, mean.view(rm.shape()), opts.momentum);
      if (rv.defined()) {
        NoGradGuard no_grad;
        const double bessel = static_cast<double>(count) / static_cast<double>(count - 1);
        update_running(rv, (var.to(DType::F64) * bessel).view(rv.shape()), opts.momentum);
      }
    }
  } else {
    NoGradGuard no_grad;
    mean = running_mean.to(ct).contiguous().view({channels}).clone();
    invstd = rsqrt(running_var.to(DType::F64) + opts.eps).to(ct).contiguous().view({channels});
    if (relu) kernels::batch_norm_relu_forward(xk, wk, bk, false, opts.eps, mean, invstd, Tensor(), out.view(shape));
    else kernels::batch_norm_forward(xk, wk, bk, false, opts.eps, mean, invstd, Tensor(), out.view(shape));
  }
  if (relu) autograd::record_batch_norm_relu(x, weight, bias, opts.training, opts.eps, out, mean, invstd);
  else autograd::record_batch_norm(x, weight, bias, opts.training, opts.eps, out, mean, invstd);
  propagate_semantics(out, {&x});
  return {out, mean, invstd};
}

}  // namespace

BatchNormResult batch_norm_with_stats(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                                      const Tensor& weight, const Tensor& bias, BatchNormOptions opts) {
  return batch_norm_impl("batch_norm", false, x, running_mean, running_var, weight, bias, opts);
}

Tensor batch_norm_relu(const Tensor& x, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                       const Tensor& bias, BatchNormOptions opts) {
  return batch_norm_impl("batch_norm_relu", true, x, running_mean, running_var, weight, bias, opts).out;
}

Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                  const Tensor& bias, BatchNormOptions opts) {
  return batch_norm_with_stats(x, running_mean, running_var, weight, bias, opts).out;
}

Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight, const Tensor& bias,
                  double eps) {
  const char* op = "layer_norm";
  check_defined(op, x);
  check_floating(op, x);
  const int64_t k = normalized_shape.ndim();
  STRATA_CHECK(k >= 1, ValueError, "{}: normalized_shape must have at least one dim, got [] (input {})", op,
               x.shape());
  bool matches = x.dim() >= k;
  for (int64_t i = 0; matches && i < k; ++i) matches = x.size(x.dim() - k + i) == normalized_shape[i];
  STRATA_CHECK(matches, ShapeError, "{}: input of shape {} does not end with normalized_shape {}", op, x.shape(),
               normalized_shape);
  for (auto [p, what] : {std::pair{&weight, "weight"}, std::pair{&bias, "bias"}}) {
    if (!p->defined()) continue;
    check_param_dtype(op, what, *p, x);
    STRATA_CHECK(p->shape() == normalized_shape, ShapeError, "{}: {} has shape {} but normalized_shape is {}", op,
                 what, p->shape(), normalized_shape);
  }
  int64_t rows = 1, d = 1;
  for (int64_t i = 0; i < x.dim() - k; ++i) rows *= x.size(i);
  for (int64_t i = 0; i < k; ++i) d *= normalized_shape[i];
  const DType ct = compute_dtype(x.dtype());
  Tensor out = empty(x.shape(), {.dtype = x.dtype(), .device = x.device()});
  Tensor mean = empty({rows}, {.dtype = ct, .device = x.device()});
  Tensor rstd = empty({rows}, {.dtype = ct, .device = x.device()});
  kernels::layer_norm_forward(data_input(x, x.dtype(), {rows, d}), param_input(weight, ct), param_input(bias, ct), eps,
                              out.view({rows, d}), mean, rstd);
  autograd::record_layer_norm(x, normalized_shape, weight, bias, eps, out, mean, rstd);
  return propagate_semantics(out, {&x});
}

Tensor group_norm(const Tensor& x, int64_t num_groups, const Tensor& weight, const Tensor& bias, double eps) {
  const char* op = "group_norm";
  check_input(op, x, 2, "[N, C, *]");
  STRATA_CHECK(num_groups > 0, ValueError, "{}: num_groups must be positive, got {}", op, num_groups);
  STRATA_CHECK(x.size(1) % num_groups == 0, ShapeError,
               "{}: num_groups {} does not divide the {} channels of the input (shape {})", op, num_groups, x.size(1),
               x.shape());
  return group_norm_impl(op, x, num_groups, weight, bias, eps);
}

Tensor instance_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps) {
  const char* op = "instance_norm";
  check_input(op, x, 2, "[N, C, *]");
  STRATA_CHECK(spatial_numel(x) > 1, ValueError,
               "{}: expected more than 1 spatial element per channel, got input of shape {}", op, x.shape());
  return group_norm_impl(op, x, std::max<int64_t>(x.size(1), 1), weight, bias, eps);
}

// ---- fused backward ops ----

namespace {

// Undefined tensors for the gradients not asked for; [numel] compute-dtype tensors for the rest.
Tensor maybe_empty(bool needed, const Shape& shape, DType dtype, Device device) {
  return needed ? empty(shape, {.dtype = dtype, .device = device}) : Tensor();
}

// The gradients a norm backward returns: the input's (x's shape and dtype) and the per-feature
// weight and bias gradients (param_shape, compute dtype), each only when needed.
NormGrads empty_norm_grads(const Tensor& x, const Shape& param_shape, NormNeeds needs) {
  const DType ct = compute_dtype(x.dtype());
  NormGrads r;
  r.input = maybe_empty(needs[0], x.shape(), x.dtype(), x.device());
  r.weight = maybe_empty(needs[1], param_shape, ct, x.device());
  r.bias = maybe_empty(needs[2], param_shape, ct, x.device());
  return r;
}

}  // namespace

namespace {

// Whether g (of x's shape) repeats one value over all spatial positions of each (n, c): stride 0
// along every spatial dim, as the gradient of a sum or a mean over them is.
bool constant_over_spatial(const Tensor& g, const Shape& ncs_shape) {
  if (ncs_shape[2] <= 1) return false;
  for (int64_t d = 2; d < g.dim(); ++d)
    if (g.size(d) > 1 && g.stride(d) != 0) return false;
  return true;
}

}  // namespace

NormGrads batch_norm_backward(const Tensor& grad, const Tensor& x, const Tensor& weight, const Tensor& save_mean,
                              const Tensor& save_invstd, bool training, NormNeeds needs) {
  NoGradGuard no_grad;
  const Shape shape = ncs(x);
  STRATA_CHECK(grad.defined() && grad.shape() == x.shape(), ShapeError,
               "batch_norm_backward: gradient of shape {} does not match the input's shape {}",
               grad.defined() ? grad.shape() : Shape{}, x.shape());
  const DType ct = compute_dtype(x.dtype());
  NormGrads r = empty_norm_grads(x, {shape[1]}, needs);
  Tensor gk;
  if (constant_over_spatial(grad, shape)) {
    Tensor first = grad;  // the value at spatial position 0 of each (n, c)
    for (int64_t d = 2; d < grad.dim(); ++d) first = first.narrow(d, 0, 1);
    gk = data_input(first, x.dtype(), {shape[0], shape[1], 1});
  } else {
    gk = data_input(grad, x.dtype(), shape);
  }
  kernels::batch_norm_backward(gk, data_input(x, x.dtype(), shape),
                               param_input(weight, ct), param_input(save_mean, ct), param_input(save_invstd, ct),
                               training, r.input.defined() ? r.input.view(shape) : Tensor(), r.weight, r.bias);
  return r;
}

NormGrads batch_norm_relu_backward(const Tensor& grad, const Tensor& x, const Tensor& weight, const Tensor& bias,
                                   const Tensor& save_mean, const Tensor& save_invstd, bool training,
                                   NormNeeds needs) {
  NoGradGuard no_grad;
  const Shape shape = ncs(x);
  STRATA_CHECK(grad.defined() && grad.shape() == x.shape(), ShapeError,
               "batch_norm_relu_backward: gradient of shape {} does not match the input's shape {}",
               grad.defined() ? grad.shape() : Shape{}, x.shape());
  const DType ct = compute_dtype(x.dtype());
  NormGrads r = empty_norm_grads(x, {shape[1]}, needs);
  kernels::batch_norm_relu_backward(data_input(grad, x.dtype(), shape), data_input(x, x.dtype(), shape),
                                    param_input(weight, ct), param_input(bias, ct), param_input(save_mean, ct),
                                    param_input(save_invstd, ct), training,
                                    r.input.defined() ? r.input.view(shape) : Tensor(), r.weight, r.bias);
  return r;
}

NormGrads layer_norm_backward(const Tensor& grad, const Tensor& x, const Shape& normalized_shape,
                              const Tensor& weight, const Tensor& mean, const Tensor& rstd, NormNeeds needs) {
  NoGradGuard no_grad;
  const int64_t rows = mean.numel();
  int64_t d = 1;
  for (int64_t i = 0; i < normalized_shape.ndim(); ++i) d *= normalized_shape[i];
  const DType ct = compute_dtype(x.dtype());
  NormGrads r = empty_norm_grads(x, normalized_shape, needs);
  kernels::layer_norm_backward(data_input(grad, x.dtype(), {rows, d}), data_input(x, x.dtype(), {rows, d}),
                               param_input(weight, ct), param_input(mean, ct), param_input(rstd, ct),
                               r.input.defined() ? r.input.view({rows, d}) : Tensor(),
                               r.weight.defined() ? r.weight.view({d}) : Tensor(),
                               r.bias.defined() ? r.bias.view({d}) : Tensor());
  return r;
}

NormGrads group_norm_backward(const Tensor& grad, const Tensor& x, int64_t num_groups, const Tensor& weight,
                              const Tensor& mean, const Tensor& rstd, NormNeeds needs) {
  NoGradGuard no_grad;
  const Shape shape = ncs(x);
  const DType ct = compute_dtype(x.dtype());
  NormGrads r = empty_norm_grads(x, {shape[1]}, needs);
  kernels::group_norm_backward(data_input(grad, x.dtype(), shape), data_input(x, x.dtype(), shape), num_groups,
                               param_input(weight, ct), param_input(mean, ct), param_input(rstd, ct),
                               r.input.defined() ? r.input.view(shape) : Tensor(), r.weight, r.bias);
  return r;
}

}  // namespace strata
