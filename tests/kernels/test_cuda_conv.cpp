// The conv family on CUDA (kernels/cuda/conv_select.cu, conv_cudnn.cu, conv_implicit_gemm.cu)
// against the CPU kernels, for each ConvAlgorithm: forward, backward-data and backward-weight
// through autograd (and the bias gradient; depthwise cases run conv_depthwise.cu's direct kernels
// under implicit_gemm) over 1x1 / 3x3 / 5x5 / 7x7 kernels, strides 1 and 2,
// asymmetric padding, dilation 2 and 3, groups (depthwise too), odd sizes, tiles larger than one
// 64 x 64 block, the split-K weight gradient, conv_transpose2d (output_padding too, also the
// output_padding >= stride case cuDNN cannot pair), conv1d, empty batches and no input channels
// (bias only; on CUDA alone: the CPU kernel rejects it, a known CPU gap); f32, f64 and bf16
// (bf16 is computed in f32 by the front end on both devices). Also, without a GPU: that the
// option reaches ConvGeometry, how automatic resolves, the DeviceError for cuDNN in a build
// without it, and that the CPU ignores the choice.
//
// Tolerances, |cuda - cpu| <= rtol * |cpu| + rtol * max|cpu| per element (the sums have up to
// ~4000 terms and run in another order; cuDNN may pick Winograd or FFT algorithms, whose rounding
// differs more than a direct sum's, still without TF32): f32 1e-4, f64 1e-10, bf16 2e-2 (both
// devices round an f32 result to bf16: one bf16 ulp apart at most, plus the f32 differences).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "kernels/conv.h"
#include "nn/conv.h"
#include "strata.h"
#include "support/cuda_parity.h"

