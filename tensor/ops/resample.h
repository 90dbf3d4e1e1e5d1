#pragma once
// Resampling: PyTorch's affine_grid and grid_sample, and warp_batch, the fused resampler behind
// fastai's batch augmentation (AffineCoordTfm: flip, rotate, zoom, warp in one interpolation).
//
//   Tensor grid = strata::affine_grid(theta, {n, c, h, w}, true);          // [N, H, W, 2]
//   Tensor y = strata::grid_sample(x, grid, {.padding_mode = strata::PaddingMode::Reflection});
//   Tensor z = strata::warp_batch(x, mats, {.coord_offsets = offsets, .size = {224, 224}});
//   Tensor p = strata::warp_points(points, mats, {.coord_offsets = offsets});  // moves with z
//
// Coordinates are normalized, (x, y) order: x = -1 is the left of the image, y = -1 the top; with
// align_corners -1 and 1 are the centres of the corner pixels, without they are the outer edges
// of the corner pixels (PyTorch's convention).
//
// THE MATRIX CONVENTION (fastai's and PyTorch's affine_grid): an affine matrix maps OUTPUT
// coordinates to INPUT coordinates. Output pixel p shows the input at M p, so a matrix that
// zooms by 2 ([[0.5, 0, 0], [0, 0.5, 0]]) magnifies the image, and rotating the picture by +θ
// needs the matrix of a rotation by -θ. Points and boxes therefore move through the inverse.
#include <cstdint>

#include "tensor/ops/pool.h"
#include "tensor/tensor.h"

namespace strata {

enum class SampleMode { Bilinear, Nearest };
enum class PaddingMode {
  Zeros,       // outside the image reads 0
  Border,      // clamp to the edge pixels
  Reflection,  // mirror at the corner pixel centres (align_corners) or the image edges (not)
};

// grid [N, H, W, 2] with grid[n, i, j] = theta[n] (x_j, y_i, 1), (x_j, y_i) the normalized
// coordinates of output pixel (i, j) of an image of `size` = {N, C, H, W}. theta [N, 2, 3]
// floating; differentiable w.r.t. theta.
Tensor affine_grid(const Tensor& theta, const Shape& size, bool align_corners = false);

struct GridSampleOptions {
  SampleMode mode = SampleMode::Bilinear;
  PaddingMode padding_mode = PaddingMode::Zeros;
  bool align_corners = false;
};

// out [N, C, Ho, Wo]: input [N, C, H, W] read at grid [N, Ho, Wo, 2] (normalized (x, y)), with
// PyTorch's exact semantics: bilinear taps outside the image are 0 (zeros) or come from the
// padded coordinate (border: clamped; reflection: mirrored then clamped); nearest rounds half to
// even. Floating input; the grid is converted to the input's dtype. Differentiable w.r.t. input
// and grid (nearest: w.r.t. input only; its grid gradient is 0).
Tensor grid_sample(const Tensor& input, const Tensor& grid, const GridSampleOptions& options = {});

struct WarpOptions {
  // Optional [N, 4, 2] perspective warp (fastai's Warp / _WarpCoord), as offsets of the four
  // corners (-1,-1), (-1,1), (1,-1), (1,1) (x, y): the image's corner i moves to corner_i +
  // offset_i, and the homography through those four pairs (fastai's find_coeffs) moves every
  // other point. fastai's targ_pts are corner + offset; warp_coord_offsets() builds the offsets
  // of fastai's draws.
  Tensor coord_offsets = {};
  Int2 size = {};  // output height and width; default (0): the input's
  SampleMode mode = SampleMode::Bilinear;
  PaddingMode padding_mode = PaddingMode::Reflection;
  bool align_corners = true;
};

// The fused resampler: out [N, C, Ho, Wo] = input [N, C, H, W] sampled, for output pixel p with
// normalized coordinates (x, y), at warp(M_n (x, y, 1)): the affine matrix first, then the
// optional perspective warp (fastai's affine_coord: affine_grid, then the coordinate transform),
// with ONE interpolation. No grid and no intermediate image are built. matrices: [N, 3, 3]
// (fastai's augmentation matrices; the last row is ignored, as fastai's _prepare_mat does) or
// [N, 2, 3], any floating dtype. Images are bilinear (floating dtypes); a TensorMask input, or
// mode Nearest, samples nearest (any dtype: masks stay integer-valued). Equal to
// grid_sample(input, affine_grid(M, ...), ...) for pure affine matrices. Differentiable w.r.t.
// input (not the matrices or offsets).
Tensor warp_batch(const Tensor& input, const Tensor& matrices, const WarpOptions& options = {});

// Maps points [N, P, 2] (normalized (x, y) in the input image, fastai's TensorPoint /
// TensorBBox corners) through the inverse of warp_batch's transform, so that they follow the
// image: a feature at input position q appears in warp_batch's output at warp_points(q). Only
// coord_offsets is read from the options (normalized coordinates do not depend on sizes).
// Floating points; not differentiable.
Tensor warp_points(const Tensor& points, const Tensor& matrices, const WarpOptions& options = {});

// fastai's _WarpCoord corner offsets for per-sample magnitudes x_t, y_t ([N] each): the
// [N, 4, 2] coord_offsets giving the same warp as fastai's Warp with those draws.
Tensor warp_coord_offsets(const Tensor& x_t, const Tensor& y_t);

}  // namespace strata
