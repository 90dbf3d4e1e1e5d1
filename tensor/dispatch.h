#pragma once
// TypeDispatch: fastai's (fastcore's) type dispatch. A table of functions keyed by the runtime type
// of one or two arguments; a call runs the most specific registration, found by walking each
// argument type's parent chain. It drives Transform encodes/decodes (an image is resized
// bilinearly, a mask nearest, a point by its coordinates), and show_batch / show_results over
// (input type, target type).
//
//   TypeDispatch<Tensor(const Tensor&)> resize{"resize"};
//   resize.add(TensorImageBase::type(), [](const Tensor& x) { return bilinear(x); });
//   resize.add(TensorMask::type(),      [](const Tensor& x) { return nearest(x); });
//   resize.add(TensorPoint::type(),     [](const Tensor& x) { return x; });   // also TensorBBox
//   resize(img);   // bilinear (TensorImage -> TensorImageBase);  resize(mask): nearest
//   resize(plain_tensor);   // DispatchError "resize: no function registered for (Tensor); ..."
//
//   TypeDispatch<void(const std::any&, const std::any&, Axes&)> show{"show_batch"};  // two keys
//   show.add(TensorImage::type(), TensorCategory::type(), show_image_with_label);
//   show.add(TypeKey::of<Tensor>(), show_anything);   // second key defaults to Any
//
// Types are TypeKeys: a semantic type (SemanticType*), a C++ type (its typeid: std::string,
// std::filesystem::path, int64_t, a data-layer struct such as HostImage, ...) or Any, the root
// (fastai's `object`). Parent chains:
//   TensorImage -> TensorImageBase -> TensorBase -> Tensor -> Any     (plain tensors key as Tensor)
//   std::string -> Any                  (or a parent given with register_type<T>(name, parent))
//
// The rule (fastcore's TypeDispatch): for arguments (a, b), the registration (ra, rb) minimizing
// (distance a->ra, distance b->rb) lexicographically wins: the first argument's specificity
// dominates, so (TensorImage, Any) beats (TensorImageBase, TensorCategory) for a (TensorImage,
// TensorCategory) call. Every type has one parent, so a distance names a unique ancestor and two
// different registrations can never tie; registering the same key (pair) again replaces the
// function. One-key registrations in a two-key table mean (type, Any).
//
// The dispatch logic is type-erased (detail::DispatchCore, tensor/dispatch.cpp); TypeDispatch is a
// thin typed wrapper that owns the std::functions.
#include <any>
#include <cstddef>
#include <functional>
#include <string>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tensor/semantic.h"

namespace strata {

// A runtime type: a semantic tensor type, a C++ type, or Any (the root). Cheap to copy.
class TypeKey {
 public:
  TypeKey() = default;  // Any
  // A semantic type; null is the plain-tensor key, TypeKey::of<Tensor>(). Implicit, so that
  // `d.add(TensorImage::type(), f)` reads naturally.
  TypeKey(const SemanticType* type)  // NOLINT(google-explicit-constructor)
      : sem_(type),
        cpp_(type ? nullptr : &typeid(Tensor)),
        hash_(type ? std::hash<const void*>{}(type) : cpp_->hash_code()) {}
  // A C++ type (typeid(Tensor) is the plain-tensor key).
  explicit TypeKey(const std::type_info& type) : cpp_(&type), hash_(type.hash_code()) {}

  static TypeKey any() { return {}; }
  // TypeKey::of<std::string>(); a semantic wrapper (TensorImage) gives its runtime type.
  template <class T>
  static TypeKey of() {
    if constexpr (requires { { T::type() } -> std::convertible_to<const SemanticType*>; }) return TypeKey(T::type());
    else return TypeKey(typeid(T));
  }

  bool is_any() const { return !sem_ && !cpp_; }
  bool is_semantic() const { return sem_ != nullptr; }
  const SemanticType* semantic() const { return sem_; }  // null unless is_semantic()
  const std::type_info* cpp_type() const { return cpp_; }  // null unless a C++ type

  // The next type up the chain; Any's parent is Any. A root semantic type's parent is Tensor.
  TypeKey parent() const;
  // "TensorImage", "Tensor", "str", "object" (Any), a registered name, or the demangled C++ name.
  std::string name() const;
  // Parent steps from this type up to `ancestor`; -1 when `ancestor` is not on the chain.
  int distance_to(const TypeKey& ancestor) const;
  bool is_a(const TypeKey& ancestor) const { return distance_to(ancestor) >= 0; }

  bool operator==(const TypeKey& o) const;
  size_t hash() const { return hash_; }

