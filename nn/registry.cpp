// The model registry: a function-local map built on first use (no static-init order issues), with
// the extras parsed into XResNetOptions by one table of known keys.
#include "nn/registry.h"

#include <charconv>
#include <sstream>

#include "nn/resnet.h"
#include "nn/xresnet.h"
#include "tensor/error.h"

namespace strata::nn {

namespace {

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

int64_t parse_int(const std::string& model, const std::string& key, const std::string& v) {
  int64_t out = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  STRATA_CHECK(ec == std::errc() && ptr == v.data() + v.size(), ValueError,
               "create_model('{}'): extra '{}' must be an integer, got '{}'", model, key, v);
  return out;
}

double parse_double(const std::string& model, const std::string& key, const std::string& v) {
  try {
    size_t used = 0;
    double d = std::stod(v, &used);
    if (used == v.size()) return d;
  } catch (const std::exception&) {
  }
  STRATA_THROW(ValueError, "create_model('{}'): extra '{}' must be a number, got '{}'", model, key, v);
}

bool parse_bool(const std::string& model, const std::string& key, const std::string& v) {
  if (v == "true" || v == "1" || v == "True") return true;
  if (v == "false" || v == "0" || v == "False") return false;
  STRATA_THROW(ValueError, "create_model('{}'): extra '{}' must be true or false, got '{}'", model, key, v);
}

// Extra key -> how it sets the options (model name and key are for error messages).
using Setter =
    std::function<void(XResNetOptions&, const std::string& model, const std::string& key, const std::string& value)>;

const std::map<std::string, Setter>& xresnet_setters() {
  auto real = [](double XResNetOptions::*field) -> Setter {
    return [field](XResNetOptions& o, const std::string& m, const std::string& k, const std::string& v) {
      o.*field = parse_double(m, k, v);
    };
  };
  auto integer = [](int64_t XResNetOptions::*field) -> Setter {
    return [field](XResNetOptions& o, const std::string& m, const std::string& k, const std::string& v) {
      o.*field = parse_int(m, k, v);
    };
  };
  auto flag = [](bool XResNetOptions::*field) -> Setter {
    return [field](XResNetOptions& o, const std::string& m, const std::string& k, const std::string& v) {
      o.*field = parse_bool(m, k, v);
    };
  };
  static const std::map<std::string, Setter> setters = {
      {"p", real(&XResNetOptions::p)},
      {"widen", real(&XResNetOptions::widen)},
      {"sa", flag(&XResNetOptions::sa)},
      {"sym", flag(&XResNetOptions::sym)},
      {"dw", flag(&XResNetOptions::dw)},
      {"pool_first", flag(&XResNetOptions::pool_first)},
      {"ks", integer(&XResNetOptions::ks)},
      {"stride", integer(&XResNetOptions::stride)},
      {"groups", integer(&XResNetOptions::groups)},
      {"reduction", integer(&XResNetOptions::reduction)},
      {"g2", integer(&XResNetOptions::g2)},
      {"ndim", integer(&XResNetOptions::ndim)},
      {"act", [](XResNetOptions& o, const std::string&, const std::string&,
                 const std::string& v) { o.act_cls = act::by_name(v); }},
      {"stem_szs",
       [](XResNetOptions& o, const std::string& m, const std::string& k, const std::string& v) {
         std::vector<int64_t> szs;
         std::stringstream ss(v);
         for (std::string item; std::getline(ss, item, ',');) szs.push_back(parse_int(m, k, item));
         o.stem_szs = szs;
       }},
  };
  return setters;
}

XResNetOptions xresnet_options(const std::string& model, const ModelConfig& c) {
  XResNetOptions o;
  o.n_out = c.n_out;
  o.c_in = c.c_in;
  const auto& setters = xresnet_setters();
  for (const auto& [k, v] : c.extras) {
    auto it = setters.find(k);
    if (it == setters.end()) {
      std::vector<std::string> known;
      for (const auto& [name, fn] : setters) known.push_back(name);
      STRATA_THROW(ValueError, "create_model('{}'): unknown extra '{}' (known: {})", model, k, join(known));
    }
    it->second(o, model, k, v);
  }
  return o;
}

ModelFactory xfactory(const std::string& name, std::shared_ptr<XResNet> (*fn)(const XResNetOptions&)) {
  return [name, fn](const ModelConfig& c) -> ModulePtr { return fn(xresnet_options(name, c)); };
}

// Variants that fix block, groups and reduction; user extras for groups/reduction override them.
ModelFactory xvariant(const std::string& name, int64_t expansion, std::vector<int64_t> layers, XBlock block,
                      int64_t groups, int64_t reduction) {
  return [=](const ModelConfig& c) -> ModulePtr {
    XResNetOptions o = xresnet_options(name, c);
    o.block = block;
    if (!c.extras.count("groups")) o.groups = groups;
    if (!c.extras.count("reduction")) o.reduction = reduction;
    return std::make_shared<XResNet>(expansion, layers, o);
  };
}

ModelFactory tv_factory(const std::string& name, ResNetBlock block, std::vector<int64_t> layers) {
  return [=](const ModelConfig& c) -> ModulePtr {
    if (!c.extras.empty())
      STRATA_THROW(ValueError, "create_model('{}'): unknown extra '{}' (torchvision ResNets take none)", name,
                   c.extras.begin()->first);
    return std::make_shared<ResNet>(block, layers, c.n_out, c.c_in);
  };
}

std::map<std::string, ModelFactory> builtin() {
  std::map<std::string, ModelFactory> r;
  r["xresnet18"] = xfactory("xresnet18", xresnet18);
  r["xresnet34"] = xfactory("xresnet34", xresnet34);
  r["xresnet50"] = xfactory("xresnet50", xresnet50);
  r["xresnet101"] = xfactory("xresnet101", xresnet101);
  r["xresnet152"] = xfactory("xresnet152", xresnet152);
  const std::vector<int64_t> g0{2, 2, 2, 2}, g1{3, 4, 6, 3};
  const struct {
    const char* depth;
    int64_t expansion;
    std::vector<int64_t> layers;
  } depths[] = {{"18", 1, g0}, {"34", 1, g1}, {"50", 4, g1}};
  for (const auto& d : depths) {
    const std::string se = std::string("xse_resnet") + d.depth, sx = std::string("xse_resnext") + d.depth,
                      x = std::string("xresnext") + d.depth;
    r[se] = xvariant(se, d.expansion, d.layers, XBlock::SE, 1, 16);
    r[sx] = xvariant(sx, d.expansion, d.layers, XBlock::SEResNeXt, 32, 16);
    r[x] = xvariant(x, d.expansion, d.layers, XBlock::SEResNeXt, 32, 0);
  }
  r["resnet18"] = tv_factory("resnet18", ResNetBlock::Basic, g0);
  r["resnet34"] = tv_factory("resnet34", ResNetBlock::Basic, g1);
  r["resnet50"] = tv_factory("resnet50", ResNetBlock::Bottleneck, g1);
  r["resnet101"] = tv_factory("resnet101", ResNetBlock::Bottleneck, {3, 4, 23, 3});
  r["resnet152"] = tv_factory("resnet152", ResNetBlock::Bottleneck, {3, 8, 36, 3});
  return r;
}

}  // namespace

std::map<std::string, ModelFactory>& model_registry() {
  static std::map<std::string, ModelFactory> registry = builtin();
  return registry;
}

std::vector<std::string> list_models() {
  std::vector<std::string> names;
  for (const auto& [k, v] : model_registry()) names.push_back(k);
  return names;
}

ModulePtr create_model(const std::string& name, const ModelConfig& config) {
  auto& r = model_registry();
  auto it = r.find(name);
  STRATA_CHECK(it != r.end(), ValueError, "create_model: unknown model '{}' (known: {})", name, join(list_models()));
  STRATA_CHECK(config.n_out > 0 && config.c_in > 0, ValueError,
               "create_model('{}'): n_out and c_in must be positive, got {} and {}", name, config.n_out, config.c_in);
  return it->second(config);
}

}  // namespace strata::nn
