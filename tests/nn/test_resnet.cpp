// torchvision's ResNet: parameter counts and state dict names equal torchvision's, so its
// checkpoints (saved as safetensors) load strictly; round trips are bit-exact; a wrong key is
// reported by name.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>

#include "autograd/grad_mode.h"
#include "nn/norm.h"
#include "nn/resnet.h"
#include "support/expect_error.h"
#include "tensor/ops.h"
#include "tensor/safetensors.h"
#include "support/test_files.h"

using namespace strata;

TEST(ResNet, ParameterCountsMatchTorchvision) {
  EXPECT_EQ(nn::resnet18()->num_parameters(), 11'689'512);
  EXPECT_EQ(nn::resnet34()->num_parameters(), 21'797'672);
  EXPECT_EQ(nn::resnet50()->num_parameters(), 25'557'032);
  EXPECT_EQ(nn::resnet101()->num_parameters(), 44'549'160);
  EXPECT_EQ(nn::resnet18(10)->num_parameters(), 11'689'512 - 990 * 513);
}

TEST(ResNet, StateDictKeysAreTorchvisions) {
  auto m = nn::resnet18();
  auto sd = m->state_dict();
  // conv1 + bn1 (5) = 6; 8 basic blocks x (2 convs + 2 bns x 5) = 96; 3 downsamples x 6 = 18; fc 2.
  EXPECT_EQ(sd.size(), 122u);
  const std::pair<const char*, Shape> keys[] = {
      {"conv1.weight", {64, 3, 7, 7}},
      {"bn1.weight", {64}},
      {"bn1.running_mean", {64}},
      {"bn1.num_batches_tracked", {}},
      {"layer1.0.conv1.weight", {64, 64, 3, 3}},
      {"layer1.1.bn2.running_var", {64}},
      {"layer2.0.conv1.weight", {128, 64, 3, 3}},
      {"layer2.0.downsample.0.weight", {128, 64, 1, 1}},
      {"layer2.0.downsample.1.running_mean", {128}},
      {"layer4.1.conv2.weight", {512, 512, 3, 3}},
      {"fc.weight", {1000, 512}},
      {"fc.bias", {1000}},
  };
  for (const auto& [k, shape] : keys) {
    ASSERT_TRUE(sd.count(k)) << k;
    EXPECT_EQ(sd.at(k).shape(), shape) << k;
  }
  EXPECT_FALSE(sd.count("layer1.0.downsample.0.weight"));
  EXPECT_EQ(sd.at("bn1.num_batches_tracked").dtype(), DType::I64);
  // named_parameters in torchvision's registration order.
  auto named = m->named_parameters();
  ASSERT_EQ(named.size(), 62u);
  EXPECT_EQ(named[0].first, "conv1.weight");
  EXPECT_EQ(named[1].first, "bn1.weight");
  EXPECT_EQ(named[3].first, "layer1.0.conv1.weight");
  EXPECT_EQ(named.back().first, "fc.bias");

  auto r50 = nn::resnet50()->state_dict();
  EXPECT_EQ(r50.size(), 320u);
  EXPECT_EQ(r50.at("layer1.0.conv3.weight").shape(), Shape({256, 64, 1, 1}));
  EXPECT_EQ(r50.at("layer1.0.downsample.0.weight").shape(), Shape({256, 64, 1, 1}));
  EXPECT_EQ(r50.at("layer3.0.conv2.weight").shape(), Shape({256, 256, 3, 3}));  // v1.5: stride on the 3x3
  EXPECT_EQ(r50.at("fc.weight").shape(), Shape({1000, 2048}));
}

TEST(ResNet, InitIsTorchvisions) {
  auto m = nn::resnet18();
  // kaiming_normal_(fan_out, relu): std sqrt(2 / (out * k * k)); layer3 conv2: 256 * 9.
  const double expect = std::sqrt(2.0 / (256 * 9));
  EXPECT_NEAR(strata::std(m->state_dict().at("layer3.0.conv2.weight")).item(), expect, 0.01 * expect);
  EXPECT_EQ(amin(m->state_dict().at("layer2.1.bn2.weight")).item(), 1.0);
  EXPECT_EQ(amax(abs(m->state_dict().at("layer2.1.bn2.bias"))).item(), 0.0);
}

TEST(ResNet, ForwardShapesAndEvalMode) {
  auto m = nn::resnet18(10);
  Tensor x = randn({2, 3, 64, 64});
  Tensor y = (*m)(x);
  EXPECT_EQ(y.shape(), Shape({2, 10}));
  EXPECT_EQ(m->state_dict().at("bn1.num_batches_tracked").item<int64_t>(), 1);
  m->eval();
  NoGradGuard g;
  EXPECT_EQ((*m)(x).shape(), Shape({2, 10}));
  auto r50 = nn::resnet50(7);
  r50->eval();
  EXPECT_EQ((*r50)(randn({1, 3, 32, 32})).shape(), Shape({1, 7}));
}

