// The direct (implicit-GEMM) convolution of kernels/cpu/conv_direct.cpp: its three kernels
// called straight (so a test fails if the path silently stops applying) against a naive
// double-precision convolution on odd shapes (channel counts that are not multiples of the
// micro-tile, padding 0/1/2, dilation 2, groups, non-square kernels, batch 1, images wider than
// one column chunk, strides 2 and 3 with input rows and columns no output reads); against the
// im2col path through conv2d + backward; on every micro-kernel ISA this CPU runs; bitwise the
// same for any thread count; and the shapes it must leave to im2col (thin inputs, strided
// backward-data, transposed convolutions with output_padding). Batches of four or more images of
// rows at most 20% narrower than their padded rows take the in-place correlation.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "kernels/conv.h"
#include "kernels/cpu/conv_direct.h"
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
  int64_t n, cin, h, w, cout, kh, kw, ph, pw, dh, dw, groups;
  int64_t sh = 1, sw = 1;
  std::string name() const {
    return "n" + std::to_string(n) + " cin" + std::to_string(cin) + " " + std::to_string(h) + "x" +
           std::to_string(w) + " cout" + std::to_string(cout) + " k" + std::to_string(kh) + "x" + std::to_string(kw) +
           " pad" + std::to_string(ph) + "," + std::to_string(pw) + " dil" + std::to_string(dh) + "," +
           std::to_string(dw) + " g" + std::to_string(groups) + " stride" + std::to_string(sh) + "," +
           std::to_string(sw);
  }
  // The direct path takes >= 8 input and output channels per group; backward-data also needs
  // the flipped correlation's padding dil * (k - 1) - pad to be non-negative and stride 1.
  bool direct() const { return cin / groups >= 8 && cout / groups >= 8; }
  bool direct_backward_data() const {
    return direct() && sh == 1 && sw == 1 && ph <= dh * (kh - 1) && pw <= dw * (kw - 1);
  }
  int64_t ho() const { return (h + 2 * ph - dh * (kh - 1) - 1) / sh + 1; }
  int64_t wo() const { return (w + 2 * pw - dw * (kw - 1) - 1) / sw + 1; }
  ConvGeometry geometry() const { return {sh, sw, ph, pw, dh, dw, groups}; }
};

