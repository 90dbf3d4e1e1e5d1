// The conv family: hand-computed cases; properties (a one-hot kernel shifts the image, an identity
// 1x1 kernel returns the input); forward and both backward passes against a naive direct
// 7-loop convolution in double over many configurations (stride, padding, dilation, groups,
// depthwise, non-square, batch 1, unbatched, bias or not, non-contiguous input); conv_transpose2d
// against a naive scatter and as the adjoint of conv2d; f32 / f64 / f16 / bf16; thread-count
// independence; empty batches; the messages of bad calls.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels/cpu/parallel.h"
#include "strata.h"

namespace strata {
namespace {

template <class E, class F>
void expect_error(F&& f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "expected an error containing '" << needle << "'";
  } catch (const E& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << "message: " << e.what();
  } catch (const Error& e) {
    ADD_FAILURE() << "wrong error type for '" << needle << "': " << e.what();
  }
}

std::vector<double> vec(const Tensor& t) { return t.to(DType::F64).contiguous().to_vector<double>(); }

void expect_close(const Tensor& got, const std::vector<double>& want, const Shape& shape, double tol) {
  ASSERT_EQ(got.shape(), shape) << got.shape().str() << " vs " << shape.str();
  const auto g = vec(got);
  ASSERT_EQ(g.size(), want.size());
  for (size_t i = 0; i < g.size(); ++i)
    ASSERT_NEAR(g[i], want[i], tol * (1.0 + std::abs(want[i]))) << "element " << i << " of " << shape.str();
}

Tensor random(const Shape& shape, DType dt = DType::F64, uint64_t seed = 1) {
  Generator gen(seed);
  return randn(shape, {.dtype = DType::F64}, &gen).to(dt);
}

struct Cfg {
  int64_t n, cin, h, w, cout, kh, kw;
  Conv2dOptions o;
  bool bias = true;
};

int64_t out_len(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d) { return (in + 2 * p - d * (k - 1) - 1) / s + 1; }

// The direct convolution and its two gradients, in double, for y's gradient gy.
struct Naive {
  std::vector<double> y, dx, dw, db;
};
Naive naive_conv(const Cfg& c, const std::vector<double>& x, const std::vector<double>& w,
                 const std::vector<double>& b, const std::vector<double>& gy) {
  const auto& o = c.o;
  const int64_t ho = out_len(c.h, c.kh, o.stride[0], o.padding[0], o.dilation[0]);
  const int64_t wo = out_len(c.w, c.kw, o.stride[1], o.padding[1], o.dilation[1]);
  const int64_t cig = c.cin / o.groups, cog = c.cout / o.groups;
  Naive r{std::vector<double>(c.n * c.cout * ho * wo, 0.0), std::vector<double>(x.size(), 0.0),
          std::vector<double>(w.size(), 0.0), std::vector<double>(c.cout, 0.0)};
  for (int64_t n = 0; n < c.n; ++n)
    for (int64_t co = 0; co < c.cout; ++co)
      for (int64_t oh = 0; oh < ho; ++oh)
        for (int64_t ow = 0; ow < wo; ++ow) {
          const int64_t yi = ((n * c.cout + co) * ho + oh) * wo + ow;
          double acc = b.empty() ? 0.0 : b[co];
          const double g = gy.empty() ? 0.0 : gy[yi];
          r.db[co] += g;
          for (int64_t ci = 0; ci < cig; ++ci)
            for (int64_t i = 0; i < c.kh; ++i)
              for (int64_t j = 0; j < c.kw; ++j) {
                const int64_t ih = oh * o.stride[0] - o.padding[0] + i * o.dilation[0];
                const int64_t iw = ow * o.stride[1] - o.padding[1] + j * o.dilation[1];
                if (ih < 0 || ih >= c.h || iw < 0 || iw >= c.w) continue;
                const int64_t cx = (co / cog) * cig + ci;
                const int64_t xi = ((n * c.cin + cx) * c.h + ih) * c.w + iw;
                const int64_t wi = ((co * cig + ci) * c.kh + i) * c.kw + j;
                acc += x[xi] * w[wi];
                r.dx[xi] += g * w[wi];
                r.dw[wi] += g * x[xi];
              }
          r.y[yi] = acc;
        }
  return r;
}

std::string cfg_name(const Cfg& c) {
  return fmt::format("n{} cin{} {}x{} cout{} k{}x{} s({},{}) p({},{}) d({},{}) g{} bias{}", c.n, c.cin, c.h, c.w,
                     c.cout, c.kh, c.kw, c.o.stride[0], c.o.stride[1], c.o.padding[0], c.o.padding[1],
                     c.o.dilation[0], c.o.dilation[1], c.o.groups, c.bias);
}

std::vector<Cfg> configs() {
  return {
      {2, 3, 7, 7, 4, 3, 3, {}},
      {2, 3, 7, 7, 4, 3, 3, {.padding = {1, 1}}, false},
      {3, 4, 9, 8, 6, 3, 3, {.stride = {2, 2}, .padding = {1, 1}}},
      {1, 2, 10, 7, 3, 3, 2, {.stride = {2, 1}, .padding = {1, 0}}},
      {2, 2, 9, 9, 2, 3, 3, {.padding = {2, 1}, .dilation = {2, 3}}},
      {2, 4, 6, 6, 6, 3, 3, {.padding = {1, 1}, .groups = 2}},
      {2, 6, 6, 5, 6, 3, 3, {.stride = {2, 2}, .padding = {1, 1}, .groups = 6}},  // depthwise
      {2, 4, 5, 5, 8, 3, 3, {.padding = {1, 1}, .groups = 4}},                    // depthwise multiplier 2
      {2, 3, 8, 7, 3, 3, 2, {.stride = {1, 2}, .padding = {2, 1}, .dilation = {2, 1}, .groups = 3}, false},
      {3, 5, 4, 6, 7, 1, 1, {}},                                                  // pointwise, no im2col
      {2, 4, 4, 6, 6, 1, 1, {.groups = 2}, false},
      {2, 3, 7, 7, 2, 1, 1, {.stride = {2, 2}}},
      {1, 3, 5, 5, 2, 5, 5, {.padding = {0, 0}}},  // kernel == input
      {2, 2, 3, 3, 3, 3, 3, {.stride = {3, 3}, .padding = {2, 2}}},  // padding larger than the stride
      {1, 1, 6, 7, 1, 2, 4, {.stride = {3, 2}, .padding = {1, 3}, .dilation = {2, 1}}},
      {10, 16, 40, 40, 4, 3, 3, {.padding = {1, 1}}},  // several backward-weight blocks
  };
}

void check_against_naive(const Cfg& c, DType dt, double tol) {
  SCOPED_TRACE(cfg_name(c) + " " + std::string(dtype_name(dt)));
  Tensor x = random({c.n, c.cin, c.h, c.w}, dt, 1).requires_grad_(true);
  Tensor w = random({c.cout, c.cin / c.o.groups, c.kh, c.kw}, dt, 2).requires_grad_(true);
  Tensor b = c.bias ? random({c.cout}, dt, 3).requires_grad_(true) : Tensor();
  Tensor y = conv2d(x, w, b, c.o);
  Tensor gy = random(y.shape(), dt, 4);
  const Naive r = naive_conv(c, vec(x), vec(w), c.bias ? vec(b) : std::vector<double>{}, vec(gy));
  expect_close(y, r.y, y.shape(), tol);
  y.backward(gy);
  expect_close(x.grad(), r.dx, x.shape(), tol);
  expect_close(w.grad(), r.dw, w.shape(), tol);
  if (c.bias) expect_close(b.grad(), r.db, b.shape(), tol);
}

TEST(Conv2d, HandComputed) {
  Tensor x = tensor<double>({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 1, 3, 3});
  Tensor w = tensor<double>({1, 0, 0, 1}, {1, 1, 2, 2});
  expect_close(conv2d(x, w, tensor<double>({0.5}, {1})), {6.5, 8.5, 12.5, 14.5}, {1, 1, 2, 2}, 1e-12);
  // A 3x3 box filter with padding 1: the sum of each pixel's neighbourhood.
  Tensor box = ones({1, 1, 3, 3}, {.dtype = DType::F64});
  expect_close(conv2d(x, box, {}, {.padding = {1, 1}}), {12, 21, 16, 27, 45, 33, 24, 39, 28}, {1, 1, 3, 3}, 1e-12);
  // Stride 2 over the padded image picks the corners.
  expect_close(conv2d(x, box, {}, {.stride = {2, 2}, .padding = {1, 1}}), {12, 16, 24, 28}, {1, 1, 2, 2}, 1e-12);
  // Two input channels, two groups: each output channel sees only its own input channel.
  Tensor x2 = tensor<double>({1, 2, 3, 4, 10, 20, 30, 40}, {1, 2, 2, 2});
  Tensor w2 = tensor<double>({1, 1, 1, 1, 1, 0, 0, -1}, {2, 1, 2, 2});
  expect_close(conv2d(x2, w2, {}, {.groups = 2}), {10, -30}, {1, 2, 1, 1}, 1e-12);
  expect_close(conv1d(tensor<double>({1, 2, 3, 4}, {1, 1, 4}), tensor<double>({1, -1}, {1, 1, 2})), {-1, -1, -1},
               {1, 1, 3}, 1e-12);
}

TEST(Conv2d, OneHotKernelShiftsTheImage) {
  Tensor x = random({2, 1, 5, 6}, DType::F32, 7);
  Tensor w = zeros({1, 1, 3, 3});
  w.narrow(2, 0, 1).narrow(3, 2, 1).fill_(1.0);  // y[i][j] = x[i - 1][j + 1]
  const auto y = vec(conv2d(x, w, {}, {.padding = {1, 1}}));
  const auto xv = vec(x);
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t i = 0; i < 5; ++i)
      for (int64_t j = 0; j < 6; ++j) {
        const double want = (i - 1 >= 0 && j + 1 < 6) ? xv[(n * 5 + i - 1) * 6 + j + 1] : 0.0;
        ASSERT_EQ(y[(n * 5 + i) * 6 + j], want) << n << " " << i << " " << j;
      }
}

