// The strided backward-data path of kernels/cpu/conv_strided_data.cpp (phase split on the
// micro-kernel), called straight so a test fails if the path silently stops applying: against
// the im2col path (the same kernel with the path switched off) and a naive double-precision
// transposed convolution, on strides 2 and 3 (and mixed (2, 1)), padding 0/1/2, dilation 1/2,
// odd sizes, channel counts that are not multiples of the micro-tile, groups 1 and 2, batch 1
// and 3, 5x5 and even kernels, one tap per phase (4x4 stride 4), gx larger
// than the forward's input (conv_transpose2d's output_padding), the bias, f32 and f64, every
// micro-kernel ISA this CPU runs; bitwise the same for 1, 2 and 3 threads; through autograd and
// conv_transpose2d; and the shapes it must leave to the other paths.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "kernels/conv.h"
#include "kernels/cpu/conv_direct.h"
#include "kernels/cpu/conv_strided_data.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/parallel.h"
#include "strata.h"
#include "support/conv_test_util.h"

namespace strata {
namespace {

using kernels::ConvGeometry;

using testing::random;
using testing::for_each_isa;
using testing::vec;

struct Case {
  int64_t n, cin, h, w, cout, kh, kw, ph, pw, dh, dw, groups, sh, sw;
  int64_t extra_h = 0, extra_w = 0;  // gx rows / columns past the forward's input (output_padding)
  std::string name() const {
    return "n" + std::to_string(n) + " cin" + std::to_string(cin) + " " + std::to_string(h) + "x" +
           std::to_string(w) + " cout" + std::to_string(cout) + " k" + std::to_string(kh) + "x" + std::to_string(kw) +
           " pad" + std::to_string(ph) + "," + std::to_string(pw) + " dil" + std::to_string(dh) + "," +
           std::to_string(dw) + " g" + std::to_string(groups) + " stride" + std::to_string(sh) + "," +
           std::to_string(sw) + " extra" + std::to_string(extra_h) + "," + std::to_string(extra_w);
  }
  // gy's size is the forward's output of the h x w input; gx is (h + extra_h) x (w + extra_w).
  int64_t ho() const { return (h + 2 * ph - dh * (kh - 1) - 1) / sh + 1; }
  int64_t wo() const { return (w + 2 * pw - dw * (kw - 1) - 1) / sw + 1; }
  Shape gx_shape() const { return {n, cin, h + extra_h, w + extra_w}; }
  Shape gy_shape() const { return {n, cout, ho(), wo()}; }
  Shape w_shape() const { return {cout, cin / groups, kh, kw}; }
  ConvGeometry geometry() const { return {sh, sw, ph, pw, dh, dw, groups}; }
};

std::vector<Case> cases() {
  return {
      {2, 32, 28, 28, 64, 3, 3, 1, 1, 1, 1, 1, 2, 2},  // the reference CNN's second layer, batch 2
      {1, 64, 14, 14, 128, 3, 3, 1, 1, 1, 1, 1, 2, 2}, // ... its third, batch 1
      {3, 9, 9, 8, 11, 3, 3, 1, 1, 1, 1, 1, 2, 2},     // odd sizes, channels not multiples of MR / NR
      {1, 8, 10, 10, 9, 3, 3, 0, 0, 1, 1, 1, 2, 2},    // padding 0: the last row and column unread
      {3, 10, 11, 13, 8, 3, 3, 2, 2, 1, 1, 1, 2, 2},   // padding 2
      {1, 10, 11, 13, 8, 3, 3, 1, 1, 1, 1, 1, 3, 3},   // stride 3
      {3, 13, 13, 11, 9, 3, 3, 0, 2, 1, 1, 1, 3, 3},   // stride 3, padding 0 / 2
      {2, 16, 9, 10, 16, 3, 3, 1, 1, 1, 1, 2, 2, 1},   // stride (2, 1), groups 2
      {3, 18, 9, 7, 16, 3, 3, 1, 0, 1, 1, 2, 2, 2},    // groups 2 with 9 and 8 channels per group
      {1, 8, 12, 12, 8, 3, 3, 2, 2, 2, 2, 1, 3, 3},    // dilation 2, stride 3
      {3, 9, 13, 12, 10, 3, 3, 1, 2, 2, 1, 1, 3, 2},   // dilation (2, 1), stride (3, 2)
      {2, 8, 11, 12, 9, 5, 5, 2, 2, 1, 1, 1, 2, 2},    // 5x5: phases of 3x3, 3x2, 2x3, 2x2 taps
      {1, 9, 12, 10, 8, 4, 4, 1, 1, 1, 1, 1, 2, 2},    // 4x4 (even kernel)
      {1, 8, 13, 14, 8, 4, 4, 1, 0, 1, 1, 1, 4, 4},    // 4x4 stride 4: one tap per phase
      {3, 8, 7, 7, 8, 3, 3, 1, 1, 1, 1, 1, 2, 2},      // 4x4 grids: panels straddle images
      {2, 8, 9, 9, 12, 3, 3, 1, 1, 1, 1, 1, 2, 2, 1, 1},  // gx one row and column larger
      {1, 12, 8, 10, 8, 3, 3, 1, 1, 1, 1, 1, 3, 3, 2, 1}, // stride 3, output_padding (2, 1)
      {3, 16, 14, 14, 512, 3, 3, 1, 1, 1, 1, 1, 2, 2}, // 512 gy channels: blocks of 1-3 panels
  };
}

// gx = conv^T(gy, w) (+ bias per gx channel) in double.
std::vector<double> naive(const Case& c, const std::vector<double>& gy, const std::vector<double>& w,
                          const std::vector<double>& b) {
  const int64_t H = c.h + c.extra_h, W = c.w + c.extra_w, ho = c.ho(), wo = c.wo();
  const int64_t cig = c.cin / c.groups, cog = c.cout / c.groups;
  std::vector<double> gx(static_cast<size_t>(c.n * c.cin * H * W), 0.0);
  for (int64_t n = 0; n < c.n; ++n)
    for (int64_t co = 0; co < c.cout; ++co)
      for (int64_t oh = 0; oh < ho; ++oh)
        for (int64_t ow = 0; ow < wo; ++ow) {
          const double g = gy[static_cast<size_t>(((n * c.cout + co) * ho + oh) * wo + ow)];
          for (int64_t ci = 0; ci < cig; ++ci)
            for (int64_t i = 0; i < c.kh; ++i)
              for (int64_t j = 0; j < c.kw; ++j) {
                const int64_t ih = oh * c.sh - c.ph + i * c.dh, iw = ow * c.sw - c.pw + j * c.dw;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                const int64_t xi = ((n * c.cin + (co / cog) * cig + ci) * H + ih) * W + iw;
                gx[static_cast<size_t>(xi)] += w[static_cast<size_t>(((co * cig + ci) * c.kh + i) * c.kw + j)] * g;
              }
        }
  if (!b.empty())
    for (size_t i = 0; i < gx.size(); ++i) gx[i] += b[i / static_cast<size_t>(H * W) % static_cast<size_t>(c.cin)];
  return gx;
}

void expect_close(const std::vector<double>& got, const std::vector<double>& want, double tol, const char* what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], want[i], tol * (1.0 + std::abs(want[i]))) << what << " element " << i;
}

