#pragma once
// Module: the unit models are built from. A module owns named parameters (tensors the optimizer
// trains), named buffers (state that is saved but not trained, like BatchNorm's running mean) and
// named child modules; it knows whether it is training or evaluating, and its forward computes
// outputs from inputs with tensor ops (autograd records them, so there is no backward to write).
//
//   class TwoLayer : public nn::Module {
//    public:
//     TwoLayer() : Module("TwoLayer") {
//       fc1 = register_module("fc1", std::make_shared<nn::Linear>(4, 8));
//       fc2 = register_module("fc2", std::make_shared<nn::Linear>(8, 2));
//     }
//     Tensor forward(const Tensor& x) override { return (*fc2)(relu((*fc1)(x))); }
//     std::shared_ptr<nn::Linear> fc1, fc2;
//   };
//
// Parameters and buffers are Tensor handles shared between the registry and the subclass's own
// members. Operations that change them (`to`, `load_state_dict`) update the tensors in place, so
// every handle keeps seeing the current data; nothing a subclass holds goes stale.
//
// Names follow PyTorch: "fc1.weight", "layers.0.bias", which is what safetensors files and
// torchvision state dicts use.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "tensor/tensor.h"

namespace strata::nn {

class Module;
using ModulePtr = std::shared_ptr<Module>;

// Name → tensor, sorted by name (the safetensors layout).
using StateDict = std::map<std::string, Tensor>;

// What load_state_dict found: keys the module has but the dict lacks, keys the dict has but the
// module lacks, and keys present in both with different shapes ("name: [a, b] vs [c, d]").
struct LoadReport {
  std::vector<std::string> missing;
  std::vector<std::string> unexpected;
  std::vector<std::string> mismatched;
  bool ok() const { return missing.empty() && unexpected.empty() && mismatched.empty(); }
  std::string str() const;  // one line per problem, empty when ok()
};

// Called after every forward of the module it is registered on.
using ForwardHook = std::function<void(Module& module, std::span<const Tensor> inputs, const Tensor& output)>;

class Module {
 public:
  explicit Module(std::string type_name);
  virtual ~Module();
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // ---- forward ----
  // Single-input modules override forward(x); modules with several inputs (tabular: categorical and
  // continuous) override forward(xs). Each default forwards to the other, so override one.
  virtual Tensor forward(const Tensor& x);
  virtual Tensor forward(std::span<const Tensor> xs);
  // Calls forward, then the forward hooks.
  Tensor operator()(const Tensor& x);
  Tensor operator()(std::span<const Tensor> xs);
  Tensor operator()(std::initializer_list<Tensor> xs) {
    return (*this)(std::span<const Tensor>(xs.begin(), xs.size()));
  }

  // ---- registration (from a subclass's constructor) ----
  // Returns the registered handle; a subclass usually keeps it as a member. An undefined tensor is
  // allowed (an optional bias turned off) and is skipped by parameters() and state_dict().
  Tensor register_parameter(const std::string& name, Tensor value, bool requires_grad = true);
  // Non-persistent buffers are not part of state_dict().
  Tensor register_buffer(const std::string& name, Tensor value, bool persistent = true);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    add_child(name, module);
    return module;
  }
  // Replaces a registered child (e.g. swap a head); throws when no child has that name.
  void replace_module(const std::string& name, ModulePtr module);

  // ---- access ----
  const std::string& type_name() const { return type_name_; }
  Tensor parameter(const std::string& name) const;  // own parameter by local name; throws if absent
  Tensor buffer(const std::string& name) const;
  ModulePtr child(const std::string& name) const;   // throws if absent
  bool has_parameter(const std::string& name) const;
  bool has_child(const std::string& name) const;

  std::vector<Tensor> parameters(bool recurse = true) const;
  std::vector<std::pair<std::string, Tensor>> named_parameters(bool recurse = true) const;
  std::vector<Tensor> buffers(bool recurse = true) const;
  std::vector<std::pair<std::string, Tensor>> named_buffers(bool recurse = true) const;
  std::vector<ModulePtr> children() const;
  std::vector<std::pair<std::string, ModulePtr>> named_children() const;
  // This module (name "") and every descendant, depth first, parents before children.
  std::vector<std::pair<std::string, Module*>> named_modules();
  int64_t num_parameters(bool trainable_only = false) const;

  // ---- mode ----
  void train(bool on = true);  // recursive
  void eval() { train(false); }
  bool is_training() const { return training_; }

  // ---- placement: parameters and buffers are moved in place ----
  Module& to(Device device);
  Module& to(DType dtype);  // floating parameters and buffers only
  void zero_grad();         // every parameter's grad becomes undefined
  void requires_grad_(bool on = true);  // every parameter

  // ---- state ----
  StateDict state_dict() const;  // parameters and persistent buffers, by full name
  // Copies values into the module's tensors (converting dtype/device). strict: any missing,
  // unexpected or mismatched key throws ValueError listing all of them; otherwise the report says
  // what was skipped.
  LoadReport load_state_dict(const StateDict& dict, bool strict = true);
  void save(const std::filesystem::path& path) const;  // safetensors
  LoadReport load(const std::filesystem::path& path, bool strict = true);

  // ---- traversal and hooks ----
  // Calls fn on every module, children before their parent (PyTorch's order, so an init applied
  // to the whole model sees leaves first).
  void apply(const std::function<void(Module&)>& fn);
  int64_t register_forward_hook(ForwardHook hook);  // returns an id for remove_forward_hook
  void remove_forward_hook(int64_t id);
  bool has_forward_hooks() const { return !hooks_.empty(); }  // e.g. whether a fusion may skip this module

  // ---- printing ----
  // The module tree, PyTorch style: "Linear(in_features=4, out_features=8, bias=true)".
  std::string str() const;
  virtual std::string extra_repr() const { return {}; }

 protected:
  void add_child(const std::string& name, ModulePtr module);

 private:
  struct Entry {
    std::string name;
    Tensor tensor;
    bool persistent = true;
  };
  // Parameters (params) or buffers, depth first; persistent_only skips non-persistent buffers.
  void collect_named(const std::string& prefix, bool params, bool recurse, bool persistent_only,
                     std::vector<std::pair<std::string, Tensor>>& out) const;
  void collect_modules(const std::string& prefix, std::vector<std::pair<std::string, Module*>>& out);
  void check_new_name(const std::string& name, const char* what) const;
  std::string str_indented(int indent) const;

  std::string type_name_;
  bool training_ = true;
  std::vector<Entry> params_;
  std::vector<Entry> buffers_;
  std::vector<std::pair<std::string, ModulePtr>> children_;
  std::vector<std::pair<int64_t, ForwardHook>> hooks_;
  int64_t next_hook_id_ = 0;
};

// Makes `target` (every handle to it) use `source`'s data, shape and dtype, keeping its autograd
// identity (requires_grad). How Module::to and friends change parameters without invalidating the
// handles a subclass holds.
void set_data(const Tensor& target, const Tensor& source);

}  // namespace strata::nn
