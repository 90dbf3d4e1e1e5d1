// fastai's layers: structure and initial values (fastai's rules), values of the merge layers on
// hand-computed inputs, the zero-init properties (BatchZero residual, gamma = 0 attention), and
// gradients of tiny f64 instances against finite differences; plus the registry and body/head
// helpers.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "autograd/grad_mode.h"
#include "autograd/gradcheck.h"
#include "nn/activation.h"
#include "nn/basic.h"
#include "nn/conv.h"
#include "nn/conv_layer.h"
#include "nn/linear.h"
#include "nn/merge.h"
#include "nn/model_cut.h"
#include "nn/norm.h"
#include "nn/pixel_shuffle.h"
#include "nn/pool1d.h"
#include "nn/registry.h"
#include "nn/reparam.h"
#include "nn/res_block.h"
#include "nn/resnet.h"
#include "nn/self_attention.h"
#include "nn/xresnet.h"
#include "support/expect_error.h"
#include "tensor/ops.h"

using namespace strata;

namespace {

std::vector<std::string> child_types(const nn::Module& m) {
  std::vector<std::string> out;
  for (const auto& [name, c] : m.named_children()) out.push_back(c->type_name());
  return out;
}

Tensor randn_f64(const Shape& shape, uint64_t seed) {
  Generator gen(seed);
  return randn(shape, {.dtype = DType::F64}, &gen);
}

double max_abs(const Tensor& t) { return amax(abs(t)).item(); }

double max_abs_diff(const Tensor& a, const Tensor& b) { return max_abs(a.to(DType::F64) - b.to(DType::F64)); }

// Autograd's gradient of sum(m(x) * w) for every parameter element against central differences.
void expect_param_grads_match(nn::Module& m, const Tensor& x, double tol = 1e-6) {
  m.zero_grad();
  Tensor y = m(x);
  Tensor w = randn_f64(y.shape(), 99);
  sum(y * w).backward();
  const double eps = 1e-6;
  for (auto& [name, p] : m.named_parameters()) {
    ASSERT_TRUE(p.grad().defined()) << name;
    std::vector<double> g = p.grad().to_vector<double>();
    double* data = p.data<double>();
    for (int64_t e = 0; e < p.numel(); ++e) {
      NoGradGuard no_grad;
      const double orig = data[e];
      data[e] = orig + eps;
      const double plus = sum(m(x) * w).item();
      data[e] = orig - eps;
      const double minus = sum(m(x) * w).item();
      data[e] = orig;
      const double numeric = (plus - minus) / (2 * eps);
      ASSERT_NEAR(g[e], numeric, tol + 1e-4 * std::abs(numeric)) << name << " element " << e;
    }
  }
}

}  // namespace

// ---------------------------------------------------------------- ConvLayer

TEST(ConvLayer, DefaultIsConvWithoutBiasThenBatchNormThenReLU) {
  nn::ConvLayer c(3, 8);
  EXPECT_EQ(c.type_name(), "ConvLayer");
  EXPECT_EQ(child_types(c), (std::vector<std::string>{"Conv2d", "BatchNorm2d", "ReLU"}));
  auto conv = std::dynamic_pointer_cast<nn::Conv2d>(c[0]);
  ASSERT_TRUE(conv);
  EXPECT_FALSE(conv->bias.defined());
  EXPECT_EQ(conv->options.padding, 1);
  auto bn = std::dynamic_pointer_cast<nn::BatchNorm2d>(c[1]);
  EXPECT_EQ(bn->weight.to_vector<float>(), std::vector<float>(8, 1.f));
  EXPECT_EQ(bn->bias.to_vector<float>(), std::vector<float>(8, 1e-3f));  // fastai's 1e-3
  auto names = c.state_dict();
  EXPECT_TRUE(names.count("0.weight"));
  EXPECT_TRUE(names.count("1.running_var"));
  Tensor y = c(randn({2, 3, 9, 9}));
  EXPECT_EQ(y.shape(), Shape({2, 8, 9, 9}));
  EXPECT_GE(amin(y).item(), 0.0);  // ReLU last
}

TEST(ConvLayer, PrintsAsFastaiDoes) {
  nn::ConvLayer c(3, 8, {.stride = 2});
  const std::string s = c.str();
  EXPECT_EQ(s.rfind("ConvLayer(\n  (0): Conv2d(", 0), 0u) << s;
  EXPECT_NE(s.find("(1): BatchNorm2d("), std::string::npos) << s;
  EXPECT_NE(s.find("(2): ReLU"), std::string::npos) << s;
  nn::SequentialEx block({std::make_shared<nn::ConvLayer>(2, 2), std::make_shared<nn::MergeLayer>(true)});
  EXPECT_NE(block.str().find("(layers): ModuleList("), std::string::npos) << block.str();
  EXPECT_NE(block.str().find("MergeLayer(dense=true)"), std::string::npos) << block.str();
}