TEST(Conv2d, IdentityPointwiseKernelReturnsTheInput) {
  Tensor x = random({2, 4, 3, 5}, DType::F32, 8);
  Tensor eye = zeros({4, 4, 1, 1});
  for (int64_t c = 0; c < 4; ++c) eye.narrow(0, c, 1).narrow(1, c, 1).fill_(1.0);
  EXPECT_EQ(vec(conv2d(x, eye)), vec(x));
  // Also through the im2col path (stride 1, padding 0 but a 1x1 kernel with dilation is still pointwise;
  // a 3x3 one-hot centre with padding 1 is the identity through im2col).
  Tensor centre = zeros({4, 4, 3, 3});
  for (int64_t c = 0; c < 4; ++c) centre.narrow(0, c, 1).narrow(1, c, 1).narrow(2, 1, 1).narrow(3, 1, 1).fill_(1.0);
  EXPECT_EQ(vec(conv2d(x, centre, {}, {.padding = {1, 1}})), vec(x));
}

TEST(Conv2d, MatchesNaiveF64) {
  for (const Cfg& c : configs()) check_against_naive(c, DType::F64, 1e-10);
}

TEST(Conv2d, MatchesNaiveF32) {
  for (const Cfg& c : configs()) check_against_naive(c, DType::F32, 2e-4);
}

