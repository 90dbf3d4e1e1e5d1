// LightingTfm (Brightness, Contrast, Saturation in logit space), Hue and RandomErasing. The
// per-sample values are drawn on the host and shipped as an [N, 1, 1, 1] tensor; the pixel math is
// tensor ops, so it runs wherever the batch lives.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "autograd/grad_mode.h"
#include "data/augment.h"
#include "kernels/cpu/parallel.h"
#include "kernels/fast_exp.h"
#include "tensor/ops.h"

// The pixel loops below are compiled for AVX-512, AVX2+FMA and baseline x86-64 and chosen at
// load time (as kernels/cpu/contiguous.h does), so a generic build still runs them 8 or 16 wide.
#define STRATA_LIGHTING_CLONES __attribute__((target_clones("avx512f", "arch=x86-64-v3", "default")))

namespace strata::data {

namespace {

// The first tensor of an item (fastai: `while isinstance(b, tuple): b = b[0]`).
const Tensor* first_tensor(const Item& x) {
  const Item* b = &x;
  while (b->is_tuple() && b->size() > 0) b = &(*b)[0];
  return b->is_tensor() ? &b->tensor() : nullptr;
}

// Per-sample values as [N, 1, 1, 1] in `like`'s dtype and device.
Tensor per_sample(const std::vector<double>& v, const Tensor& like) {
  std::vector<double> copy = v;
  return tensor(copy, {static_cast<int64_t>(v.size()), 1, 1, 1}).to(like.dtype()).to(like.device());
}

void check_batch(const std::string& name, const Tensor& x, size_t n) {
  STRATA_CHECK(x.dim() == 4, ShapeError, "{}: expected an image batch [N, C, H, W], got {}", name, x.shape());
  STRATA_CHECK(x.is_floating_point(), DTypeError,
               "{}: expected a floating image batch with values in [0, 1], got dtype {} (shape {})", name, x.dtype(),
               x.shape());
  STRATA_CHECK(static_cast<size_t>(x.size(0)) == n, ShapeError, "{}: drew for {} samples but the batch has {} ({})",
               name, n, x.size(0), x.shape());
}

std::vector<double> draw_part(Rng& r, const LightingPart& part, int64_t n) {
  const double m = part.max_lighting;
  switch (part.kind) {
    case LightingPart::Kind::Brightness:
      return draw_masked(r, n, [m](Rng& g) { return g.uniform(0.5 * (1 - m), 0.5 * (1 + m)); }, part.p, 0.5,
                         part.batch);
    case LightingPart::Kind::Contrast:
    case LightingPart::Kind::Saturation:
      return draw_masked(r, n, [m](Rng& g) { return std::exp(g.uniform(std::log(1 - m), -std::log(1 - m))); }, part.p,
                         1.0, part.batch);
  }
  return {};
}

}  // namespace

// ---- the CPU f32 path ----
// One pass over the batch, vectorized: logit and sigmoid through polynomial log / exp (glibc's
// logf / expf are a call per element, which kept this loop scalar and made it 4x slower than the
// resampling before it). Brightness and contrast are affine in logit space, so a list of only
// those composes per sample into l' = a * l + b (precomputed on the host), and each pixel is
// y = sigmoid(a * log(x / (1 - x)) + b): one division, one log, one exp, one division. With a
// saturation part the logits of a block of pixels go through a small buffer, part by part.
// Results agree with the tensor path to ~1e-6 (tests/data/test_augment_lighting.cpp).

namespace {

// log for positive normal floats (the clamped odds x / (1 - x) lie in [1e-7, 1e7]), Cephes'
// logf: x = m 2^e with m in [sqrt(1/2), sqrt(2)), log(1 + f) ~ f - f^2 / 2 + f^3 P(f) (relative
// error ~1e-7), plus e ln2 with ln2 split in two. Branch-free, so loops over it vectorize.
[[gnu::always_inline]] inline float log_pos_f32(float x) {
  int32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  float e = static_cast<float>(((bits >> 23) & 0xff) - 126);
  const int32_t mbits = (bits & 0x007fffff) | 0x3f000000;  // mantissa in [0.5, 1)
  float m;
  std::memcpy(&m, &mbits, sizeof m);
  const bool small = m < 0.707106781186547524f;
  e = small ? e - 1.0f : e;
  const float f = (small ? m + m : m) - 1.0f;
  const float z = f * f;
  float y = 7.0376836292e-2f;
  y = y * f - 1.1514610310e-1f;
  y = y * f + 1.1676998740e-1f;
  y = y * f - 1.2420140846e-1f;
  y = y * f + 1.4249322787e-1f;
  y = y * f - 1.6668057665e-1f;
  y = y * f + 2.0000714765e-1f;
  y = y * f - 2.4999993993e-1f;
  y = y * f + 3.3333331174e-1f;
  y = y * f * z;
  y += -2.12194440e-4f * e;
  y += -0.5f * z;
  return (f + y) + 0.693359375f * e;
}

// fastai's logit (clamp to [1e-7, 1 - 1e-7], log of the odds) and the sigmoid.
[[gnu::always_inline]] inline float logit_f32(float v) {
  v = v < 1e-7f ? 1e-7f : v;
  v = v > 1.0f - 1e-7f ? 1.0f - 1e-7f : v;
  return log_pos_f32(v / (1.0f - v));
}
[[gnu::always_inline]] inline float sigmoid_f32(float l) { return 1.0f / (1.0f + kernels::exp_f32(-l)); }

// y[i] = sigmoid(a * logit(x[i]) + b) for one channel row of one sample.
STRATA_LIGHTING_CLONES void lighting_affine_row(const float* __restrict__ x, float* __restrict__ y, int64_t n, float a,
                                                float b) {
  for (int64_t i = 0; i < n; ++i) y[i] = sigmoid_f32(a * logit_f32(x[i]) + b);
}

// The logits of a block of pixels per channel (buf holds c rows of `n`), every part applied in
// order, then the sigmoids written.
constexpr int64_t kBlock = 512;
STRATA_LIGHTING_CLONES void lighting_block(const float* __restrict__ x, float* __restrict__ y, int64_t hw, int64_t c,
                                           int64_t n, float* __restrict__ buf, const LightingPart* parts, size_t np,
                                           const float* coef) {
  for (int64_t ch = 0; ch < c; ++ch)
    for (int64_t i = 0; i < n; ++i) buf[ch * kBlock + i] = logit_f32(x[ch * hw + i]);
  for (size_t k = 0; k < np; ++k) {
    const float a = coef[k];
    switch (parts[k].kind) {
      case LightingPart::Kind::Brightness:
        for (int64_t i = 0; i < c * kBlock; ++i) buf[i] += a;
        break;
      case LightingPart::Kind::Contrast:
        for (int64_t i = 0; i < c * kBlock; ++i) buf[i] *= a;
        break;
      case LightingPart::Kind::Saturation:
        if (c == 3)
          for (int64_t i = 0; i < n; ++i) {
            const float r = buf[i], g = buf[kBlock + i], bl = buf[2 * kBlock + i];
            const float gs = 0.2989f * r + 0.5870f * g + 0.1140f * bl;
            buf[i] = r * a + gs * (1.0f - a);
            buf[kBlock + i] = g * a + gs * (1.0f - a);
            buf[2 * kBlock + i] = bl * a + gs * (1.0f - a);
          }
        break;
    }
  }
  for (int64_t ch = 0; ch < c; ++ch)
    for (int64_t i = 0; i < n; ++i) y[ch * hw + i] = sigmoid_f32(buf[ch * kBlock + i]);
}

}  // namespace

Tensor lighting_cpu_f32(const Tensor& x, const std::vector<LightingPart>& parts,
                        const std::vector<std::vector<double>>& changes) {
  Tensor in = cast(x, nullptr).contiguous();
  const int64_t n = in.size(0), c = in.size(1), hw = in.size(2) * in.size(3);
  Tensor out = empty(in.shape());
  const float* src = in.data<float>();
  float* dst = out.data<float>();
  const size_t np = parts.size(), ns = static_cast<size_t>(n);
  // Per part and sample: logit(b) for brightness, else the factor; and the composition a l + b
  // when every part is brightness or contrast.
  std::vector<float> coef(np * ns);
  std::vector<double> aff_a(ns, 1.0), aff_b(ns, 0.0);
  bool affine = true;
  for (size_t k = 0; k < np; ++k)
    for (size_t s = 0; s < ns; ++s) {
      const double v = changes[k][s];
      switch (parts[k].kind) {
        case LightingPart::Kind::Brightness:
          coef[s * np + k] = static_cast<float>(std::log(v / (1 - v)));
          aff_b[s] += std::log(v / (1 - v));
          break;
        case LightingPart::Kind::Contrast:
          coef[s * np + k] = static_cast<float>(v);
          aff_a[s] *= v;
          aff_b[s] *= v;
          break;
        case LightingPart::Kind::Saturation:
          coef[s * np + k] = static_cast<float>(v);
          affine = affine && c != 3;  // a no-op on 1 channel
          break;
      }
    }
  if (affine) {
    // One task per (sample, channel, chunk of a row): rows are long (H * W), chunks keep both
    // threads busy on small batches.
    const int64_t rows = n * c;
    parallel_for(0, rows * hw, 32768, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi;) {
        const int64_t row = i / hw, end = std::min(hi, (row + 1) * hw);
        const size_t s = static_cast<size_t>(row / c);
        lighting_affine_row(src + i, dst + i, end - i, static_cast<float>(aff_a[s]), static_cast<float>(aff_b[s]));
        i = end;
      }
    });
    return out;
  }
  parallel_for(0, n * hw, 16384, [&](int64_t lo, int64_t hi) {
    std::vector<float> buf(static_cast<size_t>(4 * kBlock));
    for (int64_t i = lo; i < hi;) {
      const int64_t s = i / hw, p = i - s * hw;
      const int64_t len = std::min({hi - i, (s + 1) * hw - i, kBlock});
      lighting_block(src + s * c * hw + p, dst + s * c * hw + p, hw, c, len, buf.data(), parts.data(), np,
                     coef.data() + static_cast<size_t>(s) * np);
      i += len;
    }
  });
  return out;
}

