#pragma once
// Batch augmentation (fastai's vision/augment.py, the GPU half): transforms that run on a
// collated batch, on the batch's device, after the loader's to_device.
//
//   order 30  AffineCoordTfm  Flip, Dihedral, Rotate, Zoom, Warp: every affine part draws one
//                             3x3 matrix per sample, the matrices are multiplied into one per
//                             sample, and the batch is resampled ONCE through warp_batch (images
//                             bilinear, masks nearest, reflection padding, align_corners);
//                             points and boxes move through warp_points with the same transform.
//   order 30  RandomResizedCropGPU  one random window per batch, resized (one warp_batch).
//   order 40  LightingTfm     Brightness, Contrast, Saturation, composed in logit space.
//   order 40  Hue             hue rotation in HSV space (fastai's Hue; not a lighting transform).
//   order 99  Normalize       (x - mean) / std, with decode; stats given or learnt from one batch.
//   order 100 RandomErasing   gaussian noise rectangles.
//
//   DataLoaders dls = block.dataloaders(src, {.bs = 64, .batch_tfms = aug_transforms()});
//   auto tfms = aug_transforms({.flip_vert = true, .max_rotate = 30});  // [AffineCoordTfm, LightingTfm]
//
// Why one class per family and not one per effect: fastai's setup_aug_tfms composes every
// AffineCoordTfm of a list into the first (compose) so that a batch is interpolated once, and the
// lighting transforms into one LightingTfm so that logit/sigmoid run once. Flip, Rotate, ... are
// therefore thin constructors of the family class, and compose() merges their parts.
//
// Random draws: fastai draws per sample (one value per batch item, each kept with probability p,
// else the neutral value), or once per batch with `batch = true`. Draws come from data::rng()
// (the loader seeds it per batch, so results depend on the loader's seed only), or, when `seed`
// is given, from a generator the transform owns (reproducible for that seed, call after call).
//
// Splits: AffineCoordTfm runs on every split as in fastai, but on validation (caller split_idx 1)
// it draws nothing and only resizes (when `size` is set; otherwise the batch passes unchanged).
// Lighting, Hue and RandomErasing run on the training set only (split_idx 0).
#include <array>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "data/rng.h"
#include "data/transform.h"
#include "tensor/ops/resample.h"

namespace strata::data {

// Where a transform's draws come from: data::rng() (the loader's per-batch generator), or a
// generator the transform owns when a seed is given (locked while one call draws).
class DrawSource {
 public:
  explicit DrawSource(std::optional<uint64_t> seed = {}) {
    if (seed) own_.emplace(*seed);
  }
  template <class F>
  auto with(F f) const {
    if (!own_) return f(rng());
    std::lock_guard<std::mutex> lock(mu_);
    return f(*own_);
  }

 private:
  mutable std::mutex mu_;
  mutable std::optional<Rng> own_;
};

// A row-major 3x3 matrix (fastai's affine_mat with 0, 0, 1 as the last row).
using Mat3 = std::array<double, 9>;
Mat3 mat3_identity();
Mat3 mat3_mul(const Mat3& a, const Mat3& b);  // a @ b

// The draw helper behind every per-sample parameter (fastai's _draw_mask + mask_tensor): n values
// from draw(), each replaced by `neutral` with probability 1 - p (batch: one value and one coin
// for the whole batch).
std::vector<double> draw_masked(Rng& rng, int64_t n, const std::function<double(Rng&)>& draw, double p,
                                double neutral, bool batch);

// fastai's matrix builders for n samples (OUTPUT -> INPUT coordinates, before _prepare_mat).
std::vector<Mat3> flip_mat(Rng& rng, int64_t n, double p = 0.5, bool batch = false);
std::vector<Mat3> dihedral_mat(Rng& rng, int64_t n, double p = 0.5, bool batch = false);
std::vector<Mat3> rotate_mat(Rng& rng, int64_t n, double max_deg = 10, double p = 0.5, bool batch = false);
std::vector<Mat3> zoom_mat(Rng& rng, int64_t n, double min_zoom = 1.0, double max_zoom = 1.1, double p = 0.5,
                           bool batch = false);
// The dihedral matrix of index k in 0..7 (fastai's table: 0 identity, 1 flip x, 2 flip y, ...).
Mat3 dihedral_of(int k);
// fastai's _prepare_mat for an image of h x w: m[0][1] *= h / w, m[1][0] *= w / h.
void prepare_mat(Mat3& m, int64_t h, int64_t w);

// Parameters of a perspective warp part (fastai's _WarpCoord).
struct WarpPart {
  double magnitude = 0.2;
  double p = 0.5;
  bool batch = false;
};

struct AffineOptions {
  Int2 size = {};  // output size; default: the input's
  SampleMode mode = SampleMode::Bilinear;  // images (masks are always nearest)
  PaddingMode pad_mode = PaddingMode::Reflection;
  bool align_corners = true;
  bool batch = false;                  // one draw for the whole batch
  std::optional<uint64_t> seed = {};   // own generator (else data::rng())
};

// What one call drew: the composed, prepared [N, 3, 3] matrices (on the batch's device, f32),
// optional [N, 4, 2] perspective offsets, and the output size.
struct AffineDraw {
  Tensor matrices;
  Tensor coord_offsets;
  Int2 size = {};
  bool identity = true;  // nothing to do: the batch passes unchanged
};

// fastai's AffineCoordTfm: a list of affine parts (each draws n matrices) and at most one warp
// part, applied to TensorImageBase (bilinear), TensorMask ([N, H, W] or [N, 1, H, W], nearest),
// TensorPoint [N, P, 2] and TensorBBox [N, B, 4] (4 corners moved, min / max, clamped to
// [-1, 1]) of one batch, all with the same draw.
class AffineCoordTfm : public RandTransform {
 public:
  using AffineFn = std::function<std::vector<Mat3>(Rng& rng, int64_t n)>;
  AffineCoordTfm(std::vector<AffineFn> aff_fs, std::vector<WarpPart> coord_fs, AffineOptions opts = {},
                 std::string name = "AffineCoordTfm");
  std::vector<AffineFn> aff_fs;
  std::vector<WarpPart> coord_fs;
  AffineOptions opts;

