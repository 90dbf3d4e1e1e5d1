// AffineCoordTfm and its parts (fastai's flip_mat, dihedral_mat, rotate_mat, zoom_mat, _WarpCoord).
// Parameters are drawn on the host (a few numbers per sample), multiplied into one matrix per
// sample in double precision, and shipped to the batch's device as one [N, 3, 3] tensor; the
// pixels never leave the device and are interpolated once, by warp_batch.
#include <cmath>
#include <numbers>

#include "data/augment.h"
#include "tensor/ops.h"
#include "tensor/semantic.h"

namespace strata::data {

Mat3 mat3_identity() { return {1, 0, 0, 0, 1, 0, 0, 0, 1}; }

Mat3 mat3_mul(const Mat3& a, const Mat3& b) {
  Mat3 r{};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      double s = 0;
      for (int k = 0; k < 3; ++k) s += a[i * 3 + k] * b[k * 3 + j];
      r[i * 3 + j] = s;
    }
  return r;
}

std::vector<double> draw_masked(Rng& rng, int64_t n, const std::function<double(Rng&)>& draw, double p,
                                double neutral, bool batch) {
  std::vector<double> v(static_cast<size_t>(n));
  if (batch) {
    const double d = draw(rng);
    const bool keep = p >= 1.0 || rng.uniform() < p;
    for (auto& x : v) x = keep ? d : neutral;
    return v;
  }
  for (auto& x : v) x = draw(rng);
  if (p >= 1.0) return v;
  for (auto& x : v)
    if (!(rng.uniform() < p)) x = neutral;
  return v;
}

namespace {
Mat3 affine(double a, double b, double c, double d, double e, double f) { return {a, b, c, d, e, f, 0, 0, 1}; }
}  // namespace

std::vector<Mat3> flip_mat(Rng& rng, int64_t n, double p, bool batch) {
  auto v = draw_masked(rng, n, [](Rng&) { return 1.0; }, p, 0.0, batch);
  std::vector<Mat3> out;
  for (double d : v) out.push_back(affine(1 - 2 * d, 0, 0, 0, 1, 0));
  return out;
}

Mat3 dihedral_of(int k) {
  STRATA_CHECK(k >= 0 && k < 8, ValueError, "dihedral_of: index must be in 0..7, got {}", k);
  static constexpr int xs[8] = {1, -1, 1, -1, -1, 1, 1, -1};
  static constexpr int ys[8] = {1, 1, -1, 1, -1, -1, 1, -1};
  static constexpr int m0[8] = {1, 1, 1, 0, 1, 0, 0, 0};
  static constexpr int m1[8] = {0, 0, 0, 1, 0, 1, 1, 1};
  return affine(xs[k] * m0[k], xs[k] * m1[k], 0, ys[k] * m1[k], ys[k] * m0[k], 0);
}

std::vector<Mat3> dihedral_mat(Rng& rng, int64_t n, double p, bool batch) {
  auto v = draw_masked(rng, n, [](Rng& r) { return static_cast<double>(r.randint(0, 8)); }, p, 0.0, batch);
  std::vector<Mat3> out;
  for (double d : v) out.push_back(dihedral_of(static_cast<int>(d)));
  return out;
}

std::vector<Mat3> rotate_mat(Rng& rng, int64_t n, double max_deg, double p, bool batch) {
  auto v = draw_masked(rng, n, [max_deg](Rng& r) { return r.uniform(-max_deg, max_deg); }, p, 0.0, batch);
  std::vector<Mat3> out;
  for (double deg : v) {
    const double t = deg * std::numbers::pi / 180.0;
    out.push_back(affine(std::cos(t), std::sin(t), 0, -std::sin(t), std::cos(t), 0));
  }
  return out;
}

std::vector<Mat3> zoom_mat(Rng& rng, int64_t n, double min_zoom, double max_zoom, double p, bool batch) {
  STRATA_CHECK(min_zoom <= max_zoom && min_zoom > 0, ValueError,
               "zoom_mat: need 0 < min_zoom <= max_zoom, got min_zoom {} and max_zoom {}", min_zoom, max_zoom);
  auto z = draw_masked(rng, n, [&](Rng& r) { return r.uniform(min_zoom, max_zoom); }, p, 1.0, batch);
  auto unit = [](Rng& r) { return r.uniform(); };
  auto col = draw_masked(rng, n, unit, 1.0, 0.0, batch);
  auto row = draw_masked(rng, n, unit, 1.0, 0.0, batch);
  std::vector<Mat3> out;
  for (size_t i = 0; i < z.size(); ++i) {
    const double s = 1.0 / z[i];
    out.push_back(affine(s, 0, (1 - s) * (2 * col[i] - 1), 0, s, (1 - s) * (2 * row[i] - 1)));
  }
  return out;
}

void prepare_mat(Mat3& m, int64_t h, int64_t w) {
  if (h <= 0 || w <= 0) return;
  m[1] *= static_cast<double>(h) / static_cast<double>(w);
  m[3] *= static_cast<double>(w) / static_cast<double>(h);
}

