#pragma once
// Sequential: children called one after the other, each on the previous one's output; named
// "0", "1", ... like PyTorch, so state dict keys match ("0.weight"). Lambda wraps a function as a
// module, for a step that has no parameters and deserves no class of its own.
//
// Fusion: a BatchNorm1d/2d/3d child directly followed by an nn::ReLU child runs as one
// batch_norm_relu op (same outputs, gradients and running statistics; one pass instead of two
// each way, and the BatchNorm's output is never stored), unless either child has forward hooks
// (a hook must see the intermediate output). set_fusion_enabled(false) turns it off process-wide
// (tests and benchmarks compare the two).
//
//   auto model = std::make_shared<nn::Sequential>(std::vector<nn::ModulePtr>{
//       std::make_shared<nn::Linear>(784, 100), nn::lambda("relu", [](const Tensor& x) { return relu(x); }),
//       std::make_shared<nn::Linear>(100, 10)});
#include <functional>
#include <string>
#include <vector>

#include "nn/module.h"

namespace strata::nn {

class Sequential : public Module {
 public:
  Sequential() : Module("Sequential") {}
  explicit Sequential(std::vector<ModulePtr> layers);
  void push_back(ModulePtr layer);  // named by its position
  ModulePtr operator[](int64_t index) const;  // negative counts from the end
  int64_t size() const { return static_cast<int64_t>(named_children().size()); }
  Tensor forward(const Tensor& x) override;
  using Module::forward;

 protected:
  // For subclasses that are a chain under their own name (fastai's ConvLayer, XResNet).
  explicit Sequential(std::string type_name) : Module(std::move(type_name)) {}
};

// Whether Sequential fuses BatchNorm + ReLU pairs (default true). Process-wide.
void set_fusion_enabled(bool on);
bool fusion_enabled();

class Lambda : public Module {
 public:
  Lambda(std::string name, std::function<Tensor(const Tensor&)> fn) : Module(std::move(name)), fn_(std::move(fn)) {}
  Tensor forward(const Tensor& x) override { return fn_(x); }
  using Module::forward;

 private:
  std::function<Tensor(const Tensor&)> fn_;
};

inline ModulePtr lambda(std::string name, std::function<Tensor(const Tensor&)> fn) {
  return std::make_shared<Lambda>(std::move(name), std::move(fn));
}

}  // namespace strata::nn