TEST(Conv2d, UnbatchedAndNonContiguous) {
  Tensor x = random({3, 6, 5}, DType::F64, 11);
  Tensor w = random({4, 3, 3, 3}, DType::F64, 12);
  Tensor b = random({4}, DType::F64, 13);
  const Conv2dOptions o{.stride = {2, 1}, .padding = {1, 1}};
  Tensor y = conv2d(x, w, b, o);
  EXPECT_EQ(y.shape(), Shape({4, 3, 5}));
  EXPECT_EQ(vec(y), vec(conv2d(x.unsqueeze(0), w, b, o).squeeze(0)));
  // A transposed (non-contiguous) input gives the same as its contiguous copy.
  Tensor xt = random({2, 3, 5, 6}, DType::F64, 14).transpose(2, 3);
  EXPECT_EQ(vec(conv2d(xt, w, b, o)), vec(conv2d(xt.contiguous(), w, b, o)));
}

TEST(Conv2d, HalfPrecisionViaF32) {
  for (DType dt : {DType::F16, DType::BF16}) {
    Tensor x = random({2, 3, 6, 6}, DType::F32, 21).to(dt);
    Tensor w = random({4, 3, 3, 3}, DType::F32, 22).to(dt);
    Tensor b = random({4}, DType::F32, 23).to(dt);
    Tensor y = conv2d(x, w, b, {.padding = {1, 1}});
    EXPECT_EQ(y.dtype(), dt);
    Tensor want = conv2d(x.to(DType::F32), w.to(DType::F32), b.to(DType::F32), {.padding = {1, 1}});
    expect_close(y, vec(want.to(dt)), want.shape(), 1e-6);
    Tensor t = conv_transpose2d(x, w.transpose(0, 1).contiguous(), {}, {.stride = {2, 2}});
    EXPECT_EQ(t.dtype(), dt);
  }
}

