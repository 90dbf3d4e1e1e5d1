// RandomResizedCropGPU: fastai slices the batch and resamples it; here the crop window becomes
// one affine matrix (the window's corners in normalized coordinates) and the batch goes through
// AffineCoordTfm's encodes, so a crop is one warp_batch and masks / points / boxes follow it.
#include <cmath>

#include "data/augment.h"

namespace strata::data {

RandomResizedCropGPU::RandomResizedCropGPU(Int2 sz, Options o)
    : AffineCoordTfm({}, {}, AffineOptions{.size = sz, .mode = o.mode, .align_corners = true}, "RandomResizedCropGPU"),
      size(sz), crop(o), crop_src_(o.seed) {
  STRATA_CHECK(sz.h > 0 && sz.w > 0, ValueError, "RandomResizedCropGPU: size must be positive, got [{}, {}]", sz.h,
               sz.w);
  STRATA_CHECK(o.min_scale > 0 && o.min_scale <= 1 && o.ratio.first > 0 && o.ratio.first <= o.ratio.second,
               ValueError, "RandomResizedCropGPU: need 0 < min_scale <= 1 and 0 < ratio.first <= ratio.second, got "
               "min_scale {}, ratio ({}, {})", o.min_scale, o.ratio.first, o.ratio.second);
}

RandomResizedCropGPU::Window RandomResizedCropGPU::window(int64_t h, int64_t w, bool valid) const {
  return crop_src_.with([&](Rng& r) {
    Window win;
    if (!valid) {
      for (int attempt = 0; attempt < 10; ++attempt) {
        const double area = r.uniform(crop.min_scale, 1.0) * static_cast<double>(w * h);
        const double ratio = std::exp(r.uniform(std::log(crop.ratio.first), std::log(crop.ratio.second)));
        const auto nw = static_cast<int64_t>(std::llround(std::sqrt(area * ratio)));
        const auto nh = static_cast<int64_t>(std::llround(std::sqrt(area / ratio)));
        if (nw <= w && nh <= h && nw > 0 && nh > 0) {
          win.h = nh;
          win.w = nw;
          win.top = r.randint(0, h - nh + 1);
          win.left = r.randint(0, w - nw + 1);
          return win;
        }
      }
    }
    const double aspect = static_cast<double>(w) / static_cast<double>(h);
    if (aspect < crop.ratio.first) {
      win.h = static_cast<int64_t>(static_cast<double>(w) / crop.ratio.first);
      win.w = w;
    } else if (aspect > crop.ratio.second) {
      win.h = h;
      win.w = static_cast<int64_t>(static_cast<double>(h) * crop.ratio.second);
    } else {
      win.h = h;
      win.w = w;
    }
    if (valid) {
      win.h = std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(win.h) * crop.valid_scale));
      win.w = std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(win.w) * crop.valid_scale));
    }
    win.top = (h - win.h) / 2;
    win.left = (w - win.w) / 2;
    return win;
  });
}

void RandomResizedCropGPU::before_call(const Item& x, std::optional<int> caller_split_idx) const {
  set_do(true);
  AffineDraw& d = state<AffineDraw>();
  d = AffineDraw{};
  const Item* b = &x;
  while (b->is_tuple() && b->size() > 0) b = &(*b)[0];
  if (!b->is_tensor() || b->tensor().dim() < 3 || is_a(b->tensor(), TensorPoint::type())) return;
  const Tensor& t = b->tensor();
  const int64_t n = t.size(0), h = t.size(-2), w = t.size(-1);
  const Window win = window(h, w, caller_split_idx == 1);
  // Output pixel j (x = -1 + 2 j / (size - 1)) reads input pixel left + j (win.w - 1) / (size - 1):
  // x_in = a x + b with a = (win.w - 1) / (w - 1), b = -1 + 2 left / (w - 1) + a (align_corners).
  auto axis = [](int64_t lo, int64_t len, int64_t full) {
    if (full <= 1) return std::pair<double, double>{0.0, 0.0};
    const double a = static_cast<double>(len - 1) / static_cast<double>(full - 1);
    return std::pair<double, double>{a, -1.0 + 2.0 * static_cast<double>(lo) / static_cast<double>(full - 1) + a};
  };
  const auto [ax, bx] = axis(win.left, win.w, w);
  const auto [ay, by] = axis(win.top, win.h, h);
  d.size = size;
  d.identity = win.h == h && win.w == w && size == Int2{h, w};
  if (d.identity) return;
  std::vector<float> mats;
  for (int64_t i = 0; i < n; ++i)
    for (double v : {ax, 0.0, bx, 0.0, ay, by, 0.0, 0.0, 1.0}) mats.push_back(static_cast<float>(v));
  d.matrices = tensor(mats, {n, 3, 3}).to(t.device());
}

}  // namespace strata::data
