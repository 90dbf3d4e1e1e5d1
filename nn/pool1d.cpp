// 1-d pools as 2-d pools on a unit height: [N, C, L] -> [N, C, 1, L] -> pool -> [N, C, L'].
#include "nn/pool1d.h"

#include <fmt/format.h>

#include "tensor/error.h"
#include "tensor/ops.h"

namespace strata::nn {

namespace {

Tensor as_2d(const Tensor& x, const std::string& who) {
  STRATA_CHECK(x.dim() == 2 || x.dim() == 3, ShapeError, "{}: expected [N, C, L] or [C, L], got {}", who, x.shape());
  return x.unsqueeze(-2);
}

}  // namespace

AvgPool1d::AvgPool1d(int64_t k, int64_t s, int64_t p, bool ceil)
    : Module("AvgPool1d"), kernel_size(k), stride(s ? s : k), padding(p), ceil_mode(ceil) {
  STRATA_CHECK(k > 0 && stride > 0 && p >= 0, ValueError, "AvgPool1d: bad kernel_size {}, stride {} or padding {}", k,
               s, p);
}

Tensor AvgPool1d::forward(const Tensor& x) {
  Tensor y = avg_pool2d(as_2d(x, type_name()), AvgPool2dOptions{.kernel_size = Int2(1, kernel_size),
                                                                .stride = Int2(1, stride),
                                                                .padding = Int2(0, padding),
                                                                .ceil_mode = ceil_mode});
  return y.squeeze(-2);
}

std::string AvgPool1d::extra_repr() const {
  return fmt::format("kernel_size={}, stride={}, padding={}, ceil_mode={}", kernel_size, stride, padding, ceil_mode);
}

MaxPool1d::MaxPool1d(int64_t k, int64_t s, int64_t p, bool ceil)
    : Module("MaxPool1d"), kernel_size(k), stride(s ? s : k), padding(p), ceil_mode(ceil) {
  STRATA_CHECK(k > 0 && stride > 0 && p >= 0, ValueError, "MaxPool1d: bad kernel_size {}, stride {} or padding {}", k,
               s, p);
}

Tensor MaxPool1d::forward(const Tensor& x) {
  Tensor y = max_pool2d(as_2d(x, type_name()), MaxPool2dOptions{.kernel_size = Int2(1, kernel_size),
                                                                .stride = Int2(1, stride),
                                                                .padding = Int2(0, padding),
                                                                .ceil_mode = ceil_mode});
  return y.squeeze(-2);
}

std::string MaxPool1d::extra_repr() const {
  return fmt::format("kernel_size={}, stride={}, padding={}, ceil_mode={}", kernel_size, stride, padding, ceil_mode);
}

Tensor AdaptiveAvgPool1d::forward(const Tensor& x) {
  return adaptive_avg_pool2d(as_2d(x, type_name()), Int2(1, output_size)).squeeze(-2);
}

std::string AdaptiveAvgPool1d::extra_repr() const { return fmt::format("output_size={}", output_size); }

}  // namespace strata::nn
