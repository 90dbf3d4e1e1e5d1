// The item transforms of vision_transforms.h: thin wrappers that draw in before_call (into the
// per-thread state RandTransform provides, since loader threads run items concurrently) and apply
// the functions of image_ops.h. The draws use a generator seeded from data::rng(), so they follow
// the loader's per-batch seeding.
#include "data/vision_transforms.h"

#include <cmath>

#include "tensor/error.h"

namespace strata::data {

namespace {

bool is_train(std::optional<int> split_idx) { return !split_idx || *split_idx == 0; }  // fastai: `if split_idx:`

std::mt19937_64 draw_engine() { return std::mt19937_64(rng().next_u64()); }

// The size of the first image in an item (a host image or an image tensor), searching tuples.
std::optional<HW> item_image_size(const Item& x) {
  if (x.is_image() && x.image()) return HW{x.image()->h, x.image()->w};
  if (x.is_tensor() && is_a<TensorImageBase>(x.tensor()) && x.tensor().dim() >= 2) {
    if (const auto* m = meta_as<ImageMeta>(x.tensor()); m && m->img_size.h > 0)
      return HW{int(m->img_size.h), int(m->img_size.w)};
    const Shape& s = x.tensor().shape();
    return HW{int(s[s.size() - 2]), int(s[s.size() - 1])};
  }
  if (x.is_tuple())
    for (const Item& e : x.elems())
      if (auto r = item_image_size(e)) return r;
  return std::nullopt;
}

HW point_size(const Tensor& p, const std::optional<HW>& from_item, const char* who) {
  if (from_item) return *from_item;
  const auto* m = meta_as<PointMeta>(p);
  STRATA_CHECK(m && m->img_size.h > 0 && m->img_size.w > 0, ValueError,
               "{}: points need the image size: put an image in the same item or give the points PointMeta", who);
  return {int(m->img_size.h), int(m->img_size.w)};
}

int floor_half(int v) { return v >= 0 ? v / 2 : -((-v + 1) / 2); }

Interp interp_for(const Image& img) { return img.kind == ImageKind::Mask ? Interp::Nearest : Interp::Bilinear; }

ImagePtr share(Image img) { return std::make_shared<const Image>(std::move(img)); }

// Registers `f` (const Image&, Interp -> Image) for host images and for masks: a mask item
// (PILMask) is resampled nearest and comes back as a mask item.
template <class F>
void register_images(Transform& t, F f) {
  t.encodes<ImagePtr>([f](const ImagePtr& img) { return Item(share(f(*img, interp_for(*img)))); });
  t.encodes<PILMask>([f](const ImagePtr& img) {
    Image m = f(*img, Interp::Nearest);
    m.kind = ImageKind::Mask;
    return Item::mask(share(std::move(m)));
  });
}

struct CropState {
  std::optional<HW> orig;
  ResizeDraw resize;
  CropBox box;
  RandomResizedCropDraw rrc;
};

}  // namespace

Tensor crop_points(const Tensor& pts, HW orig, const CropBox& box, HW new_size) {
  STRATA_CHECK(pts.defined() && pts.dim() >= 1 && pts.shape()[pts.dim() - 1] % 2 == 0, ShapeError,
               "crop_points: expected [..., 2] points or [..., 4] boxes, got shape {}",
               pts.defined() ? pts.shape() : Shape{});
  STRATA_CHECK(box.h > 0 && box.w > 0 && orig.h > 0 && orig.w > 0, ValueError,
               "crop_points: empty box {}x{} or image {}x{}", box.h, box.w, orig.h, orig.w);
  const DType out_dtype = is_floating(pts.dtype()) ? pts.dtype() : DType::F32;
  const Tensor src = cast(pts, nullptr).cpu().to(DType::F64).contiguous();
  Tensor out = empty(src.shape(), {.dtype = DType::F64});
  const double* s = src.data<double>();
  double* d = out.data<double>();
  const int64_t n = src.numel();
  for (int64_t i = 0; i < n; ++i) {
    const bool is_x = i % 2 == 0;
    const double o = is_x ? orig.w : orig.h, b = is_x ? box.w : box.h, t = is_x ? box.left : box.top;
    d[i] = (s[i] + 1.0) * o / b - t * 2.0 / b - 1.0;
  }
  Tensor res = out.to(out_dtype).to(pts.device());
  const SemanticType* type = pts.semantic_type() ? pts.semantic_type() : TensorPoint::type();
  std::shared_ptr<const SemanticMeta> meta;
  if (is_a<TensorBBox>(pts)) meta = std::make_shared<BBoxMeta>(ImageSize{new_size.h, new_size.w});
  else meta = std::make_shared<PointMeta>(ImageSize{new_size.h, new_size.w});
  return with_meta(cast(res, type), std::move(meta));
}

// ---- CropPad ----
CropPad::CropPad(HW size_, PadMode pad_mode_) : Transform("CropPad"), size(size_), pad_mode(pad_mode_) {
  order = 0;
  register_images(*this, [this](const Image& img, Interp) { return center_crop_pad(img, size, pad_mode); });
  encodes<TensorPoint>([this](const TensorPoint& p) {
    const HW orig = point_size(p, std::nullopt, "CropPad");
    return crop_points(p, orig, {floor_half(orig.h - size.h), floor_half(orig.w - size.w), size.h, size.w}, size);
  });
}

// ---- Resize ----
Resize::Resize(HW size_, ResizeMethod method_, PadMode pad_mode_)
    : RandTransform("Resize"), size(size_), method(method_), pad_mode(pad_mode_) {
  order = 1;
  split_idx.reset();
  register_images(*this, [this](const Image& img, Interp interp) {
    return apply_resize(img, size, method, state<CropState>().resize, pad_mode, interp);
  });
  encodes<TensorPoint>([this](const TensorPoint& p) {
    const CropState& st = state<CropState>();
    const HW orig = point_size(p, st.orig, "Resize");
    return crop_points(p, orig, resize_box(orig, size, method, st.resize), size);
  });
}

void Resize::before_call(const Item& x, std::optional<int> split) const {
  RandTransform::before_call(x, split);
  CropState& st = state<CropState>();
  std::mt19937_64 eng = draw_engine();
  st.orig = item_image_size(x);
  st.resize = draw_resize(method, is_train(split), eng);
}

// ---- RandomCrop ----
RandomCrop::RandomCrop(HW size_) : RandTransform("RandomCrop"), size(size_) {
  order = 1;
  split_idx.reset();
  // Every image of the item gets the box drawn for the first (fastai crops all with one tl).
  register_images(*this, [this](const Image& img, Interp) { return crop_pad(img, state<CropState>().box); });
  encodes<TensorPoint>([this](const TensorPoint& p) {
    const CropState& st = state<CropState>();
    const HW orig = point_size(p, st.orig, "RandomCrop");
    CropBox box = st.box;
    if (!st.orig) box = {floor_half(orig.h - size.h), floor_half(orig.w - size.w), size.h, size.w};
    return crop_points(p, orig, box, size);
  });
}

void RandomCrop::before_call(const Item& x, std::optional<int> split) const {
  RandTransform::before_call(x, split);
  CropState& st = state<CropState>();
  st.orig = item_image_size(x);
  if (st.orig) {
    std::mt19937_64 eng = draw_engine();
    st.box = draw_random_crop(*st.orig, size, is_train(split), eng);
  }
}

// ---- RandomResizedCrop ----
RandomResizedCrop::RandomResizedCrop(HW size_, RandomResizedCropOptions opts_)
    : RandTransform("RandomResizedCrop"), size(size_), opts(opts_) {
  order = 1;
  split_idx.reset();
  register_images(*this, [this](const Image& img, Interp interp) {
    const CropState& st = state<CropState>();
    STRATA_CHECK(st.orig && st.orig->h == img.h && st.orig->w == img.w, ValueError,
                 "RandomResizedCrop: image {}x{} differs from the item's first image", img.h, img.w);
    return apply_random_resized_crop(img, size, st.rrc, interp);
  });
  encodes<TensorPoint>([this](const TensorPoint& p) {
    const CropState& st = state<CropState>();
    STRATA_CHECK(st.orig, ValueError, "RandomResizedCrop: points need an image in the same item");
    Tensor r = crop_points(p, *st.orig, st.rrc.box, st.rrc.resize_to);
    if (st.rrc.final_center_crop && !(st.rrc.resize_to == size)) {
      const HW rt = st.rrc.resize_to;
      r = crop_points(r, rt, {floor_half(rt.h - size.h), floor_half(rt.w - size.w), size.h, size.w}, size);
    }
    return r;
  });
}

void RandomResizedCrop::before_call(const Item& x, std::optional<int> split) const {
  RandTransform::before_call(x, split);
  CropState& st = state<CropState>();
  st.orig = item_image_size(x);
  if (st.orig) {
    std::mt19937_64 eng = draw_engine();
    st.rrc = draw_random_resized_crop(*st.orig, size, is_train(split), eng, opts);
  }
}

}  // namespace strata::data