// The strided path (must accept the shapes), the im2col path (the same entry with the path off)
// and the naive reference, with and without bias; gx starts as junk: every element must be written.
void check(const Case& c, DType dt, double tol) {
  SCOPED_TRACE(c.name() + " " + std::string(dtype_name(dt)) + " isa " + kernels::cpu::gemm_isa());
  Tensor gy = random(c.gy_shape(), dt, 1);
  Tensor w = random(c.w_shape(), dt, 2);
  Tensor b = random({c.cin}, dt, 3);
  for (bool with_bias : {false, true}) {
    const Tensor bias = with_bias ? b : Tensor();
    const auto want = naive(c, vec(gy), vec(w), with_bias ? vec(b) : std::vector<double>{});
    Tensor gx = full(c.gx_shape(), 7.0, {.dtype = dt});
    ASSERT_TRUE(kernels::cpu::conv2d_strided_backward_data(gy, w, bias, gx, c.geometry()));
    expect_close(vec(gx), want, tol, "strided path vs naive");

    kernels::cpu::conv2d_set_strided_data_enabled(false);
    Tensor ref = full(c.gx_shape(), 7.0, {.dtype = dt});
    ASSERT_FALSE(kernels::cpu::conv2d_strided_backward_data(gy, w, bias, ref, c.geometry()));
    kernels::cpu::conv2d_backward_data(gy, w, bias, ref, c.geometry());  // im2col
    kernels::cpu::conv2d_set_strided_data_enabled(true);
    expect_close(vec(gx), vec(ref), tol, "strided path vs im2col");
  }
}


TEST(ConvStridedData, MatchesIm2colAndNaiveF64) {
  for_each_isa([] {
    for (const Case& c : cases()) check(c, DType::F64, 1e-12);
  });
}

TEST(ConvStridedData, MatchesIm2colAndNaiveF32) {
  for_each_isa([] {
    for (const Case& c : cases()) check(c, DType::F32, 1e-4);
  });
}

TEST(ConvStridedData, IdenticalForAnyThreadCount) {
  const int saved = get_num_threads();
  for (const Case& c : {Case{3, 32, 28, 28, 64, 3, 3, 1, 1, 1, 1, 1, 2, 2}, Case{3, 18, 9, 7, 16, 3, 3, 1, 0, 1, 1, 2, 2, 2}}) {
    SCOPED_TRACE(c.name());
    Tensor gy = random(c.gy_shape(), DType::F32, 4);
    Tensor w = random(c.w_shape(), DType::F32, 5);
    std::vector<double> ref;
    for (int threads : {1, 2, 3}) {
      set_num_threads(threads);
      Tensor gx = empty(c.gx_shape());
      ASSERT_TRUE(kernels::cpu::conv2d_strided_backward_data(gy, w, Tensor(), gx, c.geometry()));
      if (threads == 1)
        ref = vec(gx);
      else
        EXPECT_EQ(vec(gx), ref) << threads << " threads";
    }
  }
  set_num_threads(saved);
}