TEST(ConvLayer, OrderNormAndBiasFollowTheOptions) {
  nn::ConvLayer a(3, 4, {.bn_1st = false});
  EXPECT_EQ(child_types(a), (std::vector<std::string>{"Conv2d", "ReLU", "BatchNorm2d"}));
  nn::ConvLayer b(3, 4, {.norm_type = std::nullopt, .act_cls = nullptr});
  EXPECT_EQ(child_types(b), (std::vector<std::string>{"Conv2d"}));
  EXPECT_TRUE(std::dynamic_pointer_cast<nn::Conv2d>(b[0])->bias.defined());  // no norm: bias on
  nn::ConvLayer z(3, 4, {.norm_type = nn::NormType::BatchZero});
  EXPECT_EQ(std::dynamic_pointer_cast<nn::BatchNorm2d>(z[1])->weight.to_vector<float>(), std::vector<float>(4, 0.f));
  nn::ConvLayer i(3, 4, {.norm_type = nn::NormType::InstanceZero, .act_cls = nn::act::mish()});
  EXPECT_EQ(child_types(i), (std::vector<std::string>{"Conv2d", "InstanceNorm2d", "Mish"}));
  EXPECT_FALSE(std::dynamic_pointer_cast<nn::Conv2d>(i[0])->bias.defined());
  EXPECT_EQ(std::dynamic_pointer_cast<nn::InstanceNorm2d>(i[1])->weight.to_vector<float>(), std::vector<float>(4, 0.f));
  nn::ConvLayer forced(3, 4, {.bias = true});
  EXPECT_TRUE(std::dynamic_pointer_cast<nn::Conv2d>(forced[0])->bias.defined());
  nn::ConvLayer x(3, 4, {.xtra = std::make_shared<nn::Identity>()});
  EXPECT_EQ(child_types(x).back(), "Identity");
}

TEST(ConvLayer, StridePaddingOneDimAndTranspose) {
  nn::ConvLayer s(2, 4, {.ks = 5, .stride = 2});
  EXPECT_EQ(std::dynamic_pointer_cast<nn::Conv2d>(s[0])->options.padding, 2);
  EXPECT_EQ(s(randn({1, 2, 10, 10})).shape(), Shape({1, 4, 5, 5}));
  nn::ConvLayer one(2, 4, {.ndim = 1});
  EXPECT_EQ(child_types(one), (std::vector<std::string>{"Conv1d", "BatchNorm1d", "ReLU"}));
  EXPECT_EQ(one(randn({3, 2, 7})).shape(), Shape({3, 4, 7}));
  nn::ConvLayer t(4, 2, {.ks = 2, .stride = 2, .transpose = true});
  EXPECT_EQ(child_types(t)[0], "ConvTranspose2d");
  EXPECT_EQ(t(randn({1, 4, 3, 3})).shape(), Shape({1, 2, 6, 6}));  // padding 0 for transpose
}

TEST(ConvLayer, WeightInitFollowsTheActivation) {
  // ReLU -> kaiming_uniform_: U(-b, b), b = sqrt(2) * sqrt(3 / fan_in); fan_in = 16 * 9.
  nn::ConvLayer r(16, 64, {});
  Tensor w = r.conv_weight();
  const double b_relu = std::sqrt(6.0 / (16 * 9));
  EXPECT_LE(max_abs(w), b_relu);
  EXPECT_GT(max_abs(w), 0.95 * b_relu);
  // Sigmoid -> xavier_uniform_: b = sqrt(6 / (fan_in + fan_out)) = sqrt(6 / (144 + 576)).
  nn::ConvLayer s(16, 64, {.act_cls = nn::act::sigmoid()});
  const double b_sig = std::sqrt(6.0 / (144 + 576));
  EXPECT_LE(max_abs(s.conv_weight()), b_sig);
  EXPECT_GT(max_abs(s.conv_weight()), 0.95 * b_sig);
  // No activation -> the conv's own init (PyTorch: kaiming_uniform a = sqrt(5): b = 1 / sqrt(fan_in)).
  nn::ConvLayer n(16, 64, {.act_cls = nullptr});
  EXPECT_LE(max_abs(n.conv_weight()), 1.0 / 12.0);
  EXPECT_GT(max_abs(n.conv_weight()), 0.95 / 12.0);
  // An explicit init wins.
  nn::ConvLayer e(16, 64, {.init = [](Tensor& t) { t.fill_(0.25); }});
  EXPECT_EQ(amin(e.conv_weight()).item(), 0.25);
  EXPECT_EQ(amax(e.conv_weight()).item(), 0.25);
  // Bias ~ N(0, 0.01) without a norm; zero with bias_std 0.
  nn::ConvLayer bias(16, 512, {.norm_type = std::nullopt});
  Tensor bv = std::dynamic_pointer_cast<nn::Conv2d>(bias[0])->bias;
  EXPECT_NEAR(strata::std(bv).item(), 0.01, 0.002);
  nn::ConvLayer bias0(16, 8, {.norm_type = std::nullopt, .bias_std = 0.0});
  EXPECT_EQ(max_abs(std::dynamic_pointer_cast<nn::Conv2d>(bias0[0])->bias), 0.0);
}

