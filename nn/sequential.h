#pragma once
// Sequential: children called one after the other, each on the previous one's output; named
// "0", "1", ... like PyTorch, so state dict keys match ("0.weight"). Lambda wraps a function as a
// module, for a step that has no parameters and deserves no class of its own.
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