 private:
  const SemanticType* sem_ = nullptr;
  const std::type_info* cpp_ = nullptr;
  size_t hash_ = 0;  // computed once: a C++ type's hash_code() hashes its mangled name
};

struct TypeKeyHash {
  size_t operator()(const TypeKey& k) const { return k.hash(); }
};

// Names a C++ type for messages and gives it a parent (default Any), like a Python class
// statement: register_type<HostImage>("HostImage"); register_type<JpegPath>("JpegPath",
// TypeKey::of<std::filesystem::path>()). Re-registering replaces; a parent chain that would loop
// throws ValueError. Pre-registered: Tensor, str (std::string), Path (std::filesystem::path),
// int64, int32, float (double), float32, bool. Tensor's place is fixed (parent Any: the semantic
// chains run through it), so registering Tensor throws ValueError.
void register_type(const std::type_info& type, std::string name, TypeKey parent = TypeKey::any());
template <class T>
void register_type(std::string name, TypeKey parent = TypeKey::any()) {
  register_type(typeid(T), std::move(name), parent);
}

// ---- the dispatch key of a value ----
// A tensor keys by its runtime semantic type (plain: Tensor), whatever its static wrapper type;
// a std::any by what it holds (a Tensor or built-in wrapper inside: the tensor's semantic type;
// empty: Any; store tensors of user-declared wrapper types as Tensor); anything else by its static
// C++ type. Overload type_key_of for your own variant-like item types (found by ADL).
inline TypeKey type_key_of(const Tensor& t) {
  return t.defined() ? TypeKey(t.semantic_type()) : TypeKey::of<Tensor>();
}
TypeKey type_key_of(const std::any& v);
template <class T>
  requires(!std::is_base_of_v<Tensor, T> && !std::is_same_v<T, std::any>)
TypeKey type_key_of(const T&) {
  return TypeKey::of<T>();
}

namespace detail {

// The type-erased table: (key, key) -> slot number. The typed wrapper keeps the functions by slot.
class DispatchCore {
 public:
  static constexpr size_t npos = static_cast<size_t>(-1);
  DispatchCore(std::string name, int arity);

  // The slot for exactly (a, b): a new one, or the existing one when the pair is registered.
  size_t add(const TypeKey& a, const TypeKey& b);
  // The most specific slot for argument types (a, b), or npos.
  size_t find(const TypeKey& a, const TypeKey& b) const;
  // The DispatchError for a call with no match: "name: no function registered for (A, B); ...".
  [[noreturn]] void throw_no_match(const TypeKey& a, const TypeKey& b) const;

  const std::string& name() const { return name_; }
  int arity() const { return arity_; }
  size_t size() const { return keys_.size(); }
  // One line per registration in registration order: "(TensorImage, TensorCategory)".
  std::string str() const;

 private:
  struct PairHash {
    size_t operator()(const std::pair<TypeKey, TypeKey>& p) const;
  };
  std::string key_str(const TypeKey& a, const TypeKey& b) const;

  std::string name_;
  int arity_;
  std::vector<std::pair<TypeKey, TypeKey>> keys_;  // by slot
  std::unordered_map<std::pair<TypeKey, TypeKey>, size_t, PairHash> slots_;
};

template <class Sig>
struct DefaultDispatchArity;
template <class R, class... Args>
struct DefaultDispatchArity<R(Args...)> {
  static_assert(sizeof...(Args) >= 1, "TypeDispatch: the function must take at least one argument");
  static constexpr int value = sizeof...(Args) >= 2 ? 2 : 1;
};

}  // namespace detail

// Dispatches on the first N arguments (default: the first two, or one for a one-argument
// signature); the remaining arguments are passed through.
template <class Sig, int N = detail::DefaultDispatchArity<Sig>::value>
class TypeDispatch;

template <class R, class... Args, int N>
class TypeDispatch<R(Args...), N> {
  static_assert(N == 1 || N == 2, "TypeDispatch: dispatch on one or two arguments");
  static_assert(sizeof...(Args) >= N, "TypeDispatch: fewer arguments than dispatch keys");

 public:
  using Function = std::function<R(Args...)>;

  explicit TypeDispatch(std::string name) : core_(std::move(name), N) {}

  // Registers f for first-argument type a (and Any for the second). Replaces an earlier f.
  TypeDispatch& add(const TypeKey& a, Function f) { return add_pair(a, TypeKey::any(), std::move(f)); }
  TypeDispatch& add(const TypeKey& a, const TypeKey& b, Function f)
    requires(N == 2)
  {
    return add_pair(a, b, std::move(f));
  }

  // The most specific function for these argument types, or nullptr.
  const Function* find(const TypeKey& a, const TypeKey& b = TypeKey::any()) const {
    const size_t slot = core_.find(a, b);
    return slot == detail::DispatchCore::npos ? nullptr : &fns_[slot];
  }
  bool has(const TypeKey& a, const TypeKey& b = TypeKey::any()) const { return find(a, b) != nullptr; }

  // Calls the most specific function; DispatchError naming the table and types when none.
  R operator()(Args... args) const {
    const auto [a, b] = keys(args...);
    const size_t slot = core_.find(a, b);
    if (slot == detail::DispatchCore::npos) core_.throw_no_match(a, b);
    return fns_[slot](std::forward<Args>(args)...);
  }

  const std::string& name() const { return core_.name(); }
  size_t size() const { return core_.size(); }
  std::string str() const { return core_.str(); }

 private:
  TypeDispatch& add_pair(const TypeKey& a, const TypeKey& b, Function f) {
    const size_t slot = core_.add(a, b);
    if (slot == fns_.size()) fns_.push_back(std::move(f));
    else fns_[slot] = std::move(f);
    return *this;
  }
  template <class First, class... Rest>
  static std::pair<TypeKey, TypeKey> keys(const First& first, const Rest&... rest) {
    if constexpr (N == 1) {
      return {type_key_of(first), TypeKey::any()};
    } else {
      return {type_key_of(first), type_key_of(std::get<0>(std::forward_as_tuple(rest...)))};
    }
  }

  detail::DispatchCore core_;
  std::vector<Function> fns_;  // by slot
};

}  // namespace strata

template <>
struct std::hash<strata::TypeKey> {
  size_t operator()(const strata::TypeKey& k) const { return k.hash(); }
};