TEST(ConvLayer, WeightAndSpectralNormWrapTheConv) {
  nn::ConvLayer w(3, 4, {.norm_type = nn::NormType::Weight});
  EXPECT_EQ(child_types(w), (std::vector<std::string>{"Conv2d", "ReLU"}));  // the wrapper keeps the name
  auto wsd = w.state_dict();
  EXPECT_EQ(wsd.at("0.weight_g").shape(), Shape({4, 1, 1, 1}));
  EXPECT_EQ(wsd.at("0.weight_v").shape(), Shape({4, 3, 3, 3}));
  EXPECT_TRUE(wsd.count("0.bias"));  // no batch norm: bias on
  EXPECT_FALSE(wsd.count("0.weight"));
  nn::ConvLayer s(3, 4, {.norm_type = nn::NormType::Spectral, .act_cls = nullptr});
  auto ssd = s.state_dict();
  EXPECT_EQ(ssd.at("0.weight_orig").shape(), Shape({4, 3, 3, 3}));
  EXPECT_EQ(ssd.at("0.weight_u").shape(), Shape({4}));
  EXPECT_EQ(ssd.at("0.weight_v").shape(), Shape({27}));
  EXPECT_EQ(s(randn({2, 3, 5, 5})).shape(), Shape({2, 4, 5, 5}));
  EXPECT_STRATA_ERROR(nn::ConvLayer(3, 4, {.ndim = 3}), NotImplementedError, {"ConvLayer: ndim 3", "3-d convolution"});
  EXPECT_STRATA_ERROR(nn::act::by_name("swishy"), ValueError, {"unknown name 'swishy'", "mish"});
  EXPECT_STRATA_ERROR(nn::weight_norm(std::make_shared<nn::ReLU>()), ValueError, {"weight_norm", "ReLU"});
}

TEST(ConvLayer, GradientsMatchFiniteDifferences) {
  nn::ConvLayer c(2, 3, {.stride = 2});
  c.to(DType::F64);
  Tensor x = randn_f64({2, 2, 5, 5}, 1).requires_grad_(true);
  auto r = gradcheck([&](const autograd::TensorList& in) { return c(in[0]); }, {x});
  EXPECT_TRUE(r.ok) << r.message;
  expect_param_grads_match(c, x.detach());
}

// ---------------------------------------------------------------- SequentialEx / MergeLayer

namespace {
// Returns the block input it receives, to show what a block-input layer sees.
class EchoBlockInput : public nn::BlockInputLayer {
 public:
  EchoBlockInput() : BlockInputLayer("EchoBlockInput") {}
  Tensor merge(const Tensor& x, const Tensor& orig) override {
    seen_x = x;
    return orig;
  }
  Tensor seen_x;
};
}  // namespace

TEST(SequentialEx, EveryBlockInputLayerSeesTheBlockInput) {
  auto echo = std::make_shared<EchoBlockInput>();
  nn::SequentialEx s({nn::lambda("double", [](const Tensor& x) { return x * 2.0; }), echo,
                      nn::lambda("add1", [](const Tensor& x) { return x + 1.0; }), std::make_shared<nn::MergeLayer>()});
  Tensor x = tensor({1.f, 2.f, 3.f});
  // double: 2x; echo: sees 2x, returns x; add1: x + 1; merge: (x + 1) + x.
  EXPECT_EQ(s(x).to_vector<float>(), (std::vector<float>{3, 5, 7}));
  EXPECT_EQ(echo->seen_x.to_vector<float>(), (std::vector<float>{2, 4, 6}));
  EXPECT_EQ(s.size(), 4);
  EXPECT_EQ(s.named_children()[0].first, "layers");  // fastai's ModuleList
}

TEST(SequentialEx, MergeLayerAddsOrConcatenatesAndProdLayerMultiplies) {
  Tensor x = tensor({1.f, 2.f, 3.f, 4.f}).reshape({1, 2, 2});
  auto times3 = nn::lambda("times3", [](const Tensor& t) { return t * 3.0; });
  nn::SequentialEx add({times3, std::make_shared<nn::MergeLayer>()});
  EXPECT_EQ(add(x).to_vector<float>(), (std::vector<float>{4, 8, 12, 16}));
  nn::SequentialEx dense({times3, std::make_shared<nn::MergeLayer>(true)});
  Tensor d = dense(x);
  EXPECT_EQ(d.shape(), Shape({1, 4, 2}));
  EXPECT_EQ(d.to_vector<float>(), (std::vector<float>{3, 6, 9, 12, 1, 2, 3, 4}));  // [x * 3, x] on dim 1
  nn::SequentialEx prod({times3, std::make_shared<nn::ProdLayer>()});
  EXPECT_EQ(prod(x).to_vector<float>(), (std::vector<float>{3, 12, 27, 48}));
  nn::MergeLayer alone;
  EXPECT_STRATA_ERROR(alone(x), ValueError, {"MergeLayer: needs the block input", "SequentialEx"});
}

