// The thin-input forward and backward-weight of kernels/cpu/conv_thin.cpp (groups 1, Cin < 8),
// called straight (so a test fails if the path silently stops applying): against a naive double
// convolution and against the im2col path (the thin path switched off) on odd shapes (Cin 1, 2,
// 3, 7; output channel counts that leave a partial register block; kernels whose Cin * kh * kw
// leaves a partial block of cols rows; stride 1, 2 and (2, 3); padding 0/1/2; dilation 2; odd
// image sizes whose pixel counts are not a multiple of the vector width; images heavy enough to
// be split into bands of rows; images taller than one
// pixel chunk, and too big for the shifted copies; batches of 1 and 5 and batches that span several image chunks); bitwise the same
// for 1, 2 and 3 threads; through conv2d + backward; and the shapes it must leave alone.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "kernels/conv.h"
#include "kernels/cpu/conv_thin.h"
#include "kernels/cpu/parallel.h"
#include "strata.h"
#include "support/conv_test_util.h"

namespace strata {
namespace {

using kernels::ConvGeometry;

using testing::random;
using testing::vec;

struct Case {
  int64_t n, cin, h, w, cout, kh, kw, ph, pw, dh, dw;
  int64_t sh = 1, sw = 1;
  std::string name() const {
    return "n" + std::to_string(n) + " cin" + std::to_string(cin) + " " + std::to_string(h) + "x" +
           std::to_string(w) + " cout" + std::to_string(cout) + " k" + std::to_string(kh) + "x" + std::to_string(kw) +
           " pad" + std::to_string(ph) + "," + std::to_string(pw) + " dil" + std::to_string(dh) + "," +
           std::to_string(dw) + " stride" + std::to_string(sh) + "," + std::to_string(sw);
  }
  int64_t ho() const { return (h + 2 * ph - dh * (kh - 1) - 1) / sh + 1; }
  int64_t wo() const { return (w + 2 * pw - dw * (kw - 1) - 1) / sw + 1; }
  ConvGeometry geometry() const { return {sh, sw, ph, pw, dh, dw, 1}; }
  // The forward runs over shifted copies of an image: stride 1 vertically, copies of at most
  // 2^18 elements; backward-weight also takes strided convolutions with Cin * kh * kw <= 32.
  bool shifted() const { return sh == 1 && cin * kw * (ho() + dh * (kh - 1)) * wo() <= (1 << 18); }
  bool thin_forward() const { return shifted(); }
  bool thin_backward_weight() const { return shifted() || cin * kh * kw <= 32; }
};

std::vector<Case> cases() {
  return {
      {2, 1, 8, 8, 8, 3, 3, 1, 1, 1, 1},                // cin 1, whole register blocks
      {5, 3, 9, 7, 6, 3, 3, 1, 1, 1, 1},                // cin 3, batch 5, 6 = 4 + 2 output channels
      {1, 1, 7, 9, 5, 3, 3, 0, 0, 1, 1},                // padding 0, batch 1, 5 = 4 + 1 channels
      {2, 3, 6, 5, 7, 3, 3, 2, 2, 1, 1},                // padding 2: output larger than the input
      {1, 1, 11, 10, 3, 3, 3, 2, 2, 2, 2},              // dilation 2, 3 channels: one partial block
      {2, 2, 9, 9, 4, 3, 3, 1, 1, 1, 1, 2, 2},          // stride 2, odd size, K = 18
      {1, 3, 13, 11, 9, 3, 3, 0, 1, 1, 1, 2, 3},        // stride (2, 3), padding (0, 1)
      {3, 1, 12, 12, 10, 5, 5, 2, 2, 1, 1},             // 5x5: K = 25 = 8 blocks of 3 + 1
      {2, 7, 6, 8, 11, 2, 3, 0, 1, 1, 2},               // cin 7, non-square 2x3, K = 42, dilation (1, 2)
      {2, 3, 5, 5, 2, 1, 1, 0, 0, 1, 1},                // 1x1, K = 3
      {1, 3, 4, 4, 4, 3, 3, 1, 1, 1, 1, 4, 4},          // stride 4 > kernel
      {2, 3, 40, 37, 5, 3, 3, 1, 1, 1, 1},              // images taller than one pixel chunk
      {1, 3, 200, 200, 2, 3, 3, 1, 1, 1, 1},            // shifted copies too big for L2: im2col rows
      {12, 1, 28, 28, 32, 3, 3, 1, 1, 1, 1},            // the reference CNN's first layer, 3 image chunks
      {1, 1, 64, 64, 64, 3, 3, 1, 1, 1, 1},             // one heavy image: bands of output rows
      {1, 3, 96, 96, 64, 3, 3, 1, 1, 1, 1, 2, 2},       // the same over im2col rows (4 bands)
      {1, 1, 3, 3, 1, 3, 3, 1, 1, 1, 1},                // tiny: one output channel, 9 pixels
      {2, 3, 12, 11, 6, 7, 7, 3, 3, 1, 1},              // 7x7 stride 1: K = 147
      {1, 3, 17, 17, 4, 7, 7, 3, 3, 1, 1, 2, 2},        // 7x7 stride 2 (K = 147): im2col + GEMM
  };
}

// y[n][o][oh][ow] = b[o] + sum over c, i, j of w[o][c][i][j] * x[n][c][oh*sh - ph + i*dh][ow*sw - pw + j*dw]
// (b empty: no bias).
std::vector<double> naive_y(const Case& c, const std::vector<double>& x, const std::vector<double>& w,
                            const std::vector<double>& b) {
  const int64_t ho = c.ho(), wo = c.wo();
  std::vector<double> y(c.n * c.cout * ho * wo, 0.0);
  for (int64_t n = 0; n < c.n; ++n)
    for (int64_t o = 0; o < c.cout; ++o)
      for (int64_t oh = 0; oh < ho; ++oh)
        for (int64_t ow = 0; ow < wo; ++ow) {
          double acc = b.empty() ? 0.0 : b[o];
          for (int64_t ci = 0; ci < c.cin; ++ci)
            for (int64_t i = 0; i < c.kh; ++i)
              for (int64_t j = 0; j < c.kw; ++j) {
                const int64_t ih = oh * c.sh - c.ph + i * c.dh, iw = ow * c.sw - c.pw + j * c.dw;
                if (ih < 0 || ih >= c.h || iw < 0 || iw >= c.w) continue;
                acc += w[((o * c.cin + ci) * c.kh + i) * c.kw + j] * x[((n * c.cin + ci) * c.h + ih) * c.w + iw];
              }
          y[((n * c.cout + o) * ho + oh) * wo + ow] = acc;
        }
  return y;
}

// gw[o][c][i][j] = sum over n, oh, ow of gy[n][o][oh][ow] * x[n][c][oh*sh - ph + i*dh][ow*sw - pw + j*dw].
std::vector<double> naive_gw(const Case& c, const std::vector<double>& x, const std::vector<double>& gy) {
  const int64_t ho = c.ho(), wo = c.wo();
  std::vector<double> gw(c.cout * c.cin * c.kh * c.kw, 0.0);
  for (int64_t n = 0; n < c.n; ++n)
    for (int64_t o = 0; o < c.cout; ++o)
      for (int64_t ci = 0; ci < c.cin; ++ci)
        for (int64_t i = 0; i < c.kh; ++i)
          for (int64_t j = 0; j < c.kw; ++j)
            for (int64_t oh = 0; oh < ho; ++oh)
              for (int64_t ow = 0; ow < wo; ++ow) {
                const int64_t ih = oh * c.sh - c.ph + i * c.dh, iw = ow * c.sw - c.pw + j * c.dw;
                if (ih < 0 || ih >= c.h || iw < 0 || iw >= c.w) continue;
                gw[((o * c.cin + ci) * c.kh + i) * c.kw + j] +=
                    gy[((n * c.cout + o) * ho + oh) * wo + ow] * x[((n * c.cin + ci) * c.h + ih) * c.w + iw];
              }
  return gw;
}

void expect_close(const std::vector<double>& got, const std::vector<double>& want, double tol, const char* what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], want[i], tol * (1.0 + std::abs(want[i]))) << what << " element " << i;
}

