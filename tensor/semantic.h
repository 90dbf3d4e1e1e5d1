#pragma once
// Semantic tensor types: TensorImage, TensorMask, TensorBBox, ... (fastai's tensor subclasses).
//
// A semantic type is a runtime tag with a parent chain, stored in the tensor (a pointer to a
// static SemanticType); metadata (image size, vocab, ...) rides along in a SemanticMeta.
// Ops give their result the semantic type and metadata of their first semantic input
// (fastai's rule), through elementwise ops, views, indexing, dtype casts and device moves:
//
//   TensorImage img = cast<TensorImage>(x);   // re-tag, no copy
//   Tensor y = img * 2.0;                      // y.semantic_type() == TensorImage::type()
//   Tensor z = x + with_meta(img, ImageMeta{{.h = 32, .w = 48}});  // plain first: z is TensorImage
//   meta_as<ImageMeta>(z)->img_size.w;         // 48
//
// The built-in hierarchy (fastai's torch_core.py / vision/core.py / text/data.py):
//
//   TensorBase ─┬─ TensorImageBase ─┬─ TensorImage
//               │                   ├─ TensorImageBW
//               │                   └─ TensorMask
//               ├─ TensorPoint ─── TensorBBox
//               ├─ TensorCategory
//               ├─ TensorMultiCategory
//               └─ TensorText ──── LMTensorText
//
// TensorBBox's parent is TensorPoint, as in fastai (`class TensorBBox(TensorPoint)`): a box is
// stored as its two corner points, so point transforms apply to boxes. (DESIGN.md's line
// "TensorBBox → TensorPoint" reads either way; fastai is the reference.)
//
// Each type has a thin C++ wrapper (class TensorImage : public TensorImageBase ... : public Tensor)
// for static typing; the wrapper's class chain mirrors the runtime chain, so a TensorMask can be
// passed where a TensorImageBase is expected. A wrapper always holds a tensor that is_a its type.
// Declare your own with STRATA_SEMANTIC_TYPE (at namespace scope, in a header):
//
//   STRATA_SEMANTIC_TYPE(TensorKeypoint, strata::TensorPoint);
//   TensorKeypoint k = cast<TensorKeypoint>(t);   // is_a<TensorPoint>(k) == true
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

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
  // Number of parent steps to the root (TensorBase has depth 0).
  int depth() const {
    int d = 0;
    for (const SemanticType* t = parent; t; t = t->parent) ++d;
    return d;
  }
};

// Base of metadata carried with a semantic tensor. Immutable once attached (shared by views and
// by every result an op derives from the tensor).
struct SemanticMeta {
  virtual ~SemanticMeta() = default;
  virtual std::string str() const { return ""; }
};

// Gives `out` the semantic type and metadata of the first input that has one (fastai's rule);
// returns out for chaining.
const Tensor& propagate_semantics(const Tensor& out, std::initializer_list<const Tensor*> inputs);
const Tensor& propagate_semantics(const Tensor& out, const std::vector<Tensor>& inputs);

// ---- the built-in runtime types (constant-initialized objects in tensor/semantic_types.cpp) ----
// Reach them through the wrappers: TensorImage::type() == &semantic_types::TensorImage.
namespace semantic_types {
extern const SemanticType TensorBase;
extern const SemanticType TensorImageBase;
extern const SemanticType TensorImage;
extern const SemanticType TensorImageBW;
extern const SemanticType TensorMask;
extern const SemanticType TensorPoint;
extern const SemanticType TensorBBox;
extern const SemanticType TensorCategory;
extern const SemanticType TensorMultiCategory;
extern const SemanticType TensorText;
extern const SemanticType LMTensorText;
}  // namespace semantic_types

// ---- runtime helpers ----
// "TensorImage", ... or "Tensor" for a plain (or undefined) tensor.
std::string semantic_name(const Tensor& t);
// True when t's semantic type is `type` or descends from it. `type` null (plain Tensor): true for
// any defined tensor.
bool is_a(const Tensor& t, const SemanticType* type);
// A new handle over the same data and graph position (Tensor::alias) tagged `type`, keeping t's
// metadata; t keeps its own type. `type` null gives a plain tensor (metadata dropped: it only
// travels with a semantic type).
Tensor cast(const Tensor& t, const SemanticType* type);
// An alias of t carrying `meta`. A plain tensor is tagged TensorBase so that the metadata travels.
Tensor with_meta(const Tensor& t, std::shared_ptr<const SemanticMeta> meta);

namespace detail {
// t itself when it already is_a `type` (or is undefined), else cast(t, type). The wrappers'
// constructors use it, so upcasting a wrapper never loses the more specific type.
Tensor tag_as(const Tensor& t, const SemanticType* type);
}  // namespace detail

