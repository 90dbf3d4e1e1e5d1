// TypeKey, the C++ type registry, and the type-erased dispatch table behind TypeDispatch.
//
// Why it is shaped this way: the lookup (walk the first argument's chain, and for each ancestor
// the second argument's chain, probing a hash table of registered pairs) is the same for every
// signature, so it lives here once; the header's TypeDispatch<Sig> only stores std::functions by
// slot number. Chains are a handful of links, so a call costs a few hash probes and no cache is
// needed (nothing to invalidate when a type or function is registered later).
// The registry of C++ type names and parents is global (like Python's class objects) and guarded
// by a shared_mutex: data-loading workers dispatch concurrently, registration is rare.
#include "tensor/dispatch.h"

#include <cxxabi.h>
#include <fmt/format.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <typeindex>

namespace strata {

namespace {

struct CppTypeInfo {
  std::string name;
  TypeKey parent;
};

std::string demangle(const std::type_info& t) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> out(abi::__cxa_demangle(t.name(), nullptr, nullptr, &status), std::free);
  return status == 0 && out ? std::string(out.get()) : std::string(t.name());
}

class TypeRegistry {
 public:
  static TypeRegistry& get() {
    static TypeRegistry registry;
    return registry;
  }

  TypeKey parent_of(const std::type_info& t) const {
    std::shared_lock lock(mu_);
    return parent_unlocked(TypeKey(t));
  }

  std::string name_of(const std::type_info& t) const {
    {
      std::shared_lock lock(mu_);
      auto it = types_.find(std::type_index(t));
      if (it != types_.end()) return it->second.name;
    }
    return demangle(t);
  }

  void set(const std::type_info& t, std::string name, TypeKey parent) {
    STRATA_CHECK(t != typeid(Tensor), ValueError,
                 "register_type: Tensor's place in the type hierarchy is fixed (parent object); got name {}", name);
    std::unique_lock lock(mu_);
    const TypeKey self(t);
    for (TypeKey k = parent;; k = parent_unlocked(k)) {
      STRATA_CHECK(!(k == self), ValueError,
                   "register_type: giving {} the parent {} would make a cycle in the type hierarchy", name,
                   name_unlocked(parent));
      if (k.is_any()) break;
    }
    types_[std::type_index(t)] = CppTypeInfo{std::move(name), parent};
  }

 private:
  TypeRegistry() {
    types_.emplace(std::type_index(typeid(Tensor)), CppTypeInfo{"Tensor", TypeKey::any()});
    types_.emplace(std::type_index(typeid(std::string)), CppTypeInfo{"str", TypeKey::any()});
    types_.emplace(std::type_index(typeid(std::filesystem::path)), CppTypeInfo{"Path", TypeKey::any()});
    types_.emplace(std::type_index(typeid(int64_t)), CppTypeInfo{"int64", TypeKey::any()});
    types_.emplace(std::type_index(typeid(int32_t)), CppTypeInfo{"int32", TypeKey::any()});
    types_.emplace(std::type_index(typeid(double)), CppTypeInfo{"float", TypeKey::any()});
    types_.emplace(std::type_index(typeid(float)), CppTypeInfo{"float32", TypeKey::any()});
    types_.emplace(std::type_index(typeid(bool)), CppTypeInfo{"bool", TypeKey::any()});
  }

  // The parent of any key, reading the table without locking (the caller holds the lock).
  TypeKey parent_unlocked(const TypeKey& k) const {
    if (k.is_any()) return k;
    if (const SemanticType* s = k.semantic()) return s->parent ? TypeKey(s->parent) : TypeKey::of<Tensor>();
    auto it = types_.find(std::type_index(*k.cpp_type()));
    return it == types_.end() ? TypeKey::any() : it->second.parent;
  }
  std::string name_unlocked(const TypeKey& k) const {
    if (k.is_any()) return "object";
    if (const SemanticType* s = k.semantic()) return s->name;
    auto it = types_.find(std::type_index(*k.cpp_type()));
    return it == types_.end() ? demangle(*k.cpp_type()) : it->second.name;
  }

  mutable std::shared_mutex mu_;
  std::unordered_map<std::type_index, CppTypeInfo> types_;
};

}  // namespace

// ---- TypeKey ----
TypeKey TypeKey::parent() const {
  if (is_any()) return *this;
  if (sem_) return sem_->parent ? TypeKey(sem_->parent) : TypeKey::of<Tensor>();
  if (*cpp_ == typeid(Tensor)) return TypeKey::any();  // fixed: no registry lookup on tensor chains
  return TypeRegistry::get().parent_of(*cpp_);
}

