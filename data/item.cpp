// Item: construction, access with kind-naming errors, dispatch keys, repr and comparisons.
#include "data/item.h"

#include <fmt/format.h>

#include <cmath>

#include "data/image.h"
#include "tensor/error.h"

namespace strata::data {

namespace {

void register_item_types() {
  static const bool once = [] {
    register_type<Tuple>("tuple");
    register_type<List>("list");
    register_type<ImagePtr>("Image");
    register_type<PILMask>("PILMask", TypeKey::of<ImagePtr>());
    return true;
  }();
  (void)once;
}

const char* kind_str(Item::Kind k) {
  switch (k) {
    case Item::Kind::None: return "None";
    case Item::Kind::Tensor: return "Tensor";
    case Item::Kind::Str: return "str";
    case Item::Kind::Path: return "Path";
    case Item::Kind::Int: return "int";
    case Item::Kind::Float: return "float";
    case Item::Kind::Tuple: return "tuple";
    case Item::Kind::List: return "list";
    case Item::Kind::Image: return "Image";
    case Item::Kind::Object: return "object";
  }
  return "?";
}

[[noreturn]] void wrong_kind(const Item& x, const char* expected) {
  STRATA_THROW(ValueError, "Item: expected {}, got {} {}", expected, x.kind_name(), x.repr());
}

std::string tensor_repr(const Tensor& t) {
  if (!t.defined()) return "Tensor(undefined)";
  std::string name = semantic_name(t);
  const auto* cat = meta_as<CategoryMeta>(t);
  if (t.numel() <= 8 && t.numel() > 0) {
    std::vector<double> v = t.to_vector<double>();
    std::string vals;
    for (size_t i = 0; i < v.size(); ++i) {
      if (i) vals += ", ";
      if (t.is_floating_point()) vals += fmt::format("{:.4g}", v[i]);
      else vals += fmt::format("{}", static_cast<int64_t>(v[i]));
    }
    if (t.dim() == 0) return fmt::format("{}({})", name, vals);
    return fmt::format("{}([{}], shape={}, {})", name, vals, t.shape().str(), dtype_name(t.dtype()));
  }
  (void)cat;
  return fmt::format("{}(shape={}, {})", name, t.shape().str(), dtype_name(t.dtype()));
}

}  // namespace

Item::Item(const Item&) = default;
Item::Item(Item&&) noexcept = default;
Item& Item::operator=(const Item&) = default;
Item& Item::operator=(Item&&) noexcept = default;
Item::~Item() = default;

Item::Item(Tensor t) : kind_(Kind::Tensor), v_(std::move(t)) {}
Item::Item(ImagePtr img) : kind_(Kind::Image), v_(std::move(img)) {}

Item Item::mask(ImagePtr img) {
  Item x(std::move(img));
  x.mask_ = true;
  return x;
}

Item Item::tuple(std::vector<Item> elems) {
  Item x;
  x.kind_ = Kind::Tuple;
  x.v_ = std::move(elems);
  return x;
}
Item Item::list(std::vector<Item> elems) {
  Item x;
  x.kind_ = Kind::List;
  x.v_ = std::move(elems);
  return x;
}
Item Item::object(std::any value) {
  Item x;
  x.kind_ = Kind::Object;
  x.v_ = std::move(value);
  return x;
}

const Tensor& Item::tensor() const {
  if (!is_tensor()) wrong_kind(*this, "a tensor");
  return std::get<Tensor>(v_);
}
const std::string& Item::str() const {
  if (!is_str()) wrong_kind(*this, "a str");
  return std::get<std::string>(v_);
}
const std::filesystem::path& Item::path() const {
  if (!is_path()) wrong_kind(*this, "a Path");
  return std::get<std::filesystem::path>(v_);
}
int64_t Item::as_int() const {
  if (is_int()) return std::get<int64_t>(v_);
  if (is_float()) {
    const double d = std::get<double>(v_);
    if (std::floor(d) == d) return static_cast<int64_t>(d);
  }
  if (is_tensor() && tensor().numel() == 1 && !tensor().is_floating_point()) return tensor().item<int64_t>();
  wrong_kind(*this, "an int");
}
double Item::as_float() const {
  if (is_float()) return std::get<double>(v_);
  if (is_int()) return static_cast<double>(std::get<int64_t>(v_));
  if (is_tensor() && tensor().numel() == 1) return tensor().item<double>();
  wrong_kind(*this, "a number");
}
const std::vector<Item>& Item::elems() const {
  if (!is_sequence()) wrong_kind(*this, "a tuple or list");
  return std::get<std::vector<Item>>(v_);
}
const ImagePtr& Item::image() const {
  if (!is_image()) wrong_kind(*this, "an Image");
  return std::get<ImagePtr>(v_);
}
const std::any& Item::object() const {
  if (!is_object()) wrong_kind(*this, "an object");
  return std::get<std::any>(v_);
}
const Item& Item::operator[](size_t i) const {
  const auto& e = elems();
  STRATA_CHECK(i < e.size(), IndexError, "Item: index {} out of range for a {} of {} elements", i, kind_name(),
               e.size());
  return e[i];
}

TypeKey Item::type_key() const {
  register_item_types();
  switch (kind_) {
    case Kind::None: return TypeKey::any();
    case Kind::Tensor: return strata::type_key_of(std::get<Tensor>(v_));
    case Kind::Str: return TypeKey::of<std::string>();
    case Kind::Path: return TypeKey::of<std::filesystem::path>();
    case Kind::Int: return TypeKey::of<int64_t>();
    case Kind::Float: return TypeKey::of<double>();
    case Kind::Tuple: return TypeKey::of<Tuple>();
    case Kind::List: return TypeKey::of<List>();
    case Kind::Image: return mask_ ? TypeKey::of<PILMask>() : TypeKey::of<ImagePtr>();
    case Kind::Object: {
      const std::any& a = std::get<std::any>(v_);
      return a.has_value() ? TypeKey(a.type()) : TypeKey::any();
    }
  }
  return TypeKey::any();
}

TypeKey type_key_of(const Item& x) { return x.type_key(); }

std::string Item::kind_name() const {
  if (is_tensor()) return semantic_name(tensor());
  if (is_object()) return type_key().name();
  return kind_str(kind_);
}

std::string Item::repr() const {
  switch (kind_) {
    case Kind::None: return "None";
    case Kind::Tensor: return tensor_repr(std::get<Tensor>(v_));
    case Kind::Str: return "'" + std::get<std::string>(v_) + "'";
    case Kind::Path: return "Path('" + std::get<std::filesystem::path>(v_).string() + "')";
    case Kind::Int: return std::to_string(std::get<int64_t>(v_));
    case Kind::Float: return fmt::format("{:g}", std::get<double>(v_));
    case Kind::Tuple:
    case Kind::List: {
      std::string s = is_tuple() ? "(" : "[";
      const auto& e = std::get<std::vector<Item>>(v_);
      for (size_t i = 0; i < e.size(); ++i) s += (i ? ", " : "") + e[i].repr();
      if (is_tuple() && e.size() == 1) s += ",";
      return s + (is_tuple() ? ")" : "]");
    }
    case Kind::Image: {
      const ImagePtr& im = std::get<ImagePtr>(v_);
      if (!im) return mask_ ? "PILMask(null)" : "Image(null)";
      return fmt::format("{}(h={}, w={}, c={})", mask_ ? "PILMask" : "Image", im->h, im->w, im->c);
    }
    case Kind::Object: return "<" + type_key().name() + ">";
  }
  return "?";
}

bool Item::operator==(const Item& o) const {
  if (kind_ != o.kind_) return false;
  switch (kind_) {
    case Kind::None: return true;
    case Kind::Tensor: {
      const Tensor& a = tensor();
      const Tensor& b = o.tensor();
      if (a.defined() != b.defined()) return false;
      if (!a.defined()) return true;
      if (a.semantic_type() != b.semantic_type() || a.shape() != b.shape()) return false;
      if (a.numel() == 0) return true;
      return a.to_vector<double>() == b.to_vector<double>();
    }
    case Kind::Str: return str() == o.str();
    case Kind::Path: return path() == o.path();
    case Kind::Int: return std::get<int64_t>(v_) == std::get<int64_t>(o.v_);
    case Kind::Float: return std::get<double>(v_) == std::get<double>(o.v_);
    case Kind::Tuple:
    case Kind::List: return elems() == o.elems();
    case Kind::Image: return mask_ == o.mask_ && image() == o.image();
    case Kind::Object: return false;
  }
  return false;
}

bool Item::operator<(const Item& o) const {
  if (is_number() && o.is_number()) return as_float() < o.as_float();
  if (is_str() && o.is_str()) return str() < o.str();
  if (is_path() && o.is_path()) return path() < o.path();
  STRATA_THROW(ValueError, "Item: cannot order {} {} and {} {}", kind_name(), repr(), o.kind_name(), o.repr());
}

std::vector<Item> to_items(const std::vector<std::filesystem::path>& paths) {
  return std::vector<Item>(paths.begin(), paths.end());
}
std::vector<Item> to_items(const std::vector<std::string>& strs) { return std::vector<Item>(strs.begin(), strs.end()); }

}  // namespace strata::data