// ---- AffineCoordTfm ----
AffineCoordTfm::AffineCoordTfm(std::vector<AffineFn> aff, std::vector<WarpPart> coord, AffineOptions o,
                               std::string n)
    : RandTransform(std::move(n), 1.0), aff_fs(std::move(aff)), coord_fs(std::move(coord)), opts(o),
      src_(o.seed) {
  STRATA_CHECK(coord_fs.size() <= 1, ValueError, "{}: at most one Warp part can be applied, got {}", name,
               coord_fs.size());
  order = 30;
  split_idx = std::nullopt;  // fastai: runs on validation too (identity, resize only)

  encodes<TensorImageBase>([this](const TensorImageBase& x) -> Item {
    const AffineDraw& d = current();
    if (d.identity) return Item(x);
    STRATA_CHECK(x.dim() == 4, ShapeError, "{}: expected an image batch [N, C, H, W], got {}", name, x.shape());
    Tensor out = warp_batch(x, d.matrices,
                            {.coord_offsets = d.coord_offsets, .size = d.size, .mode = opts.mode,
                             .padding_mode = opts.pad_mode, .align_corners = opts.align_corners});
    return Item(with_meta(out, std::make_shared<const ImageMeta>(ImageSize{out.size(2), out.size(3)})));
  });
  encodes<TensorMask>([this](const TensorMask& x) -> Item {
    const AffineDraw& d = current();
    if (d.identity) return Item(x);
    STRATA_CHECK(x.dim() == 3 || x.dim() == 4, ShapeError,
                 "{}: expected a mask batch [N, H, W] or [N, 1, H, W], got {}", name, x.shape());
    const bool add_dim = x.dim() == 3;
    Tensor in = add_dim ? x.unsqueeze(1) : Tensor(x);
    Tensor out = warp_batch(in, d.matrices,
                            {.coord_offsets = d.coord_offsets, .size = d.size, .mode = SampleMode::Nearest,
                             .padding_mode = opts.pad_mode, .align_corners = opts.align_corners});
    if (add_dim) out = out.squeeze(1);
    return Item(with_meta(cast(out, TensorMask::type()),
                          std::make_shared<const ImageMeta>(ImageSize{out.size(-2), out.size(-1)})));
  });
  encodes<TensorPoint>([this](const TensorPoint& x) -> Item {
    const AffineDraw& d = current();
    if (d.identity) return Item(x);
    STRATA_CHECK(x.dim() == 3 && x.size(2) == 2, ShapeError, "{}: expected a point batch [N, P, 2], got {}", name,
                 x.shape());
    Tensor out = warp_points(x, d.matrices, {.coord_offsets = d.coord_offsets});
    return Item(with_meta(cast(out, TensorPoint::type()), std::make_shared<const PointMeta>(ImageSize{d.size.h, d.size.w})));
  });
  encodes<TensorBBox>([this](const TensorBBox& x) -> Item {
    const AffineDraw& d = current();
    if (d.identity) return Item(x);
    STRATA_CHECK(x.dim() == 3 && x.size(2) == 4, ShapeError, "{}: expected a box batch [N, B, 4], got {}", name,
                 x.shape());
    const int64_t n = x.size(0), b = x.size(1);
    Tensor plain = cast(x, nullptr);
    Tensor x0 = plain.select(2, 0), y0 = plain.select(2, 1), x1 = plain.select(2, 2), y1 = plain.select(2, 3);
    Tensor corners = stack({stack({x0, y0}, -1), stack({x0, y1}, -1), stack({x1, y0}, -1), stack({x1, y1}, -1)}, 2);
    Tensor moved = warp_points(corners.reshape({n, b * 4, 2}), d.matrices, {.coord_offsets = d.coord_offsets})
                       .reshape({n, b, 4, 2});
    Tensor box = clamp(cat({amin(moved, {2}), amax(moved, {2})}, -1), -1.0, 1.0);
    return Item(with_meta(cast(box, TensorBBox::type()), std::make_shared<const BBoxMeta>(ImageSize{d.size.h, d.size.w})));
  });
}

void AffineCoordTfm::compose(const AffineCoordTfm& other) {
  STRATA_CHECK(coord_fs.size() + other.coord_fs.size() <= 1, ValueError,
               "{}: cannot compose with {}: at most one Warp part can be applied in one interpolation", name,
               other.name);
  aff_fs.insert(aff_fs.end(), other.aff_fs.begin(), other.aff_fs.end());
  coord_fs.insert(coord_fs.end(), other.coord_fs.begin(), other.coord_fs.end());
}

