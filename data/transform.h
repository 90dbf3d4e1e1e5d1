#pragma once
// Transform: fastcore's Transform. A transform owns type-dispatched `encodes` and `decodes`
// functions (one per registered type; the most specific wins, walking semantic and C++ parent
// chains; an item of a type with no registration passes through unchanged), an optional `setups`
// (learns state, e.g. a vocab, from the items it will see), an `order` (Pipeline sorts by it) and
// a `split_idx` (set: the transform only runs when the caller's split_idx equals it, so
// augmentation with split_idx 0 runs on the training set only).
//
// Tuples: an ordinary Transform maps over the elements of a tuple (recursively), so
// (image, mask) goes through encodes<TensorImage> and encodes<TensorMask> as a pair; an
// ItemTransform sees the whole tuple (register encodes<Tuple> or encodes<Item>).
//
// Type retention (fastai's retain_type): when an encodes/decodes returns a tensor whose type is
// an ancestor of the input's semantic type (typically a plain Tensor built by an op that drops
// the tag), the result takes the input's type and, if it has none, its metadata. `retain_type =
// false` turns that off; `encodes<T>(f, TensorCategory::type())` forces a return type (fastai's
// return annotation).
//
//   auto t = std::make_shared<Transform>("Add1");
//   t->encodes<TensorImage>([](const TensorImage& x) { return x + 1.0; })
//     .decodes<TensorImage>([](const TensorImage& x) { return x - 1.0; });
//   Item y = (*t)(img);          // TensorImage
//   t->decode(y) == img;
//
// Transforms are shared (std::shared_ptr<Transform>, TfmPtr) and not copyable: subclasses
// register lambdas capturing `this` in their constructors.
#include <any>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "data/item.h"
#include "data/rng.h"
#include "data/source.h"
#include "tensor/dispatch.h"
#include "tensor/error.h"

namespace strata::data {

// Thrown from a transform (or create_item) to drop the item from its batch (fastai's SkipItem).
class SkipItem : public Error {
 public:
  explicit SkipItem(const std::string& why = "SkipItem") : Error(why) {}
};

class Transform {
 public:
  explicit Transform(std::string name = "Transform");
  virtual ~Transform() = default;
  Transform(const Transform&) = delete;
  Transform& operator=(const Transform&) = delete;

  std::string name;
  int order = 0;
  std::optional<int> split_idx;      // none: runs on every split
  bool retain_type = true;
  std::optional<bool> train_setup;   // overrides the caller's train_setup in setup()

  // Registers f for items viewed as T: a semantic wrapper or Tensor, std::string,
  // std::filesystem::path, int64_t, double, Tuple / List (f gets const std::vector<Item>&),
  // ImagePtr, Item (any type) or any other C++ type held in an object Item. f returns something
  // an Item can be made of. `returns` forces the result's semantic type.
  template <class T, class F>
  Transform& encodes(F f, const SemanticType* returns = nullptr) {
    enc_.add(ItemView<T>::key(), wrap<T>(std::move(f), returns));
    return *this;
  }
  template <class T, class F>
  Transform& decodes(F f, const SemanticType* returns = nullptr) {
    dec_.add(ItemView<T>::key(), wrap<T>(std::move(f), returns));
    return *this;
  }
  Transform& setups(std::function<void(const ItemSource&)> f) {
    setups_ = std::move(f);
    return *this;
  }

  // fastai's __call__: encodes (skipped when split_idx is set and differs from the caller's).
  Item operator()(const Item& x, std::optional<int> split_idx = std::nullopt) const { return encode_item(x, split_idx); }
  Item decode(const Item& x, std::optional<int> split_idx = std::nullopt) const;
  // fastai's setup: runs setups over `items` (its training part when train_setup, or this
  // transform's own train_setup when set). Null items: setups is not called.
  void setup(const ItemSource* items = nullptr, bool train_setup = false);

  bool has_encodes(const Item& x) const { return enc_.has(x.type_key()); }
  bool has_decodes(const Item& x) const { return dec_.has(x.type_key()); }
  bool has_setups() const { return static_cast<bool>(setups_); }
  // "Name" or "Name -- {order: 1, split_idx: 0}" when they are set.
  virtual std::string str() const;

