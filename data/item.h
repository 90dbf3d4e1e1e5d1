#pragma once
// Item: the value that transforms, pipelines, datasets and loaders pass around (fastai passes any
// Python object; C++ needs one closed value type). An Item is one of
//
//   None | Tensor (with its semantic type) | str | Path | int64 | float (double)
//   | Tuple (mapped over by ordinary transforms) | List (one value: the labels of a multi-label item)
//   | Image (a host image, data/image.h) | Object (any other C++ value in a std::any: a CSV Row, ...)
//
// The Tuple/List split is fastai's tuple/list rule: `Transform` maps over the elements of a tuple
// (so an (image, mask) pair is flipped as a pair), but treats a list as one value.
//
// Items dispatch with TypeDispatch (type_key_of(const Item&)): a tensor keys by its semantic type
// (TensorImage -> TensorImageBase -> TensorBase -> Tensor), the others by their C++ type: str, Path,
// int64, float, tuple (Tuple), list (List), Image (ImagePtr) or the held object's type.
//
//   Item x = std::string("cat");          Item t = TensorImage(zeros({3, 4, 4}));
//   Item pair = Item::tuple({t, x});      pair[1].str() == "cat"
#include <any>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "tensor/dispatch.h"
#include "tensor/semantic.h"
#include "tensor/tensor.h"

namespace strata::data {

struct Image;  // a host image: data/image.h
using ImagePtr = std::shared_ptr<const Image>;

// Dispatch keys for the two sequence kinds (registered as "tuple" and "list"). Register an
// encodes for them with `encodes<Tuple>(...)`: the function receives `const std::vector<Item>&`.
struct Tuple {};
struct List {};
// Dispatch key of a host image that is a segmentation mask (fastai's PILMask); its parent is
// ImagePtr ("Image"), so image functions apply to masks unless a mask one is registered.
struct PILMask {};

class Item {
 public:
  enum class Kind { None, Tensor, Str, Path, Int, Float, Tuple, List, Image, Object };

  Item() = default;                                        // None
  // Out of line: keeps the variant's copy code in one place (and GCC 12's spurious
  // -Wmaybe-uninitialized about it out of every caller).
  Item(const Item&);
  Item(Item&&) noexcept;
  Item& operator=(const Item&);
  Item& operator=(Item&&) noexcept;
  ~Item();
  Item(Tensor t);                                          // NOLINT: any semantic wrapper converts
  Item(std::string s) : kind_(Kind::Str), v_(std::move(s)) {}  // NOLINT
  Item(const char* s) : Item(std::string(s)) {}            // NOLINT
  Item(std::filesystem::path p) : kind_(Kind::Path), v_(std::move(p)) {}  // NOLINT
  Item(int64_t i) : kind_(Kind::Int), v_(i) {}             // NOLINT
  Item(int i) : Item(static_cast<int64_t>(i)) {}           // NOLINT
  Item(double d) : kind_(Kind::Float), v_(d) {}            // NOLINT
  Item(ImagePtr img);                                      // NOLINT
  // A host image that is a mask (keys as PILMask).
  static Item mask(ImagePtr img);
  static Item tuple(std::vector<Item> elems);
  static Item list(std::vector<Item> elems);
  // Any other C++ value (a Row, a struct of yours): dispatches on its type, T.
  static Item object(std::any value);

  Kind kind() const { return kind_; }
  bool is_none() const { return kind_ == Kind::None; }
  bool is_tensor() const { return kind_ == Kind::Tensor; }
  bool is_str() const { return kind_ == Kind::Str; }
  bool is_path() const { return kind_ == Kind::Path; }
  bool is_int() const { return kind_ == Kind::Int; }
  bool is_float() const { return kind_ == Kind::Float; }
  bool is_number() const { return is_int() || is_float(); }
  bool is_tuple() const { return kind_ == Kind::Tuple; }
  bool is_list() const { return kind_ == Kind::List; }
  bool is_sequence() const { return is_tuple() || is_list(); }
  bool is_image() const { return kind_ == Kind::Image; }  // masks too
  bool is_mask() const { return kind_ == Kind::Image && mask_; }
  bool is_object() const { return kind_ == Kind::Object; }

