#pragma once
// Semantic tensor types: TensorImage, TensorMask, TensorBBox, ... (fastai's tensor subclasses).
//
// A semantic type is a runtime tag with a parent chain, stored in the tensor (a pointer to a
// static SemanticType); metadata (image size, vocab, ...) rides along in a SemanticMeta.
// Ops give their result the semantic type and metadata of their first semantic input:
//
//   TensorImage img = cast<TensorImage>(x);   // re-tag, no copy
//   Tensor y = img * 2.0;                      // y.semantic_type() == TensorImage::type()
//
// The hierarchy: TensorBase -> TensorImageBase -> {TensorImage, TensorImageBW, TensorMask};
// TensorBase -> TensorBBox -> TensorPoint (fastai has TensorPoint as TensorBBox's parent;
// see below); TensorCategory; TensorMultiCategory; TensorText -> LMTensorText.
#include <initializer_list>
#include <memory>
#include <string>

#include "tensor/tensor.h"

namespace strata {

struct SemanticType {
  const char* name;
  const SemanticType* parent;  // null for the root, TensorBase
  // True when this type is `other` or descends from it.
  bool is_a(const SemanticType* other) const {
    for (const SemanticType* t = this; t; t = t->parent)
      if (t == other) return true;
    return false;
  }
  int depth() const {
    int d = 0;
    for (const SemanticType* t = parent; t; t = t->parent) ++d;
    return d;
  }
};

// Base of metadata carried with a semantic tensor. Immutable once attached (shared by views).
struct SemanticMeta {
  virtual ~SemanticMeta() = default;
  virtual std::string str() const { return ""; }
};

// Gives `out` the semantic type and metadata of the first input that has one (fastai's rule);
// returns out for chaining.
const Tensor& propagate_semantics(const Tensor& out, std::initializer_list<const Tensor*> inputs);
const Tensor& propagate_semantics(const Tensor& out, const std::vector<Tensor>& inputs);

}  // namespace strata
