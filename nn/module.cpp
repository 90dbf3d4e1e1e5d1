// Module: registries of parameters, buffers and children, and the recursive operations over them.
// Registries are vectors in registration order (the order PyTorch prints and iterates in); the
// modules are small enough that a linear name lookup costs nothing next to one forward.
#include "nn/module.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <unordered_set>

#include "autograd/grad_mode.h"
#include "tensor/error.h"
#include "tensor/safetensors.h"

namespace strata::nn {

std::string LoadReport::str() const {
  std::string s;
  for (const auto& k : missing) s += fmt::format("missing key: {}\n", k);
  for (const auto& k : unexpected) s += fmt::format("unexpected key: {}\n", k);
  for (const auto& k : mismatched) s += fmt::format("shape mismatch: {}\n", k);
  return s;
}

void set_data(const Tensor& target, const Tensor& source) {
  STRATA_CHECK(target.defined() && source.defined(), ValueError, "set_data: undefined tensor");
  TensorImpl& t = target.impl();
  const TensorImpl& s = source.impl();
  t.storage = s.storage;
  t.shape = s.shape;
  t.strides = s.strides;
  t.offset = s.offset;
  t.dtype = s.dtype;
  Tensor(target).zero_grad();  // an old gradient has the old device/dtype
}

Module::Module(std::string type_name) : type_name_(std::move(type_name)) {}
Module::~Module() = default;

// ---- forward ----

Tensor Module::forward(const Tensor& x) { return forward(std::span<const Tensor>(&x, 1)); }

Tensor Module::forward(std::span<const Tensor> xs) {
  // Reaching here means the subclass overrides neither overload (or only this one was called
  // with several inputs on a single-input module).
  STRATA_CHECK(xs.size() == 1, ValueError, "{}: forward takes one input, got {}", type_name_, xs.size());
  STRATA_THROW(NotImplementedError, "{}: forward is not implemented", type_name_);
}

Tensor Module::operator()(const Tensor& x) {
  Tensor out = forward(x);
  for (auto& [id, hook] : hooks_) hook(*this, std::span<const Tensor>(&x, 1), out);
  return out;
}

Tensor Module::operator()(std::span<const Tensor> xs) {
  Tensor out = xs.size() == 1 ? forward(xs[0]) : forward(xs);
  for (auto& [id, hook] : hooks_) hook(*this, xs, out);
  return out;
}

// ---- registration ----

void Module::check_new_name(const std::string& name, const char* what) const {
  STRATA_CHECK(!name.empty() && name.find('.') == std::string::npos, ValueError,
               "{}: {} name '{}' must be non-empty and contain no '.'", type_name_, what, name);
  auto taken = [&](const auto& list) {
    return std::any_of(list.begin(), list.end(), [&](const auto& e) {
      if constexpr (requires { e.name; }) return e.name == name;
      else return e.first == name;
    });
  };
  STRATA_CHECK(!taken(params_) && !taken(buffers_) && !taken(children_), ValueError,
               "{}: cannot register {} '{}': the name is already used", type_name_, what, name);
}

Tensor Module::register_parameter(const std::string& name, Tensor value, bool requires_grad) {
  check_new_name(name, "parameter");
  if (value.defined()) {
    STRATA_CHECK(!requires_grad || value.is_floating_point(), DTypeError,
                 "{}: parameter '{}' has dtype {} and cannot require grad", type_name_, name, value.dtype());
    if (!value.is_leaf()) value = value.detach();
    value.requires_grad_(requires_grad);
  }
  params_.push_back({name, value, true});
  return value;
}

Tensor Module::register_buffer(const std::string& name, Tensor value, bool persistent) {
  check_new_name(name, "buffer");
  buffers_.push_back({name, value, persistent});
  return value;
}

void Module::add_child(const std::string& name, ModulePtr module) {
  check_new_name(name, "module");
  STRATA_CHECK(module != nullptr, ValueError, "{}: child module '{}' is null", type_name_, name);
  children_.emplace_back(name, std::move(module));
}

void Module::replace_module(const std::string& name, ModulePtr module) {
  STRATA_CHECK(module != nullptr, ValueError, "{}: replacement for child '{}' is null", type_name_, name);
  for (auto& [n, m] : children_)
    if (n == name) {
      m = std::move(module);
      return;
    }
  STRATA_THROW(IndexError, "{}: no child module named '{}'", type_name_, name);
}

// ---- access ----

Tensor Module::parameter(const std::string& name) const {
  for (const auto& e : params_)
    if (e.name == name) return e.tensor;
  STRATA_THROW(IndexError, "{}: no parameter named '{}'", type_name_, name);
}

Tensor Module::buffer(const std::string& name) const {
  for (const auto& e : buffers_)
    if (e.name == name) return e.tensor;
  STRATA_THROW(IndexError, "{}: no buffer named '{}'", type_name_, name);
}

ModulePtr Module::child(const std::string& name) const {
  for (const auto& [n, m] : children_)
    if (n == name) return m;
  STRATA_THROW(IndexError, "{}: no child module named '{}'", type_name_, name);
}

bool Module::has_parameter(const std::string& name) const {
  return std::any_of(params_.begin(), params_.end(), [&](const Entry& e) { return e.name == name; });
}

bool Module::has_child(const std::string& name) const {
  return std::any_of(children_.begin(), children_.end(), [&](const auto& c) { return c.first == name; });
}

void Module::collect_named(const std::string& prefix, bool params, bool recurse, bool persistent_only,
                           std::vector<std::pair<std::string, Tensor>>& out) const {
  for (const auto& e : params ? params_ : buffers_)
    if (e.tensor.defined() && (e.persistent || !persistent_only)) out.emplace_back(prefix + e.name, e.tensor);
  if (!recurse) return;
  for (const auto& [n, m] : children_) m->collect_named(prefix + n + ".", params, true, persistent_only, out);
}

std::vector<std::pair<std::string, Tensor>> Module::named_parameters(bool recurse) const {
  std::vector<std::pair<std::string, Tensor>> out;
  collect_named("", true, recurse, false, out);
  // A tensor shared by two modules (tied weights) is listed once, under its first name.
  std::unordered_set<const TensorImpl*> seen;
  std::erase_if(out, [&](const auto& p) { return !seen.insert(p.second.impl_ptr().get()).second; });
  return out;
}

std::vector<Tensor> Module::parameters(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& [n, t] : named_parameters(recurse)) out.push_back(t);
  return out;
}