TEST(SequentialEx, GradientFlowsThroughBothPaths) {
  nn::SequentialEx s({nn::lambda("square", [](const Tensor& t) { return t * t; }), std::make_shared<nn::MergeLayer>()});
  Tensor x = tensor({1.0, -2.0, 0.5}).requires_grad_(true);
  sum(s(x)).backward();  // d/dx (x^2 + x) = 2x + 1
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{3, -3, 2}));
}

// ---------------------------------------------------------------- pools, LinBnDrop

TEST(AdaptiveConcatPool2d, MaxThenAverageOnChannels) {
  nn::AdaptiveConcatPool2d p;
  Tensor x = tensor({1.f, 5.f, 3.f, 7.f, -1.f, -2.f, -3.f, -6.f}).reshape({1, 2, 2, 2});
  Tensor y = p(x);
  EXPECT_EQ(y.shape(), Shape({1, 4, 1, 1}));
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{7, -1, 4, -3}));
  EXPECT_EQ(nn::AdaptiveConcatPool2d(2)(randn({2, 3, 8, 8})).shape(), Shape({2, 6, 2, 2}));
}

TEST(LinBnDrop, LayersInFastaiOrder) {
  nn::LinBnDrop a(10, 4);
  EXPECT_EQ(child_types(a), (std::vector<std::string>{"BatchNorm1d", "Linear"}));
  EXPECT_FALSE(std::dynamic_pointer_cast<nn::Linear>(a[1])->bias.defined());  // BN: no bias
  EXPECT_EQ(std::dynamic_pointer_cast<nn::BatchNorm1d>(a[0])->num_features, 10);
  nn::LinBnDrop b(10, 4, {.p = 0.5, .act = std::make_shared<nn::ReLU>()});
  EXPECT_EQ(child_types(b), (std::vector<std::string>{"BatchNorm1d", "Dropout", "Linear", "ReLU"}));
  nn::LinBnDrop c(10, 4, {.p = 0.1, .act = std::make_shared<nn::ReLU>(), .lin_first = true});
  EXPECT_EQ(child_types(c), (std::vector<std::string>{"Linear", "ReLU", "BatchNorm1d", "Dropout"}));
  EXPECT_EQ(std::dynamic_pointer_cast<nn::BatchNorm1d>(c[2])->num_features, 4);
  nn::LinBnDrop d(10, 4, {.bn = false});
  EXPECT_EQ(child_types(d), (std::vector<std::string>{"Linear"}));
  EXPECT_TRUE(std::dynamic_pointer_cast<nn::Linear>(d[0])->bias.defined());
  EXPECT_EQ(b(randn({5, 10})).shape(), Shape({5, 4}));
}

// ---------------------------------------------------------------- ResBlock

TEST(ResBlock, BagOfTricksStructure) {
  nn::ResBlock b(1, 16, 32, {.stride = 2});
  EXPECT_EQ(child_types(*b.convpath), (std::vector<std::string>{"ConvLayer", "ConvLayer"}));
  // Shortcut: average pool first, then a 1x1 ConvLayer without activation.
  EXPECT_EQ(child_types(*b.idpath), (std::vector<std::string>{"AvgPool2d", "ConvLayer"}));
  auto pool = std::dynamic_pointer_cast<nn::AvgPool2d>((*b.idpath)[0]);
  EXPECT_TRUE(pool->options.ceil_mode);
  EXPECT_EQ(child_types(*std::dynamic_pointer_cast<nn::Sequential>((*b.idpath)[1])),
            (std::vector<std::string>{"Conv2d", "BatchNorm2d"}));
  // The last conv of the residual branch: BatchZero, no activation.
  auto last = std::dynamic_pointer_cast<nn::Sequential>((*b.convpath)[1]);
  EXPECT_EQ(child_types(*last), (std::vector<std::string>{"Conv2d", "BatchNorm2d"}));
  EXPECT_EQ(max_abs(std::dynamic_pointer_cast<nn::BatchNorm2d>((*last)[1])->weight), 0.0);
  EXPECT_EQ(b(randn({2, 16, 9, 9})).shape(), Shape({2, 32, 5, 5}));  // ceil mode: 9 -> 5
  EXPECT_TRUE(b.state_dict().count("convpath.0.0.weight"));
  EXPECT_TRUE(b.state_dict().count("idpath.1.1.running_mean"));

  nn::ResBlock pool_last(1, 16, 32, {.stride = 2, .pool_first = false});
  EXPECT_EQ(child_types(*pool_last.idpath), (std::vector<std::string>{"ConvLayer", "AvgPool2d"}));
  nn::ResBlock same(1, 16, 16);
  EXPECT_EQ(same.idpath->size(), 0);
}

