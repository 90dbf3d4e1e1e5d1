// Convolution front ends: argument checks with messages that name the shapes, dtype handling
// (f16/bf16 computed in f32), unbatched inputs (a unit batch dim added and removed as views, so
// autograd sees through them), then one of the three kernels of kernels/conv.h. conv1d is conv2d
// over a unit height; conv_transpose2d's forward is conv2d's backward-data kernel.
#include "tensor/ops/conv.h"

#include "autograd/formulas/conv.h"
#include "autograd/grad_mode.h"
#include "kernels/conv.h"
#include "tensor/ops/check.h"
#include "tensor/semantic.h"

namespace strata {
namespace {

DType compute_dtype(DType dt) { return dt == DType::F64 ? DType::F64 : DType::F32; }

// Contiguous, in the compute dtype; called under NoGradGuard.
Tensor prepared(const Tensor& t, DType ct) {
  if (!t.defined()) return t;
  return t.to(ct).contiguous();
}

void check_common(const char* op, const Tensor& x, const Tensor& w, const Tensor& b) {
  check_defined(op, x, "input");
  check_defined(op, w, "weight");
  check_same_device(op, x, w);
  STRATA_CHECK(x.dtype() == w.dtype(), DTypeError, "{}: input has dtype {} but weight has {} (input {}, weight {})", op,
               x.dtype(), w.dtype(), x.shape(), w.shape());
  STRATA_CHECK(is_floating(x.dtype()), DTypeError,
               "{}: {} inputs are not supported (input {}, weight {}); convert to a floating dtype first", op,
               x.dtype(), x.shape(), w.shape());
  STRATA_CHECK(x.dim() == 4 || x.dim() == 3, ShapeError,
               "{}: expected a 4-d input [N, C, H, W] or an unbatched 3-d one [C, H, W], got shape {}", op, x.shape());
  STRATA_CHECK(w.dim() == 4, ShapeError, "{}: expected a 4-d weight, got shape {} (input {})", op, w.shape(),
               x.shape());
  if (b.defined()) {
    check_same_device(op, x, b);
    STRATA_CHECK(b.dtype() == x.dtype(), DTypeError, "{}: bias has dtype {} but input and weight have {}", op,
                 b.dtype(), x.dtype());
  }
}

void check_geometry(const char* op, const Tensor& x, const Tensor& w, std::array<int64_t, 2> stride,
                    std::array<int64_t, 2> padding, std::array<int64_t, 2> dilation, int64_t groups) {
  for (int i = 0; i < 2; ++i) {
    STRATA_CHECK(stride[i] > 0, ValueError, "{}: stride must be positive, got ({}, {}) (input {}, weight {})", op,
                 stride[0], stride[1], x.shape(), w.shape());
    STRATA_CHECK(dilation[i] > 0, ValueError, "{}: dilation must be positive, got ({}, {}) (input {}, weight {})", op,
                 dilation[0], dilation[1], x.shape(), w.shape());
    STRATA_CHECK(padding[i] >= 0, ValueError, "{}: padding must be non-negative, got ({}, {}) (input {}, weight {})",
                 op, padding[0], padding[1], x.shape(), w.shape());
  }
  STRATA_CHECK(groups > 0, ValueError, "{}: groups must be positive, got {} (input {}, weight {})", op, groups,
               x.shape(), w.shape());
}

Tensor batched(const Tensor& x) { return x.dim() == 3 ? x.unsqueeze(0) : x; }

// conv2d on a 4-d input, checked.
Tensor conv2d_4d(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dOptions& o, const Shape& out_shape) {
  const DType ct = compute_dtype(x.dtype());
  Tensor out = empty(out_shape, {.dtype = ct, .device = x.device()});
  {
    NoGradGuard no_grad;
    kernels::conv2d_forward(prepared(x, ct), prepared(w, ct), prepared(b, ct), out,
                            kernels::conv_geometry(o));
    if (ct != x.dtype()) out = out.to(x.dtype());
  }
  autograd::record_conv2d(x, w, b, o, out);
  return out;
}

Tensor conv_transpose2d_4d(const Tensor& x, const Tensor& w, const Tensor& b, const ConvTranspose2dOptions& o,
                           const Shape& out_shape) {
  const DType ct = compute_dtype(x.dtype());
  Tensor out = empty(out_shape, {.dtype = ct, .device = x.device()});
  {
    NoGradGuard no_grad;
    kernels::conv2d_backward_data(prepared(x, ct), prepared(w, ct), prepared(b, ct), out,
                                  kernels::conv_geometry(o));
    if (ct != x.dtype()) out = out.to(x.dtype());
  }
  autograd::record_conv_transpose2d(x, w, b, o, out);
  return out;
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dOptions& o) {
  const char* op = "conv2d";
  check_common(op, x, weight, bias);
  check_geometry(op, x, weight, o.stride, o.padding, o.dilation, o.groups);
  const int64_t cin = x.size(-3), cout = weight.size(0);
  STRATA_CHECK(cin % o.groups == 0 && cout % o.groups == 0, ShapeError,
               "conv2d: groups {} must divide both the input channels {} and the output channels {} (input {}, weight {})",
               o.groups, cin, cout, x.shape(), weight.shape());
  STRATA_CHECK(weight.size(1) * o.groups == cin, ShapeError,
               "conv2d: weight has {} input channels but input has {} (input {}, weight {}, groups {})",
               weight.size(1) * o.groups, cin, x.shape(), weight.shape(), o.groups);
  if (bias.defined())
    STRATA_CHECK(bias.dim() == 1 && bias.size(0) == cout, ShapeError,
                 "conv2d: bias must have shape [{}], got {} (weight {})", cout, bias.shape(), weight.shape());
  int64_t out_size[2];
  for (int i = 0; i < 2; ++i) {
    const int64_t in = x.size(-2 + i) + 2 * o.padding[i];
    const int64_t k = o.dilation[i] * (weight.size(2 + i) - 1) + 1;
    STRATA_CHECK(k <= in, ShapeError,
                 "conv2d: kernel of size {}x{} (dilated) is larger than the padded input {}x{} (input {}, weight {})",
                 o.dilation[0] * (weight.size(2) - 1) + 1, o.dilation[1] * (weight.size(3) - 1) + 1,
                 x.size(-2) + 2 * o.padding[0], x.size(-1) + 2 * o.padding[1], x.shape(), weight.shape());
    out_size[i] = (in - k) / o.stride[i] + 1;
  }
  const Tensor x4 = batched(x);
  Tensor out = conv2d_4d(x4, weight, bias, o, Shape{x4.size(0), cout, out_size[0], out_size[1]});
  if (x.dim() == 3) out = out.squeeze(0);
  return propagate_semantics(out, {&x});
}

Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv1dOptions& o) {
  check_defined("conv1d", x, "input");
  check_defined("conv1d", weight, "weight");
  STRATA_CHECK(x.dim() == 3 || x.dim() == 2, ShapeError,
               "conv1d: expected a 3-d input [N, C, L] or an unbatched 2-d one [C, L], got shape {}", x.shape());
  STRATA_CHECK(weight.dim() == 3, ShapeError, "conv1d: expected a 3-d weight [Cout, Cin / groups, k], got shape {}",
               weight.shape());
  const Tensor out = conv2d(x.unsqueeze(-2), weight.unsqueeze(-2), bias,
                            {.stride = {1, o.stride}, .padding = {0, o.padding}, .dilation = {1, o.dilation},
                             .groups = o.groups, .algorithm = o.algorithm});
  return propagate_semantics(out.squeeze(-2), {&x});
}

Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const ConvTranspose2dOptions& o) {
  const char* op = "conv_transpose2d";
  check_common(op, x, weight, bias);
  check_geometry(op, x, weight, o.stride, o.padding, o.dilation, o.groups);
  const int64_t cin = x.size(-3);
  STRATA_CHECK(weight.size(0) == cin, ShapeError,
               "conv_transpose2d: weight has {} input channels but input has {} (input {}, weight {}, groups {})",
               weight.size(0), cin, x.shape(), weight.shape(), o.groups);
  STRATA_CHECK(cin % o.groups == 0, ShapeError,
               "conv_transpose2d: groups {} must divide the input channels {} (input {}, weight {})", o.groups, cin,
               x.shape(), weight.shape());
  const int64_t cout = weight.size(1) * o.groups;
  if (bias.defined())
    STRATA_CHECK(bias.dim() == 1 && bias.size(0) == cout, ShapeError,
                 "conv_transpose2d: bias must have shape [{}], got {} (weight {}, groups {})", cout, bias.shape(),
                 weight.shape(), o.groups);
  int64_t out_size[2];
  for (int i = 0; i < 2; ++i) {
    const int64_t op_i = o.output_padding[i];
    STRATA_CHECK(op_i >= 0 && (op_i < o.stride[i] || op_i < o.dilation[i]), ValueError,
                 "conv_transpose2d: output_padding ({}, {}) must be non-negative and smaller than stride ({}, {}) or "
                 "dilation ({}, {})",
                 o.output_padding[0], o.output_padding[1], o.stride[0], o.stride[1], o.dilation[0], o.dilation[1]);
    out_size[i] = (x.size(-2 + i) - 1) * o.stride[i] - 2 * o.padding[i] + o.dilation[i] * (weight.size(2 + i) - 1) +
                  op_i + 1;
  }
  STRATA_CHECK(out_size[0] > 0 && out_size[1] > 0, ShapeError,
               "conv_transpose2d: output size {}x{} is not positive (input {}, weight {}, padding ({}, {}))",
               out_size[0], out_size[1], x.shape(), weight.shape(), o.padding[0], o.padding[1]);
  const Tensor x4 = batched(x);
  Tensor out = conv_transpose2d_4d(x4, weight, bias, o, Shape{x4.size(0), cout, out_size[0], out_size[1]});
  if (x.dim() == 3) out = out.squeeze(0);
  return propagate_semantics(out, {&x});
}