// The thin kernels (which must accept the shapes) against the naive sums and the im2col path;
// the forward with a bias, and without one on every other case.
void check(const Case& c, DType dt, double tol, bool with_bias) {
  SCOPED_TRACE(c.name() + " " + std::string(dtype_name(dt)) + (with_bias ? " bias" : ""));
  Tensor x = random({c.n, c.cin, c.h, c.w}, dt, 1);
  Tensor gy = random({c.n, c.cout, c.ho(), c.wo()}, dt, 2);
  Tensor w = random({c.cout, c.cin, c.kh, c.kw}, dt, 3);
  Tensor b = with_bias ? random({c.cout}, dt, 4) : Tensor();
  const ConvGeometry g = c.geometry();

  Tensor y = full(gy.shape(), 7.0, {.dtype = dt});  // junk: every element must be written
  ASSERT_EQ(kernels::cpu::conv2d_thin_forward(x, w, b, y, g), c.thin_forward());
  if (c.thin_forward()) {
    expect_close(vec(y), naive_y(c, vec(x), vec(w), with_bias ? vec(b) : std::vector<double>()), tol,
                 "forward vs naive");
    kernels::cpu::conv2d_set_thin_enabled(false);
    Tensor y_im2col = full(gy.shape(), 7.0, {.dtype = dt});
    kernels::cpu::conv2d_forward(x, w, b, y_im2col, g);
    kernels::cpu::conv2d_set_thin_enabled(true);
    expect_close(vec(y), vec(y_im2col), tol, "forward vs im2col");
  }
  if (!c.thin_backward_weight()) {
    Tensor gw = empty(w.shape(), {.dtype = dt});
    EXPECT_FALSE(kernels::cpu::conv2d_thin_backward_weight(x, gy, gw, g));
    return;
  }
  Tensor gw = full({c.cout, c.cin, c.kh, c.kw}, 7.0, {.dtype = dt});  // junk: every element must be written
  ASSERT_TRUE(kernels::cpu::conv2d_thin_backward_weight(x, gy, gw, g));
  expect_close(vec(gw), naive_gw(c, vec(x), vec(gy)), tol, "thin vs naive");

  kernels::cpu::conv2d_set_thin_enabled(false);
  Tensor im2col = full(gw.shape(), 7.0, {.dtype = dt});
  kernels::cpu::conv2d_backward_weight(x, gy, im2col, g);
  kernels::cpu::conv2d_set_thin_enabled(true);
  expect_close(vec(gw), vec(im2col), tol, "thin vs im2col");
}

