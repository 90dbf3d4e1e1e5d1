#pragma once
// Pooling, upsampling kernel entry points. Front ends (tensor/ops/pool.cpp) check arguments,
// compute output sizes and allocate; these pick the device and run.
//
// Every tensor handed to these kernels is contiguous and seen as [planes, H, W]: batch and
// channel are merged into one "planes" dim (a plane is independent of every other), so CPU
// kernels split work over planes and each output plane is written by exactly one thread. The
// backward kernels accumulate into a zero-filled grad_in plane by plane, in a fixed order, so
// results are identical for any thread count.
#include <cstdint>

#include "tensor/tensor.h"

namespace strata::kernels {

// A sliding-window pooling: window (kh, kw), stride, zero padding, dilation (avg: 1).
struct Pool2dParams {
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, ph = 0, pw = 0, dh = 1, dw = 1;
  bool count_include_pad = true;  // avg only: padding counts in the divisor
};

// out[p, i, j] = max of the window; indices[p, i, j] = its flat position h * W + w in the input
// plane (the first maximum in row-major window order; a NaN counts as the maximum). `indices` may
// be undefined: values only (an inference forward).
void max_pool2d(const Tensor& x, const Pool2dParams& params, const Tensor& out, const Tensor& indices);
// grad_in[p, indices[p, i, j]] += grad_out[p, i, j]; grad_in must be zero-filled. Shared by
// max_pool2d and adaptive_max_pool2d.
void max_pool2d_backward(const Tensor& grad_out, const Tensor& indices, const Tensor& grad_in);
void avg_pool2d(const Tensor& x, const Pool2dParams& params, const Tensor& out);
void avg_pool2d_backward(const Tensor& grad_out, const Pool2dParams& params, const Tensor& grad_in);
// Adaptive pools: output cell (i, j) covers rows [floor(i*H/OH), ceil((i+1)*H/OH)) and likewise
// for columns.
void adaptive_avg_pool2d(const Tensor& x, const Tensor& out);
void adaptive_avg_pool2d_backward(const Tensor& grad_out, const Tensor& grad_in);
void adaptive_max_pool2d(const Tensor& x, const Tensor& out, const Tensor& indices);
// Upsampling. `scale_h` / `scale_w` are the caller's scale factors, or 0 when the output size was
// given; the kernels turn them into PyTorch's source-per-destination scales in PyTorch's own
// arithmetic (1/scale_factor, else in/out; bilinear with align_corners: (in-1)/(out-1)), so the
// sampled positions match PyTorch's bit for bit. Nearest: src = min(floor(dst * scale), in - 1).
void upsample_nearest2d(const Tensor& x, double scale_h, double scale_w, const Tensor& out);
void upsample_nearest2d_backward(const Tensor& grad_out, double scale_h, double scale_w, const Tensor& grad_in);
void upsample_bilinear2d(const Tensor& x, bool align_corners, double scale_h, double scale_w, const Tensor& out);
void upsample_bilinear2d_backward(const Tensor& grad_out, bool align_corners, double scale_h, double scale_w,
                                  const Tensor& grad_in);

namespace cpu {
void max_pool2d(const Tensor& x, const Pool2dParams& params, const Tensor& out, const Tensor& indices);
void max_pool2d_backward(const Tensor& grad_out, const Tensor& indices, const Tensor& grad_in);
void avg_pool2d(const Tensor& x, const Pool2dParams& params, const Tensor& out);
void avg_pool2d_backward(const Tensor& grad_out, const Pool2dParams& params, const Tensor& grad_in);
void adaptive_avg_pool2d(const Tensor& x, const Tensor& out);
void adaptive_avg_pool2d_backward(const Tensor& grad_out, const Tensor& grad_in);
void adaptive_max_pool2d(const Tensor& x, const Tensor& out, const Tensor& indices);
void upsample_nearest2d(const Tensor& x, double scale_h, double scale_w, const Tensor& out);
void upsample_nearest2d_backward(const Tensor& grad_out, double scale_h, double scale_w, const Tensor& grad_in);
void upsample_bilinear2d(const Tensor& x, bool align_corners, double scale_h, double scale_w, const Tensor& out);
void upsample_bilinear2d_backward(const Tensor& grad_out, bool align_corners, double scale_h, double scale_w,
                                  const Tensor& grad_in);
}  // namespace cpu

}  // namespace strata::kernels