std::string TypeKey::name() const {
  if (is_any()) return "object";
  if (sem_) return sem_->name;
  return TypeRegistry::get().name_of(*cpp_);
}

int TypeKey::distance_to(const TypeKey& ancestor) const {
  int d = 0;
  for (TypeKey k = *this;; k = k.parent(), ++d) {
    if (k == ancestor) return d;
    if (k.is_any()) return -1;
  }
}

bool TypeKey::operator==(const TypeKey& o) const {
  if (sem_ != o.sem_) return false;
  if (cpp_ == o.cpp_) return true;
  return cpp_ && o.cpp_ && *cpp_ == *o.cpp_;
}

void register_type(const std::type_info& type, std::string name, TypeKey parent) {
  TypeRegistry::get().set(type, std::move(name), parent);
}

namespace {
// A std::any holding a built-in wrapper (TensorImage, ...) rather than a Tensor: key it by the
// tensor's runtime type too. (Wrappers declared with STRATA_SEMANTIC_TYPE are not known here; store
// such items as Tensor.)
template <class... W>
const Tensor* any_wrapper_tensor(const std::any& v) {
  const Tensor* out = nullptr;
  ((out = out ? out : static_cast<const Tensor*>(std::any_cast<W>(&v))), ...);
  return out;
}
}  // namespace

TypeKey type_key_of(const std::any& v) {
  if (!v.has_value()) return TypeKey::any();
  if (const Tensor* t = std::any_cast<Tensor>(&v)) return type_key_of(*t);
  if (const Tensor* t = any_wrapper_tensor<TensorBase, TensorImageBase, TensorImage, TensorImageBW, TensorMask,
                                           TensorPoint, TensorBBox, TensorCategory, TensorMultiCategory,
                                           TensorText, LMTensorText>(v))
    return type_key_of(*t);
  return TypeKey(v.type());
}

// ---- DispatchCore ----
namespace detail {

size_t DispatchCore::PairHash::operator()(const std::pair<TypeKey, TypeKey>& p) const {
  size_t h = p.first.hash();
  h ^= p.second.hash() + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h;
}

DispatchCore::DispatchCore(std::string name, int arity) : name_(std::move(name)), arity_(arity) {}

size_t DispatchCore::add(const TypeKey& a, const TypeKey& b) {
  auto [it, inserted] = slots_.try_emplace({a, b}, keys_.size());
  if (inserted) keys_.emplace_back(a, b);
  return it->second;
}

size_t DispatchCore::find(const TypeKey& a, const TypeKey& b) const {
  if (slots_.empty()) return npos;
  // The second argument's chain, most specific first, built lazily while the first ancestor of a
  // is probed and reused for the others (an exact hit needs no parent lookups at all). Chains are
  // short: a fixed buffer, with a vector only for very deep user hierarchies.
  constexpr size_t kInline = 12;
  std::array<TypeKey, kInline> inline_chain;
  std::vector<TypeKey> deep_chain;
  size_t n = 0;
  bool complete = false;
  auto b_at = [&](size_t i) -> const TypeKey& { return i < kInline ? inline_chain[i] : deep_chain[i - kInline]; };
  auto push_b = [&](const TypeKey& k) {
    if (n < kInline) inline_chain[n] = k;
    else deep_chain.push_back(k);
    ++n;
    complete = k.is_any();
  };
  push_b(b);
  // First-argument distance dominates: the outer loop walks a's chain.
  for (TypeKey k = a;; k = k.parent()) {
    for (size_t i = 0;; ++i) {
      if (i == n) {
        if (complete) break;
        push_b(b_at(n - 1).parent());
      }
      auto it = slots_.find({k, b_at(i)});
      if (it != slots_.end()) return it->second;
    }
    if (k.is_any()) return npos;
  }
}

std::string DispatchCore::key_str(const TypeKey& a, const TypeKey& b) const {
  return arity_ == 1 ? fmt::format("({})", a.name()) : fmt::format("({}, {})", a.name(), b.name());
}

std::string DispatchCore::str() const {
  std::string out = name_ + ":";
  if (keys_.empty()) return out + " (empty)";
  for (size_t i = 0; i < keys_.size(); ++i) out += (i ? ", " : " ") + key_str(keys_[i].first, keys_[i].second);
  return out;
}

void DispatchCore::throw_no_match(const TypeKey& a, const TypeKey& b) const {
  std::string registered;
  for (size_t i = 0; i < keys_.size(); ++i) registered += (i ? ", " : "") + key_str(keys_[i].first, keys_[i].second);
  STRATA_THROW(DispatchError, "{}: no function registered for {}; {}", name_, key_str(a, b),
               keys_.empty() ? std::string("the table is empty") : "registered: " + registered);
}

}  // namespace detail
}  // namespace strata