TEST(ConvThin, MatchesNaiveAndIm2colF64) {
  bool bias = true;
  for (const Case& c : cases()) check(c, DType::F64, 1e-11, bias = !bias);
}

TEST(ConvThin, MatchesNaiveAndIm2colF32) {
  bool bias = false;
  for (const Case& c : cases()) check(c, DType::F32, 1e-4, bias = !bias);
}

// Non-contiguous inputs reach the kernel through the front end (which makes them contiguous).
TEST(ConvThin, AgreesWithIm2colThroughAutograd) {
  struct Run {
    Shape x, w;
    Conv2dOptions o;
  };
  const std::vector<Run> runs = {
      {{5, 1, 28, 28}, {32, 1, 3, 3}, {.padding = {1, 1}}},
      {{2, 3, 17, 15}, {8, 3, 7, 7}, {.stride = {2, 2}, .padding = {3, 3}}},  // a 7x7 stride-2 RGB stem
      {{1, 2, 9, 9}, {5, 2, 3, 3}, {.padding = {2, 2}, .dilation = {2, 2}}},
  };
  for (const Run& r : runs) {
    SCOPED_TRACE(r.x.str() + " " + r.w.str());
    std::vector<double> out[2], outy[2];
    for (int thin = 0; thin < 2; ++thin) {
      kernels::cpu::conv2d_set_thin_enabled(thin == 1);
      // x as the transpose of a [.., W, H] tensor: a non-contiguous input.
      Tensor xt = random({r.x[0], r.x[1], r.x[3], r.x[2]}, DType::F32, 1);
      Tensor x = xt.transpose(2, 3).requires_grad_(true);
      Tensor w = random(r.w, DType::F32, 2).requires_grad_(true);
      Tensor y = conv2d(x, w, {}, r.o);
      y.backward(random(y.shape(), DType::F32, 3));
      out[thin] = vec(w.grad());
      outy[thin] = vec(y);
    }
    kernels::cpu::conv2d_set_thin_enabled(true);
    expect_close(outy[1], outy[0], 1e-4, "y");
    expect_close(out[1], out[0], 1e-4, "gw");
  }
}