std::vector<std::pair<std::string, Tensor>> Module::named_buffers(bool recurse) const {
  std::vector<std::pair<std::string, Tensor>> out;
  collect_named("", false, recurse, false, out);
  return out;
}

std::vector<Tensor> Module::buffers(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& [n, t] : named_buffers(recurse)) out.push_back(t);
  return out;
}

std::vector<ModulePtr> Module::children() const {
  std::vector<ModulePtr> out;
  for (const auto& [n, m] : children_) out.push_back(m);
  return out;
}

std::vector<std::pair<std::string, ModulePtr>> Module::named_children() const { return children_; }

void Module::collect_modules(const std::string& prefix, std::vector<std::pair<std::string, Module*>>& out) {
  out.emplace_back(prefix, this);
  for (auto& [n, m] : children_) m->collect_modules(prefix.empty() ? n : prefix + "." + n, out);
}

std::vector<std::pair<std::string, Module*>> Module::named_modules() {
  std::vector<std::pair<std::string, Module*>> out;
  collect_modules("", out);
  return out;
}

int64_t Module::num_parameters(bool trainable_only) const {
  int64_t n = 0;
  for (const auto& p : parameters())
    if (!trainable_only || p.requires_grad()) n += p.numel();
  return n;
}

// ---- mode and placement ----

void Module::train(bool on) {
  training_ = on;
  for (auto& [n, m] : children_) m->train(on);
}

Module& Module::to(Device device) {
  NoGradGuard no_grad;
  for (auto& [n, t] : named_parameters())
    if (t.device() != device) set_data(t, t.detach().to(device));
  for (auto& [n, t] : named_buffers())
    if (t.device() != device) set_data(t, t.to(device));
  return *this;
}

Module& Module::to(DType dtype) {
  STRATA_CHECK(is_floating(dtype), DTypeError, "{}.to: dtype {} is not floating", type_name_, dtype);
  NoGradGuard no_grad;
  for (auto& [n, t] : named_parameters())
    if (t.is_floating_point() && t.dtype() != dtype) set_data(t, t.detach().to(dtype));
  for (auto& [n, t] : named_buffers())
    if (t.is_floating_point() && t.dtype() != dtype) set_data(t, t.to(dtype));
  return *this;
}

void Module::zero_grad() {
  for (auto& p : parameters()) p.zero_grad();
}

void Module::requires_grad_(bool on) {
  for (auto& p : parameters()) p.requires_grad_(on);
}

// ---- state ----

StateDict Module::state_dict() const {
  std::vector<std::pair<std::string, Tensor>> all;
  collect_named("", true, true, false, all);
  collect_named("", false, true, /*persistent_only=*/true, all);
  return StateDict(all.begin(), all.end());
}

LoadReport Module::load_state_dict(const StateDict& dict, bool strict) {
  StateDict own = state_dict();
  LoadReport report;
  for (const auto& [name, t] : own) {
    auto it = dict.find(name);
    if (it == dict.end()) {
      report.missing.push_back(name);
    } else if (it->second.shape() != t.shape()) {
      report.mismatched.push_back(fmt::format("{}: module has {} but the dict has {}", name, t.shape(),
                                              it->second.shape()));
    }
  }
  for (const auto& [name, t] : dict)
    if (!own.count(name)) report.unexpected.push_back(name);
  if (strict && !report.ok())
    STRATA_THROW(ValueError, "{}.load_state_dict (strict): {}", type_name_, report.str());
  NoGradGuard no_grad;
  for (auto& [name, t] : own) {
    auto it = dict.find(name);
    if (it == dict.end() || it->second.shape() != t.shape()) continue;
    t.copy_(it->second.to(t.device()));
    t.bump_version();
  }
  return report;
}

void Module::save(const std::filesystem::path& path) const { save_safetensors(path, state_dict()); }

LoadReport Module::load(const std::filesystem::path& path, bool strict) {
  return load_state_dict(load_safetensors(path).tensors, strict);
}

// ---- traversal and hooks ----

void Module::apply(const std::function<void(Module&)>& fn) {
  for (auto& [n, m] : children_) m->apply(fn);
  fn(*this);
}

int64_t Module::register_forward_hook(ForwardHook hook) {
  hooks_.emplace_back(next_hook_id_, std::move(hook));
  return next_hook_id_++;
}

void Module::remove_forward_hook(int64_t id) {
  std::erase_if(hooks_, [id](const auto& h) { return h.first == id; });
}

// ---- printing ----

std::string Module::str_indented(int indent) const {
  std::string s = type_name_ + "(" + extra_repr();
  if (children_.empty()) return s + ")";
  s += "\n";
  std::string pad(indent + 2, ' ');
  for (const auto& [n, m] : children_) s += fmt::format("{}({}): {}\n", pad, n, m->str_indented(indent + 2));
  return s + std::string(indent, ' ') + ")";
}

std::string Module::str() const { return str_indented(0); }

}  // namespace strata::nn