  // fastai's compose: appends other's parts (so one interpolation does both). Throws ValueError
  // when that would give two warps (warp_batch takes one perspective).
  void compose(const AffineCoordTfm& other);
  void before_call(const Item& x, std::optional<int> split_idx) const override;
  // This thread's last draw (what the encodes apply).
  const AffineDraw& current() const { return state<AffineDraw>(); }
  // Draws for a batch of n images of h x w on `device` (what before_call does; public for tests).
  AffineDraw draw(int64_t n, int64_t h, int64_t w, Device device) const;

 private:
  DrawSource src_;
};

// fastai's RandomResizedCropGPU (order 30, every split): one crop window per batch (area in
// [min_scale, 1] of the image, aspect ratio in `ratio`, 10 attempts, then the centred fallback;
// validation: the centred window scaled by valid_scale), resampled to `size` with one warp_batch
// (align_corners). Beyond fastai (images only), masks, points and boxes move with the crop. An
// AffineCoordTfm subclass for its encodes; setup_aug_tfms does not compose it with the others.
class RandomResizedCropGPU : public AffineCoordTfm {
 public:
  struct Options {
    double min_scale = 0.08;
    std::pair<double, double> ratio = {3.0 / 4.0, 4.0 / 3.0};
    SampleMode mode = SampleMode::Bilinear;
    double valid_scale = 1.0;
    std::optional<uint64_t> seed = {};
  };
  RandomResizedCropGPU(Int2 size, Options opts);
  explicit RandomResizedCropGPU(Int2 size) : RandomResizedCropGPU(size, Options{}) {}
  Int2 size;
  Options crop;
  void before_call(const Item& x, std::optional<int> split_idx) const override;
  // The window (top, left, height, width) of the last call on this thread.
  struct Window {
    int64_t top = 0, left = 0, h = 0, w = 0;
  };
  Window window(int64_t h, int64_t w, bool valid) const;

 private:
  DrawSource crop_src_;
};

// fastai's Flip, Dihedral, Rotate, Zoom and Warp: an AffineCoordTfm with one part.
std::shared_ptr<AffineCoordTfm> Flip(double p = 0.5, AffineOptions opts = {});
std::shared_ptr<AffineCoordTfm> Dihedral(double p = 0.5, AffineOptions opts = {});
std::shared_ptr<AffineCoordTfm> Rotate(double max_deg = 10, double p = 0.5, AffineOptions opts = {});
std::shared_ptr<AffineCoordTfm> Zoom(double min_zoom = 1.0, double max_zoom = 1.1, double p = 0.5,
                                     AffineOptions opts = {});
std::shared_ptr<AffineCoordTfm> Warp(double magnitude = 0.2, double p = 0.5, AffineOptions opts = {});

// ---- lighting ----
struct LightingPart {
  enum class Kind { Brightness, Contrast, Saturation };
  Kind kind;
  double max_lighting = 0.2;
  double p = 0.75;
  bool batch = false;
};

// fastai's LightingTfm: x -> sigmoid(f(logit(x))) with the composed parts, on TensorImage and
// TensorImageBW batches [N, C, H, W] (floating, values in [0, 1]). Per sample: brightness adds
// logit(b), b ~ U(0.5 (1 - m), 0.5 (1 + m)); contrast multiplies by c = exp(U(log(1 - m),
// -log(1 - m))); saturation mixes with the luma (3 channels only). Train only; order 40.
class LightingTfm : public RandTransform {
 public:
  explicit LightingTfm(std::vector<LightingPart> parts, std::optional<uint64_t> seed = {},
                       std::string name = "LightingTfm");
  std::vector<LightingPart> parts;
  void compose(const LightingTfm& other);
  void before_call(const Item& x, std::optional<int> split_idx) const override;
  // This thread's last draw: one vector of n change values per part.
  const std::vector<std::vector<double>>& current() const { return state<std::vector<std::vector<double>>>(); }