TEST(Conv2d, ThreadCountDoesNotChangeResults) {
  Tensor x = random({4, 8, 12, 12}, DType::F32, 31).requires_grad_(true);
  Tensor w = random({16, 8, 3, 3}, DType::F32, 32).requires_grad_(true);
  const int threads = get_num_threads();
  auto run = [&](int n) {
    set_num_threads(n);
    x.zero_grad();
    w.zero_grad();
    Tensor y = conv2d(x, w, {}, {.padding = {1, 1}});
    y.backward(ones_like(y));
    return std::vector<std::vector<double>>{vec(y), vec(x.grad()), vec(w.grad())};
  };
  const auto one = run(1), two = run(2);
  set_num_threads(threads);
  EXPECT_EQ(one, two);
}

TEST(Conv2d, EmptyBatch) {
  Tensor x = zeros({0, 3, 5, 5}).requires_grad_(true);
  Tensor w = random({2, 3, 3, 3}, DType::F32, 41).requires_grad_(true);
  Tensor y = conv2d(x, w, ones({2}));
  EXPECT_EQ(y.shape(), Shape({0, 2, 3, 3}));
  sum(y).backward();
  EXPECT_EQ(x.grad().shape(), x.shape());
  EXPECT_EQ(vec(w.grad()), std::vector<double>(w.numel(), 0.0));
}

// No input channels: every output is an empty sum plus the bias (the GEMM cannot take K = 0).
TEST(Conv2d, NoInputChannelsGivesTheBias) {
  Tensor x = zeros({2, 0, 5, 5}).requires_grad_(true);
  Tensor w = zeros({3, 0, 3, 3}).requires_grad_(true);
  Tensor b = tensor({1.5f, -2.0f, 0.25f}).requires_grad_(true);
  Tensor y = conv2d(x, w, b, {.padding = {1, 1}});
  ASSERT_EQ(y.shape(), Shape({2, 3, 5, 5}));
  const auto v = vec(y);
  for (size_t i = 0; i < v.size(); ++i) ASSERT_EQ(v[i], std::vector<double>({1.5, -2.0, 0.25})[i / 25 % 3]) << i;
  EXPECT_EQ(vec(conv2d(x, w, {}, {.padding = {1, 1}})), std::vector<double>(150, 0.0));
  sum(y).backward();
  EXPECT_EQ(vec(b.grad()), std::vector<double>(3, 50.0));
  EXPECT_EQ(w.grad().shape(), w.shape());
  EXPECT_EQ(x.grad().shape(), x.shape());
}

// conv_transpose2d by its definition: every input element scatters weight * value.
std::vector<double> naive_transpose(const Tensor& x, const Tensor& w, const Tensor& b, const ConvTranspose2dOptions& o,
                                    const Shape& out) {
  const auto xv = vec(x), wv = vec(w);
  const int64_t n = x.size(0), cin = x.size(1), h = x.size(2), wd = x.size(3);
  const int64_t cog = w.size(1), kh = w.size(2), kw = w.size(3), cout = out[1], oh = out[2], ow = out[3];
  const int64_t cig = cin / o.groups;
  std::vector<double> y(n * cout * oh * ow, 0.0);
  if (b.defined()) {
    const auto bv = vec(b);
    for (int64_t i = 0; i < n * cout; ++i)
      for (int64_t p = 0; p < oh * ow; ++p) y[i * oh * ow + p] = bv[i % cout];
  }
  for (int64_t s = 0; s < n; ++s)
    for (int64_t ci = 0; ci < cin; ++ci)
      for (int64_t ih = 0; ih < h; ++ih)
        for (int64_t iw = 0; iw < wd; ++iw)
          for (int64_t c = 0; c < cog; ++c)
            for (int64_t i = 0; i < kh; ++i)
              for (int64_t j = 0; j < kw; ++j) {
                const int64_t yh = ih * o.stride[0] - o.padding[0] + i * o.dilation[0];
                const int64_t yw = iw * o.stride[1] - o.padding[1] + j * o.dilation[1];
                if (yh < 0 || yh >= oh || yw < 0 || yw >= ow) continue;
                const int64_t co = (ci / cig) * cog + c;
                y[((s * cout + co) * oh + yh) * ow + yw] +=
                    xv[((s * cin + ci) * h + ih) * wd + iw] * wv[((ci * cog + c) * kh + i) * kw + j];
              }
  return y;
}

