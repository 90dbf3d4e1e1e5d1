// Loops over kernels/ops.def: every declared op has sample inputs, runs forward in f32 and f64
// with agreeing results, and, when differentiable, passes gradcheck in f64 on every sample.
#include <gtest/gtest.h>

#include <set>

#include "support/op_samples.h"

namespace strata::testing {
namespace {

struct DeclaredOp {
  const char* name;
  int arity;
  bool differentiable;
};

const std::vector<DeclaredOp>& declared_ops() {
  static const std::vector<DeclaredOp> ops = {
#define X(name, arity, diff) {#name, arity, diff},
#include "kernels/ops.def"
#undef X
  };
  return ops;
}

std::vector<const OpSample*> samples_for(const std::string& op) {
  std::vector<const OpSample*> out;
  for (const auto& s : all_op_samples())
    if (s.op == op) out.push_back(&s);
  return out;
}

class OpList : public ::testing::TestWithParam<DeclaredOp> {};

TEST_P(OpList, HasSamples) {
  EXPECT_FALSE(samples_for(GetParam().name).empty())
      << "op '" << GetParam().name << "' is declared in kernels/ops.def but has no sample in tests/support/samples_*.cpp";
}

TEST_P(OpList, ForwardF32MatchesF64) {
  for (const OpSample* s : samples_for(GetParam().name)) {
    if (std::string(GetParam().name).rfind("rand", 0) == 0 || std::string(GetParam().name) == "bernoulli") continue;
    Tensor r64 = s->fn(s->make_inputs(DType::F64));
    Tensor r32 = s->fn(s->make_inputs(DType::F32));
    ASSERT_EQ(r64.shape(), r32.shape()) << s->op << "/" << s->case_name;
    auto a = r64.to_vector<double>();
    auto b = r32.to_vector<double>();
    for (size_t i = 0; i < a.size(); ++i) {
      ASSERT_NEAR(a[i], b[i], 1e-4 + 1e-4 * std::abs(a[i])) << s->op << "/" << s->case_name << " element " << i;
    }
  }
}

TEST_P(OpList, Gradcheck) {
  if (!GetParam().differentiable) GTEST_SKIP() << "not differentiable";
  for (const OpSample* s : samples_for(GetParam().name)) {
    auto inputs = s->make_inputs(DType::F64);
    auto r = gradcheck(s->fn, inputs, s->tolerance);
    EXPECT_TRUE(r.ok) << s->op << "/" << s->case_name << ": " << r.message;
  }
}

INSTANTIATE_TEST_SUITE_P(AllOps, OpList, ::testing::ValuesIn(declared_ops()),
                         [](const ::testing::TestParamInfo<DeclaredOp>& info) { return std::string(info.param.name); });

TEST(OpListSamples, EverySampleNamesADeclaredOp) {
  std::set<std::string> names;
  for (const auto& op : declared_ops()) names.insert(op.name);
  for (const auto& s : all_op_samples()) EXPECT_TRUE(names.count(s.op)) << "sample for undeclared op '" << s.op << "'";
}

}  // namespace
}  // namespace strata::testing
