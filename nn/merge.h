#pragma once
// Blocks whose layers see the block's input (fastai's SequentialEx and MergeLayer), and the small
// fastai layers that are plain compositions: AdaptiveConcatPool2d, LinBnDrop.
//
//   auto block = std::make_shared<nn::SequentialEx>(std::vector<nn::ModulePtr>{
//       std::make_shared<nn::ConvLayer>(64, 64), std::make_shared<nn::ConvLayer>(64, 64),
//       std::make_shared<nn::MergeLayer>()});          // y = conv(conv(x)) + x
//
// fastai hangs the block input on the running tensor (`x.orig`). Here a layer that wants it
// derives from BlockInputLayer: SequentialEx then calls it with two inputs, {running value, block
// input}, through the ordinary module call (so forward hooks still run); other layers get the
// running value alone. A BlockInputLayer called on its own, outside a SequentialEx, throws.
// SequentialEx keeps its layers in a child "layers" (fastai's nn.ModuleList), so state dict keys
// read "layers.0.0.weight" as in fastai.
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "nn/module.h"
#include "nn/sequential.h"

namespace strata::nn {

// A container of named children "0", "1", ... without a forward (PyTorch's ModuleList).
class ModuleList : public Module {
 public:
  ModuleList() : Module("ModuleList") {}
  explicit ModuleList(std::vector<ModulePtr> modules);
  void push_back(ModulePtr m);
  ModulePtr operator[](int64_t index) const;  // negative counts from the end
  int64_t size() const { return static_cast<int64_t>(named_children().size()); }
};

// A layer that takes {x, block_input} inside a SequentialEx.
class BlockInputLayer : public Module {
 public:
  using Module::Module;
  // xs = {running value, block input}.
  Tensor forward(std::span<const Tensor> xs) override;
  Tensor forward(const Tensor& x) override;  // throws: there is no block input
  virtual Tensor merge(const Tensor& x, const Tensor& orig) = 0;
};

class SequentialEx : public Module {
 public:
  explicit SequentialEx(std::vector<ModulePtr> layers = {});
  void push_back(ModulePtr layer);
  ModulePtr operator[](int64_t index) const { return (*layers)[index]; }
  int64_t size() const { return layers->size(); }
  Tensor forward(const Tensor& x) override;
  using Module::forward;
  std::shared_ptr<ModuleList> layers;
};

// x + orig, or cat([x, orig], dim 1) when dense (fastai's MergeLayer).
class MergeLayer : public BlockInputLayer {
 public:
  explicit MergeLayer(bool dense = false) : BlockInputLayer("MergeLayer"), dense(dense) {}
  Tensor merge(const Tensor& x, const Tensor& orig) override;
  std::string extra_repr() const override;
  bool dense;
};

// x * orig (fastai's ProdLayer; the gate of a squeeze-excitation block).
class ProdLayer : public BlockInputLayer {
 public:
  ProdLayer() : BlockInputLayer("ProdLayer") {}
  Tensor merge(const Tensor& x, const Tensor& orig) override;
};

// cat([adaptive_max_pool(x), adaptive_avg_pool(x)], dim 1): twice the channels (fastai's order:
// max first). Children "ap" and "mp" as in fastai.
class AdaptiveConcatPool2d : public Module {
 public:
  explicit AdaptiveConcatPool2d(int64_t size = 1);
  Tensor forward(const Tensor& x) override;
  using Module::forward;
  int64_t size;
  ModulePtr ap, mp;
};

struct LinBnDropOptions {
  bool bn = true;          // BatchNorm1d (the linear layer then has no bias)
  double p = 0.0;          // Dropout when not 0
  ModulePtr act{};         // appended after the linear layer when set
  bool lin_first = false;  // linear (+act) before BN and dropout
};

// fastai's LinBnDrop: [BatchNorm1d(n_in), Dropout(p), Linear(n_in, n_out), act], or the linear
// part first with lin_first (BN then over n_out).
class LinBnDrop : public Sequential {
 public:
  LinBnDrop(int64_t n_in, int64_t n_out, const LinBnDropOptions& options = {});
};

}  // namespace strata::nn