std::vector<Case> cases() {
  return {
      {2, 8, 7, 9, 10, 3, 3, 1, 1, 1, 1, 1},    // Cout not a multiple of MR or NR
      {1, 9, 5, 6, 13, 3, 3, 0, 0, 1, 1, 1},    // padding 0, batch 1
      {2, 16, 6, 6, 12, 3, 3, 2, 2, 1, 1, 1},   // padding 2: output larger than the input
      {1, 12, 9, 8, 14, 3, 3, 2, 2, 2, 2, 1},   // dilation 2
      {2, 16, 5, 7, 18, 3, 3, 1, 1, 1, 1, 2},   // groups 2 (8 channels each)
      {1, 24, 6, 5, 27, 3, 3, 1, 1, 1, 1, 3},   // groups 3
      {1, 8, 4, 4, 8, 1, 1, 1, 1, 1, 1, 1},     // 1x1 with padding (backward-data: im2col)
      {1, 10, 11, 11, 9, 5, 5, 2, 2, 1, 1, 1},  // 5x5
      {2, 11, 7, 6, 10, 3, 1, 1, 0, 1, 1, 1},   // non-square kernel
      {1, 8, 30, 33, 9, 3, 3, 1, 1, 1, 1, 1},   // several column chunks per image
      {3, 20, 3, 3, 17, 3, 3, 1, 1, 1, 1, 1},   // tiny image
      {2, 16, 6, 7, 6, 3, 3, 1, 1, 1, 1, 1},    // 6 output channels: im2col
      {4, 8, 7, 7, 8, 3, 3, 1, 1, 1, 1, 1},     // 49-pixel images: panels straddle images
      {2, 32, 28, 28, 64, 3, 3, 1, 1, 1, 1, 1, 2, 2},  // the reference CNN's second layer, batch 2
      {3, 9, 9, 8, 11, 3, 3, 1, 1, 1, 1, 1, 2, 2},     // stride 2, odd sizes, panels straddle images
      {1, 8, 10, 10, 9, 3, 3, 0, 0, 1, 1, 1, 2, 2},    // stride 2, pad 0: the last row and column unread
      {1, 10, 11, 13, 8, 3, 3, 1, 1, 1, 1, 1, 3, 3},   // stride 3
      {2, 16, 9, 10, 16, 3, 3, 1, 1, 1, 1, 2, 2, 1},   // stride (2, 1), groups 2
      {1, 8, 12, 12, 8, 3, 3, 2, 2, 2, 2, 1, 2, 2},    // stride 2 with dilation 2
      {1, 8, 9, 9, 10, 1, 1, 1, 1, 1, 1, 1, 2, 2},     // 1x1 stride 2 with padding
      {2, 8, 11, 12, 9, 5, 5, 2, 2, 1, 1, 1, 2, 2},    // 5x5 stride 2: phases of 3x3, 3x2, 2x3, 2x2 taps
      {1, 9, 12, 10, 8, 4, 4, 1, 1, 1, 1, 1, 2, 2},    // 4x4 stride 2 (even kernel)
      {1, 8, 13, 14, 8, 3, 3, 0, 0, 1, 1, 1, 4, 4},    // stride 4 > kernel: a phase no tap reaches
      // Batches of >= 4 images whose padded rows waste little: the in-place correlation (B read
      // straight from the padded planes, junk columns dropped), forward and backward-data.
      {4, 8, 20, 22, 10, 3, 3, 1, 1, 1, 1, 1, 2, 2},   // stride 2, 10x11 outputs in 12-wide phase rows
      {5, 9, 16, 17, 13, 3, 3, 1, 1, 1, 1, 1},         // stride 1, 19-wide padded rows
      {4, 16, 15, 15, 16, 3, 3, 1, 1, 1, 1, 2},        // groups 2
      {4, 8, 19, 21, 9, 3, 3, 2, 2, 2, 2, 1, 2, 2},    // stride 2 with dilation 2 and padding 2
      {4, 12, 23, 22, 8, 3, 3, 1, 0, 1, 1, 1, 3, 2},   // strides (3, 2), padding (1, 0)
      // 7x7 outputs in 8-wide padded rows: one output row per vector, rows paired over two images.
      {5, 8, 14, 14, 9, 3, 3, 1, 1, 1, 1, 1, 2, 2},    // stride 2, odd batch (the last pair is short)
      {4, 16, 13, 14, 16, 3, 3, 1, 1, 1, 1, 2, 2, 2},  // stride 2, groups 2
      {4, 8, 8, 8, 10, 2, 2, 0, 0, 1, 1, 1},           // stride 1, 2x2 kernel
      // 40 input channels: K split into channel blocks that each micro-kernel call sums in turn.
      {4, 40, 10, 12, 9, 3, 3, 1, 1, 1, 1, 1},         // flat panels
      {4, 40, 14, 14, 8, 3, 3, 1, 1, 1, 1, 1, 2, 2},   // row pairs
      {2, 10, 13, 15, 9, 3, 3, 1, 1, 1, 1, 1, 2, 2},   // stride 2, odd width: the last column read alone
      {1, 8, 7, 9, 8, 3, 3, 2, 2, 1, 1, 1, 2, 2},      // stride 2, even padding, odd width
      {13, 16, 28, 28, 8, 3, 3, 1, 1, 1, 1, 1, 2, 2},  // stride 2 over two blocks of images (11 + 2)
  };
}

struct Naive {
  std::vector<double> y, gx, gw;
};

