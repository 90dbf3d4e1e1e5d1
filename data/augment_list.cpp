// aug_transforms and setup_aug_tfms (fastai's vision/augment.py): the list of batch transforms a
// vision DataBlock usually gets, with the affine and the lighting parts each merged into one
// transform so that a batch is interpolated once and goes through logit / sigmoid once.
#include <typeinfo>

#include "data/augment.h"

namespace strata::data {

std::vector<TfmPtr> setup_aug_tfms(const std::vector<TfmPtr>& tfms) {
  std::shared_ptr<AffineCoordTfm> aff;
  std::shared_ptr<LightingTfm> lig;
  std::vector<TfmPtr> others;
  for (const auto& t : tfms) {
    auto a = std::dynamic_pointer_cast<AffineCoordTfm>(t);
    if (a && typeid(*a) == typeid(AffineCoordTfm)) {
      if (aff) {
        aff->compose(*a);
        aff->name = "AffineCoordTfm";
      }
      else aff = a;
    } else if (auto l = std::dynamic_pointer_cast<LightingTfm>(t)) {
      if (lig) {
        lig->compose(*l);
        lig->name = "LightingTfm";
      }
      else lig = l;
    } else {
      others.push_back(t);
    }
  }
  std::vector<TfmPtr> res;
  if (aff) res.push_back(aff);
  if (lig) res.push_back(lig);
  res.insert(res.end(), others.begin(), others.end());
  return res;
}

std::vector<TfmPtr> aug_transforms(const AugOptions& o) {
  const bool crop = o.min_scale != 1.0;
  STRATA_CHECK(!crop || (o.size.h > 0 && o.size.w > 0), ValueError,
               "aug_transforms: min_scale {} crops with RandomResizedCropGPU, which needs a size", o.min_scale);
  const AffineOptions tkw{.size = crop ? Int2{} : o.size,
                          .mode = o.mode,
                          .pad_mode = o.pad_mode,
                          .align_corners = o.align_corners,
                          .batch = o.batch,
                          .seed = o.seed};
  const double max_rotate = o.max_rotate * o.mult, max_lighting = o.max_lighting * o.mult,
               max_warp = o.max_warp * o.mult;
  std::vector<TfmPtr> res;
  if (o.do_flip) res.push_back(o.flip_vert ? Dihedral(0.5, tkw) : Flip(0.5, tkw));
  if (max_warp != 0) res.push_back(Warp(max_warp, o.p_affine, tkw));
  if (max_rotate != 0) res.push_back(Rotate(max_rotate, o.p_affine, tkw));
  if (o.min_zoom < 1 || o.max_zoom > 1) res.push_back(Zoom(o.min_zoom, o.max_zoom, o.p_affine, tkw));
  if (max_lighting != 0) {
    // One LightingTfm with both parts (what setup_aug_tfms would make of Brightness + Contrast),
    // built directly so that it can own the seed.
    res.push_back(std::make_shared<LightingTfm>(
        std::vector<LightingPart>{{LightingPart::Kind::Brightness, max_lighting, o.p_lighting, o.batch},
                                  {LightingPart::Kind::Contrast, max_lighting, o.p_lighting, o.batch}},
        o.seed ? std::optional<uint64_t>(*o.seed + 1) : std::nullopt, "LightingTfm"));
  }
  if (crop)
    res.push_back(std::make_shared<RandomResizedCropGPU>(
        o.size, RandomResizedCropGPU::Options{.min_scale = o.min_scale, .ratio = {1.0, 1.0}, .mode = o.mode, .seed = o.seed}));
  res.insert(res.end(), o.xtra_tfms.begin(), o.xtra_tfms.end());
  return setup_aug_tfms(res);
}

}  // namespace strata::data