// ---- LightingTfm ----
LightingTfm::LightingTfm(std::vector<LightingPart> ps, std::optional<uint64_t> seed, std::string n)
    : RandTransform(std::move(n), 1.0), parts(std::move(ps)), src_(seed) {
  for (const auto& part : parts)
    STRATA_CHECK(part.max_lighting >= 0 && part.max_lighting < 1, ValueError,
                 "{}: max_lighting must be in [0, 1), got {}", name, part.max_lighting);
  order = 40;
  auto apply = [this](const Tensor& x) -> Item {
    const auto& changes = current();
    if (changes.empty()) return Item(x);
    check_batch(name, x, changes[0].size());
    if (x.device().is_cpu() && x.dtype() == DType::F32 && x.size(1) <= 4)
      return Item(lighting_cpu_f32(x, parts, changes));
    // fastai's logit: clamp to [1e-7, 1 - 1e-7], then -log(1 / x - 1).
    // In place where the tensor is ours: each full-size temporary costs a pass over memory.
    NoGradGuard no_grad;
    Tensor l = clamp(cast(x, nullptr), 1e-7, 1 - 1e-7);
    Tensor odds = neg(l);
    add_(odds, 1.0);
    div_(l, odds);
    odds = Tensor();
    l = log(l);
    for (size_t k = 0; k < parts.size(); ++k) {
      Tensor c = per_sample(changes[k], l);
      switch (parts[k].kind) {
        case LightingPart::Kind::Brightness:
          add_(l, log(c / (1.0 - c)));
          break;
        case LightingPart::Kind::Contrast:
          mul_(l, c);
          break;
        case LightingPart::Kind::Saturation:
          if (l.size(1) == 3) {
            Tensor w = tensor(std::vector<double>{0.2989, 0.5870, 0.1140}, {1, 3, 1, 1}).to(l.dtype()).to(l.device());
            Tensor gs = sum(l * w, {1}, true);
            l = l * c + gs * (1.0 - c);
          }
          break;
      }
    }
    return Item(sigmoid(l));
  };
  encodes<TensorImage>([apply](const TensorImage& x) { return apply(x); });
  encodes<TensorImageBW>([apply](const TensorImageBW& x) { return apply(x); });
}