AffineDraw AffineCoordTfm::draw(int64_t n, int64_t h, int64_t w, Device device) const {
  std::vector<Mat3> mats(static_cast<size_t>(n), mat3_identity());
  std::vector<double> x_t, y_t;
  src_.with([&](Rng& r) {
    for (const auto& f : aff_fs) {
      std::vector<Mat3> ms = f(r, n);
      STRATA_CHECK(static_cast<int64_t>(ms.size()) == n, ValueError, "{}: an affine part drew {} matrices for {} samples",
                   name, ms.size(), n);
      for (int64_t i = 0; i < n; ++i) mats[i] = mat3_mul(mats[i], ms[i]);
    }
    for (const WarpPart& c : coord_fs) {
      auto u = [m = c.magnitude](Rng& g) { return g.uniform(-m, m); };
      x_t = draw_masked(r, n, u, c.p, 0.0, c.batch);
      y_t = draw_masked(r, n, u, c.p, 0.0, c.batch);
    }
    return 0;
  });
  AffineDraw d;
  d.size = opts.size == Int2{} ? Int2{h, w} : opts.size;
  bool identity = d.size == Int2{h, w};
  for (auto& m : mats) {
    prepare_mat(m, h, w);
    identity = identity && m == mat3_identity();
  }
  bool warps = false;
  for (size_t i = 0; i < x_t.size(); ++i) warps = warps || x_t[i] != 0.0 || y_t[i] != 0.0;
  d.identity = identity && !warps;
  if (d.identity) return d;
  std::vector<float> flat;
  flat.reserve(mats.size() * 9);
  for (const auto& m : mats)
    for (double v : m) flat.push_back(static_cast<float>(v));
  d.matrices = tensor(flat, {n, 3, 3}).to(device);
  if (warps) {
    std::vector<float> xf(x_t.begin(), x_t.end()), yf(y_t.begin(), y_t.end());
    d.coord_offsets = warp_coord_offsets(tensor(xf, {n}), tensor(yf, {n})).to(device);
  }
  return d;
}

void AffineCoordTfm::before_call(const Item& x, std::optional<int> caller_split_idx) const {
  set_do(true);
  AffineDraw& d = state<AffineDraw>();
  d = AffineDraw{};
  const Item* b = &x;
  while (b->is_tuple() && b->size() > 0) b = &(*b)[0];
  if (!b->is_tensor() || b->tensor().dim() < 2) return;
  const Tensor& t = b->tensor();
  int64_t n = t.size(0), h = t.size(-2), w = t.size(-1);
  if (is_a(t, TensorPoint::type())) {
    const auto* pm = meta_as<PointMeta>(t);
    h = pm ? pm->img_size.h : 0;
    w = pm ? pm->img_size.w : 0;
  }
  if (caller_split_idx == 1) {  // validation: no augmentation, resize only
    if (opts.size == Int2{} || opts.size == Int2{h, w}) return;
    std::vector<float> eye_mats;
    for (int64_t i = 0; i < n; ++i)
      for (double v : mat3_identity()) eye_mats.push_back(static_cast<float>(v));
    d.matrices = tensor(eye_mats, {n, 3, 3}).to(t.device());
    d.size = opts.size;
    d.identity = false;
    return;
  }
  d = draw(n, h, w, t.device());
}

namespace {
std::shared_ptr<AffineCoordTfm> one_part(std::string name, AffineCoordTfm::AffineFn f, AffineOptions opts) {
  return std::make_shared<AffineCoordTfm>(std::vector<AffineCoordTfm::AffineFn>{std::move(f)},
                                          std::vector<WarpPart>{}, opts, std::move(name));
}
}  // namespace

std::shared_ptr<AffineCoordTfm> Flip(double p, AffineOptions opts) {
  return one_part("Flip", [p, b = opts.batch](Rng& r, int64_t n) { return flip_mat(r, n, p, b); }, opts);
}
std::shared_ptr<AffineCoordTfm> Dihedral(double p, AffineOptions opts) {
  return one_part("Dihedral", [p, b = opts.batch](Rng& r, int64_t n) { return dihedral_mat(r, n, p, b); }, opts);
}
std::shared_ptr<AffineCoordTfm> Rotate(double max_deg, double p, AffineOptions opts) {
  return one_part("Rotate", [=, b = opts.batch](Rng& r, int64_t n) { return rotate_mat(r, n, max_deg, p, b); }, opts);
}
std::shared_ptr<AffineCoordTfm> Zoom(double min_zoom, double max_zoom, double p, AffineOptions opts) {
  STRATA_CHECK(min_zoom <= max_zoom && min_zoom > 0, ValueError,
               "Zoom: need 0 < min_zoom <= max_zoom, got min_zoom {} and max_zoom {}", min_zoom, max_zoom);
  return one_part("Zoom",
                  [=, b = opts.batch](Rng& r, int64_t n) { return zoom_mat(r, n, min_zoom, max_zoom, p, b); }, opts);
}
std::shared_ptr<AffineCoordTfm> Warp(double magnitude, double p, AffineOptions opts) {
  return std::make_shared<AffineCoordTfm>(std::vector<AffineCoordTfm::AffineFn>{},
                                          std::vector<WarpPart>{{magnitude, p, opts.batch}}, opts, "Warp");
}

}  // namespace strata::data