TEST(ResBlock, BottleneckGroupsDepthwiseAndSqueezeExcitation) {
  // expansion 4: ni, nf times 4; 1x1 -> 3x3 (groups) -> 1x1.
  nn::ResBlock b(4, 16, 16, {.groups = 4, .reduction = 16});
  ASSERT_EQ(b.convpath->size(), 4);
  auto mid = std::dynamic_pointer_cast<nn::Conv2d>((*std::dynamic_pointer_cast<nn::Sequential>((*b.convpath)[1]))[0]);
  EXPECT_EQ(mid->options.groups, 4);
  EXPECT_EQ(mid->weight.shape(), Shape({16, 4, 3, 3}));
  // SE on 64 channels, reduction 16: ceil(64 / 16 / 8) * 8 = 8 hidden channels.
  auto se = std::dynamic_pointer_cast<nn::SequentialEx>((*b.convpath)[3]);
  ASSERT_TRUE(se);
  EXPECT_EQ(child_types(*se->layers),
            (std::vector<std::string>{"AdaptiveAvgPool2d", "ConvLayer", "ConvLayer", "ProdLayer"}));
  EXPECT_EQ(se->state_dict().at("layers.1.0.weight").shape(), Shape({8, 64, 1, 1}));
  EXPECT_EQ(se->state_dict().at("layers.2.0.bias").shape(), Shape({64}));
  EXPECT_EQ(b(randn({2, 64, 6, 6})).shape(), Shape({2, 64, 6, 6}));
  nn::ResBlock dw(1, 8, 8, {.dw = true});
  EXPECT_EQ(std::dynamic_pointer_cast<nn::Conv2d>((*std::dynamic_pointer_cast<nn::Sequential>((*dw.convpath)[0]))[0])
                ->options.groups,
            8);
  auto rx = nn::se_resnext_block(1, 64, 64);  // width floor(64 * 4 / 64) * 32 = 128
  EXPECT_EQ(rx->state_dict().at("convpath.0.0.weight").shape(), Shape({128, 2, 3, 3}));
  auto seb = nn::se_block(4, 16, 16);  // nh1 = 2 nf, nh2 = nf * 4
  EXPECT_EQ(seb->state_dict().at("convpath.0.0.weight").shape(), Shape({32, 64, 1, 1}));
  EXPECT_EQ(seb->state_dict().at("convpath.1.0.weight").shape(), Shape({64, 32, 3, 3}));
}

TEST(ResBlock, BatchZeroMakesTheResidualBranchAConstantAtInit) {
  nn::ResBlock b(1, 4, 8, {.stride = 2});
  Tensor x = randn({3, 4, 6, 6});
  // Training-mode BN with weight 0 outputs its bias (1e-3) whatever the input.
  Tensor y = b(x);
  Tensor shortcut = (*b.idpath)(x);
  EXPECT_LT(max_abs_diff(y, relu(shortcut + 1e-3)), 1e-6);
  // With fastai's init_cnn (every bias 0) the block is exactly relu(shortcut).
  nn::init_cnn(b);
  EXPECT_LT(max_abs_diff(b(x), relu((*b.idpath)(x))), 1e-6);
}

TEST(ResBlock, GradientsMatchFiniteDifferences) {
  nn::ResBlock b(1, 2, 3, {.stride = 2});
  b.to(DType::F64);
  // Give the zero-gamma norm a non-zero weight so the residual branch carries gradient.
  for (auto& [name, p] : b.named_parameters())
    if (name == "convpath.1.1.weight") p.detach().fill_(0.7);
  Tensor x = randn_f64({2, 2, 5, 5}, 3).requires_grad_(true);
  auto r = gradcheck([&](const autograd::TensorList& in) { return b(in[0]); }, {x});
  EXPECT_TRUE(r.ok) << r.message;
  expect_param_grads_match(b, x.detach());
}

// ---------------------------------------------------------------- attention, pixel shuffle

TEST(SelfAttention, IsTheIdentityWhileGammaIsZero) {
  nn::SelfAttention sa(16);
  EXPECT_EQ(child_types(sa), (std::vector<std::string>{"ConvLayer", "ConvLayer", "ConvLayer"}));
  EXPECT_EQ(sa.state_dict().at("query.0.weight_orig").shape(), Shape({2, 16, 1}));  // spectral norm, as fastai
  EXPECT_EQ(sa.state_dict().at("query.0.weight_u").shape(), Shape({2}));
  EXPECT_EQ(sa.state_dict().at("value.0.weight_orig").shape(), Shape({16, 16, 1}));
  EXPECT_EQ(sa.gamma.to_vector<float>(), std::vector<float>{0.f});
  Tensor x = randn({2, 16, 3, 5});
  Tensor y = sa(x);
  EXPECT_EQ(y.shape(), x.shape());
  EXPECT_EQ(y.to_vector<float>(), x.to_vector<float>());
  EXPECT_STRATA_ERROR(sa(randn({2, 8, 3, 3})), ShapeError, {"SelfAttention", "[N, 16, *spatial]"});
}