void LightingTfm::compose(const LightingTfm& other) { parts.insert(parts.end(), other.parts.begin(), other.parts.end()); }

void LightingTfm::before_call(const Item& x, std::optional<int> caller_split_idx) const {
  set_do(true);
  auto& changes = state<std::vector<std::vector<double>>>();
  changes.clear();
  const Tensor* t = first_tensor(x);
  if (skips(caller_split_idx) || !t || t->dim() == 0) return;
  const int64_t n = t->size(0);
  src_.with([&](Rng& r) {
    for (const auto& part : parts) changes.push_back(draw_part(r, part, n));
    return 0;
  });
  // Every sample neutral: skip the logit round trip (it is not bit-exact).
  bool neutral = true;
  for (size_t k = 0; k < parts.size(); ++k)
    for (double v : changes[k]) neutral = neutral && v == (parts[k].kind == LightingPart::Kind::Brightness ? 0.5 : 1.0);
  if (neutral) changes.clear();
}

std::shared_ptr<LightingTfm> Brightness(double max_lighting, double p, bool batch) {
  return std::make_shared<LightingTfm>(
      std::vector<LightingPart>{{LightingPart::Kind::Brightness, max_lighting, p, batch}}, std::nullopt, "Brightness");
}
std::shared_ptr<LightingTfm> Contrast(double max_lighting, double p, bool batch) {
  return std::make_shared<LightingTfm>(std::vector<LightingPart>{{LightingPart::Kind::Contrast, max_lighting, p, batch}},
                                       std::nullopt, "Contrast");
}
std::shared_ptr<LightingTfm> Saturation(double max_lighting, double p, bool batch) {
  return std::make_shared<LightingTfm>(
      std::vector<LightingPart>{{LightingPart::Kind::Saturation, max_lighting, p, batch}}, std::nullopt, "Saturation");
}

