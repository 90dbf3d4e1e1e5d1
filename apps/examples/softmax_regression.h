#pragma once
// Softmax regression on raw tensors and autograd: the whole model, loss and optimizer of the
// Fashion-MNIST demo (apps/examples/fashion_mnist.cpp), in a header so that the end-to-end test
// (tests/data/test_fashion_mnist_e2e.cpp) checks the very code the demo runs.
//
// No nn/ or train/ layer yet: parameters are leaf tensors, the loss is written out
// (logsumexp - the logit of the true class), and Adam is five lines of tensor ops under
// NoGradGuard. With Adam (lr 2e-3) one epoch reaches 82-84% test accuracy (82.3% measured, seed 0).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>

#include "strata.h"

namespace strata::examples {

struct SoftmaxRegressionOptions {
  int64_t batch_size = 128;
  double lr = 2e-3;  // Adam
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  uint64_t seed = 0;  // initialization and shuffling
};

// Mean and standard deviation of all pixels of u8 images, scaled to [0, 1]. Chunked, so the f32
// copy never holds more than 10000 images at once.
inline std::pair<double, double> pixel_stats(const Tensor& images_u8) {
  const int64_t n = images_u8.size(0), chunk = 10000;
  double sum = 0, sum_sq = 0;
  for (int64_t start = 0; start < n; start += chunk) {
    Tensor x = images_u8.slice(0, start, std::min(n, start + chunk)).to(DType::F32) / 255.0;
    const double count = static_cast<double>(x.numel());
    sum += mean(x).item<double>() * count;
    sum_sq += mean(x * x).item<double>() * count;
  }
  const double count = static_cast<double>(images_u8.numel());
  const double m = sum / count;
  return {m, std::sqrt(std::max(0.0, sum_sq / count - m * m))};
}

// u8 images [B, 28, 28] -> f32 [B, 784], scaled to [0, 1] and normalized with (mean, std).
inline Tensor to_features(const Tensor& images_u8, std::pair<double, double> stats) {
  return (images_u8.reshape({images_u8.size(0), -1}).to(DType::F32) / 255.0 - stats.first) / stats.second;
}

class SoftmaxRegression {
 public:
  SoftmaxRegression(int64_t in_features, int64_t classes, SoftmaxRegressionOptions opts = {}) : opts_(opts) {
    Generator gen(opts.seed);
    weight_ = (randn({in_features, classes}, {}, &gen) * 0.01).requires_grad_();
    bias_ = zeros({classes}).requires_grad_();
    m_w_ = zeros_like(weight_), v_w_ = zeros_like(weight_);
    m_b_ = zeros_like(bias_), v_b_ = zeros_like(bias_);
    shuffle_gen_ = Generator(opts.seed + 1);
  }

  Tensor logits(const Tensor& x) const { return matmul(x, weight_) + bias_; }

  // Cross-entropy written out: mean over the batch of logsumexp(logits) - logits[true class].
  static Tensor loss(const Tensor& logits, const Tensor& labels) {
    return mean(logsumexp(logits, {1}) - gather(logits, 1, labels.unsqueeze(1)).squeeze(1));
  }

  // One pass over (images u8 [N, 28, 28], labels i64 [N]) in shuffled batches; the mean loss.
  double train_epoch(const Tensor& images_u8, const Tensor& labels, std::pair<double, double> stats) {
    const int64_t n = images_u8.size(0);
    const Tensor order = randperm(n, {.dtype = DType::I64}, &shuffle_gen_);
    double total = 0;
    int64_t batches = 0;
    for (int64_t start = 0; start < n; start += opts_.batch_size) {
      const Tensor idx = order.slice(0, start, std::min(n, start + opts_.batch_size));
      const Tensor x = to_features(index_select(images_u8, 0, idx), stats);
      const Tensor y = index_select(labels, 0, idx);
      Tensor l = loss(logits(x), y);
      l.backward();
      step();
      total += l.item<double>();
      ++batches;
    }
    return batches ? total / static_cast<double>(batches) : 0.0;
  }

  struct Evaluation {
    double loss = 0, accuracy = 0;
  };
  Evaluation evaluate(const Tensor& features, const Tensor& labels) const {
    NoGradGuard no_grad;
    const Tensor z = logits(features);
    const double correct = sum(eq(argmax(z, 1), labels)).item<double>();
    return {loss(z, labels).item<double>(), correct / static_cast<double>(labels.numel())};
  }

  const Tensor& weight() const { return weight_; }
  const Tensor& bias() const { return bias_; }

 private:
  // Adam (Kingma & Ba), by hand: m and v are running means of g and g^2, bias-corrected.
  void step() {
    NoGradGuard no_grad;
    ++t_;
    adam(weight_, m_w_, v_w_);
    adam(bias_, m_b_, v_b_);
  }
  void adam(Tensor& p, Tensor& m, Tensor& v) {
    const Tensor g = p.grad();
    lerp_(m, g, 1.0 - opts_.beta1);  // m = beta1 m + (1 - beta1) g
    lerp_(v, g * g, 1.0 - opts_.beta2);
    const double c1 = 1.0 - std::pow(opts_.beta1, static_cast<double>(t_));
    const double c2 = 1.0 - std::pow(opts_.beta2, static_cast<double>(t_));
    add_(p, (m / c1) / (sqrt(v / c2) + opts_.eps), -opts_.lr);
    p.zero_grad();
  }

  SoftmaxRegressionOptions opts_;
  Tensor weight_, bias_, m_w_, v_w_, m_b_, v_b_;
  Generator shuffle_gen_;
  int64_t t_ = 0;
};

}  // namespace strata::examples
