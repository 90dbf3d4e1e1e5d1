// Resampling front ends: check at the door, run the kernels on contiguous tensors, record for
// autograd, propagate semantic types.
//
// affine_grid is a composite (one batched GEMM of theta with the base grid): autograd
// differentiates it through matmul and it runs on any device. warp_batch's per-sample
// transforms (the 2x3 affine part and, with coord_offsets, the homography through the four
// corner pairs) are a few numbers per sample, solved here on the host in double precision and
// handed to the kernel as an f64 [N, 15] tensor (kernels/resample_functors.h, WarpTransform).
#include "tensor/ops/resample.h"

#include <array>
#include <cmath>
#include <utility>
#include <vector>

#include "autograd/formulas/resample.h"
#include "autograd/grad_mode.h"
#include "kernels/resample.h"
#include "tensor/ops.h"
#include "tensor/ops/check.h"
#include "tensor/semantic.h"

namespace strata {
namespace {

kernels::SampleParams params_of(SampleMode mode, PaddingMode padding, bool align_corners) {
  kernels::SampleParams p;
  p.mode = mode == SampleMode::Nearest ? kernels::SampleMode::Nearest : kernels::SampleMode::Bilinear;
  p.padding = padding == PaddingMode::Zeros    ? kernels::Padding::Zeros
              : padding == PaddingMode::Border ? kernels::Padding::Border
                                               : kernels::Padding::Reflection;
  p.align_corners = align_corners;
  return p;
}

// A 4-d (N, C, H, W) image with non-empty planes small enough for the kernels' int32 offsets.
void check_image(const char* op, const Tensor& x) {
  check_defined(op, x);
  STRATA_CHECK(x.dim() == 4, ShapeError, "{}: expected a 4-d (N, C, H, W) input, got {}", op, x.shape());
  STRATA_CHECK(x.size(2) > 0 && x.size(3) > 0, ShapeError, "{}: input height and width must be non-zero, got {}", op,
               x.shape());
  STRATA_CHECK(x.size(2) * x.size(3) < (int64_t{1} << 31), ShapeError,
               "{}: input planes of {}x{} pixels are too large (at most 2^31 - 1 pixels)", op, x.size(2), x.size(3));
}

// ---- warp_batch's transforms -------------------------------------------------------------------

using Mat3 = std::array<double, 9>;

// The homography h (h[8] = 1) with h(src[i]) = dst[i] for the four point pairs (fastai's
// find_coeffs), by Gaussian elimination with partial pivoting on the 8x8 system.
Mat3 homography(const double* src, const double* dst, int64_t sample) {
  double m[8][9];
  for (int i = 0; i < 4; ++i) {
    const double sx = src[2 * i], sy = src[2 * i + 1], dx = dst[2 * i], dy = dst[2 * i + 1];
    const double r0[9] = {sx, sy, 1, 0, 0, 0, -sx * dx, -sy * dx, dx};
    const double r1[9] = {0, 0, 0, sx, sy, 1, -sx * dy, -sy * dy, dy};
    for (int k = 0; k < 9; ++k) {
      m[2 * i][k] = r0[k];
      m[2 * i + 1][k] = r1[k];
    }
  }
  for (int col = 0; col < 8; ++col) {
    int pivot = col;
    for (int r = col + 1; r < 8; ++r)
      if (std::abs(m[r][col]) > std::abs(m[pivot][col])) pivot = r;
    STRATA_CHECK(std::abs(m[pivot][col]) > 1e-12, ValueError,
                 "warp_batch: coord_offsets of sample {} give a degenerate quadrilateral (no perspective transform "
                 "maps the corners onto it)",
                 sample);
    if (pivot != col)
      for (int k = 0; k < 9; ++k) std::swap(m[pivot][k], m[col][k]);
    for (int r = 0; r < 8; ++r) {
      if (r == col) continue;
      const double f = m[r][col] / m[col][col];
      for (int k = col; k < 9; ++k) m[r][k] -= f * m[col][k];
    }
  }
  Mat3 h;
  for (int i = 0; i < 8; ++i) h[i] = m[i][8] / m[i][i];
  h[8] = 1.0;
  return h;
}

constexpr double kCorners[8] = {-1, -1, -1, 1, 1, -1, 1, 1};  // fastai's orig_pts, (x, y)

struct Transforms {
  Tensor table;  // f64 [N, 15] on the input's device
  bool perspective = false;
};

// `inverse`: the maps of warp_points (input -> output coordinates) instead of warp_batch's.
Transforms build_transforms(const char* op, const Tensor& matrices, const Tensor& offsets, bool inverse) {
  const int64_t n = matrices.size(0);
  const std::vector<double> m = matrices.detach().to(DType::F64).cpu().contiguous().to_vector<double>();
  std::vector<double> off;
  if (offsets.defined()) off = offsets.detach().to(DType::F64).cpu().contiguous().to_vector<double>();
  const int64_t rows = matrices.size(1);
  std::vector<double> table(static_cast<size_t>(n) * 15);
  for (int64_t s = 0; s < n; ++s) {
    kernels::WarpTransform t{};
    const double* a = &m[static_cast<size_t>(s * rows * 3)];
    for (int k = 0; k < 6; ++k) t.a[k] = a[k];
    if (inverse) {
      const double det = a[0] * a[4] - a[1] * a[3];
      STRATA_CHECK(std::abs(det) > 1e-12, ValueError,
                   "{}: the affine matrix of sample {} is singular ([[{}, {}, {}], [{}, {}, {}]]), so points cannot be "
                   "mapped back",
                   op, s, a[0], a[1], a[2], a[3], a[4], a[5]);
      t.a[0] = a[4] / det;
      t.a[1] = -a[1] / det;
      t.a[3] = -a[3] / det;
      t.a[4] = a[0] / det;
      t.a[2] = -(t.a[0] * a[2] + t.a[1] * a[5]);
      t.a[5] = -(t.a[3] * a[2] + t.a[4] * a[5]);
    }
    if (!off.empty()) {
      double targ[8];
      for (int k = 0; k < 8; ++k) targ[k] = kCorners[k] + off[static_cast<size_t>(s * 8 + k)];
      // The image samples corner_i at targ_i; points move from corner_i to targ_i.
      const Mat3 h = inverse ? homography(kCorners, targ, s) : homography(targ, kCorners, s);
      for (int k = 0; k < 9; ++k) t.h[k] = h[k];
    }
    std::copy(t.a, t.a + 6, &table[static_cast<size_t>(s * 15)]);
    std::copy(t.h, t.h + 9, &table[static_cast<size_t>(s * 15 + 6)]);
  }
  return {tensor(table, {n, 15}, {.dtype = DType::F64}).to(matrices.device()), offsets.defined()};
}

void check_matrices(const char* op, const Tensor& matrices, int64_t n, const Tensor& ref, const char* ref_name) {
  check_defined(op, matrices, "matrices");
  STRATA_CHECK(matrices.dim() == 3 && (matrices.size(1) == 3 || matrices.size(1) == 2) && matrices.size(2) == 3,
               ShapeError, "{}: expected matrices of shape [N, 3, 3] or [N, 2, 3], got {}", op, matrices.shape());
  STRATA_CHECK(matrices.size(0) == n, ShapeError, "{}: {} matrices for a batch of {} ({} {}, matrices {})", op,
               matrices.size(0), n, ref_name, ref.shape(), matrices.shape());
  STRATA_CHECK(matrices.is_floating_point(), DTypeError, "{}: expected floating matrices, got dtype {} (shape {})", op,
               matrices.dtype(), matrices.shape());
  check_same_device(op, ref, matrices);
}

void check_offsets(const char* op, const Tensor& offsets, int64_t n, const Tensor& ref) {
  if (!offsets.defined()) return;
  STRATA_CHECK(offsets.dim() == 3 && offsets.size(0) == n && offsets.size(1) == 4 && offsets.size(2) == 2, ShapeError,
               "{}: expected coord_offsets of shape [{}, 4, 2], got {}", op, n, offsets.shape());
  STRATA_CHECK(offsets.is_floating_point(), DTypeError, "{}: expected floating coord_offsets, got dtype {}", op,
               offsets.dtype());
  check_same_device(op, ref, offsets);
}

}  // namespace

Tensor affine_grid(const Tensor& theta, const Shape& size, bool align_corners) {
  const char* op = "affine_grid";
  check_defined(op, theta, "theta");
  STRATA_CHECK(size.ndim() == 4, ShapeError, "affine_grid: expected a size [N, C, H, W], got {}", size);
  STRATA_CHECK(theta.dim() == 3 && theta.size(1) == 2 && theta.size(2) == 3, ShapeError,
               "affine_grid: expected theta of shape [N, 2, 3], got {}", theta.shape());
  STRATA_CHECK(theta.size(0) == size[0], ShapeError, "affine_grid: theta has batch {} but size {} has batch {}",
               theta.size(0), size, size[0]);
  STRATA_CHECK(size[2] > 0 && size[3] > 0, ShapeError, "affine_grid: height and width must be positive, got size {}",
               size);
  check_floating(op, theta);
  const int64_t n = size[0], h = size[2], w = size[3];
  // base^T [3, H*W]: rows x_j, y_i, 1 over the pixels in row-major order.
  std::vector<double> base(static_cast<size_t>(3 * h * w));
  for (int64_t i = 0; i < h; ++i)
    for (int64_t j = 0; j < w; ++j) {
      const size_t at = static_cast<size_t>(i * w + j);
      base[at] = kernels::base_coord(j, w, align_corners);
      base[static_cast<size_t>(h * w) + at] = kernels::base_coord(i, h, align_corners);
      base[static_cast<size_t>(2 * h * w) + at] = 1.0;
    }
  Tensor base_t = tensor(base, {3, h * w}, {.dtype = DType::F64}).to(theta.dtype()).to(theta.device());
  // [N, 2, 3] @ [3, H*W] -> [N, 2, H*W] -> [N, H, W, 2]
  return matmul(theta, base_t).transpose(1, 2).reshape({n, h, w, 2});
}

Tensor grid_sample(const Tensor& input, const Tensor& grid, const GridSampleOptions& o) {
  const char* op = "grid_sample";
  check_image(op, input);
  check_defined(op, grid, "grid");
  check_floating(op, input);
  STRATA_CHECK(grid.dim() == 4 && grid.size(3) == 2, ShapeError, "grid_sample: expected a grid [N, H, W, 2], got {}",
               grid.shape());
  STRATA_CHECK(grid.size(0) == input.size(0), ShapeError,
               "grid_sample: grid has batch {} but input has batch {} (shapes {} and {})", grid.size(0), input.size(0),
               input.shape(), grid.shape());
  STRATA_CHECK(grid.dtype() == input.dtype(), DTypeError,
               "grid_sample: expected grid and input of the same dtype, got {} and {}", grid.dtype(), input.dtype());
  check_same_device(op, input, grid);
  const kernels::SampleParams p = params_of(o.mode, o.padding_mode, o.align_corners);
  Tensor out = empty({input.size(0), input.size(1), grid.size(1), grid.size(2)},
                     {.dtype = input.dtype(), .device = input.device()});
  Tensor in_c = input.contiguous(), grid_c = grid.contiguous();
  {
    NoGradGuard no_grad;
    if (out.numel() > 0) kernels::grid_sample(in_c, grid_c, p, out);
  }
  autograd::record_grid_sample(input, grid, in_c, grid_c, p, out);
  return propagate_semantics(out, {&input});
}

Tensor warp_batch(const Tensor& input, const Tensor& matrices, const WarpOptions& o) {
  const char* op = "warp_batch";
  check_image(op, input);
  check_matrices(op, matrices, input.size(0), input, "input");
  check_offsets(op, o.coord_offsets, input.size(0), input);
  const bool nearest = o.mode == SampleMode::Nearest || is_a<TensorMask>(input);
  STRATA_CHECK(nearest || input.is_floating_point(), DTypeError,
               "warp_batch: bilinear sampling needs a floating input, got dtype {} (shape {}); use mode Nearest or a "
               "TensorMask for integer data",
               input.dtype(), input.shape());
  const Int2 size = o.size == Int2{} ? Int2{input.size(2), input.size(3)} : o.size;
  STRATA_CHECK(size.h > 0 && size.w > 0, ValueError, "warp_batch: output size must be positive, got [{}, {}]", size.h,
               size.w);
  const kernels::SampleParams p =
      params_of(nearest ? SampleMode::Nearest : SampleMode::Bilinear, o.padding_mode, o.align_corners);
  const Transforms t = build_transforms(op, matrices, o.coord_offsets, false);
  Tensor out = empty({input.size(0), input.size(1), size.h, size.w}, {.dtype = input.dtype(), .device = input.device()});
  {
    NoGradGuard no_grad;
    if (out.numel() > 0) kernels::warp_batch(input.contiguous(), t.table, t.perspective, p, out);
  }
  autograd::record_warp_batch(input, t.table, t.perspective, p, out);
  return propagate_semantics(out, {&input});
}

Tensor warp_points(const Tensor& points, const Tensor& matrices, const WarpOptions& o) {
  const char* op = "warp_points";
  check_defined(op, points, "points");
  STRATA_CHECK(points.dim() == 3 && points.size(2) == 2, ShapeError, "warp_points: expected points [N, P, 2], got {}",
               points.shape());
  check_floating(op, points);
  check_matrices(op, matrices, points.size(0), points, "points");
  check_offsets(op, o.coord_offsets, points.size(0), points);
  const Transforms t = build_transforms(op, matrices, o.coord_offsets, true);
  Tensor out = empty(points.shape(), {.dtype = points.dtype(), .device = points.device()});
  if (out.numel() > 0) kernels::warp_points(points.detach().contiguous(), t.table, t.perspective, out);
  return propagate_semantics(out, {&points});
}

Tensor warp_coord_offsets(const Tensor& x_t, const Tensor& y_t) {
  const char* op = "warp_coord_offsets";
  check_defined(op, x_t, "x_t");
  check_defined(op, y_t, "y_t");
  STRATA_CHECK(x_t.dim() == 1 && y_t.shape() == x_t.shape(), ShapeError,
               "warp_coord_offsets: expected x_t and y_t of one shape [N], got {} and {}", x_t.shape(), y_t.shape());
  // fastai's targ_pts - orig_pts: [(-y, -x), (y, x), (y, x), (-y, -x)].
  Tensor minus = stack({-y_t, -x_t}, -1), plus = stack({y_t, x_t}, -1);
  return stack({minus, plus, plus, minus}, 1);
}

}  // namespace strata