  // Accessors throw ValueError naming the expected and the actual kind.
  const Tensor& tensor() const;
  const std::string& str() const;
  const std::filesystem::path& path() const;
  int64_t as_int() const;     // an int (a float that is integral is accepted)
  double as_float() const;    // an int or a float
  const std::vector<Item>& elems() const;  // a tuple's or a list's elements
  const ImagePtr& image() const;
  const std::any& object() const;
  template <class T>
  const T* object_as() const {
    return is_object() ? std::any_cast<T>(&std::get<std::any>(v_)) : nullptr;
  }

  // Tuple / list access.
  size_t size() const { return elems().size(); }
  const Item& operator[](size_t i) const;

  // The dispatch key (see the file comment).
  TypeKey type_key() const;
  // "str", "Path", "tuple", "TensorImage", ...
  std::string kind_name() const;
  // A readable one-line form: 'cat', Path('a/b.png'), 3, 0.5, (x, y), [a, b],
  // TensorImage([3, 4, 4] f32), TensorCategory(2) ... small tensors show their values.
  std::string repr() const;

  // Deep equality: tensors compare by semantic type, shape and values (any dtype, any device);
  // images and objects by identity.
  bool operator==(const Item& o) const;
  // Ordering for scalar kinds of the same kind (numbers numerically, strings and paths
  // lexicographically): what sorts a vocab. Throws ValueError for other kinds.
  bool operator<(const Item& o) const;

 private:
  Kind kind_ = Kind::None;
  bool mask_ = false;
  std::variant<std::monostate, Tensor, std::string, std::filesystem::path, int64_t, double, std::vector<Item>,
               ImagePtr, std::any>
      v_;
};

TypeKey type_key_of(const Item& x);  // found by ADL from TypeDispatch

// Items from paths / strings (what get_files returns, what a DataBlock wants).
std::vector<Item> to_items(const std::vector<std::filesystem::path>& paths);
std::vector<Item> to_items(const std::vector<std::string>& strs);

// ---- typed views of an Item: what `encodes<T>` hands its function ----
template <class T>
struct ItemView {
  // Object kinds: the held T.
  static TypeKey key() { return TypeKey::of<T>(); }
  static const T& get(const Item& x) { return *x.object_as<T>(); }
};
template <>
struct ItemView<Item> {
  static TypeKey key() { return TypeKey::any(); }
  static const Item& get(const Item& x) { return x; }
};
template <>
struct ItemView<Tensor> {
  static TypeKey key() { return TypeKey::of<Tensor>(); }
  static const Tensor& get(const Item& x) { return x.tensor(); }
};
template <TensorWrapper W>
  requires(!std::is_same_v<W, Tensor>)
struct ItemView<W> {
  static TypeKey key() { return TypeKey(W::type()); }
  static W get(const Item& x) { return W(x.tensor()); }
};
template <>
struct ItemView<std::string> {
  static TypeKey key() { return TypeKey::of<std::string>(); }
  static const std::string& get(const Item& x) { return x.str(); }
};
template <>
struct ItemView<std::filesystem::path> {
  static TypeKey key() { return TypeKey::of<std::filesystem::path>(); }
  static const std::filesystem::path& get(const Item& x) { return x.path(); }
};
template <>
struct ItemView<int64_t> {
  static TypeKey key() { return TypeKey::of<int64_t>(); }
  static int64_t get(const Item& x) { return x.as_int(); }
};
template <>
struct ItemView<double> {
  static TypeKey key() { return TypeKey::of<double>(); }
  static double get(const Item& x) { return x.as_float(); }
};
template <>
struct ItemView<Tuple> {
  static TypeKey key() { return TypeKey::of<Tuple>(); }
  static const std::vector<Item>& get(const Item& x) { return x.elems(); }
};
template <>
struct ItemView<List> {
  static TypeKey key() { return TypeKey::of<List>(); }
  static const std::vector<Item>& get(const Item& x) { return x.elems(); }
};
template <>
struct ItemView<ImagePtr> {
  static TypeKey key() { return TypeKey::of<ImagePtr>(); }
  static const ImagePtr& get(const Item& x) { return x.image(); }
};
template <>
struct ItemView<PILMask> {  // f gets the mask's const ImagePtr&
  static TypeKey key() { return TypeKey::of<PILMask>(); }
  static const ImagePtr& get(const Item& x) { return x.image(); }
};

}  // namespace strata::data