 private:
  DrawSource src_;
};

std::shared_ptr<LightingTfm> Brightness(double max_lighting = 0.2, double p = 0.75, bool batch = false);
std::shared_ptr<LightingTfm> Contrast(double max_lighting = 0.2, double p = 0.75, bool batch = false);
std::shared_ptr<LightingTfm> Saturation(double max_lighting = 0.2, double p = 0.75, bool batch = false);

// fastai's Hue: per sample, h += exp(U(log(1 - max_hue), -log(1 - max_hue))) (kept with p, else 0)
// in HSV space (RGB batches in [0, 1]). Train only.
class Hue : public RandTransform {
 public:
  explicit Hue(double max_hue = 0.1, double p = 0.75, bool batch = false, std::optional<uint64_t> seed = {});
  double max_hue;
  bool batch;
  void before_call(const Item& x, std::optional<int> split_idx) const override;

 private:
  DrawSource src_;
};
// RGB <-> HSV for [N, 3, H, W] batches (fastai's rgb2hsv / hsv2rgb; h, s, v in [0, 1]).
Tensor rgb2hsv(const Tensor& x);
Tensor hsv2rgb(const Tensor& x);

// fastai's RandomErasing(p 0.5, sl 0, sh 0.3, min_aspect 0.3, max_count 1), order 100 (after
// Normalize): per sample, with probability p, 1..max_count rectangles of relative area in
// [sl, sh] and aspect in [min_aspect, 1 / min_aspect] are filled with N(0, 1) noise. (fastai
// draws once per call, so a batch shares its rectangles; here each sample draws its own.)
class RandomErasing : public RandTransform {
 public:
  struct Options {
    double p = 0.5;
    double sl = 0.0;
    double sh = 0.3;
    double min_aspect = 0.3;
    int max_count = 1;
    std::optional<uint64_t> seed = {};
  };
  explicit RandomErasing(Options opts);
  RandomErasing() : RandomErasing(Options{}) {}
  Options opts;
  // One rectangle: rows [r0, r1), columns [c0, c1) of sample n.
  struct Area {
    int64_t n, r0, r1, c0, c1;
  };
  void before_call(const Item& x, std::optional<int> split_idx) const override;
  const std::vector<Area>& current() const { return state<std::vector<Area>>(); }

 private:
  DrawSource src_;
};

// ---- Normalize ----
// fastai's Normalize (order 99): TensorImage (x - mean) / std over the channel dim of [N, C, H,
// W] batches, decode x * std + mean. Without stats, setup learns them from one batch (mean and
// std over every dim but the channel, std + 1e-7), as fastai's setups does.
class Normalize : public Transform {
 public:
  Normalize();  // stats from one batch at setup
  static std::shared_ptr<Normalize> from_stats(std::vector<double> mean, std::vector<double> std);
  std::vector<double> mean, std;

 protected:
  void setups_impl(const ItemSource& items) override;

 private:
  Tensor shaped(const std::vector<double>& v, const Tensor& like) const;
};
struct Stats {
  std::vector<double> mean, std;
};
extern const Stats imagenet_stats;  // ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
extern const Stats cifar_stats;     // ([0.491, 0.482, 0.447], [0.247, 0.243, 0.261])
extern const Stats mnist_stats;     // ([0.131] x 3, [0.308] x 3)

// ---- the list ----
struct AugOptions {
  double mult = 1.0;
  bool do_flip = true;
  bool flip_vert = false;
  double max_rotate = 10.0;
  double min_zoom = 1.0;
  double max_zoom = 1.1;
  double max_lighting = 0.2;
  double max_warp = 0.2;
  double p_affine = 0.75;
  double p_lighting = 0.75;
  std::vector<TfmPtr> xtra_tfms = {};
  Int2 size = {};
  SampleMode mode = SampleMode::Bilinear;
  PaddingMode pad_mode = PaddingMode::Reflection;
  bool align_corners = true;
  bool batch = false;
  double min_scale = 1.0;  // < 1: a RandomResizedCropGPU(size, min_scale, ratio 1:1) comes first
  std::optional<uint64_t> seed = {};
};

// fastai's aug_transforms: Flip (or Dihedral with flip_vert) p 0.5, Warp(max_warp, p_affine),
// Rotate(max_rotate, p_affine), Zoom(min/max_zoom, p_affine), Brightness and Contrast
// (max_lighting, p_lighting), composed by setup_aug_tfms into [AffineCoordTfm, LightingTfm] +
// xtra_tfms.
std::vector<TfmPtr> aug_transforms(const AugOptions& opts = {});
// fastai's setup_aug_tfms: composes all AffineCoordTfm (exactly that class: Flip, Rotate, ...)
// of tfms into one and all LightingTfm into
// one (the first of each kind, which is modified), then the others in their order.
std::vector<TfmPtr> setup_aug_tfms(const std::vector<TfmPtr>& tfms);

}  // namespace strata::data