Naive naive(const Case& c, const std::vector<double>& x, const std::vector<double>& w, const std::vector<double>& b,
            const std::vector<double>& gy) {
  const int64_t ho = c.ho(), wo = c.wo(), cig = c.cin / c.groups, cog = c.cout / c.groups;
  Naive r{std::vector<double>(c.n * c.cout * ho * wo, 0.0), std::vector<double>(x.size(), 0.0),
          std::vector<double>(w.size(), 0.0)};
  for (int64_t n = 0; n < c.n; ++n)
    for (int64_t co = 0; co < c.cout; ++co)
      for (int64_t oh = 0; oh < ho; ++oh)
        for (int64_t ow = 0; ow < wo; ++ow) {
          const int64_t yi = ((n * c.cout + co) * ho + oh) * wo + ow;
          double acc = b.empty() ? 0.0 : b[co];
          for (int64_t ci = 0; ci < cig; ++ci)
            for (int64_t i = 0; i < c.kh; ++i)
              for (int64_t j = 0; j < c.kw; ++j) {
                const int64_t ih = oh * c.sh - c.ph + i * c.dh, iw = ow * c.sw - c.pw + j * c.dw;
                if (ih < 0 || ih >= c.h || iw < 0 || iw >= c.w) continue;
                const int64_t xi = ((n * c.cin + (co / cog) * cig + ci) * c.h + ih) * c.w + iw;
                const int64_t wi = ((co * cig + ci) * c.kh + i) * c.kw + j;
                acc += w[wi] * x[xi];
                r.gx[xi] += w[wi] * gy[yi];
                r.gw[wi] += x[xi] * gy[yi];
              }
          r.y[yi] = acc;
        }
  return r;
}

void expect_close(const std::vector<double>& got, const std::vector<double>& want, double tol, const char* what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], want[i], tol * (1.0 + std::abs(want[i]))) << what << " element " << i;
}

// Calls the three direct kernels (each must accept the shapes) and compares with the naive result.
void check_kernels(const Case& c, DType dt, double tol) {
  SCOPED_TRACE(c.name() + " " + std::string(dtype_name(dt)) + " isa " + kernels::cpu::gemm_isa());
  Tensor x = random({c.n, c.cin, c.h, c.w}, dt, 1);
  Tensor w = random({c.cout, c.cin / c.groups, c.kh, c.kw}, dt, 2);
  Tensor b = random({c.cout}, dt, 3);
  Tensor gy = random({c.n, c.cout, c.ho(), c.wo()}, dt, 4);
  const Naive r = naive(c, vec(x), vec(w), vec(b), vec(gy));
  const ConvGeometry g = c.geometry();

  Tensor y = full({c.n, c.cout, c.ho(), c.wo()}, 7.0, {.dtype = dt});  // junk: every element must be written
  ASSERT_EQ(kernels::cpu::conv2d_direct_forward(x, w, b, y, g), c.direct());
  if (c.direct()) expect_close(vec(y), r.y, tol, "forward");

  Tensor gx = full(x.shape(), 7.0, {.dtype = dt});
  ASSERT_EQ(kernels::cpu::conv2d_direct_backward_data(gy, w, Tensor(), gx, g), c.direct_backward_data());
  if (c.direct_backward_data()) expect_close(vec(gx), r.gx, tol, "backward-data");

  Tensor gw = full(w.shape(), 7.0, {.dtype = dt});
  ASSERT_EQ(kernels::cpu::conv2d_direct_backward_weight(x, gy, gw, g), c.direct());
  if (c.direct()) expect_close(vec(gw), r.gw, tol, "backward-weight");
}

// Runs f once for every micro-kernel ISA this CPU supports, restoring the default after.

TEST(ConvDirect, KernelsMatchNaiveF64) {
  for_each_isa([] {
    for (const Case& c : cases()) check_kernels(c, DType::F64, 1e-11);
  });
}

TEST(ConvDirect, KernelsMatchNaiveF32) {
  for_each_isa([] {
    for (const Case& c : cases()) check_kernels(c, DType::F32, 1e-4);
  });
}

TEST(ConvDirect, BackwardDataAddsTheBias) {
  // conv_transpose2d hands backward-data a bias per output (= Cin) channel.
  const Case c{1, 8, 5, 5, 8, 3, 3, 1, 1, 1, 1, 1};
  Tensor gy = random({1, 8, 5, 5}, DType::F64, 5);
  Tensor w = random({8, 8, 3, 3}, DType::F64, 6);
  Tensor b = random({8}, DType::F64, 7);
  Tensor with = empty({1, 8, 5, 5}, {.dtype = DType::F64}), without = empty({1, 8, 5, 5}, {.dtype = DType::F64});
  ASSERT_TRUE(kernels::cpu::conv2d_direct_backward_data(gy, w, b, with, c.geometry()));
  ASSERT_TRUE(kernels::cpu::conv2d_direct_backward_data(gy, w, Tensor(), without, c.geometry()));
  const auto a = vec(with), z = vec(without), bv = vec(b);
  for (int64_t i = 0; i < 8 * 25; ++i) ASSERT_NEAR(a[i], z[i] + bv[i / 25], 1e-12) << i;
}