Tensor conv2d_weight_grad(const Tensor& x, const Tensor& grad_y, const Shape& weight_shape, const Conv2dOptions& o) {
  check_defined("conv2d_weight_grad", x, "input");
  check_defined("conv2d_weight_grad", grad_y, "grad_y");
  check_same_device("conv2d_weight_grad", x, grad_y);
  STRATA_CHECK(x.dim() == 4 && grad_y.dim() == 4 && weight_shape.size() == 4 && x.dtype() == grad_y.dtype() &&
                   is_floating(x.dtype()) && grad_y.size(0) == x.size(0) && grad_y.size(1) == weight_shape[0] &&
                   x.size(1) == weight_shape[1] * o.groups,
               ShapeError, "conv2d_weight_grad: input {} ({}), grad_y {} ({}) and weight shape {} do not match", x.shape(),
               x.dtype(), grad_y.shape(), grad_y.dtype(), weight_shape);
  const DType ct = compute_dtype(x.dtype());
  Tensor gw = empty(weight_shape, {.dtype = ct, .device = x.device()});
  NoGradGuard no_grad;
  kernels::conv2d_backward_weight(prepared(x, ct), prepared(grad_y, ct), gw,
                                  kernels::conv_geometry(o));
  return ct != x.dtype() ? gw.to(x.dtype()) : gw;
}

}  // namespace strata
