// SequentialEx and its merge layers; AdaptiveConcatPool2d and LinBnDrop are assembled from the
// basic layers.
#include "nn/merge.h"

#include <fmt/format.h>

#include <string>

#include "nn/basic.h"
#include "nn/conv_layer.h"
#include "nn/linear.h"
#include "tensor/error.h"
#include "tensor/ops.h"

namespace strata::nn {

// ---- ModuleList ----
ModuleList::ModuleList(std::vector<ModulePtr> modules) : Module("ModuleList") {
  for (auto& m : modules) push_back(std::move(m));
}

void ModuleList::push_back(ModulePtr m) {
  STRATA_CHECK(m != nullptr, ValueError, "ModuleList: cannot add a null module");
  add_child(std::to_string(size()), std::move(m));
}

ModulePtr ModuleList::operator[](int64_t index) const {
  const int64_t n = size();
  STRATA_CHECK(index >= -n && index < n, IndexError, "ModuleList: index {} out of range for {} modules", index, n);
  return named_children()[index < 0 ? index + n : index].second;
}

// ---- BlockInputLayer ----
Tensor BlockInputLayer::forward(std::span<const Tensor> xs) {
  STRATA_CHECK(xs.size() == 2, ValueError, "{}: takes {{x, block input}}, got {} inputs", type_name(), xs.size());
  return merge(xs[0], xs[1]);
}

Tensor BlockInputLayer::forward(const Tensor&) {
  STRATA_THROW(ValueError, "{}: needs the block input; use it inside a SequentialEx", type_name());
}

// ---- SequentialEx ----
SequentialEx::SequentialEx(std::vector<ModulePtr> ls) : Module("SequentialEx") {
  layers = register_module("layers", std::make_shared<ModuleList>());
  for (auto& l : ls) push_back(std::move(l));
}

void SequentialEx::push_back(ModulePtr layer) { layers->push_back(std::move(layer)); }

Tensor SequentialEx::forward(const Tensor& x) {
  Tensor res = x;
  for (const auto& [name, layer] : layers->named_children()) {
    if (dynamic_cast<BlockInputLayer*>(layer.get()))
      res = (*layer)({res, x});
    else
      res = (*layer)(res);
  }
  return res;
}

// ---- merge layers ----
Tensor MergeLayer::merge(const Tensor& x, const Tensor& orig) {
  if (!dense) return x + orig;
  STRATA_CHECK(x.dim() >= 2 && orig.dim() == x.dim(), ShapeError,
               "MergeLayer: dense merge concatenates on dim 1; shapes {} and {}", x.shape(), orig.shape());
  return cat({x, orig}, 1);
}

std::string MergeLayer::extra_repr() const { return fmt::format("dense={}", dense); }

Tensor ProdLayer::merge(const Tensor& x, const Tensor& orig) { return x * orig; }

// ---- AdaptiveConcatPool2d ----
AdaptiveConcatPool2d::AdaptiveConcatPool2d(int64_t size_) : Module("AdaptiveConcatPool2d"), size(size_) {
  STRATA_CHECK(size > 0, ValueError, "AdaptiveConcatPool2d: size must be positive, got {}", size);
  ap = register_module("ap", std::make_shared<AdaptiveAvgPool2d>(size));
  mp = register_module("mp", std::make_shared<AdaptiveMaxPool2d>(size));
}

Tensor AdaptiveConcatPool2d::forward(const Tensor& x) { return cat({(*mp)(x), (*ap)(x)}, 1); }

// ---- LinBnDrop ----
LinBnDrop::LinBnDrop(int64_t n_in, int64_t n_out, const LinBnDropOptions& o) : Sequential("LinBnDrop") {
  std::vector<ModulePtr> norm_drop;
  if (o.bn) norm_drop.push_back(batch_norm_layer(o.lin_first ? n_out : n_in, 1));
  if (o.p != 0) norm_drop.push_back(std::make_shared<Dropout>(o.p));
  std::vector<ModulePtr> lin{std::make_shared<Linear>(n_in, n_out, !o.bn)};
  if (o.act) lin.push_back(o.act);
  if (o.lin_first) {
    for (auto& m : lin) push_back(m);
    for (auto& m : norm_drop) push_back(m);
  } else {
    for (auto& m : norm_drop) push_back(m);
    for (auto& m : lin) push_back(m);
  }
}

}  // namespace strata::nn