// conv2d + backward with the direct path on and off: same answers (to rounding) on shapes of both
// kinds, including those the direct path leaves to im2col.
TEST(ConvDirect, AgreesWithIm2colThroughAutograd) {
  struct Run {
    Shape x, w;
    Conv2dOptions o;
  };
  const std::vector<Run> runs = {
      {{2, 16, 9, 9}, {12, 16, 3, 3}, {.padding = {1, 1}}},
      {{1, 8, 6, 7}, {10, 4, 3, 3}, {.padding = {2, 1}, .dilation = {2, 1}, .groups = 2}},
      {{2, 3, 17, 17}, {8, 3, 7, 7}, {.stride = {2, 2}, .padding = {3, 3}}},  // 7x7 stride-2 stem
      {{1, 16, 8, 8}, {8, 16, 3, 3}, {.stride = {2, 2}, .padding = {1, 1}}},
      {{2, 1, 8, 8}, {8, 1, 3, 3}, {.padding = {1, 1}}},  // one input channel
  };
  for (const Run& r : runs) {
    SCOPED_TRACE(r.x.str() + " " + r.w.str());
    std::vector<double> out[2][3];
    for (int direct = 0; direct < 2; ++direct) {
      kernels::cpu::conv2d_set_direct_enabled(direct == 1);
      Tensor x = random(r.x, DType::F32, 1).requires_grad_(true);
      Tensor w = random(r.w, DType::F32, 2).requires_grad_(true);
      Tensor y = conv2d(x, w, {}, r.o);
      y.backward(random(y.shape(), DType::F32, 3));
      out[direct][0] = vec(y);
      out[direct][1] = vec(x.grad());
      out[direct][2] = vec(w.grad());
    }
    kernels::cpu::conv2d_set_direct_enabled(true);
    expect_close(out[1][0], out[0][0], 1e-4, "y");
    expect_close(out[1][1], out[0][1], 1e-4, "gx");
    expect_close(out[1][2], out[0][2], 1e-4, "gw");
  }
}

TEST(ConvDirect, LeavesOtherShapesToIm2col) {
  Tensor x = random({1, 16, 9, 9}, DType::F32, 1);
  Tensor w = random({8, 16, 3, 3}, DType::F32, 2);
  Tensor y2 = empty({1, 8, 5, 5});
  EXPECT_TRUE(kernels::cpu::conv2d_direct_forward(x, w, Tensor(), y2, {2, 2, 1, 1, 1, 1, 1}));  // stride 2
  Tensor gx2 = empty({1, 16, 9, 9});  // ... but its backward-data scatters: im2col
  EXPECT_FALSE(kernels::cpu::conv2d_direct_backward_data(random({1, 8, 5, 5}, DType::F32, 8), w, Tensor(), gx2,
                                                         {2, 2, 1, 1, 1, 1, 1}));
  Tensor thin = random({1, 3, 9, 9}, DType::F32, 3);
  Tensor wthin = random({8, 3, 3, 3}, DType::F32, 4);
  Tensor y = empty({1, 8, 9, 9});
  EXPECT_FALSE(kernels::cpu::conv2d_direct_forward(thin, wthin, Tensor(), y, {1, 1, 1, 1, 1, 1, 1}));
  Tensor y1ch = empty({1, 1, 9, 9});  // one output channel
  EXPECT_FALSE(kernels::cpu::conv2d_direct_forward(x, random({1, 16, 3, 3}, DType::F32, 7), Tensor(), y1ch,
                                                   {1, 1, 1, 1, 1, 1, 1}));
  Tensor yd = empty({1, 16, 9, 9});  // depthwise
  EXPECT_FALSE(kernels::cpu::conv2d_direct_forward(x, random({16, 1, 3, 3}, DType::F32, 5), Tensor(), yd,
                                                   {1, 1, 1, 1, 1, 1, 16}));
  // Backward-data into a larger gx (conv_transpose2d's output_padding).
  Tensor gy = random({1, 8, 9, 9}, DType::F32, 6);
  Tensor gx_big = empty({1, 16, 10, 10});
  EXPECT_FALSE(kernels::cpu::conv2d_direct_backward_data(gy, w, Tensor(), gx_big, {1, 1, 1, 1, 1, 1, 1}));
  kernels::cpu::conv2d_set_direct_enabled(false);
  Tensor y1 = empty({1, 8, 9, 9});
  EXPECT_FALSE(kernels::cpu::conv2d_direct_forward(x, w, Tensor(), y1, {1, 1, 1, 1, 1, 1, 1}));
  kernels::cpu::conv2d_set_direct_enabled(true);
  EXPECT_TRUE(kernels::cpu::conv2d_direct_enabled());
  EXPECT_TRUE(kernels::cpu::conv2d_direct_forward(x, w, Tensor(), y1, {1, 1, 1, 1, 1, 1, 1}));
}