 protected:
  using Table = TypeDispatch<Item(const Item&, bool*), 1>;
  // The whole encode step (split_idx check, then call). RandTransform draws here first.
  virtual Item encode_item(const Item& x, std::optional<int> split_idx) const;
  // Applies the table to x once split_idx passed: Transform maps over tuples, ItemTransform not.
  virtual Item call(const Item& x, bool decode) const;
  // Applies the table to one value (no tuple mapping), with type retention.
  Item apply_one(const Table& table, const Item& x) const;
  static Item retain_type_of(const Item& r, const Item& x);
  bool skips(std::optional<int> caller_split_idx) const { return split_idx && caller_split_idx != split_idx; }
  const Table& table(bool decode) const { return decode ? dec_ : enc_; }
  // Subclasses that learn state override this (default: the function given to setups()).
  virtual void setups_impl(const ItemSource& items) {
    if (setups_) setups_(items);
  }

 private:
  template <class T, class F>
  static Table::Function wrap(F f, const SemanticType* returns) {
    return [f = std::move(f), returns](const Item& x, bool* forced) -> Item {
      Item r(f(ItemView<T>::get(x)));
      if (returns && r.is_tensor() && r.tensor().semantic_type() != returns) {
        *forced = true;
        return Item(cast(r.tensor(), returns));
      }
      if (returns) *forced = true;
      return r;
    };
  }

  Table enc_;
  Table dec_;
  std::function<void(const ItemSource&)> setups_;
};

using TfmPtr = std::shared_ptr<Transform>;

// fastcore's ItemTransform: encodes/decodes see the whole item (a tuple is not mapped over).
class ItemTransform : public Transform {
 public:
  explicit ItemTransform(std::string name = "ItemTransform") : Transform(std::move(name)) {}

 protected:
  Item call(const Item& x, bool decode) const override;
};

// fastai's RandTransform: before each item, before_call draws whether to apply (probability p)
// once for the whole item (so both halves of an (image, mask) pair are flipped together).
// Draws come from data::rng() (data/rng.h), which a DataLoader seeds per batch. Runs on the
// training set only (split_idx 0) unless told otherwise.
//
// The draw is per thread (worker threads transform different items at once): read it with
// do_(); a subclass that draws more (an angle, a crop offset) keeps it in state<S>().
class RandTransform : public Transform {
 public:
  explicit RandTransform(std::string name = "RandTransform", double p = 1.0);
  double p;

  // fastai's before_call: sets do_() = (p == 1 or rng().uniform() < p). Override to draw more;
  // call RandTransform::before_call first.
  virtual void before_call(const Item& x, std::optional<int> split_idx) const;
  bool do_() const;
  void set_do(bool v) const;
  // This thread's scratch state of type S for the current item (default-constructed once).
  template <class S>
  S& state() const {
    std::any& a = thread_state();
    if (!a.has_value() || a.type() != typeid(S)) a = S{};
    return *std::any_cast<S>(&a);
  }

 protected:
  Item encode_item(const Item& x, std::optional<int> split_idx) const override;

 private:
  std::any& thread_state() const;
};

// A Transform from plain functions (fastai wraps a function passed where a transform is
// expected): encodes = f for any item type (mapped over tuples), decodes = dec when given.
TfmPtr make_transform(std::string name, std::function<Item(const Item&)> f,
                      std::function<Item(const Item&)> dec = {}, int order = 0);
// The same as an ItemTransform (sees whole tuples).
TfmPtr make_item_transform(std::string name, std::function<Item(const Item&)> f,
                           std::function<Item(const Item&)> dec = {}, int order = 0);

// fastai's retain_type(new, old): `res` with old's semantic type (and metadata when res has
// none) when res is a tensor whose type is a strict ancestor of old's (plain counts as the root).
Item retain_type(const Item& res, const Item& old);

// True when an item "knows how to show itself" (fastai's _is_showable, used by partial decode):
// strings, paths, numbers, images, image-like / point tensors, and tuples or lists of showables.
bool is_showable(const Item& x);

}  // namespace strata::data