TEST(SelfAttention, MatchesTheFormulaWrittenWithMatmuls) {
  nn::SelfAttention sa(8);
  sa.to(DType::F64);
  sa.gamma.detach().fill_(0.5);
  Tensor x = randn_f64({2, 8, 2, 3}, 5);
  sa.eval();  // spectral norm keeps its u, v: the weights below are the ones the forward uses
  Tensor y = sa(x);
  auto w = [&](const nn::ModulePtr& conv_layer) {
    auto c = std::dynamic_pointer_cast<nn::ConvLayer>(conv_layer);
    return std::dynamic_pointer_cast<nn::SpectralNorm>(c->conv())->compute_weight().reshape({-1, 8});
  };
  Tensor wq = w(sa.query), wk = w(sa.key), wv = w(sa.value);
  for (int64_t b = 0; b < 2; ++b) {
    Tensor xb = x[b].reshape({8, 6});
    Tensor f = matmul(wq, xb), g = matmul(wk, xb), h = matmul(wv, xb);
    Tensor beta = softmax(matmul(f.t(), g), 0);  // softmax over the first index
    Tensor expect = matmul(h, beta) * 0.5 + xb;
    EXPECT_LT(max_abs_diff(y[b].reshape({8, 6}), expect), 1e-12);
  }
}

TEST(SelfAttention, GradientsMatchFiniteDifferences) {
  nn::SelfAttention sa(8);
  sa.to(DType::F64);
  sa.gamma.detach().fill_(0.3);
  sa.eval();  // a fixed function: training mode moves spectral norm's u, v on every call
  Tensor x = randn_f64({2, 8, 2, 2}, 7).requires_grad_(true);
  auto r = gradcheck([&](const autograd::TensorList& in) { return sa(in[0]); }, {x});
  EXPECT_TRUE(r.ok) << r.message;
  expect_param_grads_match(sa, x.detach());
}

TEST(SimpleSelfAttention, IdentityAtInitAndSymmetricWeight) {
  nn::SimpleSelfAttention sa(4, 1, /*sym=*/true);
  EXPECT_EQ(sa.state_dict().at("conv.weight_orig").shape(), Shape({4, 4, 1}));
  Tensor x = randn({2, 4, 3, 3});
  EXPECT_EQ(sa(x).to_vector<float>(), x.to_vector<float>());
  sa.gamma.detach().fill_(0.5);
  sa.eval();
  // out = gamma * (x x^T) conv(x) + x with the symmetrised, spectrally normalised weight.
  Tensor w = sa.conv->compute_weight().reshape({4, 4});
  Tensor ws = (w + w.t()) / 2.0;
  Tensor xf = x.reshape({2, 4, 9});
  Tensor expect = bmm(bmm(xf, xf.transpose(1, 2)), matmul(ws, xf)) * 0.5 + xf;
  EXPECT_LT(max_abs_diff(sa(x).reshape({2, 4, 9}), expect), 1e-4);
}

TEST(WeightNorm, SameFunctionAtWrapTimeAndGradientsMatch) {
  auto conv = std::make_shared<nn::Conv2d>(2, 3, 3, nn::ConvOptions{.padding = 1});
  conv->to(DType::F64);
  Tensor x = randn_f64({2, 2, 4, 4}, 11);
  Tensor before = (*conv)(x);
  auto wn = nn::weight_norm(conv);
  auto names = wn->named_parameters();
  ASSERT_EQ(names.size(), 3u);
  EXPECT_EQ(names[0].first, "bias");  // PyTorch's order after weight_norm
  EXPECT_EQ(names[1].first, "weight_g");
  EXPECT_EQ(names[2].first, "weight_v");
  EXPECT_LT(max_abs_diff((*wn)(x), before), 1e-12);
  // Scaling v changes nothing; g alone sets each filter's norm.
  {
    NoGradGuard g;
    mul_(wn->weight_v, 3.0);
  }
  EXPECT_LT(max_abs_diff((*wn)(x), before), 1e-12);
  auto r = gradcheck([&](const autograd::TensorList& in) { return (*wn)(in[0]); }, {x.detach().requires_grad_(true)});
  EXPECT_TRUE(r.ok) << r.message;
  expect_param_grads_match(*wn, x);
}

