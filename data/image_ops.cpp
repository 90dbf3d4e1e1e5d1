// Image geometry. Resampling is separable (a horizontal pass into a u8 intermediate, then a
// vertical one, as PIL does) with per-output-coordinate weight tables in 22-bit fixed point, so
// the inner loops are integer multiply-adds over contiguous bytes. crop_pad maps each output row
// and column to a source index once (or -1 for zero padding) and then copies.
#include "data/image_ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "tensor/error.h"

namespace strata::data {

namespace {

constexpr int kPrecisionBits = 22;

// For each output coordinate: the first source index and its weights (fixed point, summing to 1).
struct Taps {
  std::vector<int> first;
  std::vector<int> count;
  std::vector<int32_t> weights;  // out * max_taps
  int max_taps = 0;
};

// PIL-style bilinear: a triangle filter of radius 1 output pixel (in source units, scale when
// shrinking), centred at (o + 0.5) * scale in source coordinates.
Taps bilinear_taps(int in, int out) {
  const double scale = double(in) / double(out);
  const double filterscale = std::max(scale, 1.0);
  const double support = filterscale;  // triangle support 1, widened
  Taps t;
  t.max_taps = int(std::ceil(support)) * 2 + 1;
  t.first.resize(size_t(out));
  t.count.resize(size_t(out));
  t.weights.assign(size_t(out) * size_t(t.max_taps), 0);
  std::vector<double> w(size_t(t.max_taps));
  for (int o = 0; o < out; ++o) {
    const double center = (o + 0.5) * scale;
    int lo = std::max(int(center - support + 0.5), 0);
    int hi = std::min(int(center + support + 0.5), in);
    if (hi - lo > t.max_taps) hi = lo + t.max_taps;
    double sum = 0;
    for (int i = lo; i < hi; ++i) {
      const double x = (i - center + 0.5) / filterscale;
      const double v = std::max(0.0, 1.0 - std::abs(x));
      w[size_t(i - lo)] = v;
      sum += v;
    }
    if (sum <= 0) {  // cannot happen for in >= 1, but keep the result defined
      lo = std::min(std::max(int(center), 0), in - 1);
      hi = lo + 1;
      w[0] = sum = 1;
    }
    // Quantize so that the weights sum exactly to 1 << kPrecisionBits (a flat image stays flat).
    int32_t* dst = &t.weights[size_t(o) * size_t(t.max_taps)];
    int32_t total = 0;
    int biggest = 0;
    for (int i = 0; i < hi - lo; ++i) {
      dst[i] = int32_t(std::lround(w[size_t(i)] / sum * double(1 << kPrecisionBits)));
      total += dst[i];
      if (dst[i] > dst[biggest]) biggest = i;
    }
    dst[biggest] += (1 << kPrecisionBits) - total;
    // Every window max_taps long where the image allows (zero weights pad it, moved right when
    // the window is shifted left at the end), so the horizontal pass can unroll a fixed count.
    const int n = hi - lo;
    if (n < t.max_taps && in >= t.max_taps) {
      const int start = std::min(lo, in - t.max_taps);
      const int shift = lo - start;
      for (int i = n - 1; i >= 0; --i) dst[i + shift] = dst[i];
      for (int i = 0; i < shift; ++i) dst[i] = 0;
      lo = start;
      hi = lo + t.max_taps;
    }
    t.first[size_t(o)] = lo;
    t.count[size_t(o)] = hi - lo;
  }
  return t;
}

// Accumulators are int32: the weights are non-negative and sum to 1 << kPrecisionBits, so a
// weighted sum of bytes is at most 255 << 22 (< 2^30) and the rounding term keeps it below 2^31.
// 32-bit lanes let the vertical pass vectorize (8 or 16 per instruction, -O3 in CMakeLists.txt).
inline uint8_t clamp_round(int32_t acc) {
  const int32_t v = (acc + (int32_t(1) << (kPrecisionBits - 1))) >> kPrecisionBits;
  return uint8_t(v < 0 ? 0 : v > 255 ? 255 : v);
}

// One row of the horizontal pass for C channels, with every window T taps long (T known at
// compile time: the tap and channel loops unroll fully).
template <int C, int T>
void resample_row_h_fixed(const uint8_t* __restrict__ s, uint8_t* __restrict__ d, const Taps& t, int w_out) {
  const int32_t* __restrict__ wt = t.weights.data();
  const int* __restrict__ first = t.first.data();
  for (int o = 0; o < w_out; ++o) {
    const int32_t* w = wt + size_t(o) * T;
    const uint8_t* p = s + size_t(first[o]) * C;
    int32_t acc[C];
    for (int ch = 0; ch < C; ++ch) acc[ch] = int32_t(1) << (kPrecisionBits - 1);
    for (int i = 0; i < T; ++i)
      for (int ch = 0; ch < C; ++ch) acc[ch] += w[i] * int32_t(p[i * C + ch]);
    for (int ch = 0; ch < C; ++ch) {
      const int32_t v = acc[ch] >> kPrecisionBits;
      d[size_t(o) * C + size_t(ch)] = uint8_t(v > 255 ? 255 : v);
    }
  }
}

// One row of the horizontal pass for C channels (C known at compile time: the channel loop
// unrolls and the taps are read once per output pixel).
template <int C>
void resample_row_h(const uint8_t* __restrict__ s, uint8_t* __restrict__ d, const Taps& t, int w_out) {
  for (int o = 0; o < w_out; ++o) {
    const int32_t* w = &t.weights[size_t(o) * size_t(t.max_taps)];
    const uint8_t* p = s + size_t(t.first[size_t(o)]) * C;
    const int n = t.count[size_t(o)];
    int32_t acc[C] = {};
    for (int i = 0; i < n; ++i)
      for (int ch = 0; ch < C; ++ch) acc[ch] += w[i] * int32_t(p[i * C + ch]);
    for (int ch = 0; ch < C; ++ch) d[size_t(o) * C + size_t(ch)] = clamp_round(acc[ch]);
  }
}

// Horizontal pass: rows of `src` (w_in pixels) to rows of w_out pixels.
Image resample_h(const Image& src, int w_out) {
  const Taps t = bilinear_taps(src.w, w_out);
  Image out(src.h, w_out, src.c);
  // Upsampling (3 taps) and shrinking up to 2x (5 taps) with every window full length (all but
  // images narrower than the window) take the unrolled rows.
  const bool full = std::all_of(t.count.begin(), t.count.end(), [&](int n) { return n == t.max_taps; });
  const int taps = full && (t.max_taps == 3 || t.max_taps == 5) ? t.max_taps : 0;
  for (int y = 0; y < src.h; ++y) {
    const uint8_t* s = src.row(y);
    uint8_t* d = out.row(y);
    switch (src.c * 8 + taps) {
      case 1 * 8 + 3: resample_row_h_fixed<1, 3>(s, d, t, w_out); break;
      case 1 * 8 + 5: resample_row_h_fixed<1, 5>(s, d, t, w_out); break;
      case 3 * 8 + 3: resample_row_h_fixed<3, 3>(s, d, t, w_out); break;
      case 3 * 8 + 5: resample_row_h_fixed<3, 5>(s, d, t, w_out); break;
      case 4 * 8 + 3: resample_row_h_fixed<4, 3>(s, d, t, w_out); break;
      case 4 * 8 + 5: resample_row_h_fixed<4, 5>(s, d, t, w_out); break;
      case 1 * 8: resample_row_h<1>(s, d, t, w_out); break;
      case 3 * 8: resample_row_h<3>(s, d, t, w_out); break;
      default: resample_row_h<4>(s, d, t, w_out); break;  // check_input allows 1, 3, 4 channels
    }
  }
  return out;
}

// The vertical pass's row loops, compiled for AVX2 as well (16 int32 lanes per instruction pair
// instead of SSE2's 4) and chosen at load time.
#define STRATA_RESIZE_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
STRATA_RESIZE_CLONES void accumulate_row(int32_t* __restrict__ a, const uint8_t* __restrict__ s, int32_t wi,
                                         size_t n) {
  for (size_t k = 0; k < n; ++k) a[k] += wi * int32_t(s[k]);
}
STRATA_RESIZE_CLONES void narrow_row(const int32_t* __restrict__ a, uint8_t* __restrict__ d, size_t n) {
  for (size_t k = 0; k < n; ++k) {
    const int32_t v = a[k] >> kPrecisionBits;
    d[k] = uint8_t(v > 255 ? 255 : v);  // never negative: the weights are not
  }
}

// Vertical pass: whole rows at a time (contiguous inner loop over w * c bytes).
Image resample_v(const Image& src, int h_out) {
  const Taps t = bilinear_taps(src.h, h_out);
  Image out(h_out, src.w, src.c);
  const size_t row = size_t(src.w) * size_t(src.c);
  std::vector<int32_t> acc(row);
  int32_t* a = acc.data();
  for (int o = 0; o < h_out; ++o) {
    const int32_t* w = &t.weights[size_t(o) * size_t(t.max_taps)];
    std::fill(acc.begin(), acc.end(), int32_t(1) << (kPrecisionBits - 1));  // the rounding term
    for (int i = 0; i < t.count[size_t(o)]; ++i) accumulate_row(a, src.row(t.first[size_t(o)] + i), w[i], row);
    narrow_row(a, out.row(o), row);
  }
  return out;
}

// Source index of output coordinate o under nearest resampling (PIL: floor((o + 0.5) * in / out)).
std::vector<int> nearest_map(int in, int out) {
  std::vector<int> m(static_cast<size_t>(out));
  for (int o = 0; o < out; ++o)
    m[size_t(o)] = std::min(in - 1, int((int64_t(o) * 2 + 1) * in / (int64_t(out) * 2)));
  return m;
}

// Source index for coordinate i (possibly outside [0, n)), or -1 for a zero pixel.
int pad_index(int i, int n, PadMode mode) {
  if (i >= 0 && i < n) return i;
  switch (mode) {
    case PadMode::Zeros: return -1;
    case PadMode::Border: return i < 0 ? 0 : n - 1;
    case PadMode::Reflection: {
      if (n == 1) return 0;
      const int period = 2 * (n - 1);
      int r = i % period;
      if (r < 0) r += period;
      return r < n ? r : period - r;
    }
  }
  return -1;
}

void check_size(HW size, const char* who) {
  STRATA_CHECK(size.h >= 1 && size.w >= 1, ValueError, "{}: target size must be at least 1x1, got {}x{}", who,
               size.h, size.w);
  STRATA_CHECK(int64_t(size.h) <= kMaxImageSide && int64_t(size.w) <= kMaxImageSide &&
                   int64_t(size.h) * size.w <= kMaxImagePixels,
               ValueError, "{}: target size {}x{} exceeds the image limits", who, size.h, size.w);
}

void check_input(const Image& img, const char* who) {
  STRATA_CHECK(!img.empty(), ValueError, "{}: empty image ({}x{})", who, img.h, img.w);
  STRATA_CHECK(img.c == 1 || img.c == 3 || img.c == 4, ValueError, "{}: image has {} channels", who, img.c);
  STRATA_CHECK(img.data.size() == size_t(img.h) * size_t(img.w) * size_t(img.c), ValueError,
               "{}: image data holds {} bytes, {}x{}x{} needs {}", who, img.data.size(), img.h, img.w, img.c,
               size_t(img.h) * size_t(img.w) * size_t(img.c));
}

Image resize_pixels(const Image& img, HW size, Interp interp);
Image crop_pad_pixels(const Image& img, const CropBox& box, PadMode pad_mode);

}  // namespace

Image resize(const Image& img, HW size, Interp interp) {
  Image out = resize_pixels(img, size, interp);
  out.kind = img.kind;
  return out;
}

Image crop_pad(const Image& img, const CropBox& box, PadMode pad_mode) {
  Image out = crop_pad_pixels(img, box, pad_mode);
  out.kind = img.kind;
  return out;
}

namespace {
Image resize_pixels(const Image& img, HW size, Interp interp) {
  check_input(img, "resize");
  check_size(size, "resize");
  if (size.h == img.h && size.w == img.w) return img;
  if (interp == Interp::Nearest) {
    const std::vector<int> ym = nearest_map(img.h, size.h), xm = nearest_map(img.w, size.w);
    Image out(size.h, size.w, img.c);
    const size_t c = size_t(img.c);
    for (int y = 0; y < size.h; ++y) {
      const uint8_t* s = img.row(ym[size_t(y)]);
      uint8_t* d = out.row(y);
      for (int x = 0; x < size.w; ++x) std::memcpy(d + size_t(x) * c, s + size_t(xm[size_t(x)]) * c, c);
    }
    return out;
  }
  // Do the shrinking pass first when only one side shrinks: fewer pixels through the second pass.
  if (size.w == img.w) return resample_v(img, size.h);
  if (size.h == img.h) return resample_h(img, size.w);
  if (int64_t(size.w) * img.h <= int64_t(img.w) * size.h) return resample_v(resample_h(img, size.w), size.h);
  return resample_h(resample_v(img, size.h), size.w);
}

Image crop_pad_pixels(const Image& img, const CropBox& box, PadMode pad_mode) {
  check_input(img, "crop_pad");
  check_size({box.h, box.w}, "crop_pad");
  Image out(box.h, box.w, img.c);
  const size_t c = size_t(img.c);
  std::vector<int> xm(size_t(box.w));
  for (int x = 0; x < box.w; ++x) xm[size_t(x)] = pad_index(box.left + x, img.w, pad_mode);
  const bool cols_inside = box.left >= 0 && box.left + box.w <= img.w;
  for (int y = 0; y < box.h; ++y) {
    const int sy = pad_index(box.top + y, img.h, pad_mode);
    uint8_t* d = out.row(y);
    if (sy < 0) continue;  // zero row (Image starts zeroed)
    const uint8_t* s = img.row(sy);
    if (cols_inside) {
      std::memcpy(d, s + size_t(box.left) * c, size_t(box.w) * c);
      continue;
    }
    for (int x = 0; x < box.w; ++x)
      if (xm[size_t(x)] >= 0) std::memcpy(d + size_t(x) * c, s + size_t(xm[size_t(x)]) * c, c);
  }
  return out;
}

}  // namespace

Image crop(const Image& img, const CropBox& box) {
  STRATA_CHECK(box.top >= 0 && box.left >= 0 && box.h >= 1 && box.w >= 1 && int64_t(box.top) + box.h <= img.h &&
                   int64_t(box.left) + box.w <= img.w,
               IndexError, "crop: box (top {}, left {}, {}x{}) is not inside the {}x{} image", box.top, box.left,
               box.h, box.w, img.h, img.w);
  return crop_pad(img, box, PadMode::Zeros);
}

Image pad(const Image& img, int top, int bottom, int left, int right, PadMode pad_mode) {
  STRATA_CHECK(top >= 0 && bottom >= 0 && left >= 0 && right >= 0, ValueError,
               "pad: amounts must be >= 0, got top {}, bottom {}, left {}, right {}", top, bottom, left, right);
  return crop_pad(img, {-top, -left, img.h + top + bottom, img.w + left + right}, pad_mode);
}

namespace {
int floor_div2(int v) { return v >= 0 ? v / 2 : -((-v + 1) / 2); }  // Python's v // 2
}  // namespace

Image center_crop_pad(const Image& img, HW size, PadMode pad_mode) {
  check_size(size, "center_crop_pad");
  return crop_pad(img, {floor_div2(img.h - size.h), floor_div2(img.w - size.w), size.h, size.w}, pad_mode);
}

Image crop_pad_resize(const Image& img, const CropBox& box, HW resize_to, PadMode pad_mode, Interp interp) {
  const bool whole = box.top == 0 && box.left == 0 && box.h == img.h && box.w == img.w;
  return resize(whole ? img : crop_pad(img, box, pad_mode), resize_to, interp);
}

// ---- random ----

double uniform01(std::mt19937_64& rng) { return double(rng() >> 11) * 0x1.0p-53; }

double uniform(std::mt19937_64& rng, double lo, double hi) { return lo + (hi - lo) * uniform01(rng); }

int randint(std::mt19937_64& rng, int lo, int hi) {
  STRATA_CHECK(lo <= hi, ValueError, "randint: empty range [{}, {}]", lo, hi);
  const uint64_t span = uint64_t(int64_t(hi) - int64_t(lo)) + 1;
  // Rejection sampling: uniform without modulo bias.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % span;
  uint64_t r;
  do r = rng();
  while (r >= limit);
  return int(int64_t(lo) + int64_t(r % span));
}

// ---- Resize ----

ResizeDraw draw_resize(ResizeMethod method, bool train, std::mt19937_64& rng) {
  if (method == ResizeMethod::Squish || !train) return {};
  ResizeDraw d;
  d.pct_x = uniform01(rng);  // fastai draws (x, y) in this order
  d.pct_y = uniform01(rng);
  return d;
}

CropBox resize_box(HW orig, HW size, ResizeMethod method, const ResizeDraw& draw) {
  check_size(size, "resize_box");
  if (method == ResizeMethod::Squish) return {0, 0, orig.h, orig.w};
  const double rx = double(orig.w) / size.w, ry = double(orig.h) / size.h;
  // Crop: the smaller ratio (box inside the image); Pad: the larger (box around it).
  const double m = method == ResizeMethod::Crop ? std::min(rx, ry) : std::max(rx, ry);
  const int cw = std::max(1, int(m * size.w)), ch = std::max(1, int(m * size.h));
  // Python's int() truncates towards zero, also for the negative slack of Pad.
  return {int(draw.pct_y * (orig.h - ch)), int(draw.pct_x * (orig.w - cw)), ch, cw};
}

Image apply_resize(const Image& img, HW size, ResizeMethod method, const ResizeDraw& draw, PadMode pad_mode,
                   Interp interp) {
  check_input(img, "apply_resize");
  return crop_pad_resize(img, resize_box({img.h, img.w}, size, method, draw), size, pad_mode, interp);
}

Image resize_method(const Image& img, HW size, ResizeMethod method, PadMode pad_mode, bool train,
                    std::mt19937_64& rng, Interp interp) {
  return apply_resize(img, size, method, draw_resize(method, train, rng), pad_mode, interp);
}

// ---- RandomCrop ----

CropBox draw_random_crop(HW orig, HW size, bool train, std::mt19937_64& rng) {
  check_size(size, "draw_random_crop");
  if (!train || orig.h < size.h || orig.w < size.w)
    return {floor_div2(orig.h - size.h), floor_div2(orig.w - size.w), size.h, size.w};
  const int left = randint(rng, 0, orig.w - size.w);  // fastai: x first
  const int top = randint(rng, 0, orig.h - size.h);
  return {top, left, size.h, size.w};
}

// ---- RandomResizedCrop ----

RandomResizedCropDraw draw_random_resized_crop(HW orig, HW size, bool train, std::mt19937_64& rng,
                                               const RandomResizedCropOptions& opts) {
  check_size(size, "draw_random_resized_crop");
  STRATA_CHECK(orig.h >= 1 && orig.w >= 1, ValueError, "draw_random_resized_crop: empty image {}x{}", orig.h, orig.w);
  STRATA_CHECK(opts.min_scale > 0 && opts.min_scale <= 1 && opts.ratio_lo > 0 && opts.ratio_lo <= opts.ratio_hi,
               ValueError, "draw_random_resized_crop: bad options (min_scale {}, ratio {}..{})", opts.min_scale,
               opts.ratio_lo, opts.ratio_hi);
  RandomResizedCropDraw d;
  const int w = orig.w, h = orig.h;
  if (!train) {
    const int xtra = int(std::ceil(std::max(size.h, size.w) * opts.val_xtra / 8.0)) * 8;
    d.box = {0, 0, h, w};
    d.resize_to = {size.h + xtra, size.w + xtra};
    d.final_center_crop = xtra != 0;
    return d;
  }
  d.resize_to = size;
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double area = uniform(rng, opts.min_scale, 1.0) * w * h;
    const double ratio = std::exp(uniform(rng, std::log(opts.ratio_lo), std::log(opts.ratio_hi)));
    const int nw = int(std::nearbyint(std::sqrt(area * ratio)));  // round half to even, as Python
    const int nh = int(std::nearbyint(std::sqrt(area / ratio)));
    if (nw >= 1 && nh >= 1 && nw <= w && nh <= h) {
      const int left = randint(rng, 0, w - nw);
      const int top = randint(rng, 0, h - nh);
      d.box = {top, left, nh, nw};
      return d;
    }
  }
  int cw = w, ch = h;
  if (double(w) / h < opts.ratio_lo) ch = std::max(1, int(w / opts.ratio_lo));
  else if (double(w) / h > opts.ratio_hi) cw = std::max(1, int(h * opts.ratio_hi));
  d.box = {(h - ch) / 2, (w - cw) / 2, ch, cw};
  return d;
}

Image apply_random_resized_crop(const Image& img, HW size, const RandomResizedCropDraw& draw, Interp interp) {
  check_input(img, "apply_random_resized_crop");
  Image res = crop_pad_resize(img, draw.box, draw.resize_to, PadMode::Zeros, interp);
  if (draw.final_center_crop && !(draw.resize_to == size)) res = center_crop_pad(res, size);
  return res;
}

}  // namespace strata::data