// ---- C++ wrappers ----
// Declares a user-defined semantic type: `class Name : public Parent` whose runtime type has
// name "Name" and parent Parent::type() (a built-in or another user type). The runtime type
// object is a function-local static, so it is safe to use during static initialization.
// Constructing a wrapper from a Tensor tags it (an alias; the argument keeps its type) unless it
// already is_a Name: upcasting a wrapper never loses the more specific type.
#define STRATA_SEMANTIC_TYPE(Name, Parent)                                                         \
  class Name : public Parent {                                                                     \
   public:                                                                                         \
    Name() = default; /* undefined */                                                              \
    explicit Name(const ::strata::Tensor& t) : Parent(::strata::detail::tag_as(t, Name::type())) {} \
    static const ::strata::SemanticType* type() {                                                  \
      static const ::strata::SemanticType self{#Name, Parent::type()};                             \
      return &self;                                                                                \
    }                                                                                              \
  }

// The built-in wrappers: the same shape, with the runtime type objects of semantic_types.
#define STRATA_DETAIL_BUILTIN_SEMANTIC_TYPE(Name, Parent)                                          \
  class Name : public Parent {                                                                     \
   public:                                                                                         \
    Name() = default;                                                                              \
    explicit Name(const ::strata::Tensor& t) : Parent(::strata::detail::tag_as(t, Name::type())) {} \
    static const ::strata::SemanticType* type() { return &::strata::semantic_types::Name; }        \
  }

STRATA_DETAIL_BUILTIN_SEMANTIC_TYPE(TensorBase, Tensor);
STRATA_DETAIL_BUILTIN_SEMANTIC_TYPE(TensorImageBase, TensorBase);
STRATA_DETAIL_BUILTIN_SEMANTIC_TYPE(TensorImage, TensorImageBase);
STRATA_DETAIL_BUILTIN_SEMANTIC_TYPE(TensorImageBW, TensorImageBase);
STRATA_DETAIL_BUILTIN_SEMANTIC_TYPE(TensorMask, TensorImageBase);
STRATA_DETAIL_BUILTIN_SEMANTIC_TYPE(TensorPoint, TensorBase);
STRATA_DETAIL_BUILTIN_SEMANTIC_TYPE(TensorBBox, TensorPoint);  // fastai: TensorBBox(TensorPoint)
STRATA_DETAIL_BUILTIN_SEMANTIC_TYPE(TensorCategory, TensorBase);
STRATA_DETAIL_BUILTIN_SEMANTIC_TYPE(TensorMultiCategory, TensorBase);
STRATA_DETAIL_BUILTIN_SEMANTIC_TYPE(TensorText, TensorBase);
STRATA_DETAIL_BUILTIN_SEMANTIC_TYPE(LMTensorText, TensorText);

// ---- typed helpers ----
template <class W>
concept TensorWrapper = std::is_base_of_v<Tensor, W>;

// is_a<TensorImageBase>(t): t's runtime type is W's or descends from it. is_a<Tensor>: defined.
template <TensorWrapper W>
bool is_a(const Tensor& t) {
  if constexpr (std::is_same_v<W, Tensor>) return t.defined();
  else return is_a(t, W::type());
}

// cast<TensorMask>(t): re-tag without copying (same storage and data pointer, a new handle; t
// keeps its type). cast<Tensor>(t) gives a plain tensor.
template <TensorWrapper W>
W cast(const Tensor& t) {
  if constexpr (std::is_same_v<W, Tensor>) return cast(t, nullptr);
  else return W(cast(t, W::type()));
}

// ---- metadata ----
struct ImageSize {
  int64_t h = 0;
  int64_t w = 0;
  bool operator==(const ImageSize&) const = default;
};
using Vocab = std::shared_ptr<const std::vector<std::string>>;
Vocab make_vocab(std::vector<std::string> words);

// fastai's `img_size` on TensorImage / TensorMask.
struct ImageMeta : SemanticMeta {
  ImageSize img_size;
  explicit ImageMeta(ImageSize size = {}) : img_size(size) {}
  std::string str() const override;
};
// fastai's `img_size` on TensorPoint: the size of the image the coordinates refer to.
struct PointMeta : SemanticMeta {
  ImageSize img_size;
  explicit PointMeta(ImageSize size = {}) : img_size(size) {}
  std::string str() const override;
};
// A box is two points: meta_as<PointMeta> also finds a BBoxMeta, as TensorBBox is a TensorPoint.
struct BBoxMeta : PointMeta {
  using PointMeta::PointMeta;
};
// fastai's `vocab` on TensorCategory / TensorMultiCategory (the class names).
struct CategoryMeta : SemanticMeta {
  Vocab vocab;
  explicit CategoryMeta(Vocab v = nullptr) : vocab(std::move(v)) {}
  std::string str() const override;
};
// The token vocabulary of a TensorText.
struct TextMeta : SemanticMeta {
  Vocab vocab;
  explicit TextMeta(Vocab v = nullptr) : vocab(std::move(v)) {}
  std::string str() const override;
};

// with_meta(img, ImageMeta{{32, 48}}): an alias of t carrying a copy of `meta`, with t's static
// type (a plain Tensor argument becomes TensorBase at run time, see the non-template form).
template <TensorWrapper W, class M>
  requires std::is_base_of_v<SemanticMeta, std::decay_t<M>>
W with_meta(const W& t, M&& meta) {
  Tensor out = with_meta(static_cast<const Tensor&>(t), std::make_shared<const std::decay_t<M>>(std::forward<M>(meta)));
  if constexpr (std::is_same_v<W, Tensor>) return out;
  else return W(out);
}

// The metadata of t as an M (or a type derived from M); nullptr when absent or of another type.
template <class M>
const M* meta_as(const Tensor& t) {
  return t.defined() ? dynamic_cast<const M*>(t.meta().get()) : nullptr;
}

}  // namespace strata
