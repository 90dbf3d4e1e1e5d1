// XResNet: fastai's layer structure and parameter counts, its init (init_cnn on top of the
// zero-gamma norms), the variants and options, and a forward/backward on a small input.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>

#include "autograd/grad_mode.h"
#include "nn/basic.h"
#include "nn/conv.h"
#include "nn/linear.h"
#include "nn/nn.h"
#include "nn/norm.h"
#include "nn/res_block.h"
#include "nn/self_attention.h"
#include "nn/xresnet.h"
#include "support/expect_error.h"
#include "tensor/ops.h"
#include "support/test_files.h"

using namespace strata;

namespace {

std::vector<std::string> child_types(const nn::Module& m) {
  std::vector<std::string> out;
  for (const auto& [name, c] : m.named_children()) out.push_back(c->type_name());
  return out;
}

double max_abs(const Tensor& t) { return amax(abs(t)).item(); }

}  // namespace

// Parameter counts with n_out = 1000, from fastai's structure (bn(c) = 2c weights + biases):
// stem:   conv(3->32) 864 + bn 64, conv(32->32) 9216 + 64, conv(32->64) 18432 + 128   = 28,768
// basic block ni->nf: 9 ni nf + 2nf + 9 nf^2 + 2nf (+ ni nf + 2nf shortcut when ni != nf)
//   xresnet18 stages: 147,968 + 525,568 + 2,099,712 + 8,393,728; fc 512 * 1000 + 1000 = 513,000
//   total 28,768 + 11,166,976 + 513,000 = 11,708,744
// bottleneck (ni, nf -> 4ni, 4nf): ni' nf + 2nf + 9 nf^2 + 2nf + 4nf^2 + 8nf (+ shortcut)
// Cross-check: each equals torchvision's count with the 7x7 stem (3*64*49 + 128 = 9,536) swapped for
// the three-conv stem (28,768), i.e. torchvision + 19,232 (the blocks and shortcuts have the
// same parameters; only where the stride sits and the avg pool differ):
//   xresnet18 = 11,689,512 + 19,232 = 11,708,744
//   xresnet34 = 21,797,672 + 19,232 = 21,816,904
//   xresnet50 = 25,557,032 + 19,232 = 25,576,264
TEST(XResNet, ParameterCountsMatchFastai) {
  EXPECT_EQ(nn::xresnet18()->num_parameters(), 11'708'744);
  EXPECT_EQ(nn::xresnet34()->num_parameters(), 21'816'904);
  EXPECT_EQ(nn::xresnet50()->num_parameters(), 25'576'264);
  EXPECT_EQ(nn::xresnet101()->num_parameters(), 44'549'160 + 19'232);  // torchvision resnet101 + stem
}

TEST(XResNet, LayerStructureIsFastais) {
  auto m = nn::xresnet18({.n_out = 10});
  EXPECT_EQ(child_types(*m), (std::vector<std::string>{"ConvLayer", "ConvLayer", "ConvLayer", "MaxPool2d", "Sequential",
                                                       "Sequential", "Sequential", "Sequential", "AdaptiveAvgPool2d",
                                                       "Flatten", "Dropout", "Linear"}));
  auto sd = m->state_dict();
  EXPECT_EQ(sd.at("0.0.weight").shape(), Shape({32, 3, 3, 3}));
  EXPECT_EQ(sd.at("2.0.weight").shape(), Shape({64, 32, 3, 3}));
  EXPECT_EQ(sd.at("4.0.convpath.0.0.weight").shape(), Shape({64, 64, 3, 3}));
  EXPECT_EQ(sd.at("5.0.convpath.0.0.weight").shape(), Shape({128, 64, 3, 3}));
  EXPECT_EQ(sd.at("5.0.idpath.1.0.weight").shape(), Shape({128, 64, 1, 1}));  // idpath.0 is the pool
  EXPECT_EQ(sd.at("7.1.convpath.1.1.running_var").shape(), Shape({512}));
  EXPECT_EQ(sd.at("11.weight").shape(), Shape({10, 512}));
  EXPECT_FALSE(sd.count("4.0.idpath.0.0.weight"));  // 64 -> 64, stride 1: identity shortcut
  auto stem0 = std::dynamic_pointer_cast<nn::Sequential>((*m)[0]);
  EXPECT_EQ(std::dynamic_pointer_cast<nn::Conv2d>((*stem0)[0])->options.stride, 2);
  auto pool = std::dynamic_pointer_cast<nn::MaxPool2d>((*m)[3]);
  EXPECT_EQ(pool->options.kernel_size, Int2(3));
  EXPECT_EQ(pool->options.stride, Int2(2));
  EXPECT_EQ(pool->options.padding, Int2(1));
  // Blocks per stage.
  EXPECT_EQ(std::dynamic_pointer_cast<nn::Sequential>((*nn::xresnet34())[6])->size(), 6);
  auto x50 = nn::xresnet50();
  EXPECT_EQ(x50->state_dict().at("4.0.convpath.0.0.weight").shape(), Shape({64, 64, 1, 1}));  // 64 / 4 * 4 in
  EXPECT_EQ(x50->state_dict().at("4.0.idpath.0.0.weight").shape(), Shape({256, 64, 1, 1}));
  EXPECT_EQ(x50->state_dict().at("11.weight").shape(), Shape({1000, 2048}));
}

TEST(XResNet, InitIsFastaisInitCnn) {
  auto m = nn::xresnet18({.n_out = 10});
  for (const auto& [name, mod] : m->named_modules()) {
    if (auto* bn = dynamic_cast<nn::BatchNorm2d*>(mod)) {
      EXPECT_EQ(max_abs(bn->bias), 0.0) << name;  // init_cnn zeroes the 1e-3 biases
      // The last norm of each residual branch (convpath.1.1) starts at zero; the others at one.
      const bool last = name.ends_with("convpath.1.1");
      EXPECT_EQ(max_abs(bn->weight - (last ? 0.0 : 1.0)), 0.0) << name;
    }
  }
  // Kaiming normal (fan_in, gain sqrt(2)): std sqrt(2 / fan_in); stage-4 conv fan_in = 512 * 9.
  Tensor w = m->state_dict().at("7.1.convpath.0.0.weight");
  EXPECT_NEAR(strata::std(w).item(), std::sqrt(2.0 / (512 * 9)), 0.01 * std::sqrt(2.0 / (512 * 9)));
  Tensor fc = m->state_dict().at("11.weight");
  EXPECT_NEAR(strata::std(fc).item(), std::sqrt(2.0 / 512), 0.1 * std::sqrt(2.0 / 512));
  EXPECT_EQ(max_abs(m->state_dict().at("11.bias")), 0.0);
}

TEST(XResNet, ForwardAndBackwardOnASmallBatch) {
  auto m = nn::xresnet18({.n_out = 10});
  Tensor x = randn({2, 3, 32, 32});
  Tensor y = (*m)(x);
  EXPECT_EQ(y.shape(), Shape({2, 10}));
  sum(y).backward();
  for (const auto& [name, p] : m->named_parameters()) ASSERT_TRUE(p.grad().defined()) << name;
  m->eval();
  NoGradGuard g;
  EXPECT_EQ((*m)(x).shape(), Shape({2, 10}));
}

TEST(XResNet, OptionsChangeTheStructure) {
  auto m = nn::xresnet18(
      {.n_out = 4, .c_in = 1, .p = 0.5, .stem_szs = {8, 16, 64}, .widen = 0.5, .sa = true, .act_cls = nn::act::silu()});
  auto sd = m->state_dict();
  EXPECT_EQ(sd.at("0.0.weight").shape(), Shape({8, 1, 3, 3}));
  EXPECT_EQ(sd.at("2.0.weight").shape(), Shape({64, 16, 3, 3}));               // the stages expect 64 // expansion
  EXPECT_EQ(sd.at("4.0.convpath.0.0.weight").shape(), Shape({32, 64, 3, 3}));  // 64 // 1 in, 64 * 0.5 out
  EXPECT_EQ(sd.at("11.weight").shape(), Shape({4, 256}));
  EXPECT_EQ(std::dynamic_pointer_cast<nn::Dropout>((*m)[10])->p, 0.5);
  EXPECT_EQ((*std::dynamic_pointer_cast<nn::Sequential>((*m)[0]))[2]->type_name(), "SiLU");
  // sa: SimpleSelfAttention at the end of the first stage's last block only.
  EXPECT_TRUE(sd.count("4.1.convpath.2.gamma"));
  EXPECT_FALSE(sd.count("4.0.convpath.2.gamma"));
  EXPECT_FALSE(sd.count("5.1.convpath.2.gamma"));
  EXPECT_EQ((*m)(randn({2, 1, 32, 32})).shape(), Shape({2, 4}));
  EXPECT_STRATA_ERROR(nn::xresnet18({.ks = 4}), ValueError, {"XResNet: kernel size has to be odd"});
  EXPECT_STRATA_ERROR(nn::xresnet18({.stem_szs = {32, 64}}), ValueError, {"stem_szs needs 3"});
}

TEST(XResNet, SqueezeExcitationAndResNeXtVariants) {
  auto se = nn::xse_resnet18({.n_out = 10});
  auto sd = se->state_dict();
  // SEModule(64, 16): hidden ceil(64 / 16 / 8) * 8 = 8; the SE convs keep their biases (no norm).
  EXPECT_EQ(sd.at("4.0.convpath.2.layers.1.0.weight").shape(), Shape({8, 64, 1, 1}));
  EXPECT_EQ(sd.at("4.0.convpath.2.layers.2.0.bias").shape(), Shape({64}));
  auto sx = nn::xse_resnext50({.n_out = 10});
  auto sxd = sx->state_dict();
  // SEResNeXtBlock(4, 16, 64): width floor(64 * 4 / 64) * 32 = 128, 32 groups of 4.
  EXPECT_EQ(sxd.at("4.0.convpath.1.0.weight").shape(), Shape({128, 4, 3, 3}));
  EXPECT_EQ(sxd.at("4.0.convpath.3.layers.1.0.weight").shape(), Shape({16, 256, 1, 1}));  // ceil(256/16/8)*8
  auto x = nn::xresnext34({.n_out = 10});
  EXPECT_FALSE(x->state_dict().count("4.0.convpath.2.layers.1.0.weight"));                  // reduction 0: no SE
  EXPECT_EQ(x->state_dict().at("4.0.convpath.0.0.weight").shape(), Shape({128, 2, 3, 3}));  // 32 groups
  EXPECT_EQ((*sx)(randn({2, 3, 32, 32})).shape(), Shape({2, 10}));
}

TEST(XResNet, SummaryListsEveryLayerOnce) {
  auto m = nn::xresnet18({.n_out = 10});
  auto rows = nn::layer_info(*m, {1, 3, 64, 64});
  int64_t params = 0;
  for (const auto& r : rows) params += r.params;
  EXPECT_EQ(params, m->num_parameters());
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(rows[0].name, "0.0");
  EXPECT_EQ(rows[0].output_shape, Shape({1, 32, 32, 32}));
  EXPECT_EQ(rows[0].flops, 2 * 3 * 9 * 32 * 32 * 32);
  EXPECT_EQ(rows.back().output_shape, Shape({1, 10}));
  EXPECT_TRUE(m->is_training());
}

// A golden value from PyTorch: fastai's xresnet18 (n_out 4) written out with plain torch.nn (the
// counterpart in bench/bench_xresnet.cpp, whose state dict keys equal these: it loads this model's
// state dict strictly), every state dict entry set by a formula (sorted entry j, element i:
// sin(0.1 i + 0.7 j); running_var 1 + 0.5 |s|, running_mean 0.1 s, norm weights 1 + 0.2 s,
// conv/linear weights s * sqrt(2 / fan_in), biases 0.1 s), eval mode, x[i] = cos(0.05 i) on
// 2x3x40x40 (odd sizes downstream exercise the ceil-mode shortcut pool).
TEST(XResNet, MatchesAPyTorchRewriteOnFormulaWeights) {
  auto m = nn::xresnet18({.n_out = 4});
  nn::StateDict filled;
  int64_t j = 0;
  for (const auto& [k, t] : m->state_dict()) {
    if (t.dtype() != DType::F32) {
      filled[k] = t;
      ++j;
      continue;
    }
    const int64_t n = t.numel();
    std::vector<float> v(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      double s = std::sin(0.1 * static_cast<double>(i) + 0.7 * static_cast<double>(j));
      if (k.ends_with("running_var"))
        s = 1.0 + 0.5 * std::abs(s);
      else if (k.ends_with("running_mean"))
        s = 0.1 * s;
      else if (t.dim() == 1 && k.ends_with("weight"))
        s = 1.0 + 0.2 * s;
      else if (t.dim() > 1)
        s = s * std::sqrt(2.0 / (static_cast<double>(n) / static_cast<double>(t.size(0))));
      else
        s = 0.1 * s;
      v[static_cast<size_t>(i)] = static_cast<float>(s);
    }
    filled[k] = tensor(v).reshape(t.shape());
    ++j;
  }
  m->load_state_dict(filled);
  m->eval();
  const int64_t nx = 2 * 3 * 40 * 40;
  std::vector<float> xv(static_cast<size_t>(nx));
  for (int64_t i = 0; i < nx; ++i)
    xv[static_cast<size_t>(i)] = static_cast<float>(std::cos(0.05 * static_cast<double>(i)));
  NoGradGuard g;
  std::vector<float> y = (*m)(tensor(xv).reshape({2, 3, 40, 40})).to_vector<float>();
  const std::vector<float> expect = {0.87070978f, -1.02907920f, -2.02967548f, -1.32414412f,
                                     0.87208229f, -1.02836394f, -2.03019762f, -1.32547998f};
  ASSERT_EQ(y.size(), expect.size());
  for (size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(y[i], expect[i], 1e-4 * (1 + std::abs(expect[i]))) << i;
}

TEST(XResNet, OneDimensionalForSequences) {
  auto m = nn::xse_resnet18({.n_out = 5, .c_in = 2, .ndim = 1});
  auto sd = m->state_dict();
  EXPECT_EQ(sd.at("0.0.weight").shape(), Shape({32, 2, 3}));
  EXPECT_EQ(sd.at("5.0.idpath.1.0.weight").shape(), Shape({128, 64, 1}));
  EXPECT_EQ(sd.at("4.0.convpath.2.layers.1.0.weight").shape(), Shape({8, 64, 1}));
  EXPECT_EQ(child_types(*m)[3], "MaxPool1d");
  EXPECT_EQ(child_types(*m)[8], "AdaptiveAvgPool1d");
  EXPECT_EQ(
      child_types(*std::dynamic_pointer_cast<nn::Sequential>(
          std::dynamic_pointer_cast<nn::ResBlock>((*std::dynamic_pointer_cast<nn::Sequential>((*m)[5]))[0])->idpath)),
      (std::vector<std::string>{"AvgPool1d", "ConvLayer"}));
  Tensor y = (*m)(randn({2, 2, 45}));  // 45 -> 23 -> 12 -> 12 -> 6 -> 3 -> 2 (ceil-mode shortcut pools)
  EXPECT_EQ(y.shape(), Shape({2, 5}));
  EXPECT_STRATA_ERROR(nn::xresnet18({.ndim = 3}), NotImplementedError, {"ndim 3"});
}

TEST(XResNet, StateDictRoundTripIsBitExactAndStrictLoadNamesAWrongKey) {
  auto a = nn::xse_resnext18({.n_out = 10, .sa = true});
  (*a)(randn({2, 3, 32, 32}));  // running statistics and spectral-norm vectors move
  const strata::testing::TempDir dir;  // unique per process: parallel runs never share the file
  auto path = dir.path / "xresnet.safetensors";
  a->save(path);
  auto b = nn::xse_resnext18({.n_out = 10, .sa = true});
  EXPECT_TRUE(b->load(path).ok());
  auto sa = a->state_dict(), sb = b->state_dict();
  ASSERT_EQ(sa.size(), sb.size());
  for (const auto& [name, t] : sa) {
    const Tensor& u = sb.at(name);
    ASSERT_EQ(t.shape(), u.shape()) << name;
    EXPECT_EQ(std::memcmp(t.contiguous().raw_data(), u.contiguous().raw_data(), static_cast<size_t>(t.nbytes())), 0)
        << name;
  }
  auto dict = sa;
  dict["4.1.convpath.3.conv.weight"] = dict.at("4.1.convpath.3.conv.weight_orig");
  dict.erase("4.1.convpath.3.conv.weight_orig");
  EXPECT_STRATA_ERROR(b->load_state_dict(dict), ValueError,
                      {"missing key: 4.1.convpath.3.conv.weight_orig", "unexpected key: 4.1.convpath.3.conv.weight"});
}
