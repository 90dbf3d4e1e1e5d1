// Pooling and upsampling front ends: check at the door, compute output sizes with PyTorch's
// rules, run the kernel on the input seen as [planes, H, W] (planes = N * C), record for
// autograd, propagate semantic types. pixel_shuffle / pixel_unshuffle are reshape + permute +
// reshape, so autograd records them as views and they need no formula of their own.
#include "tensor/ops/pool.h"

#include <cmath>
#include <string>

#include "autograd/formulas/pool.h"
#include "autograd/grad_mode.h"
#include "kernels/pool.h"
#include "tensor/ops/check.h"
#include "tensor/semantic.h"

namespace strata {
namespace {

std::string str(Int2 v) { return v.h == v.w ? std::to_string(v.h) : fmt::format("[{}, {}]", v.h, v.w); }

// An image input: 3-d (C, H, W) when `unbatched_ok`, else 4-d; H and W non-empty.
void check_image(const char* op, const Tensor& x, bool unbatched_ok) {
  check_defined(op, x);
  if (unbatched_ok)
    STRATA_CHECK(x.dim() == 3 || x.dim() == 4, ShapeError, "{}: expected a 3-d (C, H, W) or 4-d (N, C, H, W) input, got {}",
                 op, x.shape());
  else
    STRATA_CHECK(x.dim() == 4, ShapeError, "{}: expected a 4-d (N, C, H, W) input, got {}", op, x.shape());
  STRATA_CHECK(x.size(-1) > 0 && x.size(-2) > 0, ShapeError, "{}: input height and width must be non-zero, got {}",
               op, x.shape());
}

void check_positive(const char* op, const char* what, Int2 v) {
  STRATA_CHECK(v.h > 0 && v.w > 0, ValueError, "{}: {} must be positive, got {}", op, what, str(v));
}

// x's shape with H and W replaced.
Shape with_hw(const Tensor& x, int64_t h, int64_t w) {
  std::vector<int64_t> dims(x.shape().begin(), x.shape().end());
  dims[dims.size() - 2] = h;
  dims[dims.size() - 1] = w;
  return Shape(dims);
}

// t (contiguous) seen as [planes, H, W] for the kernels.
Tensor planes_view(const Tensor& t) {
  const int64_t h = t.size(-2), w = t.size(-1);
  return t.view({t.numel() / (h * w), h, w});
}

int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// PyTorch's pooling_output_shape.
int64_t pooled_size(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d, bool ceil_mode) {
  int64_t out = floor_div(in + 2 * p - d * (k - 1) - 1 + (ceil_mode ? s - 1 : 0), s) + 1;
  if (ceil_mode && (out - 1) * s >= in + p) --out;
  return out;
}

struct Pooled {
  kernels::Pool2dParams params;
  int64_t oh, ow;
};

Pooled check_pool(const char* op, const Tensor& x, Int2 k, Int2 stride, Int2 pad, Int2 dil,
                  bool ceil_mode) {
  check_image(op, x, true);
  check_floating(op, x);
  const Int2 s = stride == Int2{} ? k : stride;
  check_positive(op, "kernel_size", k);
  check_positive(op, "stride", s);
  check_positive(op, "dilation", dil);
  STRATA_CHECK(pad.h >= 0 && pad.w >= 0, ValueError, "{}: padding must be non-negative, got {}", op, str(pad));
  STRATA_CHECK(pad.h <= k.h / 2 && pad.w <= k.w / 2, ValueError,
               "{}: kernel_size {} with padding {}: padding must be at most half the kernel size", op, str(k),
               str(pad));
  const int64_t ih = x.size(-2), iw = x.size(-1);
  const int64_t oh = pooled_size(ih, k.h, s.h, pad.h, dil.h, ceil_mode);
  const int64_t ow = pooled_size(iw, k.w, s.w, pad.w, dil.w, ceil_mode);
  STRATA_CHECK(oh > 0 && ow > 0, ShapeError,
               "{}: input {} is too small for kernel_size {} (padding {}, dilation {}): the output would be {}x{}", op,
               x.shape(), str(k), str(pad), str(dil), oh, ow);
  return {{.kh = k.h, .kw = k.w, .sh = s.h, .sw = s.w, .ph = pad.h, .pw = pad.w, .dh = dil.h, .dw = dil.w}, oh, ow};
}

Tensor new_output(const Tensor& x, int64_t oh, int64_t ow, DType dtype) {
  return empty(with_hw(x, oh, ow), {.dtype = dtype, .device = x.device()});
}

void check_adaptive(const char* op, const Tensor& x, Int2 size) {
  check_image(op, x, true);
  check_floating(op, x);
  check_positive(op, "output_size", size);
}

// The output size and the kernels' scale factors (0 = from the sizes) of an upsampling.
struct Resized {
  int64_t oh, ow;
  double scale_h, scale_w;
};

Resized check_upsample(const char* op, const Tensor& x, Int2 size, Scale2 scale) {
  check_image(op, x, false);
  const bool has_size = size.h != 0 || size.w != 0, has_scale = scale.h != 0 || scale.w != 0;
  STRATA_CHECK(has_size != has_scale, ValueError, "{}: give exactly one of size and scale_factor (input {})", op,
               x.shape());
  if (has_size) {
    check_positive(op, "size", size);
    return {size.h, size.w, 0.0, 0.0};
  }
  STRATA_CHECK(scale.h > 0 && scale.w > 0 && std::isfinite(scale.h) && std::isfinite(scale.w), ValueError,
               "{}: scale_factor must be positive and finite, got [{}, {}]", op, scale.h, scale.w);
  const auto oh = static_cast<int64_t>(std::floor(static_cast<double>(x.size(-2)) * scale.h));
  const auto ow = static_cast<int64_t>(std::floor(static_cast<double>(x.size(-1)) * scale.w));
  STRATA_CHECK(oh > 0 && ow > 0, ShapeError, "{}: scale_factor [{}, {}] gives an empty output {}x{} for input {}",
               op, scale.h, scale.w, oh, ow, x.shape());
  return {oh, ow, scale.h, scale.w};
}

// Indices are computed when asked for or when autograd will need them.
std::pair<Tensor, Tensor> max_pool_impl(const char* op, const Tensor& x, const MaxPool2dOptions& o,
                                        bool want_indices) {
  const Pooled p = check_pool(op, x, o.kernel_size, o.stride, o.padding, o.dilation, o.ceil_mode);
  const bool recorded = GradMode::is_enabled() && x.requires_grad();
  Tensor out = new_output(x, p.oh, p.ow, x.dtype());
  Tensor indices = want_indices || recorded ? new_output(x, p.oh, p.ow, DType::I64) : Tensor();
  {
    NoGradGuard no_grad;
    if (out.numel() > 0)
      kernels::max_pool2d(planes_view(x.contiguous()), p.params, planes_view(out),
                          indices.defined() ? planes_view(indices) : Tensor());
  }
  if (recorded) autograd::record_max_pool2d("MaxPool2DWithIndicesBackward", x, indices, out);
  propagate_semantics(out, {&x});
  return {out, indices};
}

std::pair<Tensor, Tensor> adaptive_max_impl(const Tensor& x, Int2 size) {
  const char* op = "adaptive_max_pool2d";
  check_adaptive(op, x, size);
  Tensor out = new_output(x, size.h, size.w, x.dtype());
  Tensor indices = new_output(x, size.h, size.w, DType::I64);
  {
    NoGradGuard no_grad;
    if (out.numel() > 0) kernels::adaptive_max_pool2d(planes_view(x.contiguous()), planes_view(out), planes_view(indices));
  }
  autograd::record_max_pool2d("AdaptiveMaxPool2DBackward", x, indices, out);
  propagate_semantics(out, {&x});
  return {out, indices};
}

}  // namespace

Tensor max_pool2d(const Tensor& x, const MaxPool2dOptions& options) {
  return max_pool_impl("max_pool2d", x, options, false).first;
}

std::pair<Tensor, Tensor> max_pool2d_with_indices(const Tensor& x, const MaxPool2dOptions& options) {
  return max_pool_impl("max_pool2d_with_indices", x, options, true);
}

Tensor avg_pool2d(const Tensor& x, const AvgPool2dOptions& o) {
  Pooled p = check_pool("avg_pool2d", x, o.kernel_size, o.stride, o.padding, 1, o.ceil_mode);
  p.params.count_include_pad = o.count_include_pad;
  Tensor out = new_output(x, p.oh, p.ow, x.dtype());
  {
    NoGradGuard no_grad;
    if (out.numel() > 0) kernels::avg_pool2d(planes_view(x.contiguous()), p.params, planes_view(out));
  }
  autograd::record_avg_pool2d(x, p.params, out);
  return propagate_semantics(out, {&x});
}

Tensor adaptive_avg_pool2d(const Tensor& x, Int2 size) {
  check_adaptive("adaptive_avg_pool2d", x, size);
  Tensor out = new_output(x, size.h, size.w, x.dtype());
  {
    NoGradGuard no_grad;
    if (out.numel() > 0) kernels::adaptive_avg_pool2d(planes_view(x.contiguous()), planes_view(out));
  }
  autograd::record_adaptive_avg_pool2d(x, out);
  return propagate_semantics(out, {&x});
}

Tensor adaptive_max_pool2d(const Tensor& x, Int2 size) { return adaptive_max_impl(x, size).first; }

std::pair<Tensor, Tensor> adaptive_max_pool2d_with_indices(const Tensor& x, Int2 size) {
  return adaptive_max_impl(x, size);
}

Tensor upsample_nearest2d(const Tensor& x, const UpsampleNearestOptions& o) {
  const Resized r = check_upsample("upsample_nearest2d", x, o.size, o.scale_factor);
  Tensor out = new_output(x, r.oh, r.ow, x.dtype());
  {
    NoGradGuard no_grad;
    if (out.numel() > 0) kernels::upsample_nearest2d(planes_view(x.contiguous()), r.scale_h, r.scale_w, planes_view(out));
  }
  autograd::record_upsample_nearest2d(x, r.scale_h, r.scale_w, out);
  return propagate_semantics(out, {&x});
}

Tensor upsample_bilinear2d(const Tensor& x, const UpsampleBilinearOptions& o) {
  const char* op = "upsample_bilinear2d";
  const Resized r = check_upsample(op, x, o.size, o.scale_factor);
  check_floating(op, x);
  Tensor out = new_output(x, r.oh, r.ow, x.dtype());
  {
    NoGradGuard no_grad;
    if (out.numel() > 0)
      kernels::upsample_bilinear2d(planes_view(x.contiguous()), o.align_corners, r.scale_h, r.scale_w,
                                   planes_view(out));
  }
  autograd::record_upsample_bilinear2d(x, o.align_corners, r.scale_h, r.scale_w, out);
  return propagate_semantics(out, {&x});
}

namespace {
// x's leading dims (all but the last three) followed by `tail`.
Shape lead_dims_and(const Tensor& x, std::initializer_list<int64_t> tail) {
  std::vector<int64_t> dims(x.shape().begin(), x.shape().end() - 3);
  dims.insert(dims.end(), tail);
  return Shape(dims);
}

// The permutation that keeps the leading dims and reorders the last five as `last5`.
std::vector<int64_t> permutation(const Tensor& x, std::initializer_list<int64_t> last5) {
  const int64_t lead = x.dim() - 3;
  std::vector<int64_t> perm;
  for (int64_t d = 0; d < lead; ++d) perm.push_back(d);
  for (int64_t d : last5) perm.push_back(lead + d);
  return perm;
}
}  // namespace

Tensor pixel_shuffle(const Tensor& x, int64_t r) {
  const char* op = "pixel_shuffle";
  check_defined(op, x);
  STRATA_CHECK(x.dim() >= 3, ShapeError, "{}: expected at least 3 dims (*, C, H, W), got {}", op, x.shape());
  STRATA_CHECK(r > 0, ValueError, "{}: upscale_factor must be positive, got {} (input {})", op, r, x.shape());
  const int64_t c = x.size(-3), h = x.size(-2), w = x.size(-1);
  STRATA_CHECK(c % (r * r) == 0, ShapeError, "{}: channels {} not divisible by upscale_factor^2 = {} (input {})", op,
               c, r * r, x.shape());
  const int64_t oc = c / (r * r);
  // [*, oc, r, r, h, w] -> [*, oc, h, r, w, r]
  Tensor y = x.reshape(lead_dims_and(x, {oc, r, r, h, w})).permute(permutation(x, {0, 3, 1, 4, 2}));
  return propagate_semantics(y.contiguous().view(lead_dims_and(x, {oc, h * r, w * r})), {&x});
}

Tensor pixel_unshuffle(const Tensor& x, int64_t r) {
  const char* op = "pixel_unshuffle";
  check_defined(op, x);
  STRATA_CHECK(x.dim() >= 3, ShapeError, "{}: expected at least 3 dims (*, C, H, W), got {}", op, x.shape());
  STRATA_CHECK(r > 0, ValueError, "{}: downscale_factor must be positive, got {} (input {})", op, r, x.shape());
  const int64_t c = x.size(-3), h = x.size(-2), w = x.size(-1);
  STRATA_CHECK(h % r == 0 && w % r == 0, ShapeError,
               "{}: height {} and width {} must be divisible by downscale_factor {} (input {})", op, h, w, r,
               x.shape());
  const int64_t oh = h / r, ow = w / r;
  // [*, c, oh, r, ow, r] -> [*, c, r, r, oh, ow]
  Tensor y = x.reshape(lead_dims_and(x, {c, oh, r, ow, r})).permute(permutation(x, {0, 2, 4, 1, 3}));
  return propagate_semantics(y.contiguous().view(lead_dims_and(x, {c * r * r, oh, ow})), {&x});
}

}  // namespace strata