// Through the public ops: conv2d's input gradient and conv_transpose2d (output_padding, bias).
TEST(ConvStridedData, AgreesWithIm2colThroughOps) {
  Tensor x = random({3, 16, 11, 11}, DType::F64, 6).requires_grad_(true);
  Tensor w = random({24, 8, 3, 3}, DType::F64, 7);
  const Conv2dOptions o{.stride = {2, 2}, .padding = {1, 1}, .groups = 2};
  Tensor y = conv2d(x, w, {}, o);
  Tensor gy = random(y.shape(), DType::F64, 8);
  y.backward(gy);
  const auto fast = vec(x.grad());
  Tensor wt = random({16, 12, 3, 3}, DType::F64, 9), bt = random({12}, DType::F64, 10);
  Tensor in = random({2, 16, 5, 6}, DType::F64, 11);
  const ConvTranspose2dOptions ot{.stride = {2, 3}, .padding = {1, 0}, .output_padding = {1, 2}};
  const auto tfast = vec(conv_transpose2d(in, wt, bt, ot));

  kernels::cpu::conv2d_set_strided_data_enabled(false);
  Tensor x2 = x.detach().requires_grad_(true);
  conv2d(x2, w, {}, o).backward(gy);
  const auto tslow = vec(conv_transpose2d(in, wt, bt, ot));
  kernels::cpu::conv2d_set_strided_data_enabled(true);
  expect_close(fast, vec(x2.grad()), 1e-12, "conv2d input gradient");
  expect_close(tfast, tslow, 1e-12, "conv_transpose2d");
}

TEST(ConvStridedData, LeavesOtherShapesToTheOtherPaths) {
  Tensor w = random({16, 16, 3, 3}, DType::F32, 1);
  const ConvGeometry s2{2, 2, 1, 1, 1, 1, 1};
  Tensor gy = random({1, 16, 5, 5}, DType::F32, 2), gx = empty({1, 16, 9, 9});
  EXPECT_TRUE(kernels::cpu::conv2d_strided_backward_data(gy, w, Tensor(), gx, s2));
  // stride 1: the direct path's business
  Tensor gy1 = random({1, 16, 9, 9}, DType::F32, 3);
  EXPECT_FALSE(kernels::cpu::conv2d_strided_backward_data(gy1, w, Tensor(), gx, {1, 1, 1, 1, 1, 1, 1}));
  // fewer than 8 channels per group on either side
  Tensor gx_thin = empty({1, 4, 9, 9});
  EXPECT_FALSE(kernels::cpu::conv2d_strided_backward_data(gy, random({16, 4, 3, 3}, DType::F32, 4), Tensor(),
                                                          gx_thin, s2));
  Tensor gy_thin = random({1, 4, 5, 5}, DType::F32, 5);
  EXPECT_FALSE(kernels::cpu::conv2d_strided_backward_data(gy_thin, random({4, 16, 3, 3}, DType::F32, 6), Tensor(),
                                                          gx, s2));
  // a phase no tap reaches: 1x1 stride 2, 3x3 stride 4, 3x3 dilation 2 stride 2
  EXPECT_FALSE(kernels::cpu::conv2d_strided_backward_data(random({1, 16, 5, 5}, DType::F32, 8),
                                                          random({16, 16, 1, 1}, DType::F32, 9), Tensor(), gx,
                                                          {2, 2, 0, 0, 1, 1, 1}));
  EXPECT_FALSE(kernels::cpu::conv2d_strided_backward_data(random({1, 16, 3, 3}, DType::F32, 10), w, Tensor(), gx,
                                                          {4, 4, 1, 1, 1, 1, 1}));
  EXPECT_FALSE(kernels::cpu::conv2d_strided_backward_data(random({1, 16, 4, 4}, DType::F32, 11), w, Tensor(), gx,
                                                          {2, 2, 1, 1, 2, 2, 1}));
  // depthwise
  EXPECT_FALSE(kernels::cpu::conv2d_strided_backward_data(gy, random({16, 1, 3, 3}, DType::F32, 7), Tensor(), gx,
                                                          {2, 2, 1, 1, 1, 1, 16}));
  // the path or the whole direct family switched off
  kernels::cpu::conv2d_set_strided_data_enabled(false);
  EXPECT_FALSE(kernels::cpu::conv2d_strided_data_enabled());
  EXPECT_FALSE(kernels::cpu::conv2d_strided_backward_data(gy, w, Tensor(), gx, s2));
  kernels::cpu::conv2d_set_strided_data_enabled(true);
  kernels::cpu::conv2d_set_direct_enabled(false);
  EXPECT_FALSE(kernels::cpu::conv2d_strided_backward_data(gy, w, Tensor(), gx, s2));
  kernels::cpu::conv2d_set_direct_enabled(true);
  EXPECT_TRUE(kernels::cpu::conv2d_strided_data_enabled());
  EXPECT_TRUE(kernels::cpu::conv2d_strided_backward_data(gy, w, Tensor(), gx, s2));
}

}  // namespace
}  // namespace strata