struct TCfg {
  Shape x, w;
  ConvTranspose2dOptions o;
  bool bias;
};

TEST(ConvTranspose2d, MatchesNaiveScatterAndGradients) {
  const std::vector<TCfg> cfgs = {
      {{2, 3, 4, 4}, {3, 2, 3, 3}, {}, true},
      {{1, 2, 3, 5}, {2, 3, 3, 3}, {.stride = {2, 2}, .padding = {1, 1}, .output_padding = {1, 1}}, true},
      {{2, 4, 3, 3}, {4, 2, 2, 3}, {.stride = {2, 3}, .padding = {0, 1}, .groups = 2}, false},
      {{2, 3, 4, 4}, {3, 1, 3, 3}, {.stride = {2, 2}, .padding = {1, 1}, .groups = 3}, true},
      {{1, 2, 3, 3}, {2, 2, 2, 2}, {.output_padding = {1, 1}, .dilation = {2, 2}}, false},
      {{2, 5, 3, 4}, {5, 3, 1, 1}, {}, true},
  };
  for (const TCfg& c : cfgs) {
    SCOPED_TRACE(c.x.str() + " " + c.w.str());
    for (DType dt : {DType::F64, DType::F32}) {
      const double tol = dt == DType::F64 ? 1e-10 : 2e-4;
      Tensor x = random(c.x, dt, 51).requires_grad_(true);
      Tensor w = random(c.w, dt, 52).requires_grad_(true);
      Tensor b = c.bias ? random({c.w[1] * c.o.groups}, dt, 53).requires_grad_(true) : Tensor();
      Tensor y = conv_transpose2d(x, w, b, c.o);
      expect_close(y, naive_transpose(x, w, b, c.o, y.shape()), y.shape(), tol);
      // Gradients against the f64 composition through conv2d's adjoint identities, by finite check:
      // <y, gy> is linear in x and in w, so d/dx <y, gy> = conv2d(gy, w) (narrowed) and so on.
      Tensor gy = random(y.shape(), dt, 54);
      y.backward(gy);
      const Conv2dOptions co{.stride = c.o.stride, .padding = c.o.padding, .dilation = c.o.dilation,
                             .groups = c.o.groups};
      Tensor dx = conv2d(gy, w.detach(), {}, co).narrow(2, 0, c.x[2]).narrow(3, 0, c.x[3]);
      expect_close(x.grad(), vec(dx), x.shape(), tol);
      // d<convT(x, w), gy>/dw == d<conv2d(gy, w), x>/dw: the naive conv's weight gradient with gy as
      // the input and x as the output gradient (skipped when conv2d of gy overshoots x, i.e.
      // output_padding >= stride; that case is gradchecked in samples_conv).
      Cfg cc{y.size(0), y.size(1), y.size(2), y.size(3), c.x[1], c.w[2], c.w[3], co, false};
      if (out_len(cc.h, cc.kh, co.stride[0], co.padding[0], co.dilation[0]) != c.x[2] ||
          out_len(cc.w, cc.kw, co.stride[1], co.padding[1], co.dilation[1]) != c.x[3])
        continue;
      const std::vector<double> dw_want = naive_conv(cc, vec(gy), vec(w), {}, vec(x)).dw;
      expect_close(w.grad(), dw_want, w.shape(), tol);
      if (c.bias) expect_close(b.grad(), vec(sum(gy, {0, 2, 3})), b.shape(), tol);
    }
  }
}