// ---- Hue ----
Tensor rgb2hsv(const Tensor& img) {
  STRATA_CHECK(img.dim() == 4 && img.size(1) == 3, ShapeError, "rgb2hsv: expected an RGB batch [N, 3, H, W], got {}",
               img.shape());
  Tensor x = cast(img, nullptr);
  Tensor r = x.select(1, 0), g = x.select(1, 1), b = x.select(1, 2);
  Tensor maxc = amax(x, {1}), minc = amin(x, {1});
  Tensor eqc = maxc == minc;
  Tensor cr = maxc - minc;
  Tensor s = cr / where(eqc, 1.0, maxc);
  Tensor divisor = where(eqc, 1.0, cr);
  Tensor rc = (maxc - r) / divisor, gc = (maxc - g) / divisor, bc = (maxc - b) / divisor;
  Tensor is_r = maxc == r, is_g = (maxc == g) && (maxc != r), is_b = (maxc != g) && (maxc != r);
  Tensor h = where(is_r, bc - gc, 0.0) + where(is_g, 2.0 + rc - bc, 0.0) + where(is_b, 4.0 + gc - rc, 0.0);
  h = h / 6.0 + 1.0;
  h = h - floor(h);  // fmod(h / 6 + 1, 1) for the non-negative value
  return stack({h, s, maxc}, 1);
}

Tensor hsv2rgb(const Tensor& img) {
  STRATA_CHECK(img.dim() == 4 && img.size(1) == 3, ShapeError, "hsv2rgb: expected an HSV batch [N, 3, H, W], got {}",
               img.shape());
  Tensor x = cast(img, nullptr);
  Tensor h = x.select(1, 0), s = x.select(1, 1), v = x.select(1, 2);
  Tensor i = floor(h * 6.0);
  Tensor f = h * 6.0 - i;
  Tensor p = clamp(v * (1.0 - s), 0.0, 1.0);
  Tensor q = clamp(v * (1.0 - s * f), 0.0, 1.0);
  Tensor t = clamp(v * (1.0 - s * (1.0 - f)), 0.0, 1.0);
  i = i - floor(i / 6.0) * 6.0;  // i % 6
  const Tensor* table[6][3] = {{&v, &t, &p}, {&q, &v, &p}, {&p, &v, &t}, {&p, &q, &v}, {&t, &p, &v}, {&v, &p, &q}};
  std::vector<Tensor> out;
  for (int c = 0; c < 3; ++c) {
    Tensor acc = zeros_like(h);
    for (int k = 0; k < 6; ++k) acc = where(i == static_cast<double>(k), *table[k][c], acc);
    out.push_back(acc);
  }
  return stack(out, 1);
}

