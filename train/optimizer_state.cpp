// Optimizer state for resuming (train/optimizer.h): a flat name -> tensor map, so it saves as
// safetensors beside the model. Scalars and hypers are 0-d f64 tensors (exact round trip).
#include <charconv>

#include "tensor/error.h"
#include "tensor/safetensors.h"
#include "train/optimizer.h"

namespace strata::train {
namespace {

Tensor f64_scalar(double v) { return scalar_tensor(v, {.dtype = DType::F64}); }

// Splits "a.b.rest" into its first `n` dot-separated fields and the rest.
bool split(const std::string& key, size_t n, std::vector<std::string>& fields, std::string& rest) {
  fields.clear();
  size_t pos = 0;
  for (size_t k = 0; k < n; ++k) {
    const size_t dot = key.find('.', pos);
    if (dot == std::string::npos) return false;
    fields.push_back(key.substr(pos, dot - pos));
    pos = dot + 1;
  }
  rest = key.substr(pos);
  return !rest.empty();
}

bool to_index(const std::string& s, size_t& out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

double scalar_value(const std::string& key, const Tensor& t) {
  STRATA_CHECK(t.defined() && t.numel() == 1, ValueError,
               "optimizer.load_state_dict: '{}' must hold one value{}", key,
               t.defined() ? fmt::format(", got shape {}", t.shape()) : std::string(", got an undefined tensor"));
  return t.cpu().item<double>();
}

}  // namespace

std::map<std::string, Tensor> Optimizer::state_dict() const {
  std::map<std::string, Tensor> sd;
  for (size_t g = 0; g < groups_.size(); ++g) {
    for (const auto& [name, value] : groups_[g].hypers) sd[fmt::format("hyper.{}.{}", g, name)] = f64_scalar(value);
    for (size_t i = 0; i < states_[g].size(); ++i) {
      const ParamState& s = states_[g][i];
      const std::string at = fmt::format("{}.{}.", g, i);
      for (const auto& [name, t] : s.tensors)
        if (t.defined()) sd[at + name] = t;
      for (const auto& [name, v] : s.scalars) sd[at + "scalar." + name] = f64_scalar(v);
      sd[at + "flag.do_wd"] = scalar_tensor(s.do_wd ? 1 : 0, {.dtype = DType::U8});
      sd[at + "flag.force_train"] = scalar_tensor(s.force_train ? 1 : 0, {.dtype = DType::U8});
    }
  }
  return sd;
}

void Optimizer::load_state_dict(const std::map<std::string, Tensor>& sd) {
  std::vector<std::vector<ParamState>> fresh(groups_.size());
  for (size_t g = 0; g < groups_.size(); ++g) fresh[g].resize(groups_[g].params.size());
  std::vector<Hypers> hypers(groups_.size());
  std::vector<std::string> f;
  std::string rest;
  for (const auto& [key, t] : sd) {
    if (key.rfind("hyper.", 0) == 0) {
      size_t g = 0;
      STRATA_CHECK(split(key, 2, f, rest) && to_index(f[1], g), ValueError,
                   "optimizer.load_state_dict: malformed key '{}' (expected hyper.<group>.<name>)", key);
      STRATA_CHECK(g < groups_.size(), ValueError, "optimizer.load_state_dict: '{}' names group {} of {}", key, g,
                   groups_.size());
      hypers[g][rest] = scalar_value(key, t);
      continue;
    }
    size_t g = 0, i = 0;
    STRATA_CHECK(split(key, 2, f, rest) && to_index(f[0], g) && to_index(f[1], i), ValueError,
                 "optimizer.load_state_dict: malformed key '{}' (expected <group>.<index>.<name> or "
                 "hyper.<group>.<name>)",
                 key);
    STRATA_CHECK(g < groups_.size() && i < groups_[g].params.size(), ValueError,
                 "optimizer.load_state_dict: '{}' names parameter {} of group {}, which does not exist", key, i, g);
    ParamState& s = fresh[g][i];
    const Tensor& p = groups_[g].params[i];
    if (rest.rfind("scalar.", 0) == 0) {
      s.scalars[rest.substr(7)] = scalar_value(key, t);
    } else if (rest == "flag.do_wd") {
      s.do_wd = scalar_value(key, t) != 0.0;
    } else if (rest == "flag.force_train") {
      s.force_train = scalar_value(key, t) != 0.0;
    } else {
      STRATA_CHECK(t.defined(), ValueError, "optimizer.load_state_dict: '{}' is undefined", key);
      STRATA_CHECK(t.shape() == p.shape(), ShapeError,
                   "optimizer.load_state_dict: '{}' has shape {} but its parameter has shape {}", key, t.shape(),
                   p.shape());
      s.tensors[rest] = t.to(p.device()).clone();
    }
  }
  states_ = std::move(fresh);
  for (size_t g = 0; g < groups_.size(); ++g)
    for (const auto& [name, v] : hypers[g]) groups_[g].hypers[name] = v;
}

void Optimizer::save(const std::filesystem::path& path) const {
  save_safetensors(path, state_dict(), {{"format", "strata.optimizer"}});
}

void Optimizer::load(const std::filesystem::path& path) { load_state_dict(load_safetensors(path).tensors); }

}  // namespace strata::train
