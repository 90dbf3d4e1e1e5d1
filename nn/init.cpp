// Initialisers: fan and gain arithmetic here, the draws themselves are strata::normal_ /
// strata::uniform_ run under NoGradGuard (an initialiser is not part of any graph).
#include "nn/init.h"

#include <cmath>

#include "autograd/grad_mode.h"
#include "tensor/error.h"
#include "tensor/ops.h"

namespace strata::nn {

namespace {

void check_floating(const char* op, const Tensor& w) {
  STRATA_CHECK(w.defined(), ValueError, "{}: the tensor is undefined", op);
  STRATA_CHECK(w.is_floating_point(), DTypeError, "{}: tensor must be floating, got {}", op, w.dtype());
}

double fan_of(const char* op, const Tensor& w, FanMode mode) {
  check_floating(op, w);
  STRATA_CHECK(w.dim() >= 2, ShapeError, "{}: fan in and fan out need a tensor of at least 2 dims, got shape {}",
               op, w.shape());
  auto [in, out] = fan_in_and_fan_out(w);
  int64_t fan = mode == FanMode::FanIn ? in : out;
  STRATA_CHECK(fan > 0, ValueError, "{}: the fan is 0 (shape {})", op, w.shape());
  return static_cast<double>(fan);
}

}  // namespace

double calculate_gain(Nonlinearity nl, double param) {
  switch (nl) {
    case Nonlinearity::Linear:
    case Nonlinearity::Conv1d:
    case Nonlinearity::Conv2d:
    case Nonlinearity::ConvTranspose2d:
    case Nonlinearity::Sigmoid: return 1.0;
    case Nonlinearity::Tanh: return 5.0 / 3.0;
    case Nonlinearity::ReLU: return std::sqrt(2.0);
    case Nonlinearity::LeakyReLU: return std::sqrt(2.0 / (1.0 + param * param));
    case Nonlinearity::SELU: return 3.0 / 4.0;
  }
  return 1.0;
}

std::pair<int64_t, int64_t> fan_in_and_fan_out(const Tensor& w) {
  STRATA_CHECK(w.defined(), ValueError, "fan_in_and_fan_out: the tensor is undefined");
  STRATA_CHECK(w.dim() >= 2, ShapeError,
               "fan_in_and_fan_out: fan in and fan out need a tensor of at least 2 dims, got shape {}", w.shape());
  int64_t receptive = 1;
  for (int64_t d = 2; d < w.dim(); ++d) receptive *= w.size(d);
  return {w.size(1) * receptive, w.size(0) * receptive};
}

Tensor normal_(Tensor w, double mean, double std, Generator* gen) {
  check_floating("normal_", w);
  NoGradGuard no_grad;
  strata::normal_(w, mean, std, gen);
  return w;
}

Tensor uniform_(Tensor w, double low, double high, Generator* gen) {
  check_floating("uniform_", w);
  STRATA_CHECK(low <= high, ValueError, "uniform_: low ({}) must not exceed high ({})", low, high);
  NoGradGuard no_grad;
  strata::uniform_(w, low, high, gen);
  return w;
}

Tensor trunc_normal_(Tensor w, double mean, double std, double low, double high, Generator* gen) {
  check_floating("trunc_normal_", w);
  STRATA_CHECK(low < high, ValueError, "trunc_normal_: low ({}) must be below high ({})", low, high);
  STRATA_CHECK(std > 0, ValueError, "trunc_normal_: std must be > 0, got {}", std);
  NoGradGuard no_grad;
  // Rejection: redraw the elements outside [low, high] until none are left (at +-2 std about 5%
  // of a draw is rejected, so a handful of rounds suffice).
  Tensor draw = empty(w.shape(), {.dtype = DType::F64, .device = w.device()});
  strata::normal_(draw, mean, std, gen);
  for (int round = 0; round < 1000; ++round) {
    Tensor bad = logical_or(lt(draw, low), gt(draw, high));
    if (!any(bad).item<bool>()) break;
    Tensor fresh = empty(w.shape(), {.dtype = DType::F64, .device = w.device()});
    strata::normal_(fresh, mean, std, gen);
    draw = where(bad, fresh, draw);
  }
  w.copy_(clamp(draw, low, high));
  w.bump_version();
  return w;
}

Tensor constant_(Tensor w, double value) {
  STRATA_CHECK(w.defined(), ValueError, "constant_: the tensor is undefined");
  NoGradGuard no_grad;
  w.fill_(value);
  w.bump_version();
  return w;
}

Tensor zeros_(Tensor w) { return constant_(std::move(w), 0.0); }
Tensor ones_(Tensor w) { return constant_(std::move(w), 1.0); }

Tensor kaiming_normal_(Tensor w, double a, FanMode mode, Nonlinearity nl, Generator* gen) {
  double sd = calculate_gain(nl, a) / std::sqrt(fan_of("kaiming_normal_", w, mode));
  return nn::normal_(std::move(w), 0.0, sd, gen);
}

Tensor kaiming_uniform_(Tensor w, double a, FanMode mode, Nonlinearity nl, Generator* gen) {
  double bound = calculate_gain(nl, a) * std::sqrt(3.0 / fan_of("kaiming_uniform_", w, mode));
  return nn::uniform_(std::move(w), -bound, bound, gen);
}

Tensor xavier_normal_(Tensor w, double gain, Generator* gen) {
  double in = fan_of("xavier_normal_", w, FanMode::FanIn), out = fan_of("xavier_normal_", w, FanMode::FanOut);
  return nn::normal_(std::move(w), 0.0, gain * std::sqrt(2.0 / (in + out)), gen);
}

Tensor xavier_uniform_(Tensor w, double gain, Generator* gen) {
  double in = fan_of("xavier_uniform_", w, FanMode::FanIn), out = fan_of("xavier_uniform_", w, FanMode::FanOut);
  double bound = gain * std::sqrt(6.0 / (in + out));
  return nn::uniform_(std::move(w), -bound, bound, gen);
}

}  // namespace strata::nn