namespace strata {
namespace {

using kernels::ConvProduct;

// ---- without a GPU ----

TEST(ConvAlgorithmOption, ReachesTheKernelGeometry) {
  EXPECT_EQ(kernels::conv_geometry(Conv2dOptions{}).algorithm, ConvAlgorithm::automatic);
  const kernels::ConvGeometry g = kernels::conv_geometry(Conv2dOptions{
      .stride = {2, 3}, .padding = {1, 0}, .dilation = {1, 2}, .groups = 4, .algorithm = ConvAlgorithm::implicit_gemm});
  EXPECT_EQ(g.algorithm, ConvAlgorithm::implicit_gemm);
  EXPECT_EQ(g.stride_h, 2);
  EXPECT_EQ(g.stride_w, 3);
  EXPECT_EQ(g.pad_h, 1);
  EXPECT_EQ(g.pad_w, 0);
  EXPECT_EQ(g.dil_w, 2);
  EXPECT_EQ(g.groups, 4);
  const kernels::ConvGeometry t = kernels::conv_geometry(
      ConvTranspose2dOptions{.stride = {2, 2}, .output_padding = {1, 1}, .algorithm = ConvAlgorithm::cudnn});
  EXPECT_EQ(t.algorithm, ConvAlgorithm::cudnn);
  EXPECT_EQ(t.stride_h, 2);
  EXPECT_EQ(nn::ConvOptions{}.algorithm, ConvAlgorithm::automatic);
}

TEST(ConvAlgorithmOption, AutomaticResolvesToCudnnOnlyWhenBuiltWithIt) {
  using kernels::resolve_conv_algorithm;
  EXPECT_EQ(resolve_conv_algorithm(ConvAlgorithm::automatic, true, "conv2d"), ConvAlgorithm::cudnn);
  EXPECT_EQ(resolve_conv_algorithm(ConvAlgorithm::automatic, false, "conv2d"), ConvAlgorithm::implicit_gemm);
  EXPECT_EQ(resolve_conv_algorithm(ConvAlgorithm::implicit_gemm, true, "conv2d"), ConvAlgorithm::implicit_gemm);
  EXPECT_EQ(resolve_conv_algorithm(ConvAlgorithm::implicit_gemm, false, "conv2d"), ConvAlgorithm::implicit_gemm);
  EXPECT_EQ(resolve_conv_algorithm(ConvAlgorithm::cudnn, true, "conv2d"), ConvAlgorithm::cudnn);
}

TEST(ConvAlgorithmOption, CudnnWithoutCudnnIsADeviceErrorNamingTheOp) {
  try {
    kernels::resolve_conv_algorithm(ConvAlgorithm::cudnn, false, "conv2d");
    FAIL() << "no error";
  } catch (const DeviceError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("conv2d"), std::string::npos) << what;
    EXPECT_NE(what.find("cuDNN"), std::string::npos) << what;
    EXPECT_NE(what.find("implicit_gemm"), std::string::npos) << what;
  }
  EXPECT_STREQ(kernels::conv_algorithm_name(ConvAlgorithm::implicit_gemm), "implicit_gemm");
}

TEST(ConvAlgorithmOption, TheCpuIgnoresTheChoice) {
  const Tensor x = testing::parity_values({2, 4, 7, 6}, DType::F32, 1);
  const Tensor w = testing::parity_values({6, 2, 3, 3}, DType::F32, 2);
  const Tensor b = testing::parity_values({6}, DType::F32, 3);
  const Tensor ref = conv2d(x, w, b, {.padding = {1, 1}, .groups = 2});
  for (ConvAlgorithm a : {ConvAlgorithm::cudnn, ConvAlgorithm::implicit_gemm}) {
    const Tensor y = conv2d(x, w, b, {.padding = {1, 1}, .groups = 2, .algorithm = a});
    EXPECT_TRUE(testing::all_close(ref, y, {0, 0}, kernels::conv_algorithm_name(a)));
  }
}

// ---- parity on a GPU ----

struct Case {
  std::string name;
  int64_t n, cin, h, w, cout, kh, kw;
  std::array<int64_t, 2> stride{1, 1}, padding{0, 0}, dilation{1, 1};
  int64_t groups = 1;
  bool bias = true;
};

std::vector<Case> cases() {
  return {
      {"1x1", 2, 8, 7, 9, 16, 1, 1},
      {"3x3_pad1", 2, 5, 11, 13, 7, 3, 3, {1, 1}, {1, 1}},
      {"3x3_stride2", 3, 6, 15, 17, 10, 3, 3, {2, 2}, {1, 1}, {1, 1}, 1, false},
      {"7x7_stride2_pad3", 2, 3, 23, 21, 8, 7, 7, {2, 2}, {3, 3}},
      {"dilation2", 2, 4, 13, 12, 6, 3, 3, {1, 1}, {2, 2}, {2, 2}},
      {"asymmetric", 2, 3, 14, 11, 5, 3, 5, {2, 1}, {0, 2}, {1, 3}},
      {"groups2", 2, 6, 9, 10, 4, 3, 3, {1, 1}, {1, 1}, {1, 1}, 2},
      {"depthwise", 2, 8, 12, 11, 8, 3, 3, {2, 2}, {1, 1}, {1, 1}, 8},
      {"depthwise_x2_5x5", 1, 4, 9, 9, 8, 5, 5, {1, 1}, {2, 2}, {1, 1}, 4},
      {"depthwise_7x7_dilation2", 2, 6, 19, 18, 6, 7, 7, {1, 1}, {6, 6}, {2, 2}, 6},
      {"many_tiles", 2, 70, 20, 19, 130, 3, 3, {1, 1}, {1, 1}},
      {"split_k_weight", 4, 3, 32, 33, 4, 3, 3, {1, 1}, {1, 1}},
  };
}

double tol_for(DType dt) { return dt == DType::F64 ? 1e-10 : dt == DType::BF16 ? 2e-2 : 1e-4; }

::testing::AssertionResult close(const Tensor& cpu, const Tensor& gpu, const std::string& what) {
  const double rtol = tol_for(cpu.dtype());
  const double scale = cpu.numel() == 0 ? 0.0 : strata::max(strata::abs(cpu)).to(DType::F64).item<double>();
  return testing::all_close(cpu, gpu, {rtol, rtol * scale}, what);
}

// Whether this build runs cuDNN: automatic picks it exactly then. Probed once (the probe itself
// runs a conv, which would overwrite the trace that the tests read).
bool cudnn_in_build() {
  static const bool built = [] {
    const Tensor x = ones({1, 1, 3, 3}, {.device = Device::cuda()});
    conv2d(x, x);
    return kernels::last_cuda_conv_algorithm(ConvProduct::forward) == ConvAlgorithm::cudnn;
  }();
  return built;
}

std::vector<ConvAlgorithm> algorithms() {
  std::vector<ConvAlgorithm> out = {ConvAlgorithm::implicit_gemm, ConvAlgorithm::automatic};
  if (cudnn_in_build()) out.push_back(ConvAlgorithm::cudnn);
  return out;
}

ConvAlgorithm resolved(ConvAlgorithm a) {
  return a == ConvAlgorithm::automatic ? (cudnn_in_build() ? ConvAlgorithm::cudnn : ConvAlgorithm::implicit_gemm) : a;
}

struct Leaves {
  Tensor x, w, b, gy;
};

// y = op(x, w, b) on one device, then (y * gy).sum() backward; returns y and the three grads.
template <class Op>
std::vector<Tensor> run(const Leaves& l, Device device, Op&& op) {
  Tensor x = l.x.to(device).detach().requires_grad_();
  Tensor w = l.w.to(device).detach().requires_grad_();
  Tensor b = l.b.defined() ? l.b.to(device).detach().requires_grad_() : Tensor();
  const Tensor y = op(x, w, b);
  strata::sum(y * l.gy.to(device)).backward();
  return {y, x.grad(), w.grad(), b.defined() ? b.grad() : Tensor()};
}

// check_trace: whether every product must have run `a` (conv_transpose2d with output_padding >=
// stride sends its weight gradient to the implicit GEMM whatever was asked: cuDNN cannot pair it).
template <class Op>
void expect_parity(const Leaves& l, Op&& op, ConvAlgorithm a, const std::string& what, bool check_trace = true) {
  const ConvAlgorithm want = resolved(a);
  const auto cpu = run(l, Device::cpu(), op);
  const auto gpu = run(l, Device::cuda(), op);
  const char* names[4] = {"forward", "grad_input", "grad_weight", "grad_bias"};
  for (int i = 0; i < 4; ++i) {
    if (!cpu[i].defined()) continue;
    ASSERT_TRUE(gpu[i].defined()) << what << " " << names[i];
    EXPECT_TRUE(close(cpu[i], gpu[i], what + " " + names[i]));
  }
  // The choice reached every kernel, the backward ones included (empty problems excepted).
  if (check_trace && l.x.numel() > 0 && l.w.numel() > 0) {
    EXPECT_EQ(kernels::last_cuda_conv_algorithm(ConvProduct::backward_weight), want) << what;
  }
}

Leaves conv_leaves(const Case& c, DType dt, uint64_t seed) {
  Leaves l;
  l.x = testing::parity_values({c.n, c.cin, c.h, c.w}, dt, seed);
  l.w = testing::parity_values({c.cout, c.cin / c.groups, c.kh, c.kw}, dt, seed + 1);
  if (c.bias) l.b = testing::parity_values({c.cout}, dt, seed + 2);
  const Tensor y = conv2d(l.x, l.w, l.b,
                          {.stride = c.stride, .padding = c.padding, .dilation = c.dilation, .groups = c.groups});
  l.gy = testing::parity_values(y.shape(), dt, seed + 3);
  return l;
}

TEST(CudaConv, Conv2dMatchesTheCpuForwardAndBackwardForEveryAlgorithm) {
  SKIP_WITHOUT_CUDA();
  for (ConvAlgorithm a : algorithms()) {
    for (const Case& c : cases()) {
      for (DType dt : {DType::F32, DType::F64}) {
        const Conv2dOptions o{
            .stride = c.stride, .padding = c.padding, .dilation = c.dilation, .groups = c.groups, .algorithm = a};
        const std::string what = fmt::format("{} {} {}", c.name, kernels::conv_algorithm_name(a), dtype_name(dt));
        expect_parity(conv_leaves(c, dt, 10), [&](const Tensor& x, const Tensor& w, const Tensor& b) {
          const Tensor y = conv2d(x, w, b, o);
          if (x.device().is_cuda()) {
            EXPECT_EQ(kernels::last_cuda_conv_algorithm(ConvProduct::forward), resolved(a)) << what;
          }
          return y;
        }, a, what);
      }
    }
  }
}

TEST(CudaConv, Bf16AndNonContiguousInputsMatchTheCpu) {
  SKIP_WITHOUT_CUDA();
  for (ConvAlgorithm a : algorithms()) {
    const Case c{"3x3_stride2", 2, 6, 15, 13, 10, 3, 3, {2, 2}, {1, 1}};
    const Conv2dOptions o{.stride = c.stride, .padding = c.padding, .algorithm = a};
    const auto op = [&](const Tensor& x, const Tensor& w, const Tensor& b) { return conv2d(x, w, b, o); };
    expect_parity(conv_leaves(c, DType::BF16, 20), op, a, fmt::format("bf16 {}", kernels::conv_algorithm_name(a)));
    // x as a transposed view, w as a stepped slice.
    Leaves l = conv_leaves(c, DType::F32, 30);
    l.x = testing::parity_values({2, 6, 13, 15}, DType::F32, 31).transpose(2, 3);
    l.w = testing::parity_values({10, 6, 3, 6}, DType::F32, 32).slice(3, 0, 6, 2);
    ASSERT_FALSE(l.x.is_contiguous());
    ASSERT_FALSE(l.w.is_contiguous());
    expect_parity(l, op, a, fmt::format("non-contiguous {}", kernels::conv_algorithm_name(a)));
  }
}

TEST(CudaConv, ConvTranspose2dMatchesTheCpu) {
  SKIP_WITHOUT_CUDA();
  struct TCase {
    std::string name;
    int64_t n, cin, h, w, cout_per_group, k;
    ConvTranspose2dOptions o;
  };
  const std::vector<TCase> tcases = {
      {"stride2_outpad1", 2, 6, 7, 9, 4, 3, {.stride = {2, 2}, .padding = {1, 1}, .output_padding = {1, 1}}},
      {"groups2", 2, 6, 5, 6, 3, 3, {.stride = {1, 2}, .padding = {0, 1}, .groups = 2}},
      {"outpad_over_stride", 1, 3, 6, 5, 2, 3, {.output_padding = {1, 1}, .dilation = {2, 2}}},
      {"4x4_stride2", 2, 5, 8, 8, 3, 4, {.stride = {2, 2}, .padding = {1, 1}}},
      {"depthwise", 2, 4, 6, 7, 1, 3, {.stride = {2, 2}, .padding = {1, 1}, .output_padding = {1, 0}, .groups = 4}},
  };
  for (ConvAlgorithm a : algorithms()) {
    for (const TCase& c : tcases) {
      for (DType dt : {DType::F32, DType::F64}) {
        ConvTranspose2dOptions o = c.o;
        o.algorithm = a;
        Leaves l;
        l.x = testing::parity_values({c.n, c.cin, c.h, c.w}, dt, 40);
        l.w = testing::parity_values({c.cin, c.cout_per_group, c.k, c.k}, dt, 41);
        l.b = testing::parity_values({c.cout_per_group * o.groups}, dt, 42);
        l.gy = testing::parity_values(conv_transpose2d(l.x, l.w, l.b, o).shape(), dt, 43);
        const auto op = [&](const Tensor& x, const Tensor& w, const Tensor& b) { return conv_transpose2d(x, w, b, o); };
        expect_parity(l, op, a,
                      fmt::format("conv_transpose2d {} {} {}", c.name, kernels::conv_algorithm_name(a), dtype_name(dt)),
                      c.name != "outpad_over_stride");
      }
    }
  }
}

TEST(CudaConv, Conv1dAndEmptyBatchesMatchTheCpu) {
  SKIP_WITHOUT_CUDA();
  for (ConvAlgorithm a : algorithms()) {
    const std::string name = kernels::conv_algorithm_name(a);
    Leaves l;
    l.x = testing::parity_values({3, 4, 29}, DType::F32, 50);
    l.w = testing::parity_values({6, 2, 5}, DType::F32, 51);
    l.b = testing::parity_values({6}, DType::F32, 52);
    const Conv1dOptions o1{.stride = 2, .padding = 2, .dilation = 1, .groups = 2, .algorithm = a};
    l.gy = testing::parity_values(conv1d(l.x, l.w, l.b, o1).shape(), DType::F32, 53);
    expect_parity(l, [&](const Tensor& x, const Tensor& w, const Tensor& b) { return conv1d(x, w, b, o1); }, a,
                  "conv1d " + name);

    Leaves e;  // a batch of 0: empty output and input grad, zero weight and bias grads
    e.x = testing::parity_values({0, 3, 8, 8}, DType::F32, 54);
    e.w = testing::parity_values({5, 3, 3, 3}, DType::F32, 55);
    e.b = testing::parity_values({5}, DType::F32, 56);
    e.gy = zeros({0, 5, 6, 6});
    const auto op = [&](const Tensor& x, const Tensor& w, const Tensor& b) {
      return conv2d(x, w, b, {.algorithm = a});
    };
    expect_parity(e, op, a, "empty batch " + name);
    const auto gpu = run(e, Device::cuda(), op);
    EXPECT_EQ(strata::sum(strata::abs(gpu[2])).item<float>(), 0.0f);

    // No input channels: the output is the bias, as on the CPU.
    const Tensor b = testing::parity_values({4}, DType::F32, 57);
    const TensorOptions on_gpu{.device = Device::cuda()};
    const Tensor y = conv2d(zeros({2, 0, 5, 5}, on_gpu), zeros({4, 0, 3, 3}, on_gpu), b.to(Device::cuda()),
                            {.algorithm = a});
    EXPECT_TRUE(close(conv2d(zeros({2, 0, 5, 5}), zeros({4, 0, 3, 3}), b), y, "no input channels " + name));
  }
}

TEST(CudaConv, BadCallsOnCudaTensorsThrowTheFrontEndErrors) {
  SKIP_WITHOUT_CUDA();
  const Tensor x = zeros({1, 4, 5, 5}, {.device = Device::cuda()});
  const Tensor w = zeros({3, 3, 3, 3}, {.device = Device::cuda()});
  try {
    conv2d(x, w, {}, {.algorithm = ConvAlgorithm::implicit_gemm});
    FAIL() << "no error";
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("conv2d"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace strata
