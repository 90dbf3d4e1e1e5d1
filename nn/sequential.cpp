// Sequential: the chain is its children list; nothing else to store.
#include "nn/sequential.h"

#include <string>

#include "tensor/error.h"

namespace strata::nn {

Sequential::Sequential(std::vector<ModulePtr> layers) : Module("Sequential") {
  for (auto& l : layers) push_back(std::move(l));
}

void Sequential::push_back(ModulePtr layer) { add_child(std::to_string(size()), std::move(layer)); }

ModulePtr Sequential::operator[](int64_t index) const {
  int64_t n = size();
  STRATA_CHECK(index >= -n && index < n, IndexError, "Sequential: index {} out of range for {} layers", index, n);
  return named_children()[index < 0 ? index + n : index].second;
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor y = x;
  for (auto& [name, layer] : named_children()) y = (*layer)(y);
  return y;
}

}  // namespace strata::nn
