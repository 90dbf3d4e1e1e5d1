// Convolution layers: argument checks with the layer's name, PyTorch's init, then the conv op.
// The three classes differ only in weight layout and op, so they share the helpers below.
#include "nn/conv.h"

#include <cmath>

#include <fmt/format.h>

#include "nn/init.h"
#include "tensor/error.h"
#include "tensor/ops.h"

namespace strata::nn {

namespace {

void check_sizes(const char* layer, int64_t in, int64_t out, int64_t k, int64_t stride, int64_t padding,
                 int64_t dilation, int64_t groups) {
  STRATA_CHECK(in > 0 && out > 0, ValueError, "{}: in_channels ({}) and out_channels ({}) must be > 0", layer, in,
               out);
  STRATA_CHECK(k > 0 && stride > 0 && dilation > 0 && padding >= 0, ValueError,
               "{}: kernel_size ({}), stride ({}) and dilation ({}) must be > 0 and padding ({}) >= 0", layer, k,
               stride, dilation, padding);
  STRATA_CHECK(groups > 0 && in % groups == 0 && out % groups == 0, ValueError,
               "{}: groups ({}) must divide in_channels ({}) and out_channels ({})", layer, groups, in, out);
}

// PyTorch's reset_parameters for every conv: kaiming_uniform(a = sqrt(5)) and a bias bound from
// the weight's fan in.
void conv_init(const Tensor& weight, const Tensor& bias) {
  kaiming_uniform_(weight, std::sqrt(5.0));
  if (bias.defined()) {
    auto [fan_in, fan_out] = fan_in_and_fan_out(weight);
    double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
    nn::uniform_(bias, -bound, bound);
  }
}

void check_input(const char* layer, const Tensor& x, int64_t spatial, int64_t in_channels) {
  STRATA_CHECK(x.dim() == spatial + 1 || x.dim() == spatial + 2, ShapeError,
               "{}: input must have {} dims (batched) or {} (unbatched), got shape {}", layer, spatial + 2,
               spatial + 1, x.shape());
  int64_t c = x.size(x.dim() == spatial + 2 ? 1 : 0);
  STRATA_CHECK(c == in_channels, ShapeError, "{}: input has {} channels but in_channels is {} (input shape {})", layer,
               c, in_channels, x.shape());
}

std::string repr(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t padding, int64_t dilation,
                 int64_t groups, bool bias, int64_t spatial) {
  auto tuple = [&](int64_t v) { return spatial == 1 ? fmt::format("({},)", v) : fmt::format("({}, {})", v, v); };
  std::string s = fmt::format("{}, {}, kernel_size={}, stride={}", in, out, tuple(k), tuple(stride));
  if (padding != 0) s += fmt::format(", padding={}", tuple(padding));
  if (dilation != 1) s += fmt::format(", dilation={}", tuple(dilation));
  if (groups != 1) s += fmt::format(", groups={}", groups);
  if (!bias) s += ", bias=false";
  return s;
}

}  // namespace

// ---- Conv2d ----

Conv2d::Conv2d(int64_t in, int64_t out, int64_t k, ConvOptions opts)
    : Module("Conv2d"), in_channels(in), out_channels(out), kernel_size(k), options(opts) {
  check_sizes("Conv2d", in, out, k, opts.stride, opts.padding, opts.dilation, opts.groups);
  weight = register_parameter("weight", empty({out, in / opts.groups, k, k}));
  bias = register_parameter("bias", opts.bias ? empty({out}) : Tensor());
  reset_parameters();
}

void Conv2d::reset_parameters() { conv_init(weight, bias); }

Tensor Conv2d::forward(const Tensor& x) {
  check_input("Conv2d", x, 2, in_channels);
  const auto& o = options;
  return conv2d(x, weight, bias,
                {.stride = {o.stride, o.stride}, .padding = {o.padding, o.padding},
                 .dilation = {o.dilation, o.dilation}, .groups = o.groups, .algorithm = o.algorithm});
}

std::string Conv2d::extra_repr() const {
  const auto& o = options;
  return repr(in_channels, out_channels, kernel_size, o.stride, o.padding, o.dilation, o.groups, bias.defined(), 2);
}

// ---- Conv1d ----

Conv1d::Conv1d(int64_t in, int64_t out, int64_t k, ConvOptions opts)
    : Module("Conv1d"), in_channels(in), out_channels(out), kernel_size(k), options(opts) {
  check_sizes("Conv1d", in, out, k, opts.stride, opts.padding, opts.dilation, opts.groups);
  weight = register_parameter("weight", empty({out, in / opts.groups, k}));
  bias = register_parameter("bias", opts.bias ? empty({out}) : Tensor());
  reset_parameters();
}

void Conv1d::reset_parameters() { conv_init(weight, bias); }

Tensor Conv1d::forward(const Tensor& x) {
  check_input("Conv1d", x, 1, in_channels);
  const auto& o = options;
  return conv1d(x, weight, bias,
                {.stride = o.stride, .padding = o.padding, .dilation = o.dilation, .groups = o.groups,
                 .algorithm = o.algorithm});
}

std::string Conv1d::extra_repr() const {
  const auto& o = options;
  return repr(in_channels, out_channels, kernel_size, o.stride, o.padding, o.dilation, o.groups, bias.defined(), 1);
}

// ---- ConvTranspose2d ----

ConvTranspose2d::ConvTranspose2d(int64_t in, int64_t out, int64_t k, ConvTransposeOptions opts)
    : Module("ConvTranspose2d"), in_channels(in), out_channels(out), kernel_size(k), options(opts) {
  check_sizes("ConvTranspose2d", in, out, k, opts.stride, opts.padding, opts.dilation, opts.groups);
  STRATA_CHECK(opts.output_padding >= 0 && (opts.output_padding < opts.stride || opts.output_padding < opts.dilation),
               ValueError, "ConvTranspose2d: output_padding ({}) must be smaller than stride ({}) or dilation ({})",
               opts.output_padding, opts.stride, opts.dilation);
  weight = register_parameter("weight", empty({in, out / opts.groups, k, k}));
  bias = register_parameter("bias", opts.bias ? empty({out}) : Tensor());
  reset_parameters();
}

void ConvTranspose2d::reset_parameters() { conv_init(weight, bias); }

Tensor ConvTranspose2d::forward(const Tensor& x) {
  check_input("ConvTranspose2d", x, 2, in_channels);
  const auto& o = options;
  return conv_transpose2d(x, weight, bias,
                          {.stride = {o.stride, o.stride}, .padding = {o.padding, o.padding},
                           .output_padding = {o.output_padding, o.output_padding},
                           .dilation = {o.dilation, o.dilation}, .groups = o.groups, .algorithm = o.algorithm});
}

std::string ConvTranspose2d::extra_repr() const {
  const auto& o = options;
  std::string s =
      repr(in_channels, out_channels, kernel_size, o.stride, o.padding, o.dilation, o.groups, bias.defined(), 2);
  if (o.output_padding != 0) s += fmt::format(", output_padding=({}, {})", o.output_padding, o.output_padding);
  return s;
}

}  // namespace strata::nn