TEST(ConvThin, IdenticalForAnyThreadCount) {
  const int saved = get_num_threads();
  for (const Case& c : {Case{12, 1, 28, 28, 32, 3, 3, 1, 1, 1, 1}, Case{7, 3, 30, 29, 6, 3, 3, 1, 1, 1, 1, 2, 2},
                        Case{2, 3, 96, 96, 64, 3, 3, 1, 1, 1, 1, 2, 2}}) {
    SCOPED_TRACE(c.name());
    for (DType dt : {DType::F32, DType::F64}) {
      Tensor x = random({c.n, c.cin, c.h, c.w}, dt, 1);
      Tensor gy = random({c.n, c.cout, c.ho(), c.wo()}, dt, 2);
      Tensor w = random({c.cout, c.cin, c.kh, c.kw}, dt, 3);
      Tensor b = random({c.cout}, dt, 4);
      std::vector<double> ref, ref_y;
      for (int threads : {1, 2, 3}) {
        set_num_threads(threads);
        Tensor gw = empty(w.shape(), {.dtype = dt});
        Tensor y = empty(gy.shape(), {.dtype = dt});
        ASSERT_TRUE(kernels::cpu::conv2d_thin_backward_weight(x, gy, gw, c.geometry()));
        ASSERT_EQ(kernels::cpu::conv2d_thin_forward(x, w, b, y, c.geometry()), c.thin_forward());
        if (!c.thin_forward()) kernels::cpu::conv2d_forward(x, w, b, y, c.geometry());
        if (threads == 1) {
          ref = vec(gw);
          ref_y = vec(y);
        } else {
          EXPECT_EQ(vec(gw), ref) << threads << " threads, " << dtype_name(dt);
          EXPECT_EQ(vec(y), ref_y) << threads << " threads, " << dtype_name(dt);
        }
      }
    }
  }
  set_num_threads(saved);
}

TEST(ConvThin, EmptyBatchGivesZeros) {
  Tensor x = empty({0, 1, 5, 5});
  Tensor gy = empty({0, 4, 5, 5});
  Tensor gw = full({4, 1, 3, 3}, 7.0);
  ASSERT_TRUE(kernels::cpu::conv2d_thin_backward_weight(x, gy, gw, {1, 1, 1, 1, 1, 1, 1}));
  for (double v : vec(gw)) EXPECT_EQ(v, 0.0);
  Tensor y = empty({0, 4, 5, 5});
  EXPECT_TRUE(kernels::cpu::conv2d_thin_forward(x, full({4, 1, 3, 3}, 1.0), Tensor(), y, {1, 1, 1, 1, 1, 1, 1}));
}

TEST(ConvThin, LeavesOtherShapesAlone) {
  const ConvGeometry g{1, 1, 1, 1, 1, 1, 1};
  Tensor gw = empty({4, 8, 3, 3});
  // 8 input channels: the direct path's business.
  EXPECT_FALSE(kernels::cpu::conv2d_thin_backward_weight(random({1, 8, 5, 5}, DType::F32, 1),
                                                          random({1, 4, 5, 5}, DType::F32, 2), gw, g));
  Tensor y8 = empty({1, 4, 5, 5});
  EXPECT_FALSE(kernels::cpu::conv2d_thin_forward(random({1, 8, 5, 5}, DType::F32, 1), random({4, 8, 3, 3}, DType::F32, 2),
                                                 Tensor(), y8, g));
  // groups 2 (thin per group, but grouped).
  Tensor gw_grouped = empty({4, 2, 3, 3});
  EXPECT_FALSE(kernels::cpu::conv2d_thin_backward_weight(random({1, 4, 5, 5}, DType::F32, 1),
                                                          random({1, 4, 5, 5}, DType::F32, 2), gw_grouped,
                                                          {1, 1, 1, 1, 1, 1, 2}));
  // Switched off, then on again.
  Tensor x = random({1, 1, 5, 5}, DType::F32, 1), gy = random({1, 4, 5, 5}, DType::F32, 2);
  Tensor gw1 = empty({4, 1, 3, 3});
  kernels::cpu::conv2d_set_thin_enabled(false);
  EXPECT_FALSE(kernels::cpu::conv2d_thin_enabled());
  EXPECT_FALSE(kernels::cpu::conv2d_thin_backward_weight(x, gy, gw1, g));
  Tensor y1 = empty({1, 4, 5, 5});
  EXPECT_FALSE(kernels::cpu::conv2d_thin_forward(x, gw1, Tensor(), y1, g));
  kernels::cpu::conv2d_set_thin_enabled(true);
  EXPECT_TRUE(kernels::cpu::conv2d_thin_forward(x, gw1, Tensor(), y1, g));
  EXPECT_TRUE(kernels::cpu::conv2d_thin_enabled());
  EXPECT_TRUE(kernels::cpu::conv2d_thin_backward_weight(x, gy, gw1, g));
}

// A bad call never reaches the kernel: the front end names the op and the shapes.
TEST(ConvThin, BadCallThrowsFromTheFrontEnd) {
  Tensor x = random({1, 1, 5, 5}, DType::F32, 1);
  Tensor w = random({4, 2, 3, 3}, DType::F32, 2);  // 2 input channels for a 1-channel image
  try {
    conv2d(x, w, {}, {.padding = {1, 1}});
    FAIL() << "expected a strata::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("conv2d"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace strata