TEST(ResNet, StateDictRoundTripThroughSafetensorsIsBitExact) {
  auto a = nn::resnet18(10);
  (*a)(randn({2, 3, 32, 32}));  // move the running statistics off their initial values
  const strata::testing::TempDir dir;  // unique per process: parallel runs never share the file
  auto path = dir.path / "resnet18.safetensors";
  a->save(path);
  auto b = nn::resnet18(10);
  EXPECT_TRUE(b->load(path).ok());
  auto sa = a->state_dict(), sb = b->state_dict();
  ASSERT_EQ(sa.size(), sb.size());
  for (const auto& [name, t] : sa) {
    const Tensor& u = sb.at(name);
    ASSERT_EQ(t.shape(), u.shape()) << name;
    ASSERT_EQ(t.dtype(), u.dtype()) << name;
    EXPECT_EQ(std::memcmp(t.contiguous().raw_data(), u.contiguous().raw_data(), static_cast<size_t>(t.nbytes())), 0)
        << name;
  }
  // And the file holds exactly torchvision's key set.
  auto file = load_safetensors(path);
  EXPECT_EQ(file.tensors.size(), 122u);
  EXPECT_TRUE(file.contains("layer3.0.downsample.1.num_batches_tracked"));
}

TEST(ResNet, StrictLoadReportsAWrongKeyByName) {
  auto m = nn::resnet18();
  auto dict = m->state_dict();
  dict["layer1.0.conv1.weights"] = dict.at("layer1.0.conv1.weight");
  dict.erase("layer1.0.conv1.weight");
  EXPECT_STRATA_ERROR(m->load_state_dict(dict), ValueError,
                      {"missing key: layer1.0.conv1.weight", "unexpected key: layer1.0.conv1.weights"});
  auto report = m->load_state_dict(dict, /*strict=*/false);
  EXPECT_EQ(report.missing, std::vector<std::string>{"layer1.0.conv1.weight"});
  EXPECT_EQ(report.unexpected, std::vector<std::string>{"layer1.0.conv1.weights"});
  auto wrong_classes = nn::resnet18(10)->state_dict();
  EXPECT_STRATA_ERROR(m->load_state_dict(wrong_classes), ValueError, {"fc.weight"});
}

// A golden value from torchvision itself: resnet18(num_classes=4) with every state dict entry set
// by a formula (entries in sorted name order j, element i: sin(0.1 i + 0.7 j), scaled per kind),
// in eval mode, on x[i] = cos(0.05 i). Produced by torchvision 0.14 with:
//
//   m = torchvision.models.resnet18(num_classes=4); sd = m.state_dict()
//   for j, k in enumerate(sorted(sd)):
//       t = sd[k]
//       if not t.is_floating_point(): continue
//       i = torch.arange(t.numel(), dtype=torch.float64); v = torch.sin(0.1 * i + 0.7 * j)
//       if k.endswith('running_var'): v = 1.0 + 0.5 * v.abs()
//       elif k.endswith('running_mean'): v = 0.1 * v
//       elif k.endswith(('bn1.weight', 'bn2.weight', '.1.weight')): v = 1.0 + 0.2 * v
//       elif t.dim() > 1: v = v * math.sqrt(2.0 / (t.numel() / t.shape[0]))
//       else: v = 0.1 * v
//       t.copy_(v.reshape(t.shape).float())
//   m.eval(); x = torch.cos(0.05 * torch.arange(2*3*32*32, dtype=torch.float64)).reshape(2,3,32,32).float()
//   print(m(x))
TEST(ResNet, MatchesTorchvisionOnFormulaWeights) {
  auto m = nn::resnet18(4);
  nn::StateDict sd = m->state_dict();
  nn::StateDict filled;
  int64_t j = 0;
  for (const auto& [k, t] : sd) {
    if (t.dtype() != DType::F32) {
      filled[k] = t;
      ++j;
      continue;
    }
    const int64_t n = t.numel();
    std::vector<float> v(static_cast<size_t>(n));
    auto ends = [&](const char* suffix) { return k.ends_with(suffix); };
    for (int64_t i = 0; i < n; ++i) {
      double s = std::sin(0.1 * static_cast<double>(i) + 0.7 * static_cast<double>(j));
      if (ends("running_var"))
        s = 1.0 + 0.5 * std::abs(s);
      else if (ends("running_mean"))
        s = 0.1 * s;
      else if (ends("bn1.weight") || ends("bn2.weight") || ends(".1.weight"))
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
  const int64_t nx = 2 * 3 * 32 * 32;
  std::vector<float> xv(static_cast<size_t>(nx));
  for (int64_t i = 0; i < nx; ++i)
    xv[static_cast<size_t>(i)] = static_cast<float>(std::cos(0.05 * static_cast<double>(i)));
  NoGradGuard g;
  std::vector<float> y = (*m)(tensor(xv).reshape({2, 3, 32, 32})).to_vector<float>();
  const std::vector<float> expect = {1.66509104f, -0.52487987f, -2.36230421f, -2.35879302f,
                                     1.64947295f, -0.52378869f, -2.34538937f, -2.33978271f};
  ASSERT_EQ(y.size(), expect.size());
  for (size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(y[i], expect[i], 1e-4 * (1 + std::abs(expect[i]))) << i;
}
