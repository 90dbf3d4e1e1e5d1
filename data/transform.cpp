// Transform / ItemTransform / RandTransform: split_idx checks, tuple mapping, type retention,
// per-thread draws.
#include "data/transform.h"

#include <fmt/format.h>

#include <unordered_map>

namespace strata::data {

Transform::Transform(std::string n)
    : name(std::move(n)), enc_(name + ".encodes"), dec_(name + ".decodes") {}

Item Transform::decode(const Item& x, std::optional<int> caller_split_idx) const {
  if (skips(caller_split_idx)) return x;
  return call(x, true);
}

void Transform::setup(const ItemSource* items, bool train_setup_arg) {
  const bool ts = train_setup ? *train_setup : train_setup_arg;
  if (!items) return;
  if (ts) {
    if (auto tr = items->train_part()) {
      setups_impl(*tr);
      return;
    }
  }
  setups_impl(*items);
}

std::string Transform::str() const {
  std::string extra;
  if (order != 0) extra += fmt::format("order: {}", order);
  if (split_idx) extra += fmt::format("{}split_idx: {}", extra.empty() ? "" : ", ", *split_idx);
  return extra.empty() ? name : fmt::format("{} -- {{{}}}", name, extra);
}

Item Transform::encode_item(const Item& x, std::optional<int> caller_split_idx) const {
  if (skips(caller_split_idx)) return x;
  return call(x, false);
}

Item Transform::call(const Item& x, bool decode) const {
  if (x.is_tuple()) {
    std::vector<Item> out;
    out.reserve(x.size());
    for (const Item& e : x.elems()) out.push_back(call(e, decode));
    return Item::tuple(std::move(out));
  }
  return apply_one(table(decode), x);
}

Item Transform::apply_one(const Table& t, const Item& x) const {
  const Table::Function* f = t.find(x.type_key());
  if (!f) return x;
  bool forced = false;
  Item r = (*f)(x, &forced);
  if (forced || !retain_type) return r;
  return retain_type_of(r, x);
}

Item Transform::retain_type_of(const Item& r, const Item& x) { return data::retain_type(r, x); }

Item ItemTransform::call(const Item& x, bool decode) const { return apply_one(table(decode), x); }

// ---- RandTransform ----
namespace {
struct RandThreadState {
  bool do_ = true;
  std::any extra;
};
RandThreadState& rand_state(const void* t) {
  thread_local std::unordered_map<const void*, RandThreadState> states;
  return states[t];
}
}  // namespace

RandTransform::RandTransform(std::string n, double p_) : Transform(std::move(n)), p(p_) { split_idx = 0; }

void RandTransform::before_call(const Item&, std::optional<int>) const { set_do(p >= 1.0 || rng().uniform() < p); }
bool RandTransform::do_() const { return rand_state(this).do_; }
void RandTransform::set_do(bool v) const { rand_state(this).do_ = v; }
std::any& RandTransform::thread_state() const { return rand_state(this).extra; }

Item RandTransform::encode_item(const Item& x, std::optional<int> caller_split_idx) const {
  before_call(x, caller_split_idx);
  if (!do_()) return x;
  return Transform::encode_item(x, caller_split_idx);
}

// ---- helpers ----
TfmPtr make_transform(std::string name, std::function<Item(const Item&)> f, std::function<Item(const Item&)> dec,
                      int order) {
  auto t = std::make_shared<Transform>(std::move(name));
  t->order = order;
  if (f) t->encodes<Item>(std::move(f));
  if (dec) t->decodes<Item>(std::move(dec));
  return t;
}

TfmPtr make_item_transform(std::string name, std::function<Item(const Item&)> f,
                           std::function<Item(const Item&)> dec, int order) {
  auto t = std::make_shared<ItemTransform>(std::move(name));
  t->order = order;
  if (f) t->encodes<Item>(std::move(f));
  if (dec) t->decodes<Item>(std::move(dec));
  return t;
}

Item retain_type(const Item& res, const Item& old) {
  if (!res.is_tensor() || !old.is_tensor()) return res;
  const Tensor& r = res.tensor();
  const Tensor& o = old.tensor();
  if (!r.defined() || !o.defined() || !o.semantic_type()) return res;
  const SemanticType* rt = r.semantic_type();
  if (rt == o.semantic_type()) return res;
  if (rt && !o.semantic_type()->is_a(rt)) return res;  // not an ancestor: a deliberate new type
  Tensor out = cast(r, o.semantic_type());
  if (!r.meta() && o.meta()) out = with_meta(out, o.meta());
  return Item(out);
}

bool is_showable(const Item& x) {
  switch (x.kind()) {
    case Item::Kind::Str:
    case Item::Kind::Path:
    case Item::Kind::Int:
    case Item::Kind::Float:
    case Item::Kind::Image: return true;
    case Item::Kind::Tensor: {
      const Tensor& t = x.tensor();
      return is_a<TensorImageBase>(t) || is_a<TensorPoint>(t);
    }
    case Item::Kind::Tuple:
    case Item::Kind::List:
      for (const Item& e : x.elems())
        if (!is_showable(e)) return false;
      return true;
    default: return false;
  }
}

}  // namespace strata::data