TEST(ConvDirect, IdenticalForAnyThreadCount) {
  const Case c{5, 24, 12, 11, 20, 3, 3, 1, 1, 1, 1, 1};
  Tensor x = random({c.n, c.cin, c.h, c.w}, DType::F32, 1);
  Tensor w = random({c.cout, c.cin, 3, 3}, DType::F32, 2);
  Tensor gy = random({c.n, c.cout, c.ho(), c.wo()}, DType::F32, 3);
  const int saved = get_num_threads();
  std::vector<double> ref[3];
  for (int threads : {1, 2, 3}) {
    set_num_threads(threads);
    Tensor y = empty(gy.shape()), gx = empty(x.shape()), gw = empty(w.shape());
    ASSERT_TRUE(kernels::cpu::conv2d_direct_forward(x, w, Tensor(), y, c.geometry()));
    ASSERT_TRUE(kernels::cpu::conv2d_direct_backward_data(gy, w, Tensor(), gx, c.geometry()));
    ASSERT_TRUE(kernels::cpu::conv2d_direct_backward_weight(x, gy, gw, c.geometry()));
    if (threads == 1) {
      ref[0] = vec(y), ref[1] = vec(gx), ref[2] = vec(gw);
    } else {
      EXPECT_EQ(vec(y), ref[0]) << threads << " threads";
      EXPECT_EQ(vec(gx), ref[1]) << threads << " threads";
      EXPECT_EQ(vec(gw), ref[2]) << threads << " threads";
    }
  }
  set_num_threads(saved);
}

// The in-place correlation against packed panels on the shapes that take it (the reference
// CNN's two stride-2 layers at batch 4, flat panels and row pairs): with K in one channel block
// the sums run in the same order, so the results are the same bits; with two blocks (cnn_l3) they
// differ by rounding only.
TEST(ConvDirect, InPlaceAgreesWithPackedPanels) {
  for (const Case& c : {Case{4, 32, 28, 28, 64, 3, 3, 1, 1, 1, 1, 1, 2, 2}, Case{5, 64, 14, 14, 128, 3, 3, 1, 1, 1, 1, 1, 2, 2},
                        Case{4, 16, 15, 15, 16, 3, 3, 1, 1, 1, 1, 2}}) {
    SCOPED_TRACE(c.name());
    Tensor x = random({c.n, c.cin, c.h, c.w}, DType::F32, 7);
    Tensor w = random({c.cout, c.cin / c.groups, 3, 3}, DType::F32, 8);
    Tensor b = random({c.cout}, DType::F32, 9);
    Tensor in_place = empty({c.n, c.cout, c.ho(), c.wo()}), packed = empty(in_place.shape());
    ASSERT_TRUE(kernels::cpu::conv2d_direct_forward(x, w, b, in_place, c.geometry()));
    kernels::cpu::conv2d_set_in_place_enabled(false);
    const bool ok = kernels::cpu::conv2d_direct_forward(x, w, b, packed, c.geometry());
    kernels::cpu::conv2d_set_in_place_enabled(true);
    ASSERT_TRUE(ok);
    const std::vector<double> a = vec(in_place), p = vec(packed);
    if (c.cin / c.groups <= 32) {
      EXPECT_EQ(a, p);
    } else {
      ASSERT_EQ(a.size(), p.size());
      for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], p[i], 1e-4 * (1 + std::abs(p[i]))) << i;
    }
  }
}

}  // namespace
}  // namespace strata
