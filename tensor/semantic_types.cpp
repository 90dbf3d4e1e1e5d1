// The built-in semantic types and the helpers that tag tensors with them.
//
// The type objects are aggregates of string literals and addresses of other such objects, so they
// are constant-initialized: usable from any static initializer, with no order-of-init hazard.
// Re-tagging always goes through Tensor::alias(), so a cast never touches data or the caller's
// handle and keeps the autograd graph position.
#include <fmt/format.h>

#include "tensor/semantic.h"

namespace strata {

namespace semantic_types {
const SemanticType TensorBase{"TensorBase", nullptr};
const SemanticType TensorImageBase{"TensorImageBase", &TensorBase};
const SemanticType TensorImage{"TensorImage", &TensorImageBase};
const SemanticType TensorImageBW{"TensorImageBW", &TensorImageBase};
const SemanticType TensorMask{"TensorMask", &TensorImageBase};
const SemanticType TensorPoint{"TensorPoint", &TensorBase};
const SemanticType TensorBBox{"TensorBBox", &TensorPoint};  // fastai: class TensorBBox(TensorPoint)
const SemanticType TensorCategory{"TensorCategory", &TensorBase};
const SemanticType TensorMultiCategory{"TensorMultiCategory", &TensorBase};
const SemanticType TensorText{"TensorText", &TensorBase};
const SemanticType LMTensorText{"LMTensorText", &TensorText};
}  // namespace semantic_types

std::string semantic_name(const Tensor& t) {
  if (!t.defined() || !t.semantic_type()) return "Tensor";
  return t.semantic_type()->name;
}

bool is_a(const Tensor& t, const SemanticType* type) {
  if (!t.defined()) return false;
  if (!type) return true;
  return t.semantic_type() && t.semantic_type()->is_a(type);
}

Tensor cast(const Tensor& t, const SemanticType* type) {
  STRATA_CHECK(t.defined(), ValueError, "cast: tensor is undefined (casting to {})", type ? type->name : "Tensor");
  Tensor out = t.alias();
  out.set_semantic(type, type ? t.meta() : nullptr);
  return out;
}

Tensor with_meta(const Tensor& t, std::shared_ptr<const SemanticMeta> meta) {
  STRATA_CHECK(t.defined(), ValueError, "with_meta: tensor is undefined");
  Tensor out = t.alias();
  out.set_semantic(t.semantic_type() ? t.semantic_type() : &semantic_types::TensorBase, std::move(meta));
  return out;
}

namespace detail {
Tensor tag_as(const Tensor& t, const SemanticType* type) {
  if (!t.defined() || is_a(t, type)) return t;
  return cast(t, type);
}
}  // namespace detail

// ---- metadata ----
Vocab make_vocab(std::vector<std::string> words) {
  return std::make_shared<const std::vector<std::string>>(std::move(words));
}

namespace {
std::string size_str(const ImageSize& s) { return fmt::format("img_size=(h={}, w={})", s.h, s.w); }

std::string vocab_str(const Vocab& v) {
  if (!v) return "vocab=none";
  constexpr size_t kShown = 8;
  std::string out = "vocab=[";
  for (size_t i = 0; i < v->size() && i < kShown; ++i) out += (i ? ", " : "") + (*v)[i];
  if (v->size() > kShown) out += ", ...";
  return out + fmt::format("] ({} entries)", v->size());
}
}  // namespace

std::string ImageMeta::str() const { return size_str(img_size); }
std::string PointMeta::str() const { return size_str(img_size); }
std::string CategoryMeta::str() const { return vocab_str(vocab); }
std::string TextMeta::str() const { return vocab_str(vocab); }

}  // namespace strata
