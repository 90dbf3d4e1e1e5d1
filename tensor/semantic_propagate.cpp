#include "tensor/semantic.h"

namespace strata {

const Tensor& propagate_semantics(const Tensor& out, std::initializer_list<const Tensor*> inputs) {
  for (const Tensor* t : inputs) {
    if (t && t->defined() && t->semantic_type()) {
      out.set_semantic(t->semantic_type(), t->meta());
      break;
    }
  }
  return out;
}

const Tensor& propagate_semantics(const Tensor& out, const std::vector<Tensor>& inputs) {
  for (const Tensor& t : inputs) {
    if (t.defined() && t.semantic_type()) {
      out.set_semantic(t.semantic_type(), t.meta());
      break;
    }
  }
  return out;
}

}  // namespace strata