TEST(ConvTranspose2d, IsTheAdjointOfConv2d) {
  struct A {
    Shape x, w;
    Conv2dOptions o;
  };
  for (const A& a : std::vector<A>{{{2, 3, 9, 8}, {4, 3, 3, 3}, {.stride = {2, 2}, .padding = {1, 1}}},
                                   {{1, 4, 7, 7}, {6, 2, 3, 2}, {.stride = {1, 2}, .dilation = {2, 1}, .groups = 2}},
                                   {{2, 4, 6, 6}, {4, 1, 3, 3}, {.padding = {1, 1}, .groups = 4}}}) {
    Tensor x = random(a.x, DType::F64, 61), w = random(a.w, DType::F64, 62);
    Tensor y = conv2d(x, w, {}, a.o);
    Tensor v = random(y.shape(), DType::F64, 63);
    ConvTranspose2dOptions t{.stride = a.o.stride, .padding = a.o.padding, .dilation = a.o.dilation,
                             .groups = a.o.groups};
    for (int i = 0; i < 2; ++i)
      t.output_padding[i] =
          a.x[2 + i] - ((y.size(2 + i) - 1) * a.o.stride[i] - 2 * a.o.padding[i] + a.o.dilation[i] * (a.w[2 + i] - 1) + 1);
    Tensor xt = conv_transpose2d(v, w, {}, t);
    ASSERT_EQ(xt.shape(), x.shape());
    EXPECT_NEAR(sum(y * v).item(), sum(x * xt).item(), 1e-9);
  }
}

TEST(Conv, ErrorMessages) {
  Tensor x = zeros({2, 4, 8, 8});
  expect_error<ShapeError>([&] { conv2d(x, zeros({16, 3, 3, 3})); },
                           "conv2d: weight has 3 input channels but input has 4 (input [2, 4, 8, 8], weight [16, 3, 3, "
                           "3], groups 1)");
  expect_error<ShapeError>([&] { conv2d(x, zeros({6, 1, 3, 3}), {}, {.groups = 4}); }, "groups 4 must divide");
  expect_error<ShapeError>([&] { conv2d(x, zeros({4, 4, 9, 3})); }, "larger than the padded input");
  expect_error<ValueError>([&] { conv2d(x, zeros({4, 4, 3, 3}), {}, {.stride = {0, 1}}); }, "stride must be positive");
  expect_error<ValueError>([&] { conv2d(x, zeros({4, 4, 3, 3}), {}, {.stride = {1, -2}}); }, "stride must be positive");
  expect_error<ValueError>([&] { conv2d(x, zeros({4, 4, 3, 3}), {}, {.padding = {-1, 0}}); }, "padding");
  expect_error<ValueError>([&] { conv2d(x, zeros({4, 4, 3, 3}), {}, {.groups = 0}); }, "groups must be positive");
  expect_error<ShapeError>([&] { conv2d(x, zeros({4, 4, 3, 3}), zeros({3})); }, "conv2d: bias must have shape [4]");
  expect_error<ShapeError>([&] { conv2d(zeros({8, 8}), zeros({4, 4, 3, 3})); }, "conv2d: expected a 4-d input");
  expect_error<DTypeError>([&] { conv2d(x, zeros({4, 4, 3, 3}, {.dtype = DType::F64})); }, "conv2d: input has dtype");
  expect_error<DTypeError>([&] { conv2d(x.to(DType::I64), zeros({4, 4, 3, 3}, {.dtype = DType::I64})); },
                           "not supported");
  expect_error<ShapeError>([&] { conv_transpose2d(x, zeros({3, 2, 3, 3})); },
                           "conv_transpose2d: weight has 3 input channels but input has 4");
  expect_error<ShapeError>([&] { conv_transpose2d(zeros({1, 2, 1, 1}), zeros({2, 1, 1, 1}), {}, {.padding = {1, 1}}); },
                           "conv_transpose2d: output size");
  expect_error<ValueError>([&] { conv_transpose2d(x, zeros({4, 2, 3, 3}), {}, {.stride = {2, 2}, .output_padding = {2, 0}}); },
                           "output_padding");
  expect_error<ShapeError>([&] { conv1d(x, zeros({4, 4, 3})); }, "conv1d: expected a 3-d input");
}

}  // namespace
}  // namespace strata
