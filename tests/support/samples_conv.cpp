// Samples for the conv family (kernels/defs/conv.def), small enough for gradcheck (two evaluations
// per input element): stride, padding, dilation, groups, depthwise, non-square kernels and
// strides, batch 1, unbatched input, with and without bias, a non-contiguous input, a 1x1 kernel
// (the im2col-free path), and conv_transpose2d's output_padding.
#include "support/op_samples.h"

namespace strata::testing {
namespace {

using TL = std::vector<Tensor>;
using Fn = std::function<Tensor(const TL&)>;

OpSample sample(const std::string& op, const std::string& case_name, std::vector<Shape> shapes, Fn fn) {
  return OpSample{op, case_name,
                  [shapes](DType dt) {
                    TL in;
                    for (size_t i = 0; i < shapes.size(); ++i) in.push_back(sample_tensor(shapes[i], dt, 41 + i));
                    return in;
                  },
                  std::move(fn)};
}

Fn c2(Conv2dOptions o) {
  return [o](const TL& in) { return conv2d(in[0], in[1], in.size() > 2 ? in[2] : Tensor(), o); };
}
Fn ct2(ConvTranspose2dOptions o) {
  return [o](const TL& in) { return conv_transpose2d(in[0], in[1], in.size() > 2 ? in[2] : Tensor(), o); };
}
Fn c1(Conv1dOptions o) {
  return [o](const TL& in) { return conv1d(in[0], in[1], in.size() > 2 ? in[2] : Tensor(), o); };
}

}  // namespace

std::vector<OpSample> samples_conv() {
  return {
      sample("conv2d", "3x3_bias", {{2, 2, 5, 5}, {3, 2, 3, 3}, {3}}, c2({})),
      sample("conv2d", "no_bias_pad1", {{1, 2, 4, 4}, {2, 2, 3, 3}}, c2({.padding = {1, 1}})),
      sample("conv2d", "stride2_pad1", {{2, 2, 5, 6}, {3, 2, 3, 3}, {3}}, c2({.stride = {2, 2}, .padding = {1, 1}})),
      sample("conv2d", "nonsquare_kernel_stride", {{1, 2, 6, 5}, {2, 2, 3, 2}, {2}},
             c2({.stride = {2, 1}, .padding = {1, 0}})),
      sample("conv2d", "dilation2", {{1, 2, 6, 6}, {2, 2, 2, 3}, {2}}, c2({.padding = {1, 2}, .dilation = {2, 2}})),
      sample("conv2d", "groups2", {{2, 4, 4, 4}, {6, 2, 3, 3}, {6}}, c2({.padding = {1, 1}, .groups = 2})),
      sample("conv2d", "depthwise", {{2, 3, 5, 5}, {3, 1, 3, 3}, {3}}, c2({.padding = {1, 1}, .groups = 3})),
      sample("conv2d", "pointwise_1x1", {{2, 3, 3, 4}, {4, 3, 1, 1}, {4}}, c2({})),
      sample("conv2d", "1x1_stride2", {{1, 3, 5, 5}, {2, 3, 1, 1}}, c2({.stride = {2, 2}})),
      sample("conv2d", "unbatched", {{2, 4, 5}, {3, 2, 2, 2}, {3}}, c2({.padding = {1, 0}})),
      sample("conv2d", "transposed_input", {{2, 2, 5, 4}, {2, 2, 3, 3}, {2}},
             [](const TL& in) { return conv2d(in[0].transpose(2, 3), in[1], in[2], {.padding = {1, 1}}); }),
      sample("conv1d", "k3_pad1_bias", {{2, 2, 7}, {3, 2, 3}, {3}}, c1({.padding = 1})),
      sample("conv1d", "stride2_dilation2_groups2", {{1, 4, 9}, {4, 2, 2}}, c1({.stride = 2, .dilation = 2, .groups = 2})),
      sample("conv1d", "unbatched", {{2, 6}, {2, 2, 3}, {2}}, c1({})),
      sample("conv_transpose2d", "3x3_bias", {{2, 3, 3, 3}, {3, 2, 3, 3}, {2}}, ct2({})),
      sample("conv_transpose2d", "stride2_pad1_outpad1", {{1, 2, 3, 4}, {2, 3, 3, 3}, {3}},
             ct2({.stride = {2, 2}, .padding = {1, 1}, .output_padding = {1, 1}})),
      sample("conv_transpose2d", "nonsquare_stride_dilation", {{1, 2, 3, 3}, {2, 2, 2, 3}},
             ct2({.stride = {1, 2}, .padding = {0, 1}, .dilation = {2, 1}})),
      sample("conv_transpose2d", "groups2", {{2, 4, 3, 3}, {4, 1, 3, 3}, {2}},
             ct2({.stride = {2, 2}, .groups = 2})),
      sample("conv_transpose2d", "outpad_below_dilation", {{1, 2, 3, 3}, {2, 1, 2, 2}},
             ct2({.stride = {1, 1}, .output_padding = {1, 1}, .dilation = {2, 2}})),
      sample("conv_transpose2d", "unbatched_1x1", {{3, 2, 3}, {3, 2, 1, 1}, {2}}, ct2({})),
  };
}

}  // namespace strata::testing