TEST(SpectralNorm, PowerIterationFindsTheLargestSingularValue) {
  auto lin = std::make_shared<nn::Linear>(6, 4);
  lin->to(DType::F64);
  {
    NoGradGuard g;
    lin->weight.copy_(tensor({3.0, 0.0, 0.0, 0.0, 0.0, 0.0,  //
                              0.0, 1.0, 0.0, 0.0, 0.0, 0.0,  //
                              0.0, 0.0, 0.5, 0.0, 0.0, 0.0,  //
                              0.0, 0.0, 0.0, 0.2, 0.0, 0.0})
                          .reshape({4, 6}));
  }
  auto sn = nn::spectral_norm(lin);
  auto sd = sn->state_dict();
  EXPECT_TRUE(sd.count("weight_orig") && sd.count("weight_u") && sd.count("weight_v") && sd.count("bias"));
  for (int i = 0; i < 40; ++i) (*sn)(randn_f64({1, 6}, 1));  // training: one power step per call
  // sigma -> 3, so the normalised weight's largest entry -> 1.
  EXPECT_NEAR(max_abs(sn->compute_weight()), 1.0, 1e-6);
  sn->eval();
  Tensor u = sn->weight_u.clone();
  (*sn)(randn_f64({1, 6}, 2));
  EXPECT_EQ(max_abs_diff(sn->weight_u, u), 0.0);  // eval: u and v stay
  // A transposed conv normalises over its dim 1.
  auto t = nn::spectral_norm(std::make_shared<nn::ConvTranspose2d>(3, 5, 2));
  EXPECT_EQ(t->weight_u.shape(), Shape({5}));
  EXPECT_EQ(t->weight_v.shape(), Shape({12}));
}

TEST(PixelShuffleICNR, UpsamplesWithIdenticalSubPixelFilters) {
  nn::PixelShuffle_ICNR up(8, 4);
  EXPECT_EQ(child_types(up), (std::vector<std::string>{"ConvLayer", "PixelShuffle"}));
  auto conv = std::dynamic_pointer_cast<nn::ConvLayer>(up[0]);
  Tensor w = conv->conv_weight();  // weight_v under fastai's default weight norm
  EXPECT_EQ(w.shape(), Shape({16, 8, 1, 1}));
  auto wn = std::dynamic_pointer_cast<nn::WeightNorm>(conv->conv());
  ASSERT_TRUE(wn);
  EXPECT_LT(max_abs_diff(wn->weight_g.reshape({16}), norm(w.reshape({16, 8}), 2.0, {1})), 1e-6);  // g = ||v||
  for (int64_t c = 0; c < 4; ++c)
    for (int64_t k = 1; k < 4; ++k) EXPECT_EQ(w[c * 4 + k].to_vector<float>(), w[c * 4].to_vector<float>());
  EXPECT_NE(w[0].to_vector<float>(), w[4].to_vector<float>());
  Tensor x = randn({2, 8, 3, 5});
  Tensor y = up(x);
  EXPECT_EQ(y.shape(), Shape({2, 4, 6, 10}));
  // Identical sub-filters: each 2x2 output cell is one value (nearest-neighbour-like).
  EXPECT_EQ(y[0][1][2][4].item(), y[0][1][3][5].item());
  nn::PixelShuffle_ICNR blur(8, 0, 3, {.blur = true, .norm_type = nn::NormType::Batch});
  EXPECT_EQ(child_types(*std::dynamic_pointer_cast<nn::Sequential>(blur[0])),
            (std::vector<std::string>{"Conv2d", "BatchNorm2d", "ReLU"}));
  EXPECT_EQ(child_types(blur),
            (std::vector<std::string>{"ConvLayer", "PixelShuffle", "ReplicationPad2d", "AvgPool2d"}));
  EXPECT_EQ(blur(x).shape(), Shape({2, 8, 9, 15}));
  EXPECT_STRATA_ERROR(nn::icnr_init(zeros({6, 2, 1, 1}), 2), ValueError, {"icnr_init", "not divisible"});
}

TEST(ReplicationPad2d, RepeatsEdgePixels) {
  nn::ReplicationPad2d pad(1, 0, 1, 0);
  Tensor x = tensor({1.f, 2.f, 3.f, 4.f}).reshape({1, 1, 2, 2});
  EXPECT_EQ(pad(x).to_vector<float>(), (std::vector<float>{1, 1, 2, 1, 1, 2, 3, 3, 4}));
}

// ---------------------------------------------------------------- registry, body/head

