// Module core: registration, traversal, mode, placement, state dicts and hooks, on a small
// hand-built module (the layer library has its own tests).
#include <gtest/gtest.h>

#include <filesystem>

#include "nn/module.h"
#include "nn/sequential.h"
#include "support/expect_error.h"
#include "autograd/grad_mode.h"
#include "tensor/ops.h"
#include "support/test_files.h"

using namespace strata;

namespace {

class Affine : public nn::Module {
 public:
  explicit Affine(int64_t n) : Module("Affine") {
    weight = register_parameter("weight", full({n}, 2.0));
    bias = register_parameter("bias", zeros({n}));
    calls = register_buffer("calls", zeros({1}));
    scratch = register_buffer("scratch", zeros({1}), /*persistent=*/false);
  }
  Tensor forward(const Tensor& x) override { return x * weight + bias; }
  using Module::forward;
  std::string extra_repr() const override { return fmt::format("n={}", weight.numel()); }
  Tensor weight, bias, calls, scratch;
};

std::shared_ptr<nn::Sequential> two_affines() {
  return std::make_shared<nn::Sequential>(
      std::vector<nn::ModulePtr>{std::make_shared<Affine>(3), std::make_shared<Affine>(3)});
}

}  // namespace

TEST(Module, RegistersNamesInOrder) {
  auto m = two_affines();
  auto named = m->named_parameters();
  ASSERT_EQ(named.size(), 4u);
  EXPECT_EQ(named[0].first, "0.weight");
  EXPECT_EQ(named[1].first, "0.bias");
  EXPECT_EQ(named[3].first, "1.bias");
  EXPECT_EQ(m->num_parameters(), 12);
  auto mods = m->named_modules();
  ASSERT_EQ(mods.size(), 3u);
  EXPECT_EQ(mods[0].first, "");
  EXPECT_EQ(mods[2].first, "1");
  EXPECT_TRUE(m->parameters()[0].requires_grad());
}

TEST(Module, ForwardChainsAndTrainsThroughAutograd) {
  auto m = two_affines();
  Tensor y = (*m)(tensor({1.f, 2.f, 3.f}));
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{4, 8, 12}));
  sum(y).backward();
  auto p = m->named_parameters();
  EXPECT_EQ(p[0].second.grad().to_vector<float>(), (std::vector<float>{2, 4, 6}));  // d/dw0 = x * w1
  EXPECT_EQ(p[3].second.grad().to_vector<float>(), (std::vector<float>{1, 1, 1}));
  m->zero_grad();
  EXPECT_FALSE(p[0].second.grad().defined());
}

TEST(Module, DuplicateAndDottedNamesAreRejected) {
  Affine a(2);
  EXPECT_STRATA_ERROR(a.register_parameter("weight", zeros({1})), ValueError, {"already used"});
  EXPECT_STRATA_ERROR(a.register_buffer("x.y", zeros({1})), ValueError, {"no '.'"});
  EXPECT_STRATA_ERROR(a.parameter("nope"), IndexError, {"Affine: no parameter named 'nope'"});
}

TEST(Module, TrainEvalIsRecursive) {
  auto m = two_affines();
  m->eval();
  EXPECT_FALSE(m->is_training());
  EXPECT_FALSE((*m)[1]->is_training());
  m->train();
  EXPECT_TRUE((*m)[-1]->is_training());
}

TEST(Module, ToDtypeUpdatesEveryHandleInPlace) {
  auto m = two_affines();
  auto first = std::static_pointer_cast<Affine>((*m)[0]);
  m->to(DType::F64);
  EXPECT_EQ(first->weight.dtype(), DType::F64);  // the subclass's own handle saw the change
  EXPECT_TRUE(first->weight.requires_grad());
  EXPECT_EQ((*m)(tensor({1.f, 1.f, 1.f}).to(DType::F64)).dtype(), DType::F64);
  EXPECT_STRATA_ERROR(m->to(DType::I64), DTypeError, {"not floating"});
}

TEST(Module, StateDictRoundTripThroughSafetensorsIsExact) {
  auto a = two_affines();
  for (auto p : a->parameters()) {
    NoGradGuard g;
    uniform_(p, -1, 1);
  }
  auto dict = a->state_dict();
  EXPECT_EQ(dict.size(), 6u);  // 4 parameters + 2 persistent buffers; "scratch" is not saved
  EXPECT_TRUE(dict.count("1.calls"));
  EXPECT_FALSE(dict.count("0.scratch"));
  const strata::testing::TempDir dir;  // unique per process: parallel runs never share the file
  auto path = dir.path / "module.safetensors";
  a->save(path);
  auto b = two_affines();
  EXPECT_TRUE(b->load(path).ok());
  for (auto& [name, t] : a->state_dict())
    EXPECT_EQ(t.to_vector<float>(), b->state_dict().at(name).to_vector<float>()) << name;
}

TEST(Module, StrictLoadNamesEveryBadKey) {
  auto m = two_affines();
  auto dict = m->state_dict();
  dict.erase("0.bias");
  dict["0.extra"] = zeros({1});
  dict["1.weight"] = zeros({4});
  try {
    m->load_state_dict(dict);
    FAIL() << "no throw";
  } catch (const ValueError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("missing key: 0.bias"), std::string::npos) << msg;
    EXPECT_NE(msg.find("unexpected key: 0.extra"), std::string::npos) << msg;
    EXPECT_NE(msg.find("1.weight: module has [3] but the dict has [4]"), std::string::npos) << msg;
  }
  auto report = m->load_state_dict(dict, /*strict=*/false);
  EXPECT_EQ(report.missing, std::vector<std::string>{"0.bias"});
  EXPECT_EQ(report.unexpected, std::vector<std::string>{"0.extra"});
  EXPECT_EQ(report.mismatched.size(), 1u);
}

TEST(Module, ForwardHooksSeeInputsAndOutputAndCanBeRemoved) {
  auto m = two_affines();
  int calls = 0;
  double seen = 0;
  auto layer = (*m)[0];
  int64_t id = layer->register_forward_hook([&](nn::Module& mod, std::span<const Tensor> in, const Tensor& out) {
    ++calls;
    seen = sum(out).item() + sum(in[0]).item();
    EXPECT_EQ(mod.type_name(), "Affine");
  });
  (*m)(tensor({1.f, 1.f, 1.f}));
  EXPECT_EQ(calls, 1);
  EXPECT_DOUBLE_EQ(seen, 6 + 3);
  layer->remove_forward_hook(id);
  (*m)(tensor({1.f, 1.f, 1.f}));
  EXPECT_EQ(calls, 1);
}

TEST(Module, ApplyVisitsChildrenBeforeParentAndPrintsATree) {
  auto m = two_affines();
  std::vector<std::string> order;
  m->apply([&](nn::Module& mod) { order.push_back(mod.type_name()); });
  EXPECT_EQ(order, (std::vector<std::string>{"Affine", "Affine", "Sequential"}));
  EXPECT_EQ(m->str(), "Sequential(\n  (0): Affine(n=3)\n  (1): Affine(n=3)\n)");
}

TEST(Module, SharedParametersAreListedOnce) {
  auto a = std::make_shared<Affine>(2);
  auto seq = std::make_shared<nn::Sequential>(std::vector<nn::ModulePtr>{a, a});
  EXPECT_EQ(seq->parameters().size(), 2u);
}