Hue::Hue(double mh, double p_, bool b, std::optional<uint64_t> seed)
    : RandTransform("Hue", p_), max_hue(mh), batch(b), src_(seed) {
  STRATA_CHECK(max_hue >= 0 && max_hue < 1, ValueError, "Hue: max_hue must be in [0, 1), got {}", max_hue);
  order = 40;
  encodes<TensorImage>([this](const TensorImage& x) -> Item {
    const auto& change = state<std::vector<double>>();
    if (change.empty()) return Item(x);
    check_batch(name, x, change.size());
    if (x.size(1) != 3) return Item(x);
    Tensor hsv = rgb2hsv(x);
    Tensor h = hsv.select(1, 0) + per_sample(change, hsv).squeeze(1);
    h = h - floor(h);
    return Item(hsv2rgb(stack({h, hsv.select(1, 1), hsv.select(1, 2)}, 1)));
  });
}

void Hue::before_call(const Item& x, std::optional<int> caller_split_idx) const {
  set_do(true);
  auto& change = state<std::vector<double>>();
  change.clear();
  const Tensor* t = first_tensor(x);
  if (skips(caller_split_idx) || !t || t->dim() == 0) return;
  const double m = max_hue;
  change = src_.with([&](Rng& r) {
    return draw_masked(r, t->size(0), [m](Rng& g) { return std::exp(g.uniform(std::log(1 - m), -std::log(1 - m))); },
                       p, 0.0, batch);
  });
}

// ---- RandomErasing ----
RandomErasing::RandomErasing(Options o) : RandTransform("RandomErasing", o.p), opts(o), src_(o.seed) {
  STRATA_CHECK(o.sl >= 0 && o.sl <= o.sh && o.sh <= 1 && o.min_aspect > 0 && o.max_count >= 1, ValueError,
               "RandomErasing: need 0 <= sl <= sh <= 1, min_aspect > 0 and max_count >= 1, got sl {}, sh {}, "
               "min_aspect {}, max_count {}",
               o.sl, o.sh, o.min_aspect, o.max_count);
  order = 100;
  auto erase = [this](const Tensor& x) -> Item {
    const auto& areas = current();
    if (areas.empty()) return Item(x);
    STRATA_CHECK(x.dim() == 4 && x.is_floating_point(), ShapeError,
                 "RandomErasing: expected a floating image batch [N, C, H, W], got {} {}", x.shape(), x.dtype());
    Tensor out = cast(x, nullptr).clone();
    src_.with([&](Rng& r) {
      for (const Area& a : areas) {
        if (a.n >= out.size(0) || a.r1 <= a.r0 || a.c1 <= a.c0) continue;
        Tensor region = out.select(0, a.n).narrow(1, a.r0, a.r1 - a.r0).narrow(2, a.c0, a.c1 - a.c0);
        region.copy_(randn(region.shape(), {.dtype = out.dtype(), .device = out.device()}, &r.generator()));
      }
      return 0;
    });
    return Item(out);
  };
  encodes<TensorImage>([erase](const TensorImage& x) { return erase(x); });
  encodes<TensorImageBW>([erase](const TensorImageBW& x) { return erase(x); });
}

void RandomErasing::before_call(const Item& x, std::optional<int> caller_split_idx) const {
  set_do(true);
  auto& areas = state<std::vector<Area>>();
  areas.clear();
  const Tensor* t = first_tensor(x);
  if (skips(caller_split_idx) || !t || t->dim() != 4) return;
  const int64_t n = t->size(0), img_h = t->size(2), img_w = t->size(3);
  const double lo = std::log(opts.min_aspect), hi = std::log(1 / opts.min_aspect);
  src_.with([&](Rng& r) {
    for (int64_t s = 0; s < n; ++s) {
      if (!(p >= 1.0 || r.uniform() < p)) continue;
      const int64_t count = r.randint(1, opts.max_count + 1);
      const double area = static_cast<double>(img_h * img_w) / static_cast<double>(count);
      for (int64_t k = 0; k < count; ++k) {
        const double r_area = r.uniform(opts.sl, opts.sh) * area;
        const double aspect = std::exp(r.uniform(lo, hi));
        auto slice = [&](double a, int64_t sz) {
          const int64_t bound = static_cast<int64_t>(std::llround(std::sqrt(a)));
          const int64_t loc = r.randint(0, std::max<int64_t>(sz - bound, 0) + 1);
          return std::pair<int64_t, int64_t>{loc, std::min(loc + bound, sz)};
        };
        auto [r0, r1] = slice(r_area * aspect, img_h);
        auto [c0, c1] = slice(r_area / aspect, img_w);
        areas.push_back({s, r0, r1, c0, c1});
      }
    }
    return 0;
  });
}

}  // namespace strata::data