TEST(Registry, CreatesModelsByNameWithExtras) {
  auto names = nn::list_models();
  for (const char* n : {"xresnet18", "xresnet34", "xresnet50", "xresnet101", "xresnet152", "xse_resnext50",
                        "xresnext34", "xse_resnet18", "resnet18", "resnet34", "resnet50"})
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
  auto m = nn::create_model("xresnet18", {.n_out = 7, .c_in = 1, .extras = {{"act", "mish"}, {"p", "0.25"}}});
  auto x = std::dynamic_pointer_cast<nn::XResNet>(m);
  ASSERT_TRUE(x);
  EXPECT_EQ(x->state_dict().at("0.0.weight").shape(), Shape({32, 1, 3, 3}));
  EXPECT_EQ(x->state_dict().at("11.weight").shape(), Shape({7, 512}));
  EXPECT_EQ(std::dynamic_pointer_cast<nn::Dropout>((*x)[10])->p, 0.25);
  EXPECT_EQ((*std::dynamic_pointer_cast<nn::Sequential>((*x)[0]))[2]->type_name(), "Mish");
  auto r = nn::create_model("resnet18", {.n_out = 5});
  EXPECT_EQ(r->state_dict().at("fc.weight").shape(), Shape({5, 512}));
  auto g = nn::create_model("xresnext18", {.n_out = 3, .extras = {{"groups", "16"}}});
  EXPECT_EQ(g->state_dict().at("4.0.convpath.0.0.weight").shape(),
            Shape({64, 4, 3, 3}));  // floor(64 * 4 / 64) * 16 = 64 wide, 4 per group
}

TEST(Registry, ErrorsNameTheProblem) {
  EXPECT_STRATA_ERROR(nn::create_model("xresnet19"), ValueError,
                      {"unknown model 'xresnet19'", "xresnet34", "resnet18"});
  EXPECT_STRATA_ERROR(nn::create_model("xresnet18", {.extras = {{"dropout", "0.5"}}}), ValueError,
                      {"unknown extra 'dropout'", "widen"});
  EXPECT_STRATA_ERROR(nn::create_model("xresnet18", {.extras = {{"ks", "three"}}}), ValueError,
                      {"'ks' must be an integer", "three"});
  EXPECT_STRATA_ERROR(nn::create_model("xresnet18", {.extras = {{"sa", "maybe"}}}), ValueError, {"'sa'"});
  EXPECT_STRATA_ERROR(nn::create_model("resnet18", {.extras = {{"p", "0.5"}}}), ValueError, {"resnet18", "'p'"});
  EXPECT_STRATA_ERROR(nn::create_model("resnet18", {.n_out = 0}), ValueError, {"n_out"});
  nn::model_registry()["tiny"] = [](const nn::ModelConfig& c) -> nn::ModulePtr {
    return std::make_shared<nn::Linear>(c.c_in, c.n_out);
  };
  EXPECT_EQ(nn::create_model("tiny", {.n_out = 2, .c_in = 3})->num_parameters(), 8);
  nn::model_registry().erase("tiny");
}

TEST(CutModel, BodyAndItsNumberOfFeatures) {
  auto r = nn::resnet18();
  auto body = nn::cut_model(r, -2);  // drop avgpool and fc
  EXPECT_EQ(body->size(), 8);
  EXPECT_EQ(child_types(*body).back(), "Sequential");
  EXPECT_TRUE((*body)[0].get() == r->conv1.get());  // shared, not copied
  EXPECT_EQ(nn::in_channels(*body), 3);
  EXPECT_TRUE(body->is_training());
  EXPECT_EQ(nn::num_features_model(*body), 512);
  EXPECT_TRUE(body->is_training());  // mode restored
  auto x = nn::xresnet50({.c_in = 4});
  EXPECT_EQ(nn::num_features_model(*nn::cut_model(x, -4)), 2048);
  EXPECT_EQ(nn::cut_model(x, 3)->size(), 3);
  EXPECT_STRATA_ERROR(nn::cut_model(x, 13), IndexError, {"cut_model", "XResNet", "12 children"});
  auto custom =
      nn::cut_model(r, [](const nn::ModulePtr& m) { return std::dynamic_pointer_cast<nn::ResNet>(m)->layer1; });
  EXPECT_EQ(custom->size(), 2);
}

TEST(Pool1d, AverageMaxAndAdaptiveOverSequences) {
  Tensor x = tensor({1.f, 5.f, 2.f, 4.f, 3.f}).reshape({1, 1, 5});
  EXPECT_EQ(nn::AvgPool1d(2)(x).to_vector<float>(), (std::vector<float>{3, 3}));
  EXPECT_EQ(nn::AvgPool1d(2, 0, 0, /*ceil_mode=*/true)(x).to_vector<float>(), (std::vector<float>{3, 3, 3}));
  EXPECT_EQ(nn::MaxPool1d(3, 2, 1)(x).to_vector<float>(), (std::vector<float>{5, 5, 4}));
  EXPECT_EQ(nn::AdaptiveAvgPool1d(1)(x).to_vector<float>(), (std::vector<float>{3}));
  EXPECT_EQ(nn::AdaptiveAvgPool1d(1)(x).shape(), Shape({1, 1, 1}));
  EXPECT_STRATA_ERROR(nn::AvgPool1d(2)(randn({1, 1, 2, 2})), ShapeError, {"AvgPool1d", "[N, C, L]"});
}
